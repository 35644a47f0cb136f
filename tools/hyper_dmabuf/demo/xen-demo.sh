# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# xen-demo.sh: the main job, as a Xen rig scenario (run.sh passes it to
# rig/xen.sh).  domU1 renders a 1080p frame into a dma-buf and exports it
# to dom0; dom0 imports it, checks every pixel, saves it as a PNG, which
# the rig copies to the host, and writes one pixel back, which domU1 must
# see in its own buffer.

# relay JOB-OUTPUT: the demo's TAP, as this scenario's results
relay() {
	printf '%s\n' "$1" | while IFS= read -r l; do
		case "$l" in
		"ok "*)		ok "${2}: $(echo "${l#ok }" | cut -d' ' -f2-)" ;;
		"not ok "*)	not_ok "${2}: $(echo "${l#not ok }" | cut -d' ' -f2-)" ;;
		"# "*)		echo "$l" >&3 ;;
		esac
	done
}

check "dom0 waits for a frame" \
	on_bg dom0 imp hyper_dmabuf_demo import /tmp/frame.png
hdx_wait 20 grep -q '^ok 1 ' /tmp/hdx/bg/imp.out
check "domU1 renders and exports a frame" \
	on_bg domU1 exp hyper_dmabuf_demo export 0
out=$(on_wait dom0 imp 120)
rc=$?
relay "$out" dom0
[ $rc = 0 ] && ok "dom0's half" || not_ok "dom0's half (status $rc)"
check "the frame goes to the host" hdx_export /tmp/frame.png frame.png
hdx_wait 60 on domU1 "grep -q '^1\.\.' /tmp/hdx/bg/exp.out"
relay "$(on_out domU1 exp)" domU1
on_kill domU1 exp >/dev/null
check "domU1's half ends cleanly" on_wait domU1 exp 30
