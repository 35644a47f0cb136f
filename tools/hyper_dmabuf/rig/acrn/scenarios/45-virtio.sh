# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 45-virtio.sh: a UOS whose virtio transport lies, a deaf SOS under a full
# virtqueue, and a UOS that resets its device mid-transfer (acrn.sh
# --transport virtio; skipped whole on mailbox links).  The faults are
# hyper_dmabuf_virtio_ivshmem's parameter "fault" (test builds), one-shot
# on uos1's next send.
#
# - Each ring lie (desc-oob, chain-loop, chain-long, indirect-oob,
#   avail-jump): uos1 exports 4 KiB to the SOS telling it; the SOS drops
#   uos1's link (its links file: vm 1 down, one drop more, and why), keeps
#   uos2's, and uos1 stays dropped until it reloads hyper_dmabuf_acrn;
#   then both directions come back and a share works.  The SOS's log names
#   the first lie of the link only ("logged once"), so the why of each is
#   read from the links file; the log has that one complaint about vm 1.
# - notify-flood: 100,000 doorbells on one send drop nothing, and shares
#   keep working.
# - A deaf SOS (hyper_dmabuf_acrn's fault=deaf): 20 exports of uos1's at
#   once, as in 40-lies, all end in ETIMEDOUT in bounded time, no VM
#   hangs, no link drops, and all is well once it reads.
# - uos1 starts an export and at once unloads hyper_dmabuf_acrn, whose
#   remove resets the virtio device with messages in flight: the rmmod
#   succeeds, or is refused while the export holds the module (as in
#   50-reload) and succeeds once it is done; nothing hangs or complains,
#   the SOS sees vm 1 go without counting a drop, and after a reload the
#   link is back and shares work.
# - A hung SOS (its QEMU stopped): uos1's unload returns though its reset
#   goes unanswered, with no kernel complaint and no leak; uos1 binds its
#   transport anew once the SOS runs again.
. "$HDA_LIB/hda-share.sh"

if [ "$HDA_TRANSPORT" != virtio ]; then
	skip "the virtio transport's lies and resets" \
		"$HDA_TRANSPORT links (acrn.sh --transport virtio runs it)"
	return 0
fi

# What the SOS's links file says of each lie (the start of its why).  A
# loop, or a chain as long as the ring, of data descriptors hits the limit
# of 8 per buffer before it goes once round a 64-entry table; vring.c's
# loop check proper ("longer than its table") is KUnit's (vring_lie).
declare -A why_of=(
	[desc-oob]="available descriptor index out of range"
	[chain-loop]="buffer of too many descriptors"
	[chain-long]="buffer of too many descriptors"
	[indirect-oob]="indirect table outside the UOS's RAM"
	[avail-jump]="available index more than a ring ahead"
)
lies=(desc-oob chain-loop chain-long indirect-oob avail-jump)

# link_is VM VMID STATE [DROPS]: VM's links file shows VMID's link virtio,
# in STATE, with DROPS drops (when given)
link_is() {
	local tr st n
	read -r tr st n _ < <(hda_link "$1" "$2") || return 1
	[ "$tr $st" = "virtio $3" ] && [ "${4:-$n}" = "$n" ]
}
# dropped_after D0: the SOS shows uos1's link down, with more than D0 drops
dropped_after() {
	local tr st n
	read -r tr st n _ < <(hda_link sos 1) || return 1
	[ "$st" = down ] && [ "$n" -gt "$1" ]
}
# drops VM VMID: the drops of VM's link to VMID ("?" when it has none)
drops() {
	local n
	read -r _ _ n _ < <(hda_link "$1" "$2")
	echo "${n:-?}"
}
# complaints VM: how many kernel complaints VM's log holds so far (some of
# rig/logscan.sh's, which scans every log at the end).  Each word has a
# bracket in it: the agent echoes its commands to the console, which
# logscan.sh reads, and the plain words there would be complaints.
complaint='BU[G]:|WARNIN[G]:|Oop[s]|general protection faul[t]|KASA[N]|'
complaint+='UBSA[N]|possible circular lockin[g]|possible recursive lockin[g]|'
complaint+='inconsistent lock stat[e]|blocked for more tha[n]|Call Trac[e]:'
complaints() {
	on "$1" "dmesg | grep -cE '$complaint'"
}

