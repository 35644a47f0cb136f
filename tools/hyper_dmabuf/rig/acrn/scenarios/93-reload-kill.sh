# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 93-reload-kill.sh: uos2 dies while it reloads its driver over and over
# (rmmod, insmod: each load attaches its link anew, a handshake with the
# SOS), so that its QEMU is killed in the middle of a reload, most often
# of a handshake; where exactly is not controlled.  The SOS drops it
# within seconds, counts no protocol error (a dead VM told no lie), holds
# nothing of it, keeps sharing with uos1, and answers uos2's next life as
# any new attachment.  Runs after 92-restart.
. "$HDA_LIB/hda-share.sh"

if ! vm_alive uos2; then
	skip "uos2 dies in the middle of a reload" "uos2 is not running"
	return 0
fi
read -r _ _ d0 _ < <(hda_link sos 2)
check "uos2 reloads hyper_dmabuf_acrn over and over" on_bg uos2 reload \
	hdx-reload hyper_dmabuf_acrn
check "... three times at least" on_wait_line uos2 reload '^reload 3$' 60
check "the host kills uos2's QEMU in the middle of a reload" vm_kill uos2
t0=$SECONDS
if hda_wait 10 eval '! hda_reaches sos 2'; then
	ok "the SOS drops uos2 ($((SECONDS - t0)) s)"
else
	not_ok "the SOS drops uos2 within 10 s"
fi
hda_link_is sos 2 down "$d0"
check "the SOS's counters are at zero" hda_quiet sos
check "the SOS still reaches uos1" hda_reaches sos 1
hda_share uos1 sos 64k rw 931

check "uos2 boots again, its agent up" vm_restart uos2 life3
check "the SOS reaches uos2 again" hda_wait 60 hda_reaches sos 2
check "uos2 reaches the SOS again" hda_wait 30 hda_reaches uos2 0
hda_link_is sos 2 up "$d0"
hda_share uos2 sos 1m rw 933
check "uos2 quiet afterwards" hda_quiet uos2
check "the SOS quiet afterwards" hda_quiet sos
