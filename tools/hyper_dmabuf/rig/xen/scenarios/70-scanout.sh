# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 70-scanout.sh: a real display consumer of a foreign dma-buf, proven from
# outside the guest.  domU1 (hdmabuf-draw) exports three 800x600 XRGB8888
# buffers to dom0 once; dom0 (hdmabuf-kms) imports them through
# /dev/hyper_dmabuf, then into the cirrus KMS driver (PRIME_FD_TO_HANDLE,
# ADDFB2).  For each of nine frames, domU1 draws frame N into buffer N % 3
# and dom0 scans that buffer out (SETCRTC, DIRTYFB); dom0 then asks the
# host, over its ttyS2, to capture the screen (QEMU's screendump), and the
# host compares every pixel with frame N (rig/scanout-check).  A stale,
# torn or misplaced frame fails; so does a checker that would not notice
# one (its self-test, on a real capture).
. /rig/hdx-share.sh

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

# One answer for one request to a control FIFO of DOM's program.
ask() {	# ask DOM CTL REQUEST
	on "$1" "echo '$3' >$2.in && timeout 150 cat $2.out"
}

check "dom0's display waits for buffers" on_bg dom0 kms \
	hdmabuf-kms /dev/ttyS2 /tmp/hdx/kms 3
check "... once the host's capture daemon answered" \
	hdx_wait 60 grep -q '^waiting for 3 buffers' /tmp/hdx/bg/kms.out
check "domU1 exports three 800x600 buffers to dom0" on_bg domU1 draw \
	hdmabuf-draw 0 /tmp/hdx/draw 800 600 3
check "... ready" hdx_wait 60 on domU1 "grep -q '^ready' /tmp/hdx/bg/draw.out"
if ! hdx_wait 60 grep -q '^ready' /tmp/hdx/bg/kms.out; then
	not_ok "dom0 imports them into cirrus (PRIME, ADDFB2)"
	diag "$(on_out dom0 kms)"
	on_kill domU1 draw >/dev/null
	return 1
fi
ok "dom0 imports them into cirrus (PRIME, ADDFB2)"
diag "$(grep -E '^(imported|buf|connector|/dev)' /tmp/hdx/bg/kms.out)"

f=0
exact=0
while [ $f -lt $frames ]; do
	b=$((f % 3))
	a=$(ask domU1 /tmp/hdx/draw "draw $f")
	if [ "$a" != "drawn $f buf $b" ]; then
		not_ok "domU1 draws frame $f into buffer $b ($a)"
		break
	fi
	a=$(ask dom0 /tmp/hdx/kms "show $f")
	case "$a" in
	"shown $f buf $b checked $f diff 0 of "*)
		exact=$((exact + 1))
		ok "frame $f (buffer $b) on dom0's screen as domU1 drew it: ${a#*checked "$f" diff }" ;;
	*)
		not_ok "frame $f (buffer $b) on dom0's screen as domU1 drew it"
		diag "$a" ;;
	esac
	if [ $f = 0 ]; then
		a=$(ask dom0 /tmp/hdx/kms selftest)
		case "$a" in
		"selftest ok"*)	ok "the host's checker fails a wrong frame: ${a#selftest ok: }" ;;
		*)		not_ok "the host's checker fails a wrong frame"; diag "$a" ;;
		esac
	fi
	f=$((f + 1))
done
diag "$exact of $frames frames exact, 3 buffers reused round-robin"

on dom0 "echo quit >/tmp/hdx/kms.in" >/dev/null
check "dom0's display ends cleanly" on_wait dom0 kms 30
diag "$(tail -n 1 /tmp/hdx/bg/kms.out)"
on domU1 "echo quit >/tmp/hdx/draw.in" >/dev/null
check "domU1's exporter ends cleanly" on_wait domU1 draw 30
check "dom0 unloads cirrus" rmmod cirrus
check "domU1 shares nothing any more" hdx_quiet domU1
check "dom0 imports nothing any more" hdx_quiet dom0
