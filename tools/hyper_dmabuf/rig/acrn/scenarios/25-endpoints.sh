# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 25-endpoints.sh: the SOS as a display VM whose compositor is no root.
# The udev rule's policy is in place in every VM (hdx-setup).  The SOS's
# root configures endpoint "display" for group video; uos1's compositor
# (uid 1000, group video) exports to it; the SOS's compositor, bound to
# it, imports the buffer without root, while the SOS's default endpoint
# sees nothing of it and a user outside group video cannot open the
# device.  INFO tells each VM the one direction it shares in.
. "$HDA_LIB/hda-share.sh"

eps=/sys/kernel/config/hyper_dmabuf/endpoints
as_comp="rig-as 1000 44"

for v in sos uos1; do
	check "$v: /dev/hyper_dmabuf is for group video (the udev rule)" \
		on $v "[ \"\$(stat -c '%G %a' /dev/hyper_dmabuf)\" = 'video 660' ]"
done
check "the SOS imports from uos1 only (INFO)" \
	on sos "hdmabuf info | grep -qx 'peer 1 acrn import'"
check "uos1 exports to the SOS only (INFO)" \
	on uos1 "hdmabuf info | grep -qx 'peer 0 acrn export'"
check "the SOS configures endpoint display for group video" \
	on sos "mkdir $eps/display && echo 44 >$eps/display/gid"
on uos1 rm -f /tmp/id.exp
check "uos1's compositor exports to the SOS's display, without root" \
	on_bg uos1 exp "$as_comp hdmabuf export --to 0 --endpoint display --size 1m --seed 26 --idfile /tmp/id.exp"
check "... exported" hda_wait 60 on uos1 test -s /tmp/id.exp
id=$(on uos1 cat /tmp/id.exp)
check "the SOS's compositor imports it and reads every byte" \
	on sos "$as_comp hdmabuf --bind display import $id --wait 10000 --verify 26"
check "the SOS's default endpoint does not list it" \
	on sos "! hdmabuf list | grep -q '$id'"
check "the SOS's default endpoint cannot import it (ENOENT)" \
	on sos hdmabuf import "$id" --expect-errno ENOENT
check "a user outside group video cannot open the device (EACCES)" \
	on sos "rig-as 1001 1001 hdmabuf info 2>&1 | grep -q 'open /dev/hyper_dmabuf: EACCES'"
on_kill uos1 exp >/dev/null
check "uos1's exporter exits cleanly" on_wait uos1 exp 30
check "the SOS removes the endpoint" on sos rmdir $eps/display
check "uos1 shares nothing any more" hda_quiet uos1
check "the SOS maps nothing any more" hda_quiet sos
