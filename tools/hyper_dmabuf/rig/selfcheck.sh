#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selfcheck.sh [FLAVOR]: prove that the QEMU rig fails a run for each way a
# run can go wrong.  On Debian's kernel (stock): a failing kselftest, a
# guest that hangs, and a kernel warning while every test passes; and on
# the host alone, that the scan-out scenarios' pixel check fails wrong
# frames and that one wrong frame fails the host's result.  On the
# KASAN debug kernel (kasan): a use-after-free, a lock inversion and a
# memory leak, each caught by its detector.  Prints TAP; each check passes
# only when the rig reported that failure, for that reason.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"

flavor=${1:-stock}
rig=$HDMABUF_TOP/tools/hyper_dmabuf/rig/qemu.sh
n=0 failed=0

# expect MODE TIMEOUT DESCRIPTION PATTERN...: the injected run must fail,
# and its report must contain every PATTERN.
expect() {
	local mode=$1 t=$2 desc=$3 dir report p ok=1
	shift 3
	dir=$HDMABUF_BUILD/$flavor/rig-qemu-inject-$mode
	n=$((n + 1))
	if "$rig" --inject "$mode" --timeout "$t" "$flavor" >/dev/null 2>&1; then
		echo "# the rig passed a run with $mode injected"
		ok=0
	fi
	# The report, and the raw results for diagnostics it does not keep.
	report=$(cat "$dir/report.txt" "$dir/results.tap" 2>/dev/null)
	for p in "$@"; do
		if ! grep -qF -- "$p" <<<"$report"; then
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

# scan DESCRIPTION WANT LINE...: logscan.sh exits WANT on a log of LINEs
scan() {
	local desc=$1 want=$2 log=$HDMABUF_BUILD/logscan-sample.log got
	shift 2
	n=$((n + 1))
	mkdir -p "$HDMABUF_BUILD"
	printf '%s\r\n' "$@" >"$log"
	"$HDMABUF_TOP/tools/hyper_dmabuf/rig/logscan.sh" "$log" >/dev/null
	got=$?
	if [ "$got" = "$want" ]; then
		echo "ok $n $desc"
	else
		echo "# logscan.sh exited $got, want $want"
		echo "not ok $n $desc"
		failed=$((failed + 1))
	fi
}

# scanout DESCRIPTION WANT-STATUS WANT-TEXT CMD...: a check of the scan-out
# scenarios' host side exits WANT-STATUS saying WANT-TEXT
scanout() {
	local desc=$1 want=$2 text=$3 out got
	shift 3
	n=$((n + 1))
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && grep -qF -- "$text" <<<"$out"; then
		echo "ok $n $desc"
	else
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/# /'
		echo "# exited $got, want $want saying: $text"
		echo "not ok $n $desc"
		failed=$((failed + 1))
	fi
}
# hd_tap_scanout on a capture log with one wrong frame of nine
scanout_log() {
	local log=$HDMABUF_BUILD/scanout-sample.log f out
	mkdir -p "$HDMABUF_BUILD"
	for f in 1 2 3 4 5 6 7 8 9; do
		if [ $f = 5 ]; then
			echo "frame 5: 12 of 480000 pixels differ (first at 0,0: got #000000, want #ffffff)"
		else
			echo "frame $f: 0 of 480000 pixels differ"
		fi
	done >"$log"
	# shellcheck disable=SC2034 # hd_tap_res counts in it
	hd_tap_n=0
	out=$(hd_tap_scanout "$log")
	echo "$out"
	! grep -q '^not ok' <<<"$out"
}

echo "TAP version 13"
case "$flavor" in
stock)
	# The scan-out scenarios' host side: the pixel check fails wrong
	# frames, and the rig's own result fails a run with one.
	scanout "scanout-check: its self-test fails every wrong frame" 0 \
		"self-test: ok, every wrong frame fails" \
		"$HDMABUF_TOP/tools/hyper_dmabuf/rig/scanout-check" self-test
	scanout "scan-out: one wrong frame of nine fails the host's result" 1 \
		"not ok 1 scan-out: the host captured 8 exact frames, 1 wrong" \
		scanout_log
	# The log scan alone, on lines as the kernel printed them (the Xen
	# rig's dom0 when a forked child inherited grant entries).
	scan "logscan: a clean Xen guest log passes" 0 \
		"[    0.000000] rcu: Hierarchical RCU implementation." \
		"[    1.234567] xen:grant_table: Grant tables using version 1 layout"
	scan "logscan: Xen's silent refusal, a failed multicall, fails" 1 \
		"[   67.926460] 3 of 18 multicall(s) failed: cpu 1" \
		"[   67.926607]   call 10: op=26 arg=[ffff88802ed1ab00] result=-16"
	scan "logscan: a failed multicall's call line alone fails" 1 \
		"[   67.934362]   call  1: op=26 arg=[ffff88802ec1aad0] result=-16"
	scan "logscan: xen_mc_flush in a trace fails" 1 \
		"[   67.917084] RIP: e030:xen_mc_flush+0x1d7/0x210"
	scan "logscan: an RCU stall fails" 1 \
		"[   93.926410] rcu: INFO: rcu_sched self-detected stall on CPU"
	scan "logscan: a failed grant unmap fails" 1 \
		"[   50.000000] xen:grant_table: gnttab unmap failed: rc=0 st0=-1 st1=0"
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
	;;
*)
	expect uaf 600 "KASAN catches a use-after-free and fails the run" \
		"BUG: KASAN: use-after-free in rig_fault_init" \
		"not ok   host: kernel log clean" \
		"ok       hyper_dmabuf_test: dev.many_opens"
	expect inversion 600 "lockdep catches a lock inversion and fails the run" \
		"possible circular locking dependency detected" \
		"not ok   rig-teardown: lockdep still armed (debug_locks 1)" \
		"not ok   host: kernel log clean"
	expect leak 600 "kmemleak catches a leak and fails the run" \
		"not ok   rig-teardown: kmemleak: no leaks" \
		"unreferenced object" \
		"ok       hyper_dmabuf_test: dev.many_opens"
	;;
esac
echo "1..$n"
[ $failed -eq 0 ]
