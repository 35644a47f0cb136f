# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 60-quotas.sh: a peer cannot make domU1 hold memory or grants without
# bound, and domU1 keeps sharing with dom0 while it tries, with the
# default limits of hyper_dmabuf (max_imports 256, max_export_mb_per_peer
# 64).  domU2 is the attacker (CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS):
#
# - flood: domU2 follows one export with 4,096 announcements of buffers
#   that do not exist.  domU1 takes 256 of them, refuses the rest, posts no
#   event for them, and its slab grows by what 256 cost; domU2's next
#   export fails with ENOSPC.
# - deaf: domU2 stops reading.  domU1 starts twelve 8 MiB exports to it
#   at once: eight fit in 64 MiB and wait for an answer, four fail with
#   ENOSPC, and domU1's grants never exceed 64 MiB's worth.  When the
#   eight give up (ETIMEDOUT), their grants are revoked: domU2 never
#   mapped them.  Of two buffers withdrawn from a deaf domU2 that maps
#   one, domU1 keeps the grants of that one only.
#
# Meanwhile domU1 imports from dom0 and shares with it, and its link with
# dom0, a second PV frontend of domU1's (it grants the ring pages), comes
# down and up again.  Every phase prints domU1's unreclaimable slab,
# grant references and hyper_dmabuf counters.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)
fault=/sys/module/hyper_dmabuf_xen/parameters/fault
hp=/sys/module/hyper_dmabuf/parameters
G=/sys/kernel/debug/hyper_dmabuf_xen/grants

reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}
# mem DOM: one line, "sunreclaim_kb N grants N exports: N imports: N ..."
mem() {
	on "$1" "awk '/^SUnreclaim:/ { printf \"sunreclaim_kb %s \", \$2 }' \
		/proc/meminfo; printf 'grants %s ' \$(cat $G);
		tr '\n' ' ' </sys/kernel/debug/hyper_dmabuf/stats; echo"
}
# val KEY LINE: the value after KEY in a line of mem
val() {
	echo "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }'
}
# shares_with_dom0 WHAT SEED: domU1 imports from dom0 and exports to it
shares_with_dom0() {
	id=$(hdx_export_bg dom0 q0 --to "$d1" --size 64k --seed "$2")
	check "$1: domU1 imports what dom0 exports" \
		on domU1 hdmabuf import "$id" --wait 10000 --verify "$2"
	on_kill dom0 q0 >/dev/null
	on_wait dom0 q0 30 >/dev/null
	id=$(hdx_export_bg domU1 q1 --to 0 --size 1m --seed $(($2 + 1)))
	check "$1: dom0 imports what domU1 exports" \
		on dom0 hdmabuf import "$id" --wait 10000 --verify $(($2 + 1))
	on_kill domU1 q1 >/dev/null
	on_wait domU1 q1 30 >/dev/null
}
# relink_dom0 WHAT: the dom0 link of domU1 goes and comes back
relink_dom0() {
	check "$1: dom0 unlinks domU1" hdx_unlink dom0 domU1
	check "$1: domU1 sees dom0 go" hdx_wait 30 eval "! reaches domU1 0"
	check "$1: dom0 links domU1 again" hdx_link dom0 domU1
	check "$1: domU1 reaches dom0 again" hdx_wait 30 reaches domU1 0
	check "$1: dom0 reaches domU1 again" hdx_wait 30 reaches dom0 "$d1"
}

# --- flood: 4,096 announcements from domU2 ----------------------------------
max=$(on domU1 cat $hp/max_imports)
check "flood: domU1 queues up to 8192 events per file" \
	on domU1 "echo 8192 >$hp/event_queue_len"
check "flood: a process of domU1 listens" on_bg domU1 ev \
	hdmabuf wait-event --type new --count 100000 --timeout 600000
check "flood: ... listening" hdx_wait 30 on domU1 \
	"grep -q '^listening' /tmp/hdx/bg/ev.out"
m0=$(mem domU1)
diag "flood: domU1 before: $m0"
check "flood: domU2 arms announce-flood" on domU2 "echo announce-flood >$fault"
id=$(hdx_export_bg domU2 fl --to "$d1" --size 4k --seed 60)
[ -n "$id" ] && ok "flood: domU2's export that starts it succeeds" ||
	not_ok "flood: domU2's export that starts it succeeds"
