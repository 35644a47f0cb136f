#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selfcheck.sh [FLAVOR]: prove that the QEMU rig fails a run for each way a
# run can go wrong: a failing kselftest, a guest that hangs, and a kernel
# warning while every test passes.  Prints TAP; each check passes only when
# the rig reported that failure, for that reason.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"

flavor=${1:-stock}
rig=$HDMABUF_TOP/tools/hyper_dmabuf/rig/qemu.sh
n=0 failed=0

# expect MODE TIMEOUT DESCRIPTION PATTERN...: the injected run must fail,
# and its report must contain every PATTERN.
expect() {
	local mode=$1 t=$2 desc=$3 report p ok=1
	shift 3
	report=$HDMABUF_BUILD/$flavor/rig-qemu-inject-$mode/report.txt
	n=$((n + 1))
	if "$rig" --inject "$mode" --timeout "$t" "$flavor" >/dev/null 2>&1; then
		echo "# the rig passed a run with $mode injected"
		ok=0
	fi
	for p in "$@"; do
		if ! grep -qF -- "$p" "$report" 2>/dev/null; then
			echo "# report lacks: $p"
			ok=0
		fi
	done
	if [ $ok = 1 ]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
expect fail 300 "a failing kselftest fails the run" \
	"not ok   rig-inject-fail: global.fails_on_purpose" \
	"not ok   host: guest verdict: fail"
expect hang 45 "a guest that never reports fails the run on timeout" \
	"not ok   host: guest verdict: none, timed out after 45s" \
	"not ok   host: results complete"
expect warn 300 "a kernel WARN fails the run although all tests pass" \
	"not ok   host: kernel log clean" \
	"rig_fault_init" \
	"ok       hyper_dmabuf_test: dev.many_opens"
echo "1..$n"
[ $failed -eq 0 ]
