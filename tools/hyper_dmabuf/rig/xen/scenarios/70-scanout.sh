# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 70-scanout.sh: a real display consumer of a foreign dma-buf, proven from
# outside the guest, with the frame protocol's swapchain loop.  domU1
# (hdmabuf-draw) exports three 800x600 XRGB8888 buffers to dom0 once, with
# their image description; dom0 (hdmabuf-kms) imports them through
# /dev/hyper_dmabuf, then into the cirrus KMS driver (PRIME_FD_TO_HANDLE,
# ADDFB2).  For frames 1 to 9, domU1 draws the frame into a free buffer and
# PRESENTs it; dom0 gets the FRAME event, scans that buffer out (SETCRTC,
# DIRTYFB), asks the host over its ttyS2 to capture the screen (QEMU's
# screendump), which the host compares pixel for pixel with the frame
# (rig/scanout-check), and only then RELEASE_FRAMEs the frame it showed
# before; domU1 reuses a buffer only after its FRAME_RELEASED.  A stale,
# torn or misplaced frame fails; so does a checker that would not notice
# one: its self-test, also on a real capture, and once the frame before
# on screen again (a stale frame), which the host must find wrong.
. /rig/hdx-share.sh
. /rig/msg-path.sh

# First a share dom0 imports and lets go: its unpopulated pages go back
# to dom0's pool, which hands the next imports ascending pfns, so that a
# table built by merging consecutive pages would give cirrus one segment
# of frames that are not machine-contiguous.  xen-swiotlb would bounce
# it (a copy, not the guest's pages) or, over 256 KiB, fail the import
# with "swiotlb buffer is full".  A PV domain maps imports for devices a
# page per segment.
hdx_share domU1 dom0 4m ro 5
hdx_quiet dom0

frames=9
if [ ! -s /modules/display/load-list ]; then
	skip "scan-out on dom0's cirrus" "the kernel has no cirrus.ko"
	return 0
fi
# Some are in already (vgem's): /sys/module names them with underscores.
load() {
	while read -r m; do
		[ -d "/sys/module/$(echo "$m" | tr - _)" ] ||
			insmod "/modules/display/$m.ko" || return 1
	done </modules/display/load-list
}
check "dom0 loads cirrus" load
if ! grep -qs '^DRIVER=cirrus$' /sys/class/drm/card*/device/uevent; then
	not_ok "dom0 has a cirrus card"
	diag "$(dmesg | grep -i -e cirrus -e drm | tail -n 5)"
	return 1
fi
ok "dom0 has a cirrus card"

mp_dom0=$(on dom0 hd-msg-path)
mp_domu1=$(on domU1 hd-msg-path)
check "dom0's display waits for buffers" on_bg dom0 kms \
	hdmabuf-kms /dev/ttyS2 $frames 3
check "... once the host's capture daemon answered" \
	hdx_wait 60 grep -q '^waiting for 3 buffers' /tmp/hdx/bg/kms.out
check "domU1 exports three 800x600 buffers to dom0 and presents $frames frames" \
	on_bg domU1 draw hdmabuf-draw 0 $frames 800 600 3
on_wait dom0 kms 300 >/dev/null
rc=$?
# Neither half may outlive the scenario: its exports and imports would.
[ $rc = 124 ] && on_kill dom0 kms KILL >/dev/null
out=/tmp/hdx/bg/kms.out
if grep -q '^ready' $out; then
	ok "dom0 imports them into cirrus (PRIME, ADDFB2)"
	diag "$(grep -E '^(imported|buf|connector|/dev)' $out)"
else
	not_ok "dom0 imports them into cirrus (PRIME, ADDFB2)"
fi
# One result per frame the host checked, in the order dom0 showed them.
f=1
while [ $f -le $frames ]; do
	l=$(grep "^frame $f buf " $out)
	case "$l" in
	"frame $f buf "[0-2]": checked $f diff 0 of "*)
		ok "frame $f on dom0's screen as domU1 drew it (${l%%:*}): ${l#*checked "$f" diff }" ;;
	*)
		not_ok "frame $f on dom0's screen as domU1 drew it"
		diag "${l:-never shown}" ;;
	esac
	f=$((f + 1))
done
l=$(grep '^selftest' $out)
case "$l" in
"selftest ok"*)	ok "the host's checker fails a wrong frame: ${l#selftest ok: }" ;;
*)		not_ok "the host's checker fails a wrong frame"; diag "${l:-not run}" ;;
esac
l=$(grep '^stale frame 2 ' $out)
case "$l" in
"stale frame 2 (frame 1, buf "[0-2]"): stale 2 diff "[1-9]*)
	ok "frame 1 on screen again, checked as frame 2, fails: ${l#*diff }" ;;
*)
	not_ok "frame 1 on screen again, checked as frame 2, fails"
	diag "${l:-not tried}" ;;
esac
for b in 0 1 2; do
	n=$(grep -c "^frame [0-9]* buf $b: " $out)
	if [ "$n" -ge 2 ]; then
		ok "buffer $b shown $n times: reused"
	else
		not_ok "buffer $b shown $n times: reused"
	fi
done
l=$(grep '^account' $out)
if [ $rc = 0 ] &&
   [ "$l" = "account: $frames frames received, $frames shown, $frames released, 0 dropped" ]; then
	ok "dom0's display ends cleanly: ${l#account: }"
else
	not_ok "dom0's display ends cleanly (status $rc)"
	diag "$(tail -n 5 $out)"
fi
out=$(on_wait domU1 draw 60)
rc=$?
if [ $rc = 124 ]; then
	on_kill domU1 draw KILL >/dev/null
	on_wait domU1 draw 30 >/dev/null
fi
l=$(echo "$out" | grep '^account')
if [ $rc = 0 ] &&
   [ "$l" = "account: $frames frames presented, $frames released (0 dropped, 0 aborted)" ]; then
	ok "domU1's exporter ends cleanly: ${l#account: }"
else
	not_ok "domU1's exporter ends cleanly (status $rc)"
	diag "$(echo "$out" | tail -n 5)"
fi
msg_path_check domU1 dom0 "$mp_domu1" "$mp_dom0"
check "dom0 unloads cirrus" rmmod cirrus
check "domU1 shares nothing any more" hdx_quiet domU1
check "dom0 imports nothing any more" hdx_quiet dom0
