# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 40-lies.sh: a UOS that lies.  uos1's driver is made to lie to the SOS
# once per case (CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS, parameter "fault");
# the SOS must refuse the import with EINVAL, keep working and leak
# nothing.  A lie about ring indices costs uos1 its link until its driver
# reattaches (reload).  A SOS that stops reading (fault=deaf) makes uos1's
# exports fail with ETIMEDOUT, also once the ring is full, and uos1
# carries on when it reads again.  The SOS logs each kind of complaint once per link,
# and uos2 never notices any of it.
#
# With virtio links (HDA_TRANSPORT) the mailbox's ring faults do nothing;
# the transport module's stand for them (hda_fault): notify-flood for
# flood, avail-jump for ring-lie.  The mailbox's ring indices, which the
# host reads from the memory file, do not exist there: those two checks
# skip.  45-virtio has the transport's other lies.
. "$HDA_LIB/hda-share.sh"

# What the SOS logs about a lying UOS: lines of hyper_dmabuf_acrn naming
# the UOS ("vm N: ...") and one of these (grep -E), one per kind.
complaints=("rejected address table" "protocol error")

# as_armed KIND: " (VALUE)" when the transport arms KIND as another value
as_armed() {
	local f
	f=$(hda_fault "$1")
	[ "${f#* }" = "$1" ] || echo " (${f#* })"
}

# lie FAULT IMPORT-ARGS DESC: uos1 exports 1 MiB to the SOS telling lie
# FAULT, armed through hda_fault (a virtio link floods its own way)
lie() {
	local id
	check "$1: uos1 arms the lie$(as_armed "$1")" hda_arm uos1 "$1"
	id=$(hda_export_bg uos1 exp --to 0 --size 1m --seed 5)
	if [ -n "$id" ]; then
		ok "$1: uos1's export itself succeeds"
	else
		not_ok "$1: uos1's export itself succeeds"
		on_kill uos1 exp KILL >/dev/null
		on_wait uos1 exp 30 >/dev/null
		return
	fi
	# shellcheck disable=SC2086
	check "$1: $3" on sos hdmabuf import "$id" --wait 10000 $2
	check "$1: the SOS maps nothing" \
		hda_wait 20 eval '[ "$(hda_stat sos mapped_pages)" = 0 ]'
	on_kill uos1 exp >/dev/null
	on_wait uos1 exp 30 >/dev/null
	check "$1: both quiet afterwards" eval "hda_quiet sos && hda_quiet uos1"
	check "$1: the SOS still reaches uos1" hda_reaches sos 1
}

lie gpa-oob "--expect-errno EINVAL" \
	"an address beyond uos1's RAM is refused (EINVAL)"
lie gpa-unaligned "--expect-errno EINVAL" \
	"an address not on a page boundary is refused (EINVAL)"
lie table-oob "--expect-errno EINVAL" \
	"an address table outside uos1's RAM is refused (EINVAL)"
lie flood "--verify 5" \
	"an event storm does not stop the SOS from importing"
hda_share uos1 sos 64k rw 41
# The SOS still works with its other UOS.
hda_share uos2 sos 64k rw 42

# --- lying ring indices: the SOS drops the link, and only that link ----------
check "ring-lie: uos1 arms the lie$(as_armed ring-lie)" hda_arm uos1 ring-lie
on uos1 hdmabuf export --to 0 --size 4k --exit-after-export >/dev/null 2>&1
check "ring-lie: the SOS drops uos1" \
	hda_wait 20 eval '! hda_reaches sos 1'
check "ring-lie: the SOS still reaches uos2" hda_reaches sos 2
hda_share uos2 sos 64k rw 43
check "ring-lie: uos1 reloads hyper_dmabuf_acrn" on uos1 \
	"rmmod hyper_dmabuf_acrn && insmod /modules/hyper_dmabuf_acrn.ko"
check "ring-lie: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "ring-lie: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
hda_share uos1 sos 64k rw 44

