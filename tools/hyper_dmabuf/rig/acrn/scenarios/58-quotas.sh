# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 58-quotas.sh: a peer cannot make a VM hold memory without bound, with the
# default limits of hyper_dmabuf (max_imports 256, max_export_mb_per_peer
# 64).  Sharing is one way here, so each attack has its own victim
# (CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS):
#
# - flood, against the SOS: uos1 follows one export with 4,096
#   announcements of buffers that do not exist.  The SOS takes 256 of
#   them, refuses the rest, posts no event for them, and its slab grows by
#   what 256 cost; uos1's next export fails with ENOSPC; uos2 keeps
#   sharing with the SOS.
# - deaf, against uos1: the SOS stops reading.  uos1 starts twelve 8 MiB
#   exports at once: eight fit in 64 MiB and wait for an answer, four fail
#   with ENOSPC.  The eight give up (ETIMEDOUT) but stay shared, since the
#   SOS can reach all of uos1's RAM and nothing can be revoked: uos1 holds
#   64 MiB for the deaf SOS and no more, until it reads again.
#
# Every phase prints the victim's unreclaimable slab and hyper_dmabuf
# counters.
. "$HDA_LIB/hda-share.sh"

hp=/sys/module/hyper_dmabuf/parameters

# mem VM: one line, "sunreclaim_kb N exports: N imports: N ..."
mem() {
	on "$1" "awk '/^SUnreclaim:/ { printf \"sunreclaim_kb %s \", \$2 }' \
		/proc/meminfo; tr '\n' ' ' <$HDA_STATS; echo"
}
# val KEY LINE: the value after KEY in a line of mem
val() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }' <<<"$2"
}
# uos2_shares WHAT SEED: the SOS imports what uos2 exports
uos2_shares() {
	local id
	id=$(hda_export_bg uos2 q2 --to 0 --size 64k --seed "$2")
	check "$1: the SOS imports what uos2 exports" \
		on sos hdmabuf import "$id" --wait 10000 --verify "$2"
	on_kill uos2 q2 >/dev/null
	on_wait uos2 q2 30 >/dev/null
}

# --- flood: 4,096 announcements from uos1 ----------------------------------
max=$(on sos cat $hp/max_imports)
check "flood: the SOS queues up to 8192 events per file" \
	on sos "echo 8192 >$hp/event_queue_len"
check "flood: a process of the SOS listens" on_bg sos ev \
	hdmabuf wait-event --type new --count 100000 --timeout 600000
check "flood: ... listening" on_wait_line sos ev '^listening' 30
m0=$(mem sos)
diag "flood: the SOS before: $m0"
check "flood: uos1 arms announce-flood" hda_arm uos1 announce-flood
id=$(hda_export_bg uos1 fl --to 0 --size 4k --seed 58)
if [ -n "$id" ]; then
	ok "flood: uos1's export that starts it succeeds"
else
	not_ok "flood: uos1's export that starts it succeeds"
fi
check "flood: uos1 has sent it all" hda_wait 300 on uos1 \
	"dmesg | grep -q 'forged announcements sent to vm 0'"
diag "flood: uos1 says: $(on uos1 "dmesg | grep -o 'fault: [0-9]* forged.*'")"
# The last of them still being handled: wait for a count that holds.
n=-1
hda_wait 60 eval 'p=$n; n=$(hda_stat sos imports); [ "$n" = "$p" ]'
m1=$(mem sos)
diag "flood: the SOS during: $m1"
if [ "$n" = "$max" ]; then
	ok "flood: the SOS holds $max of uos1's buffers, max_imports"
else
	not_ok "flood: the SOS holds $max of uos1's buffers, max_imports ($n)"
fi
grew=$(($(val sunreclaim_kb "$m1") - $(val sunreclaim_kb "$m0")))
if [ "$grew" -le 2048 ]; then
	ok "flood: the SOS's slab grew by at most 2 MiB ($grew KiB)"
else
	not_ok "flood: the SOS's slab grew by at most 2 MiB ($grew KiB)"
fi
ev=$(on sos "grep -c '^event new' /tmp/hdx/bg/ev.out")
if [ "$ev" = "$max" ]; then
	ok "flood: no event for a refused buffer ($ev events)"
