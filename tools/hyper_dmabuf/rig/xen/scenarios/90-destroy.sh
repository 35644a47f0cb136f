# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 90-destroy.sh: a domain destroyed mid-share (xl destroy).  Runs last:
# both domUs are gone afterwards.
#   - the exporter dies while dom0 has its buffer mapped: dom0 keeps
#     reading valid memory, then lets go cleanly;
#   - the importer dies while it has dom0's buffer mapped: dom0's export
#     ends by itself, its grants end and its counters return to zero; an
#     unexport after that finds nothing (ENOENT).  It dies with dom0's
#     other buffers at the protocol's later steps too: one whose delayed
#     unexport is pending, one unexported whose RELEASE is still to come
#     (domU2 maps both), and one announced to it, deaf by then, whose
#     reply never came: the first two are released at once, the
#     announcement fails with EHOSTUNREACH long before its timeout.
. /rig/hdx-share.sh

# --- the exporter dies ---------------------------------------------------------
id=$(hdx_export_bg domU1 exp --to 0 --size 8m --seed 61)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0" || not_ok "domU1 exports 8 MiB to dom0"
check "dom0 maps it and keeps reading" on_bg dom0 imp hdmabuf import "$id" \
	--wait 10000 --verify 61 --read-after-ms 10000 --verify-after 61
hdx_wait 30 on dom0 "grep -q '^verify ok' /tmp/hdx/bg/imp.out" >/dev/null
check "xl destroy domU1 while dom0 has its buffer mapped" hdx_destroy domU1
out=$(on_wait dom0 imp 60)
rc=$?
case "$rc $out" in
"0 "*"verify-after ok 8388608"*)
	ok "dom0 reads every byte of the dead domain's buffer until it lets go" ;;
*)
	diag "status $rc: $out"
	not_ok "dom0 reads every byte of the dead domain's buffer until it lets go" ;;
esac
check "dom0 drops domU1's buffers and maps nothing" hdx_quiet dom0
hdx_share dom0 domU2 64k rw 62

# --- the importer dies ---------------------------------------------------------
id=$(hdx_export_bg dom0 exp --to "$(hdx_domid domU2)" --size 8m --seed 63)
[ -n "$id" ] && ok "dom0 exports 8 MiB to domU2" || not_ok "dom0 exports 8 MiB to domU2"
check "domU2 maps it and holds it" on_bg domU2 imp hdmabuf import "$id" \
	--wait 10000 --verify 63 --hold-ms 600000
hdx_wait 30 on domU2 "grep -q '^verify ok' /tmp/hdx/bg/imp.out" >/dev/null
if [ "$(hdx_stat dom0 shared_pages)" = 2048 ]; then
	ok "dom0 shares 2048 pages with domU2"
else
	not_ok "dom0 shares 2048 pages with domU2"
fi
# dom0's buffers at the later steps (see above).
d2=$(hdx_domid domU2)
idd=$(hdx_export_bg dom0 expd --to "$d2" --size 64k --seed 64 \
	--delay-ms 60000 --wait-released 60000)
ide=$(hdx_export_bg dom0 expe --to "$d2" --size 64k --seed 65 \
	--wait-released 60000)
on_bg domU2 impd hdmabuf import "$idd" --wait 10000 --verify 64 \
	--hold-ms 600000 >/dev/null
on_bg domU2 impe hdmabuf import "$ide" --wait 10000 --verify 65 \
	--hold-ms 600000 >/dev/null
check "domU2 maps two more of dom0's buffers and holds them" hdx_wait 30 \
	on domU2 "grep -q '^holding' /tmp/hdx/bg/impd.out &&
		  grep -q '^holding' /tmp/hdx/bg/impe.out"
on_kill dom0 expd USR1 >/dev/null
on_kill dom0 expe USR1 >/dev/null
check "dom0 unexports one in 60 s, one now (domU2 still maps it)" hdx_wait 30 \
	on dom0 "grep -q '^unexported' /tmp/hdx/bg/expd.out &&
		 grep -q '^unexported' /tmp/hdx/bg/expe.out"
check "domU2 stops reading (deaf)" \
	on domU2 "echo deaf >/sys/module/hyper_dmabuf_xen/parameters/fault"
tmo=/sys/module/hyper_dmabuf/parameters/msg_timeout_ms
tmo0=$(cat $tmo)
echo 60000 >$tmo
on_bg dom0 expa hdmabuf export --to "$d2" --size 64k --exit-after-export \
	>/dev/null
sleep 2
check "dom0's announcement waits for the deaf domU2" \
	on dom0 "! grep -q '^exported' /tmp/hdx/bg/expa.out"
check "xl destroy domU2 while it has dom0's buffer mapped" hdx_destroy domU2
t0=$(hdx_uptime)
out=$(on_wait dom0 expa 50)
rc=$?
t1=$(hdx_uptime)
echo "$tmo0" >$tmo
case "$rc $out" in
"1 "*"hdmabuf: export: EHOSTUNREACH"*)
	ok "the announcement fails with EHOSTUNREACH ($((t1 - t0)) s, not 60)" ;;
*)
	diag "status $rc: $out"
	not_ok "the announcement fails with EHOSTUNREACH" ;;
esac
for j in expd expe; do
	check "dom0's $j is released at once" hdx_wait 20 \
		on dom0 "grep -q '^released' /tmp/hdx/bg/$j.out"
	on_kill dom0 $j >/dev/null
	out=$(on_wait dom0 $j 30)
	rc=$?
	if [ $rc = 0 ]; then
		ok "dom0's $j exits cleanly"
	else
		diag "status $rc: $out"
		not_ok "dom0's $j exits cleanly"
	fi
done
# The export's only importer is gone: the export ends by itself.
check "dom0 ends the export by itself: grants ended, nothing left" \
	hdx_quiet dom0
check "dom0 signals its exporter to unexport" on_kill dom0 exp USR1
check "the unexport reports ENOENT: the buffer no longer exists" \
	hdx_wait 30 grep -q '^hdmabuf: unexport: ENOENT' /tmp/hdx/bg/exp.out
on_kill dom0 exp >/dev/null
out=$(on_wait dom0 exp 30)
rc=$?
if [ $rc = 0 ] || [ $rc = 1 ]; then
	ok "dom0's exporter exits (status $rc)"
else
	diag "status $rc: $out"
	not_ok "dom0's exporter exits"
fi