check "flood: domU2 has sent it all" hdx_wait 300 on domU2 \
	"dmesg | grep -q 'forged announcements sent to domain $d1'"
diag "flood: domU2 says: $(on domU2 "dmesg | grep -o 'fault: [0-9]* forged.*'")"
# The last of them still being handled: wait for a count that holds.
n=-1
hdx_wait 60 eval 'p=$n; n=$(hdx_stat domU1 imports); [ "$n" = "$p" ]'
m1=$(mem domU1)
diag "flood: domU1 during: $m1"
if [ "$n" = "$max" ]; then
	ok "flood: domU1 holds $max of domU2's buffers, max_imports"
else
	not_ok "flood: domU1 holds $max of domU2's buffers, max_imports ($n)"
fi
grew=$(($(val sunreclaim_kb "$m1") - $(val sunreclaim_kb "$m0")))
if [ "$grew" -le 2048 ]; then
	ok "flood: domU1's slab grew by at most 2 MiB ($grew KiB)"
else
	not_ok "flood: domU1's slab grew by at most 2 MiB ($grew KiB)"
fi
ev=$(on domU1 "grep -c '^event new' /tmp/hdx/bg/ev.out")
if [ "$ev" = "$max" ]; then
	ok "flood: no event for a refused buffer ($ev events)"
else
	not_ok "flood: no event for a refused buffer ($ev events, not $max)"
fi
on_kill domU1 ev >/dev/null
on_wait domU1 ev 30 >/dev/null
check "flood: domU1 queues 64 events per file again" \
	on domU1 "echo 64 >$hp/event_queue_len"
out=$(on domU2 "hdmabuf export --to $d1 --size 4k --exit-after-export 2>&1")
case "$out" in
*"export: ENOSPC"*) ok "flood: domU2's next export is refused (ENOSPC)" ;;
*)	diag "$out"
	not_ok "flood: domU2's next export is refused (ENOSPC)" ;;
esac
shares_with_dom0 "flood" 600
relink_dom0 "flood"
shares_with_dom0 "flood, relinked" 602
# domU2 goes and comes back: domU1 forgets its buffers.
check "flood: dom0 unlinks domU1 and domU2" hdx_unlink domU1 domU2
check "flood: domU1 sees domU2 go" hdx_wait 30 eval "! reaches domU1 $d2"
on_kill domU2 fl >/dev/null
on_wait domU2 fl 30 >/dev/null
check "flood: domU1 holds nothing of domU2's any more" hdx_quiet domU1
diag "flood: domU1 after: $(mem domU1)"
check "flood: dom0 links domU1 and domU2 again" hdx_link domU1 domU2
check "flood: domU1 reaches domU2 again" hdx_wait 30 reaches domU1 "$d2"
check "flood: domU2 reaches domU1 again" hdx_wait 30 reaches domU2 "$d1"

# --- deaf: domU2 stops reading ----------------------------------------------
# A long answer timeout keeps all twelve exports waiting while domU1
# shares with dom0 and relinks.
check "deaf: domU1 waits 60 s for an answer" \
	on domU1 "echo 60000 >$hp/msg_timeout_ms"
check "deaf: domU2 stops reading" on domU2 "echo deaf >$fault"
m0=$(mem domU1)
diag "deaf: domU1 before: $m0"
check "deaf: domU1 samples its grants" on_bg domU1 samp \
	"m=0; while :; do g=\$(cat $G); [ \$g -le \$m ] ||
		{ m=\$g; echo \$m >/tmp/gmax; }; usleep 200000; done"
check "deaf: domU1 starts twelve 8 MiB exports to domU2" on_bg domU1 dq \
	"rm -f /tmp/dq.*; for i in \$(seq 12); do
		hdmabuf export --to $d2 --size 8m --exit-after-export \
			>/tmp/dq.\$i 2>&1 &
	done; wait"
check "deaf: eight wait for domU2, four fail with ENOSPC" hdx_wait 60 on domU1 \
	"[ \$(cat /tmp/dq.* | grep -c 'export: ENOSPC') = 4 ] &&
	 [ \$(sed -n 's/^exports: //p' /sys/kernel/debug/hyper_dmabuf/stats) = 8 ]"