else
	not_ok "flood: no event for a refused buffer ($ev events, not $max)"
fi
on_kill sos ev >/dev/null
on_wait sos ev 30 >/dev/null
check "flood: the SOS queues 64 events per file again" \
	on sos "echo 64 >$hp/event_queue_len"
fails_with "flood: uos1's next export is refused (ENOSPC)" "export: ENOSPC" \
	on uos1 hdmabuf export --to 0 --size 4k --exit-after-export
uos2_shares "flood" 580
# uos1 attaches again, a new session: the SOS forgets its buffers.
check "flood: uos1 rebinds its link" hda_rebind uos1
check "flood: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "flood: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
on_kill uos1 fl >/dev/null
on_wait uos1 fl 30 >/dev/null
check "flood: the SOS holds nothing of uos1's any more" hda_quiet sos
check "flood: uos1 shares nothing any more" hda_quiet uos1
diag "flood: the SOS after: $(mem sos)"
uos2_shares "flood, after" 582

# --- deaf: the SOS stops reading --------------------------------------------
# A long answer timeout keeps all twelve exports waiting while they are
# counted.
check "deaf: uos1 waits 60 s for an answer" \
	on uos1 "echo 60000 >$hp/msg_timeout_ms"
check "deaf: the SOS stops reading" hda_arm sos deaf
m0=$(mem uos1)
diag "deaf: uos1 before: $m0"
check "deaf: uos1 starts twelve 8 MiB exports to the SOS" on_bg uos1 dq \
	"rm -f /tmp/dq.*; for i in \$(seq 12); do
		hdmabuf export --to 0 --size 8m --exit-after-export \
			>/tmp/dq.\$i 2>&1 &
	done; wait"
check "deaf: eight wait for the SOS, four fail with ENOSPC" hda_wait 60 \
	on uos1 "[ \$(cat /tmp/dq.* | grep -c 'export: ENOSPC') = 4 ] &&
		 [ \$(sed -n 's/^exports: //p' $HDA_STATS) = 8 ]"
m1=$(mem uos1)
diag "deaf: uos1 during: $m1"
skip "deaf: uos1's other peers keep sharing" "a user VM has one peer"
on_wait uos1 dq 120 >/dev/null
out=$(on uos1 "cat /tmp/dq.*" | sed -n 's/^hdmabuf: export: //p' |
	cut -d' ' -f1 | sort | uniq -c)
if [ "$(echo $out)" = "4 ENOSPC 8 ETIMEDOUT" ]; then
	ok "deaf: eight exports give up (ETIMEDOUT), four were refused (ENOSPC)"
else
	diag "$out"
	not_ok "deaf: eight exports give up (ETIMEDOUT), four were refused (ENOSPC)"
fi
m2=$(mem uos1)
diag "deaf: uos1 after they gave up: $m2"
if [ "$(val shared_pages: "$m2")" = 16384 ] &&
   [ "$(val exports: "$m2")" = 8 ]; then
	ok "deaf: uos1 keeps them for the deaf SOS, 64 MiB and no more"
else
	not_ok "deaf: uos1 keeps them for the deaf SOS, 64 MiB and no more"
fi
grew=$(($(val sunreclaim_kb "$m2") - $(val sunreclaim_kb "$m0")))
if [ "$grew" -le 2048 ]; then
	ok "deaf: uos1's slab grew by at most 2 MiB ($grew KiB)"
else
	not_ok "deaf: uos1's slab grew by at most 2 MiB ($grew KiB)"
fi
fails_with "deaf: a ninth export is refused at once (ENOSPC)" \
	"export: ENOSPC" \
	on uos1 hdmabuf export --to 0 --size 8m --exit-after-export
check "deaf: the SOS reads again" hda_arm sos none
check "deaf: uos1 waits 3.5 s for an answer again" \
	on uos1 "echo 3500 >$hp/msg_timeout_ms"
check "deaf: uos1 shares nothing any more" hda_quiet uos1
diag "deaf: uos1 after: $(mem uos1)"
hda_share uos1 sos 64k rw 584
for v in $HDA_VMS; do
	check "$v shares and maps nothing" hda_quiet "$v"
done
