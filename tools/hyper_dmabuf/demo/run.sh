#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: boot Xen with dom0 and two domUs in QEMU (rig/xen.sh),
# have domU1 render a 1080p frame into a dma-buf and export it to dom0,
# which imports it, checks every pixel and saves it as a PNG on the host.
# Then a display: domU1 animates nine frames through a swapchain of three
# buffers shared once, frame by frame (PRESENT, RELEASE_FRAME), and dom0
# scans each out on QEMU's cirrus screen, which the host captures and
# checks pixel for pixel.  Prints what was shared, the frames' account,
# and where the PNGs are.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

here=$(cd "$(dirname "$0")" && pwd)
# The rig runs the xen debug kernel: build it unless it is up to date
# (about 15 to 20 minutes the first time, a second after that).
mkdir -p "$HDMABUF_BUILD"
hd_log "demo: xen debug kernel (built once, then cached in $HDMABUF_KCACHE)"
"$here/../kernel/build.sh" xen "$HDMABUF_KCACHE" >"$HDMABUF_BUILD/kernel-xen.log" 2>&1 || {
	tail -n 20 "$HDMABUF_BUILD/kernel-xen.log" >&2
	hd_die "building the xen debug kernel failed"
}
out=$HDMABUF_BUILD/xen/rig-xen-xen-demo
rc=0
"$here/../rig/xen.sh" --scenario "$here/xen-demo.sh" \
	--scenario "$here/../rig/xen/scenarios/70-scanout.sh" \
	>"$HDMABUF_BUILD/demo.log" 2>&1 || rc=$?
grep -E '^\[xen\] (not )?ok' "$HDMABUF_BUILD/demo.log" | grep -v ' ok [0-9]* [a-z0-9]*: insmod ' || true
echo
tr -d '\r' <"$out/results.tap" | sed -n 's/^# \(VM\|exported\|event\|shared\|this VM\)/\1/p'
# The display's captures, as PNG.
mkdir -p "$out/screen"
for p in "$out"/scanout/frame-[0-9].ppm "$out"/scanout/frame-[0-9][0-9].ppm; do
	[ -e "$p" ] || continue
	"$here/../rig/scanout-check" png "$p" "$out/screen/$(basename "$p" .ppm).png"
done
echo
tr -d '\r' <"$out/results.tap" |
	sed -n 's/^ok [0-9]* \(frame [0-9]* on dom0.s screen.*\)/\1/p;
		s/^ok [0-9]* \(dom0.s display ends cleanly\|domU1.s exporter ends cleanly\)/\1/p'
if [ "$rc" -eq 0 ] && [ -s "$out/files/frame.png" ] &&
   [ -s "$out/screen/frame-9.png" ]; then
	echo
	echo "The frame, as dom0 saw it: $out/files/frame.png"
	echo "dom0's screen, frame by frame, as the host captured it: $out/screen/frame-*.png"
else
	echo "demo failed; see $HDMABUF_BUILD/demo.log and $out/" >&2
	exit 1
fi
