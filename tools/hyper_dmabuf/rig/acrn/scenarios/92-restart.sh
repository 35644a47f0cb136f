# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 92-restart.sh: a UOS killed (90-kill) boots again while the SOS's module
# stays loaded: the same RAM file, the same link, a new kernel.  The host's
# presence word turns odd again, the new driver attaches with a new
# session (on virtio links: a new virtio device, reset and set up again on
# a device that forgot the dead VM's queues), the SOS answers it, and the
# two share as before; the SOS counts no protocol error for it, and uos1
# never notices.  The teardown then checks uos2 as any live VM (modules
# unload, lockdep, kmemleak), and both of its consoles are scanned.
. "$HDA_LIB/hda-share.sh"

if vm_alive uos2; then
	skip "uos2 boots again after it was killed" "uos2 was not killed (run 90-kill first)"
	return 0
fi
read -r _ _ d0 _ < <(hda_link sos 2)
check "uos2 boots again, its agent up" vm_restart uos2
out=$(on uos2 cat /tmp/hdx/setup)
if [ -n "$out" ] && ! grep -q '^not ok' <<<"$out"; then
	ok "uos2 loads its modules again ($(grep -c '^ok' <<<"$out") setup checks)"
else
	diag "$out"
	not_ok "uos2 loads its modules again"
fi
check "the SOS reaches uos2 again" hda_wait 60 hda_reaches sos 2
check "uos2 reaches the SOS again" hda_wait 30 hda_reaches uos2 0
hda_link_is sos 2 up "$d0"
hda_share uos2 sos 64k rw 921
hda_share uos2 sos 1m ro 923
check "uos1 still reaches the SOS" hda_reaches uos1 0
hda_share uos1 sos 64k rw 925
check "uos2 quiet afterwards" hda_quiet uos2
check "the SOS quiet afterwards" hda_quiet sos