# --- ring lies: the SOS drops uos1's link, and only that link -----------------
seed=450
for lie in "${lies[@]}"; do
	seed=$((seed + 2))
	d0=$(drops sos 1)
	u0=$(drops sos 2)
	check "$lie: uos1 arms it" hda_arm uos1 "$lie"
	on uos1 hdmabuf export --to 0 --size 4k --exit-after-export \
		>/dev/null 2>&1
	if hda_wait 20 dropped_after "$d0"; then
		ok "$lie: the SOS drops uos1's link (vm 1 down, drops $d0 -> $(drops sos 1))"
	else
		diag "$(on sos cat "$HDA_LINKS")"
		not_ok "$lie: the SOS drops uos1's link (vm 1 down, drops above $d0)"
	fi
	read -r _ _ _ why < <(hda_link sos 1)
	if [[ "$why" == "${why_of[$lie]}"* ]]; then
		ok "$lie: the SOS's links file says why: $why"
	else
		not_ok "$lie: the SOS's links file says why: ${why_of[$lie]} (it says: ${why:-nothing})"
	fi
	check "$lie: uos1 sees the SOS go" hda_wait 20 eval '! hda_reaches uos1 0'
	check "$lie: the SOS still reaches uos2" hda_reaches sos 2
	check "$lie: uos2's link is up, no drop more ($u0)" link_is sos 2 up "$u0"
	hda_share uos2 sos 64k rw "$seed"
	check "$lie: uos1 stays dropped meanwhile" \
		eval '! hda_reaches sos 1 && link_is sos 1 down'
	check "$lie: uos1 reloads hyper_dmabuf_acrn" on uos1 \
		"rmmod hyper_dmabuf_acrn && insmod /modules/hyper_dmabuf_acrn.ko"
	check "$lie: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
	check "$lie: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
	check "$lie: both links files show the link up" \
		eval 'link_is sos 1 up && link_is uos1 0 up'
	hda_share uos1 sos 64k rw $((seed + 1))
done

# The log: the first lie of uos1's link, once; none about uos2.
log=$(on sos "dmesg | grep hyper_dmabuf_acrn")
pat="vm 1: protocol error, link dropped: ($(printf '%s|' "${why_of[@]}" |
	sed 's/|$//'))"
k=$(grep -cE "$pat" <<<"$log")
if [ "$k" = 1 ]; then
	ok "the SOS logs uos1's first lie, once: $(grep -oE "$pat" <<<"$log" |
		sed 's/.*dropped: //')"
else
	grep -E "protocol error" <<<"$log" | head -n 8 | sed 's/^/# /' >&3
	not_ok "the SOS logs uos1's first lie, once ($k times)"
fi
k=$(grep -cE "vm 2: protocol error" <<<"$log")
if [ "$k" = 0 ]; then
	ok "the SOS logs no protocol error of uos2's"
else
	not_ok "the SOS logs no protocol error of uos2's ($k)"
fi

# --- notify-flood: a storm of doorbells drops nothing --------------------------
d0=$(drops sos 1)
check "notify-flood: uos1 arms it" hda_arm uos1 notify-flood
# The share's export is the send that rings 100,000 times.
hda_share uos1 sos 64k rw 470
check "notify-flood: nothing dropped (vm 1 up, drops still $d0)" \
	link_is sos 1 up "$d0"
check "notify-flood: uos1's link is up" link_is uos1 0 up
check "notify-flood: the SOS still reaches uos2" hda_reaches sos 2
hda_share uos1 sos 1m rw 472

# --- a full queue with a deaf SOS -------------------------------------------------
# As in 40-lies: each export waits for the SOS's answer, gives up after
# msg_timeout_ms (ETIMEDOUT) and withdraws, two messages each, 40 in all,
# towards a full queue to the SOS (whether it fills depends on the queue
# size the transport chose; the host cannot see the vrings to tell).
d0=$(drops sos 1)
check "deaf: the SOS stops reading" hda_arm sos deaf
t0=$SECONDS
out=$(HDA_ON_TIMEOUT=180 on uos1 'rm -f /tmp/vdeaf.*
	for i in $(seq 20); do
		hdmabuf export --to 0 --size 4k --exit-after-export \
			>/tmp/vdeaf.$i 2>&1 &
	done
	wait
	cat /tmp/vdeaf.* | sed -n "s/^hdmabuf: export: //p" | cut -d" " -f1 |
		sort | uniq -c')
t=$((SECONDS - t0))
if [ "$(echo $out)" = "20 ETIMEDOUT" ]; then
	ok "deaf: all 20 exports of uos1 fail with ETIMEDOUT"
else
	diag "$out"
	not_ok "deaf: all 20 exports of uos1 fail with ETIMEDOUT"
fi
if [ $t -le 120 ]; then
	ok "deaf: ... within 120 s ($t s)"
else
	not_ok "deaf: ... within 120 s ($t s)"
fi
for v in $HDA_VMS; do
	check "deaf: $v still answers" eval "HDA_ON_TIMEOUT=30 on $v true"
done
check "deaf: the SOS reads again" hda_arm sos none
check "deaf: the SOS still reaches uos1" hda_wait 30 hda_reaches sos 1
check "deaf: nothing dropped (drops still $d0)" link_is sos 1 up "$d0"
hda_share uos1 sos 64k rw 474
check "deaf: the SOS lists nothing of uos1's" \
	on sos "! hdmabuf list | grep -q '^1:'"
hda_share uos2 sos 64k rw 476

# --- reset mid-transfer: uos1 unloads hyper_dmabuf_acrn under an export --------
d0=$(drops sos 1)
c_sos=$(complaints sos)
c_uos=$(complaints uos1)
# One command, so that nothing comes between the export and the rmmod.
check "reset: uos1 starts an export and at once unloads hyper_dmabuf_acrn" \
	on_bg uos1 reset "hdmabuf export --to 0 --size 1m --seed 478 \
		--exit-after-export >/tmp/reset.export 2>&1 &
	rmmod hyper_dmabuf_acrn 2>&1; echo \"rmmod \$?\"
	wait \$!; echo \"export \$?\"; cat /tmp/reset.export"
out=$(on_wait uos1 reset 120)
rc=$?
diag "reset: $out"
if [ $rc = 0 ]; then
	ok "reset: the export and the rmmod both return"
else
	not_ok "reset: the export and the rmmod both return (status $rc)"
	on_kill uos1 reset KILL >/dev/null
	on_wait uos1 reset 30 >/dev/null
fi
case "$(grep -E '^rmmod [0-9]+$' <<<"$out")" in
"rmmod 0")
	ok "reset: rmmod succeeds under traffic (the device reset mid-transfer)" ;;
