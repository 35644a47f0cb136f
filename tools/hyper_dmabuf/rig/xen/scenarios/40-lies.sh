# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 40-lies.sh: a peer that lies.  domU1's driver is made to lie to dom0 once
# per case (CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS, parameter "fault"); dom0
# must refuse with the right errno, keep working and leak nothing.  The
# last lie, about ring indices, costs domU1 its link.  And one failure of
# domU1's own: no grant reference left for its export (claim-fail).
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
fault=/sys/module/hyper_dmabuf_xen/parameters/fault

# lie FAULT IMPORT-ARGS DESC: domU1 exports 1 MiB to dom0 telling lie FAULT
lie() {
	check "$1: domU1 arms the lie" on domU1 "echo $1 >$fault"
	id=$(hdx_export_bg domU1 exp --to 0 --size 1m --seed 5)
	[ -n "$id" ] || { not_ok "$1: domU1 exports"; return; }
	# shellcheck disable=SC2086
	check "$1: $3" on dom0 hdmabuf import "$id" --wait 10000 $2
	check "$1: dom0 maps nothing" hdx_wait 20 eval \
		"[ \"\$(hdx_stat dom0 mapped_pages)\" = 0 ]"
	on_kill domU1 exp >/dev/null
	on_wait domU1 exp 30 >/dev/null
	check "$1: both quiet afterwards" eval "hdx_quiet dom0 && hdx_quiet domU1"
}

lie dir-loop "--expect-errno EINVAL" \
	"a directory that loops is refused (EINVAL)"
lie reserved-ref "--expect-errno EINVAL" \
	"a reserved grant ref (the xenstore page) is refused (EINVAL)"
lie bad-ref "--expect-errno EINVAL" \
	"a ref naming no grant fails the map, unwound (EINVAL)"
lie ro-grant "--rw --expect-errno EINVAL" \
	"read-only grants behind a writable export fail the map (EINVAL)"
lie flood "--verify 5" \
	"an event storm does not stop dom0 from importing"
# dom0 still works with its other peer.
hdx_share domU2 dom0 64k rw 41

# Not a lie: domU1's own grant table is full when it shares 8 MiB (2,048
# references, two batches: the second fails, the first is freed).
refs=/sys/kernel/debug/hyper_dmabuf_xen/refs
g0=$(on domU1 cat $refs)
check "claim-fail: domU1 arms the failure" on domU1 "echo claim-fail >$fault"
out=$(on domU1 hdmabuf export --to 0 --size 8m --exit-after-export 2>&1)
case "$out" in
*"hdmabuf: export: ENOSPC"*)
	ok "claim-fail: the export fails with ENOSPC" ;;
*)
	diag "$out"
	not_ok "claim-fail: the export fails with ENOSPC" ;;
esac
g1=$(on domU1 cat $refs)
if [ -n "$g0" ] && [ "$g0" = "$g1" ]; then
	ok "claim-fail: domU1 holds no grant reference more ($g1)"
else
	not_ok "claim-fail: domU1 holds no grant reference more ($g0, then $g1)"
fi
check "claim-fail: both quiet afterwards" eval "hdx_quiet dom0 && hdx_quiet domU1"
hdx_share domU1 dom0 8m rw 43

# Lying ring indices: dom0 drops the link, and only that link.
check "ring-lie: domU1 arms the lie" on domU1 "echo ring-lie >$fault"
on domU1 hdmabuf export --to 0 --size 4k --exit-after-export >/dev/null 2>&1
check "ring-lie: dom0 disconnects domU1" hdx_wait 30 eval \
	"! on dom0 \"hdmabuf info | grep -q '^peer $d1 '\""
check "ring-lie: dom0 says why, once" eval \
	"[ \"\$(dmesg | grep -c 'domain $d1: bad request index')\" = 1 ]"
check "ring-lie: dom0 still reaches domU2" \
	on dom0 "hdmabuf info | grep -q '^peer $(hdx_domid domU2) '"
check "ring-lie: relinking domU1 restores the channel" eval \
	"hdmabuf-xen-link -u 0 $d1 && hdmabuf-xen-link 0 $d1 &&
	 hdx_wait 30 on dom0 \"hdmabuf info | grep -q '^peer $d1 '\""
hdx_share domU1 dom0 64k rw 42
