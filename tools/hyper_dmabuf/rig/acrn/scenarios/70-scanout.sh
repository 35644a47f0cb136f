# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 70-scanout.sh: a real display consumer of a foreign dma-buf, proven from
# outside the guest.  uos1 (hdmabuf-draw) exports three 800x600 XRGB8888
# buffers to the SOS once; the SOS (hdmabuf-kms) imports them through
# /dev/hyper_dmabuf, then into the cirrus KMS driver (PRIME_FD_TO_HANDLE,
# ADDFB2).  For each of nine frames, uos1 draws frame N into buffer N % 3
# and the SOS scans that buffer out (SETCRTC, DIRTYFB); the SOS then asks
# the host, over its ttyS3, to capture the screen (QEMU's screendump), and
# the host compares every pixel with frame N (rig/scanout-check).  A stale,
# torn or misplaced frame fails; so does a checker that would not notice
# one (its self-test, on a real capture).
. "$HDA_LIB/hda-share.sh"

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

# One answer for one request to a control FIFO of VM's program.
ask() {	# ask VM CTL REQUEST
	on "$1" "echo '$3' >$2.in && timeout 150 cat $2.out"
}

check "the SOS's display waits for buffers" on_bg sos kms \
	hdmabuf-kms /dev/ttyS3 /tmp/hdx/kms 3
check "... once the host's capture daemon answered" \
	on_wait_line sos kms '^waiting for 3 buffers' 60
check "uos1 exports three 800x600 buffers to the SOS" on_bg uos1 draw \
	hdmabuf-draw 0 /tmp/hdx/draw 800 600 3
check "... ready" on_wait_line uos1 draw '^ready' 60
if ! on_wait_line sos kms '^ready' 60 >/dev/null; then
	not_ok "the SOS imports them into cirrus (PRIME, ADDFB2)"
	diag "$(on_out sos kms)"
	on_kill uos1 draw >/dev/null
	return 1
fi
ok "the SOS imports them into cirrus (PRIME, ADDFB2)"
diag "$(on sos "grep -E '^(imported|buf|connector|/dev)' /tmp/hdx/bg/kms.out")"

exact=0
for ((f = 0; f < frames; f++)); do
	b=$((f % 3))
	a=$(ask uos1 /tmp/hdx/draw "draw $f")
	if [ "$a" != "drawn $f buf $b" ]; then
		not_ok "uos1 draws frame $f into buffer $b ($a)"
		break
	fi
	a=$(ask sos /tmp/hdx/kms "show $f")
	case "$a" in
	"shown $f buf $b checked $f diff 0 of "*)
		exact=$((exact + 1))
		ok "frame $f (buffer $b) on the SOS's screen as uos1 drew it: ${a#*checked "$f" diff }" ;;
	*)
		not_ok "frame $f (buffer $b) on the SOS's screen as uos1 drew it"
		diag "$a" ;;
	esac
	if [ $f = 0 ]; then
		a=$(ask sos /tmp/hdx/kms selftest)
		case "$a" in
		"selftest ok"*)	ok "the host's checker fails a wrong frame: ${a#selftest ok: }" ;;
		*)		not_ok "the host's checker fails a wrong frame"; diag "$a" ;;
		esac
	fi
done
diag "$exact of $frames frames exact, 3 buffers reused round-robin"

on sos "echo quit >/tmp/hdx/kms.in" >/dev/null
check "the SOS's display ends cleanly" on_wait sos kms 30
on uos1 "echo quit >/tmp/hdx/draw.in" >/dev/null
check "uos1's exporter ends cleanly" on_wait uos1 draw 30
check "the SOS unloads cirrus" on sos rmmod cirrus
check "uos1 shares nothing any more" hda_quiet uos1
check "the SOS imports nothing any more" hda_quiet sos
