# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 70-scanout.sh: a real display consumer of a foreign dma-buf, proven from
# outside the guest, with the frame protocol's swapchain loop.  uos1
# (hdmabuf-draw) exports three 800x600 XRGB8888 buffers to the SOS once,
# with their image description; the SOS (hdmabuf-kms) imports them through
# /dev/hyper_dmabuf, then into the cirrus KMS driver (PRIME_FD_TO_HANDLE,
# ADDFB2).  For frames 1 to 9, uos1 draws the frame into a free buffer and
# PRESENTs it; the SOS gets the FRAME event, scans that buffer out
# (SETCRTC, DIRTYFB), asks the host over its ttyS3 to capture the screen
# (QEMU's screendump), which the host compares pixel for pixel with the
# frame (rig/scanout-check), and only then RELEASE_FRAMEs the frame it
# showed before; uos1 reuses a buffer only after its FRAME_RELEASED.  A
# stale, torn or misplaced frame fails; so does a checker that would not
# notice one: its self-test, also on a real capture, and once the frame
# before on screen again (a stale frame), which the host must find wrong.
. "$HDA_LIB/hda-share.sh"
. "$HDA_LIB/../msg-path.sh"

frames=9
if ! on sos test -s /modules/display/load-list >/dev/null; then
	skip "scan-out on the SOS's cirrus" "the kernel has no cirrus.ko"
	return 0
fi
check "the host's checker fails wrong frames (self-test)" \
	"$HDA_LIB/../scanout-check" self-test
# Some are in already (vgem's): /sys/module names them with underscores.
# shellcheck disable=SC2016 # for the SOS's shell
check "the SOS loads cirrus" on sos 'while read -r m; do
		[ -d /sys/module/$(echo $m | tr - _) ] ||
			insmod /modules/display/$m.ko || exit 1
	done </modules/display/load-list'
if ! on sos "grep -qs '^DRIVER=cirrus\$' /sys/class/drm/card*/device/uevent"; then
	not_ok "the SOS has a cirrus card"
	diag "$(on sos "dmesg | grep -i -e cirrus -e drm | tail -n 5")"
	return 1
fi
ok "the SOS has a cirrus card"

mp_sos=$(on sos hd-msg-path)
mp_uos1=$(on uos1 hd-msg-path)
check "the SOS's display waits for buffers" on_bg sos kms \
	hdmabuf-kms /dev/ttyS3 $frames 3
check "... once the host's capture daemon answered" \
	on_wait_line sos kms '^waiting for 3 buffers' 60
check "uos1 exports three 800x600 buffers to the SOS and presents $frames frames" \
	on_bg uos1 draw hdmabuf-draw 0 $frames 800 600 3
on_wait sos kms 300 >/dev/null
rc=$?
# Neither half may outlive the scenario: its exports and imports would.
[ $rc = 124 ] && on_kill sos kms KILL >/dev/null
out=$(on sos cat /tmp/hdx/bg/kms.out)
if grep -q '^ready' <<<"$out"; then
	ok "the SOS imports them into cirrus (PRIME, ADDFB2)"
	diag "$(grep -E '^(imported|buf|connector|/dev)' <<<"$out")"
else
	not_ok "the SOS imports them into cirrus (PRIME, ADDFB2)"
fi
# One result per frame the host checked, in the order the SOS showed them.
for ((f = 1; f <= frames; f++)); do
	l=$(grep "^frame $f buf " <<<"$out")
	case "$l" in
	"frame $f buf "[0-2]": checked $f diff 0 of "*)
		ok "frame $f on the SOS's screen as uos1 drew it (${l%%:*}): ${l#*checked "$f" diff }" ;;
	*)
		not_ok "frame $f on the SOS's screen as uos1 drew it"
		diag "${l:-never shown}" ;;
	esac
done
l=$(grep '^selftest' <<<"$out")
case "$l" in
"selftest ok"*)	ok "the host's checker fails a wrong frame: ${l#selftest ok: }" ;;
*)		not_ok "the host's checker fails a wrong frame"; diag "${l:-not run}" ;;
esac
l=$(grep '^stale frame 2 ' <<<"$out")
case "$l" in
"stale frame 2 (frame 1, buf "[0-2]"): stale 2 diff "[1-9]*)
	ok "frame 1 on screen again, checked as frame 2, fails: ${l#*diff }" ;;
*)
	not_ok "frame 1 on screen again, checked as frame 2, fails"
	diag "${l:-not tried}" ;;
esac
for b in 0 1 2; do
	n=$(grep -c "^frame [0-9]* buf $b: " <<<"$out")
	if [ "$n" -ge 2 ]; then
		ok "buffer $b shown $n times: reused"
	else
		not_ok "buffer $b shown $n times: reused"
	fi
done
l=$(grep '^account' <<<"$out")
if [ $rc = 0 ] &&
   [ "$l" = "account: $frames frames received, $frames shown, $frames released, 0 dropped" ]; then
	ok "the SOS's display ends cleanly: ${l#account: }"
else
	not_ok "the SOS's display ends cleanly (status $rc)"
	diag "$(tail -n 5 <<<"$out")"
fi
out=$(on_wait uos1 draw 60)
rc=$?
if [ $rc = 124 ]; then
	on_kill uos1 draw KILL >/dev/null
	on_wait uos1 draw 30 >/dev/null
fi
l=$(grep '^account' <<<"$out")
if [ $rc = 0 ] &&
   [ "$l" = "account: $frames frames presented, $frames released (0 dropped, 0 aborted)" ]; then
	ok "uos1's exporter ends cleanly: ${l#account: }"
else
	not_ok "uos1's exporter ends cleanly (status $rc)"
	diag "$(tail -n 5 <<<"$out")"
fi
msg_path_check uos1 sos "$mp_uos1" "$mp_sos"
check "the SOS unloads cirrus" on sos rmmod cirrus
check "uos1 shares nothing any more" hda_quiet uos1
check "the SOS imports nothing any more" hda_quiet sos