"rmmod "*)
	# As 50-reload: no unload while an export holds the module.
	if grep -qiE "in use|busy|temporarily unavailable" <<<"$out" &&
	   on uos1 "grep -q '^hyper_dmabuf_acrn ' /proc/modules"; then
		ok "reset: rmmod refused cleanly while the export held the module"
	else
		not_ok "reset: rmmod refused cleanly while the export held the module"
	fi
	check "reset: uos1 shares nothing once the export is done" \
		hda_quiet uos1
	check "reset: uos1 unloads hyper_dmabuf_acrn now" \
		on uos1 rmmod hyper_dmabuf_acrn ;;
*)
	not_ok "reset: rmmod returned" ;;
esac
check "reset: the SOS sees vm 1 go (links: down)" \
	hda_wait 20 eval '! hda_reaches sos 1 && link_is sos 1 down'
check "reset: a reset is no lie (drops still $d0)" link_is sos 1 down "$d0"
check "reset: the SOS still reaches uos2" hda_reaches sos 2
check "reset: uos1 loads hyper_dmabuf_acrn again" \
	on uos1 insmod /modules/hyper_dmabuf_acrn.ko
check "reset: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "reset: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
check "reset: both links files show the link up" \
	eval 'link_is sos 1 up && link_is uos1 0 up'
for v in sos uos1; do
	c0=$c_sos
	[ $v = sos ] || c0=$c_uos
	c=$(complaints $v)
	if [ "$c" = "$c0" ]; then
		ok "reset: $v's kernel log has no complaint"
	else
		on $v "dmesg | grep -E '$complaint'" | tail -n 5 |
			sed 's/^/# /' >&3
		not_ok "reset: $v's kernel log has no complaint ($c0 -> $c)"
	fi
done
hda_share uos1 sos 64k rw 480
hda_share uos1 sos 8m ro 482

# --- a hung SOS: uos1 unloads while its reset goes unanswered -----------------
# The SOS's QEMU is stopped (SIGSTOP), so the device acknowledges nothing:
# uos1's reset times out (timeout_ms) and its transport counts the device
# lost, leaking its rings.  The unload still returns, with no kernel
# complaint (the virtio core wants status 0 after a reset) and no leak of
# the driver's own memory (kmemleak at the teardown).  When the SOS runs
# again, uos1 binds its transport's device anew and shares.
c_uos=$(complaints uos1)
sos_pid=$(cat "$HDA_RUN/sos.pid")
check "hung: the SOS's QEMU stops" kill -STOP "$sos_pid"
t0=$SECONDS
check "hung: uos1 unloads hyper_dmabuf_acrn" \
	on uos1 rmmod hyper_dmabuf_acrn
t1=$((SECONDS - t0))
check "hung: the SOS's QEMU runs again" kill -CONT "$sos_pid"
if [ $t1 -le 30 ]; then
	ok "hung: the unload returned in $t1 s (the reset waits timeout_ms)"
else
	not_ok "hung: the unload returned in $t1 s, more than 30"
fi
check "hung: uos1's transport says the device did not reset" \
	on uos1 "dmesg | grep -q 'device did not reset'"
c=$(complaints uos1)
if [ "$c" = "$c_uos" ]; then
	ok "hung: uos1's kernel log has no complaint"
else
	on uos1 "dmesg | grep -E '$complaint'" | tail -n 5 | sed 's/^/# /' >&3
	not_ok "hung: uos1's kernel log has no complaint ($c_uos -> $c)"
fi
check "hung: uos1 loads hyper_dmabuf_acrn again" \
	on uos1 insmod /modules/hyper_dmabuf_acrn.ko
check "hung: uos1 binds its transport's device anew" hda_rebind uos1
check "hung: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "hung: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
hda_share uos1 sos 64k rw 484

for v in $HDA_VMS; do
	check "$v shares and maps nothing" hda_quiet "$v"
done
