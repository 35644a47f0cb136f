#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-all.sh [STEP...]: install what is missing, then build, lint and run
# every test suite, VM rigs included.  Each step reports its own results;
# the last line is the total, "N passed, N failed".  Exit status is 0 only
# when nothing failed.
#
# Steps: kernel-debug, lint, patches (the kernel series of make patches,
# applied to a pristine tree and checked: check-patches.sh), rig-selfcheck,
# qemu-stock, qemu-kasan, qemu-swiotlb, qemu-xen, qemu-xen-arm64 (the Xen
# rig on arm64, every domain auto-translated), qemu-acrn, qemu-acrn-virtio
# (the ACRN-model rig with virtio links), packages (the .debs, lintian,
# DKMS and the .debs' modules and tools in the plain rig: rig/packages.sh).
# Default: all of them.  Not by default, for make fuzz: fuzz (fuzz_test in
# the KASAN rig for FUZZ_CALLS calls, default 10^6, or FUZZ_SECONDS, from
# FUZZ_SEED, default from the clock) and peer-fuzz (PEER_FUZZ malformed
# messages, default 10^5, each way over the ACRN model's mailbox and
# virtio links and Xen's ring: rig/peer-fuzz.sh).  Not by default either:
# patches-each (patches, and the driver built after every patch).
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

tools=$HDMABUF_TOP/tools/hyper_dmabuf
"$tools/lib/deps.sh" || hd_die "cannot install dependencies"
mkdir -p "$HDMABUF_BUILD"

total_p=0 total_f=0 total_s=0
declare -a step_lines step_times

# tap_step NAME COMMAND...: run a command that prints raw TAP
tap_step() {
	local name=$1
	shift
	{ echo "# suite: $name"; "$@"; echo "# exit: $?"; } 2>&1 |
		awk -f "$tools/rig/tap-report.awk" >"$HDMABUF_BUILD/$name.report"
	sed '$d' "$HDMABUF_BUILD/$name.report"
	read -r _ p f s < <(tail -n1 "$HDMABUF_BUILD/$name.report")
	account "$name" "$p" "$f" "$s"
}

# rig_step NAME COMMAND...: run a rig, which prints its own report and
# ends with "NAME: N passed, N failed, N skipped"
rig_step() {
	local name=$1 line p=0 f=0 s=0 rc
	shift
	"$@" 2>&1 | tee "$HDMABUF_BUILD/$name.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed' "$HDMABUF_BUILD/$name.log" | tail -n1)
	if [ -n "$line" ]; then
		read -r p f s < <(echo "$line" | sed -E 's/^[^ ]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/')
	fi
	# A rig that failed without counting a failure still failed.
	[ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && f=1
	account "$name" "$p" "$f" "${s:-0}"
}

account() {
	total_p=$((total_p + $2))
	total_f=$((total_f + $3))
	total_s=$((total_s + ${4:-0}))
	step_lines+=("$(printf '%-16s %4d passed, %d failed, %d skipped' "$1" "$2" "$3" "${4:-0}")")
}

# make fuzz: CALLS,SEED,SECONDS for qemu.sh --fuzz (FUZZ_SECONDS alone
# bounds the run by time only), and the rig's bound: the run at half the
# rate seen under KASAN in TCG (about 800 calls a second), boot and
# teardown.
FUZZ_RATE=400
fuzz_spec() {
	local calls=${FUZZ_CALLS:-}

	[ -n "$calls" ] || [ "${FUZZ_SECONDS:-0}" -gt 0 ] || calls=1000000
	echo "$calls,${FUZZ_SEED:-0},${FUZZ_SECONDS:-0}"
}
fuzz_timeout() {
	local secs=${FUZZ_SECONDS:-0}

	[ "$secs" -gt 0 ] || secs=$((${FUZZ_CALLS:-1000000} / FUZZ_RATE))
	echo $((secs + 900))
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] &&
	steps=(kernel-debug lint patches rig-selfcheck qemu-stock qemu-kasan
	       qemu-swiotlb qemu-xen qemu-xen-arm64 qemu-acrn qemu-acrn-virtio
	       packages)
start=$SECONDS
for step in "${steps[@]}"; do
	hd_log "step $step"
	step_t0=$SECONDS
	case "$step" in
	lint)		tap_step lint "$tools/lint.sh" ;;
	patches)	tap_step patches nice "$tools/check-patches.sh" ;;
	patches-each)	tap_step patches-each nice "$tools/check-patches.sh" --each ;;
	rig-selfcheck)	tap_step rig-selfcheck "$tools/rig/selfcheck.sh" stock
			tap_step rig-selfcheck-kasan \
				"$tools/rig/selfcheck.sh" kasan ;;
	kernel-debug)	tap_step kernel-debug "$tools/kernel/build-all.sh" ;;
	qemu-stock)	rig_step qemu-stock "$tools/rig/qemu.sh" stock ;;
	qemu-swiotlb)	rig_step qemu-swiotlb "$tools/rig/qemu.sh" --swiotlb \
				kasan ;;
	qemu-kasan)	HDMABUF_RIG_TIMEOUT=2400 \
			rig_step qemu-kasan "$tools/rig/qemu.sh" kasan ;;
	fuzz)		HDMABUF_RIG_TIMEOUT=$(fuzz_timeout) rig_step fuzz \
			"$tools/rig/qemu.sh" --fuzz "$(fuzz_spec)" kasan ;;
	peer-fuzz)	for r in acrn acrn-virtio xen; do
				rig_step "peer-fuzz-$r" "$tools/rig/peer-fuzz.sh" \
					"$r" "${PEER_FUZZ:-100000}"
			done ;;
	qemu-xen)	HDMABUF_RIG_TIMEOUT=1800 \
			rig_step qemu-xen "$tools/rig/xen.sh" \
			--scenario-timeout 600 ;;
	qemu-xen-arm64)	HDMABUF_RIG_TIMEOUT=1800 \
			rig_step qemu-xen-arm64 "$tools/rig/xen.sh" \
			--arch arm64 --scenario-timeout 600 ;;
	qemu-acrn)	rig_step qemu-acrn "$tools/rig/acrn.sh" \
				--transport mailbox ;;
	packages)	rig_step packages "$tools/rig/packages.sh" ;;
	qemu-acrn-virtio) rig_step qemu-acrn-virtio "$tools/rig/acrn.sh" \
				--transport virtio ;;
	*)		hd_die "unknown step $step" ;;
	esac
	step_times+=("$(printf '%-16s %5d s' "$step" $((SECONDS - step_t0)))")
done

echo
echo "=== summary ($((SECONDS - start)) s)"
printf '%s\n' "${step_lines[@]}"
echo "=== time per step"
printf '%s\n' "${step_times[@]}"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
