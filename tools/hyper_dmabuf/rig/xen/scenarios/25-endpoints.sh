# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 25-endpoints.sh: compositors that are no root, and endpoints.  The udev
# rule's policy is in place in every domain (hdx-setup): /dev/hyper_dmabuf
# for group video.  dom0's root configures endpoint "display" for the
# compositor (uid 1000, in group video).  domU1's compositor exports a
# buffer to dom0's "display"; dom0's compositor, bound to it, hears of it,
# lists it and imports it, all without root; dom0's default endpoint sees
# nothing of it; a user outside group video cannot open the device, and one
# in it but not the endpoint's user cannot bind it.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
eps=/sys/kernel/config/hyper_dmabuf/endpoints
as_comp="rig-as 1000 44"

for d in dom0 domU1; do
	check "$d: /dev/hyper_dmabuf is for group video (the udev rule)" \
		on $d "[ \"\$(stat -c '%G %a' /dev/hyper_dmabuf)\" = 'video 660' ]"
done
check "dom0 can both export to and import from domU1 (INFO)" \
	on dom0 "hdmabuf info | grep -qx 'peer $d1 xen export import'"
check "dom0 configures endpoint display for uid 1000" \
	sh -c "mkdir $eps/display && echo 1000 >$eps/display/uid"
check "dom0's compositor listens on display, without root" \
	on_bg dom0 listen "$as_comp hdmabuf --bind display wait-event --type new --timeout 60000"
check "... listening" hdx_wait 30 on dom0 "grep -q '^listening' /tmp/hdx/bg/listen.out"
on domU1 rm -f /tmp/id.exp
check "domU1's compositor exports to dom0's display, without root" \
	on_bg domU1 exp "$as_comp hdmabuf export --to 0 --endpoint display --size 1m --seed 25 --idfile /tmp/id.exp"
check "... exported" hdx_wait 60 on domU1 test -s /tmp/id.exp
id=$(on domU1 cat /tmp/id.exp)
check "dom0's compositor hears of it" on_wait dom0 listen 60
check "dom0's compositor lists it" \
	on dom0 "$as_comp hdmabuf --bind display list | grep -qx '$id'"
check "dom0's compositor imports it and reads every byte" \
	on dom0 "$as_comp hdmabuf --bind display import $id --verify 25"
check "dom0's default endpoint does not list it" \
	on dom0 "! hdmabuf list | grep -q '$id'"
check "dom0's default endpoint cannot import it (ENOENT)" \
	on dom0 hdmabuf import "$id" --expect-errno ENOENT
check "a user outside group video cannot open the device (EACCES)" \
	on dom0 "rig-as 1001 1001 hdmabuf info 2>&1 | grep -q 'open /dev/hyper_dmabuf: EACCES'"
check "a user in group video but not uid 1000 cannot bind display (EACCES)" \
	on dom0 "rig-as 1001 44 hdmabuf --bind display list 2>&1 | grep -q 'bind: EACCES'"
on_kill domU1 exp >/dev/null
check "domU1's exporter exits cleanly" on_wait domU1 exp 30
check "dom0 removes the endpoint" rmdir $eps/display
check "domU1 shares nothing any more" hdx_quiet domU1
check "dom0 maps nothing any more" hdx_quiet dom0
