# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 80-rejoin.sh: domU2 dies (xl destroy) while domU1 maps a buffer it
# exported.  dom0 and domU1 must keep working: both drop domU2 from their
# peers, domU1's importer ends one way or another (its status is only
# reported: the kernel logs are what must stay clean), and domU1 can
# still share with dom0.  Then a new domU2 is created and linked, and all
# three reach each other again; that one dies in the middle of a driver
# reload loop, and a third joins (runs before 90-destroy.sh, which leaves
# no domU).  Needs hyper_dmabuf_xen.ko and the hdmabuf CLI.

. /rig/hdx-share.sh

if [ -z "$HDX_XEN" ] || ! command -v hdmabuf >/dev/null; then
	skip "peer loss" "needs hyper_dmabuf_xen.ko and hdmabuf"
	return 0
fi
d1=$(hdx_domid domU1)
old=$(hdx_domid domU2)

# A share in flight: domU2 exports 1 MiB to domU1, which maps it and keeps
# reading it for 20 s.
check "domU2 exports to domU1" on_bg domU2 exp \
	"hdmabuf export --to $d1 --size 1m --seed 5 --idfile /tmp/exp.id"
if hdx_wait 30 on domU2 test -s /tmp/exp.id; then
	id=$(on domU2 cat /tmp/exp.id)
	check "domU1 imports it" on_bg domU1 imp \
		"hdmabuf import $id --verify 5 --hold-ms 20000"
	hdx_wait 30 on domU1 "grep -q '^holding' /tmp/hdx/bg/imp.out"
else
	diag "$(on_out domU2 exp)"
	not_ok "domU2 exports to domU1: no id"
fi

check "xl destroy domU2" hdx_destroy domU2
check "domU1 still runs commands" on domU1 true
if hdx_wait 30 hdx_expect_peers dom0 "$d1"; then
	ok "dom0 drops domU2 ($hdx_seen)"
else
	diag "got: $hdx_seen"
	not_ok "dom0 drops domU2"
fi
if hdx_wait 30 hdx_expect_peers domU1 0; then
	ok "domU1 drops domU2 ($hdx_seen)"
else
	diag "got: $hdx_seen"
	not_ok "domU1 drops domU2"
fi
out=$(on_wait domU1 imp 40)
rc=$?
diag "domU1's importer: status $rc: $out"
if [ $rc = 124 ]; then
	not_ok "domU1's importer ends"
else
	ok "domU1's importer ends (status $rc)"
fi

# The survivors still share.
check "domU1 exports to dom0" on_bg domU1 exp2 \
	"hdmabuf export --to 0 --size 1m --seed 9 --idfile /tmp/exp2.id"
if hdx_wait 30 on domU1 test -s /tmp/exp2.id; then
	check "dom0 imports it and sees its bytes" \
		hdmabuf import "$(on domU1 cat /tmp/exp2.id)" --verify 9
else
	not_ok "dom0 imports it and sees its bytes: no id"
fi
on_kill domU1 exp2 >/dev/null
on_wait domU1 exp2 10 >/dev/null

# join NTH: a new domU2 is created, linked to dom0 and domU1, and all
# three reach each other
join() {
	check "xl create domU2 again ($1)" hdx_create domU2
	if hdx_ready domU2 120; then
		ok "new domU2 (domid $(hdx_domid domU2)) agent up"
	else
		not_ok "new domU2 agent up"
	fi
	check "new domU2 loaded its modules" \
		on domU2 "! grep '^not ok' /tmp/hdx/setup"
	check "link dom0 domU2" hdx_link dom0 domU2
	check "link domU1 domU2" hdx_link domU1 domU2
	d2=$(hdx_domid domU2)
	for d in "dom0 $d1 $d2" "domU1 0 $d2" "domU2 0 $d1"; do
		# shellcheck disable=SC2086
		set -- $d
		if hdx_wait 30 hdx_expect_peers "$@"; then
			ok "$1 reaches its peers after the rejoin ($hdx_seen)"
		else
			diag "got: $hdx_seen"
			not_ok "$1 reaches its peers after the rejoin"
		fi
	done
}

# A new domU2 joins.
hdx_forget "$old"
join first

# It dies in the middle of a driver reload loop: each load attaches to
# dom0 and domU1 anew (a xenbus handshake with each), so the destroy
# lands in a reload, most often in a handshake; where exactly is not
# controlled.  dom0 and domU1 drop it, hold nothing of it, and still
# share; then another domU2 joins as any new domain.
check "domU2 reloads hyper_dmabuf_xen over and over" on_bg domU2 reload \
	hdx-reload hyper_dmabuf_xen
check "... three times at least" hdx_wait 60 \
	on domU2 "grep -q '^reload 3$' /tmp/hdx/bg/reload.out"
old=$(hdx_domid domU2)
check "xl destroy domU2 in the middle of a reload" hdx_destroy domU2
for d in "dom0 $d1" "domU1 0"; do
	# shellcheck disable=SC2086
	set -- $d
	if hdx_wait 30 hdx_expect_peers "$@"; then
		ok "$1 drops domU2 ($hdx_seen)"
	else
		diag "got: $hdx_seen"
		not_ok "$1 drops domU2"
	fi
done
check "dom0 holds nothing of it" hdx_quiet dom0
check "domU1 holds nothing of it" hdx_quiet domU1
hdx_share domU1 dom0 64k rw 81
hdx_forget "$old"
join second