m1=$(mem domU1)
diag "deaf: domU1 during: $m1"
g=$(val grants "$m1")
# 64 MiB is 16,384 data grants; each 8 MiB buffer has 3 directory pages.
lim=$((16384 + 8 * 3))
# While sampling, domU1 also shares 1 MiB at a time with dom0
# (shares_with_dom0: 256 data grants and a directory page), which counts
# against dom0's limits, not domU2's.
lim_dom0=$((256 + 1))
if [ "$g" -le $lim ]; then
	ok "deaf: domU1 grants domU2 at most 64 MiB's worth ($g)"
else
	not_ok "deaf: domU1 grants domU2 at most 64 MiB's worth ($g)"
fi
shares_with_dom0 "deaf" 610
relink_dom0 "deaf"
shares_with_dom0 "deaf, relinked" 612
on_wait domU1 dq 120 >/dev/null
out=$(on domU1 "cat /tmp/dq.*" | sed -n 's/^hdmabuf: export: //p' |
	cut -d' ' -f1 | sort | uniq -c)
if [ "$(echo $out)" = "4 ENOSPC 8 ETIMEDOUT" ]; then
	ok "deaf: eight exports give up (ETIMEDOUT), four were refused (ENOSPC)"
else
	diag "$out"
	not_ok "deaf: eight exports give up (ETIMEDOUT), four were refused (ENOSPC)"
fi
check "deaf: domU2 never mapped them: their grants are revoked" \
	hdx_wait 20 on domU1 "[ \$(cat $G) = 0 ]"
check "deaf: ... and domU1 shares nothing any more" hdx_quiet domU1
gmax=$(on domU1 cat /tmp/gmax)
on_kill domU1 samp >/dev/null
on_wait domU1 samp 30 >/dev/null
if [ "$gmax" -le $((lim + lim_dom0)) ]; then
	ok "deaf: domU1's grants never went past 64 MiB's worth, and dom0's 1 MiB ($gmax)"
else
	not_ok "deaf: domU1's grants never went past 64 MiB's worth, and dom0's 1 MiB ($gmax)"
fi
diag "deaf: domU1 after: $(mem domU1), at most $gmax grants"

# --- deaf after taking one: domU2 keeps what it maps, nothing else ----------
check "held: domU2 reads again" on domU2 "echo none >$fault"
check "held: domU1 waits 3.5 s for an answer again" \
	on domU1 "echo 3500 >$hp/msg_timeout_ms"
idm=$(hdx_export_bg domU1 dm --to "$d2" --size 8m --seed 64)
idi=$(hdx_export_bg domU1 di --to "$d2" --size 8m --seed 65)
[ -n "$idm" ] && [ -n "$idi" ] && ok "held: domU1 exports two to domU2" ||
	not_ok "held: domU1 exports two to domU2"
check "held: a process of domU2 maps the first" \
	on_bg domU2 hold rig-mem scribble "$idm"
check "held: ... mapped" hdx_wait 30 on domU2 \
	"grep -q '^mapped 8388608' /tmp/hdx/bg/hold.out"
check "held: domU2 stops reading" on domU2 "echo deaf >$fault"
on_kill domU1 dm >/dev/null
on_kill domU1 di >/dev/null
check "held: domU1 unexports both" eval \
	"on_wait domU1 dm 30 >/dev/null && on_wait domU1 di 30 >/dev/null"
m1=$(mem domU1)
diag "held: domU1 with domU2 deaf: $m1"
if [ "$(val grants "$m1")" = 2048 ] &&
   [ "$(val shared_pages: "$m1")" = 2048 ]; then
	ok "held: domU1 keeps only the 2048 grants domU2 maps"
else
	not_ok "held: domU1 keeps only the 2048 grants domU2 maps"
fi
check "held: domU2 reads again" on domU2 "echo none >$fault"
on_kill domU2 hold >/dev/null
check "held: domU2's process lets go" on_wait domU2 hold 30
check "held: domU1 shares nothing any more" hdx_quiet domU1
check "held: domU2 maps nothing any more" hdx_quiet domU2
check "dom0 maps nothing" hdx_quiet dom0