# --- a deaf SOS: it stops reading (fault=deaf, until none) ------------------
# uos1 starts 20 exports at once: each waits for the SOS's answer, gives up
# after msg_timeout_ms (ETIMEDOUT) and withdraws, two messages each, so
# the ring to the SOS fills up and the last sends give up too (ETIMEDOUT).
# The host reads the ring's indices in the mailbox (acrn.h: the uos->sos
# ring at 4 KiB into it, prod then cons); a virtio link's rings are in
# uos1's RAM, where the host does not know them.
ring_u2s() {	# ring_u2s N: "PROD CONS" of uosN's ring to the SOS
	od -A n -t u4 -j $((510 * 1024 * 1024 + 4096)) -N 8 "$HDA_SHM-uos$1" |
		awk '{ print $1, $2 }'
}
check "deaf: the SOS stops reading" hda_arm sos deaf
out=$(HDA_ON_TIMEOUT=180 on uos1 'for i in $(seq 20); do
		hdmabuf export --to 0 --size 4k --exit-after-export \
			>/tmp/deaf.$i 2>&1 &
	done
	wait
	cat /tmp/deaf.* | sed -n "s/^hdmabuf: export: //p" | cut -d" " -f1 |
		sort | uniq -c')
if [ "$(echo $out)" = "20 ETIMEDOUT" ]; then
	ok "deaf: all 20 exports of uos1 fail with ETIMEDOUT"
else
	diag "$out"
	not_ok "deaf: all 20 exports of uos1 fail with ETIMEDOUT"
fi
if [ "$HDA_TRANSPORT" != mailbox ]; then
	skip "deaf: uos1's ring to the SOS is full" \
		"no mailbox ring on $HDA_TRANSPORT links: the vrings are in uos1's RAM, where the host does not know them"
else
	read -r prod cons < <(ring_u2s 1)
	if [ $((prod - cons)) = 32 ]; then
		ok "deaf: uos1's ring to the SOS is full ($prod, $cons)"
	else
		not_ok "deaf: uos1's ring to the SOS is full ($prod, $cons)"
	fi
fi
check "deaf: the SOS reads again" hda_arm sos none
check "deaf: the SOS still reaches uos1" hda_wait 30 hda_reaches sos 1
hda_share uos1 sos 64k rw 45
if [ "$HDA_TRANSPORT" != mailbox ]; then
	skip "deaf: the SOS has read everything" \
		"no mailbox ring on $HDA_TRANSPORT links"
else
	read -r prod cons < <(ring_u2s 1)
	if [ "$prod" = "$cons" ]; then
		ok "deaf: the SOS has read everything ($prod, $cons)"
	else
		not_ok "deaf: the SOS has read everything ($prod, $cons)"
	fi
fi
check "deaf: the SOS lists nothing of uos1's" \
	on sos "! hdmabuf list | grep -q '^1:'"
hda_share uos2 sos 64k rw 46

# --- the SOS's log: each kind of complaint about uos1 once, none about uos2 --
log=$(on sos "dmesg | grep hyper_dmabuf_acrn")
for c in "${complaints[@]}"; do
	# A link's complaints name its device (KUnit's fake links do not).
	k=$(echo "$log" | grep -E "hyper_dmabuf_acrn [0-9a-f:.]+: vm 1: .*$c" |
		grep -c .)
	if [ "$k" = 1 ]; then
		ok "the SOS logs \"$c\" about uos1 once"
	else
		echo "$log" | grep -E "$c" | head -n 5 | sed 's/^/# /' >&3
		not_ok "the SOS logs \"$c\" about uos1 once ($k times)"
	fi
	k=$(echo "$log" | grep -E "hyper_dmabuf_acrn [0-9a-f:.]+: vm 2: .*$c" |
		grep -c .)
	if [ "$k" = 0 ]; then
		ok "the SOS logs no \"$c\" about uos2"
	else
		not_ok "the SOS logs no \"$c\" about uos2 ($k times)"
	fi
done
for v in $HDA_VMS; do
	check "$v shares and maps nothing" hda_quiet $v
done
