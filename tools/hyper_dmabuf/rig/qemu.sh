#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh [--inject MODE] [--timeout SECONDS] FLAVOR
#
# The plain-QEMU rig: build hyper_dmabuf and its selftests for kernel
# FLAVOR (stock, kasan), pack an initramfs, boot the kernel under QEMU TCG,
# run every selftest and report each TAP result, then one line
# "FLAVOR: N passed, N failed".  Exit status 0 only when everything passed.
#
# Results come back on the VM's second serial port, the verdict through
# isa-debug-exit; the kernel console (first port) and the full kernel log
# (third port) are kept in the output directory and scanned for kernel
# complaints, which fail the run even when every test passed.
#
# --demo runs the main job's program (tools/hyper_dmabuf/demo) instead of
# the selftests and prints what it says.
#
# --swiotlb boots with swiotlb=force, so that every DMA mapping bounces,
# and runs only the selftest that checks such buffers are refused.
#
# --only PROG runs only the kselftest program PROG (a developer's quick
# run; the output directory is rig-qemu-only-PROG), or, as trinity_run.sh,
# only the trinity run (rig/trinity/trinity_run.sh), or, as cli_test.sh, only
# the hdmabuf CLI's check (cli/cli_test.sh).
#
# --fuzz CALLS[,SEED[,SECONDS]] runs only fuzz_test, for CALLS calls (or
# SECONDS, whichever ends first) from SEED (0: from the clock); make fuzz.
# HD_FUZZ_OPS=NAME,... in the environment keeps only those operations.
#
# --modules DIR loads the modules in DIR (named in DIR/load-order, in that
# order) instead of building them; --extra SCRIPT runs "SCRIPT ROOT" to
# fill the initramfs ROOT instead of the selftests: its programs in
# ROOT/tests are the only suites, the selftests are not built, and the
# udev rule is what SCRIPT puts in ROOT/etc/udev/rules.d (make
# check-packages: rig/packages.sh).
#
# --inject MODE is for the rig's own check (selfcheck.sh): "fail" adds a
# failing kselftest, "hang" makes the guest never report; "warn", "uaf",
# "inversion" and "leak" load a module with that bug (rig/fault/).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

inject= demo= swiotlb= only= timeout_s=${HDMABUF_RIG_TIMEOUT:-600}
fuzz= moddir= extra=
while [ $# -gt 1 ]; do
	case "$1" in
	--demo)		demo=1; shift ;;
	--swiotlb)	swiotlb=1; shift ;;
	--inject)	inject=$2; shift 2 ;;
	--only)		only=$2; shift 2 ;;
	--fuzz)		fuzz=$2; only=fuzz_test; shift 2 ;;
	--timeout)	timeout_s=$2; shift 2 ;;
	--modules)	moddir=$2; shift 2 ;;
	--extra)	extra=$2; shift 2 ;;
	*)		hd_die "unknown option $1" ;;
	esac
done
[ $# -eq 1 ] || hd_die "usage: qemu.sh [--inject MODE] [--timeout S] FLAVOR"
flavor=$1
hd_flavor "$flavor"

name=qemu${extra:+-extra-$(basename "$extra" .sh)}${inject:+-inject-$inject}${demo:+-demo}${swiotlb:+-swiotlb}${only:+-only-$only}
out=$FBUILD/rig-$name
rm -rf "$out"
mkdir -p "$out"
tools=$HDMABUF_TOP/tools/hyper_dmabuf

if [ -n "$moddir" ]; then
	mods=$moddir
else
	mods=$("$tools/build.sh" modules "$flavor")
fi
if [ -n "$extra" ]; then
	# Only the helpers /init, the udev check and cli_test.sh's JSON
	# check run.
	tests=$out/helpers
	mkdir -p "$tests/guest"
	for h in rig/guest/rig-exit rig/guest/rig-as cli/json_check; do
		gcc -static -O2 -Wall -o "$tests/guest/${h##*/}" "$tools/$h.c"
	done
	cp "$tools/rig/guest/hd-udev-apply" "$tests/guest/"
else
	tests=$("$tools/build.sh" selftests)
fi

# --- initramfs ------------------------------------------------------------
root=$out/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules,tests,etc/udev/rules.d}
cp /bin/busybox "$root/bin/busybox"
cp "$tools/rig/guest/init" "$root/init"
cp "$tests/guest/rig-as" "$tests/guest/hd-udev-apply" "$tests/guest/rig-exit" \
	"$tests/guest/json_check" "$root/bin/"
[ -n "$extra" ] ||
	cp "$tools/udev/70-hyper_dmabuf.rules" "$root/etc/udev/rules.d/"
[ -n "$extra" ] ||
	cp "$tests/guest/hdmabuf" "$tests/guest/rig-features" "$root/bin/"
if [ -n "$extra" ]; then
	"$extra" "$root"
elif [ -n "$demo" ]; then
	cp "$tests/guest/hyper_dmabuf_demo" "$root/tests/"
elif [ -n "$swiotlb" ]; then
	cp "$tests/ksft/swiotlb_test" "$root/tests/"
elif [ "$only" = trinity_run.sh ]; then
	"$tools/rig/trinity/pack.sh" "$root" "$tests"
elif [ "$only" = cli_test.sh ]; then
	cp "$tools/cli/cli_test.sh" "$root/tests/"
elif [ -n "$only" ]; then
	[ -x "$tests/ksft/$only" ] || hd_die "no kselftest program $only"
	cp "$tests/ksft/$only" "$root/tests/"
elif [ -n "$inject" ]; then
	# The rig's own check: one quick suite is enough.
	cp "$tests/ksft/hyper_dmabuf_test" "$root/tests/"
else
	# Every kselftest program (lib.mk's TEST_GEN_PROGS), nothing else.
	# (swiotlb_test only runs in a --swiotlb boot.)
	find "$tests/ksft" -maxdepth 1 -type f -perm -u+x \
		! -name swiotlb_test -exec cp {} "$root/tests/" \;
	# and the hdmabuf CLI's check, run like one.
	cp "$tools/cli/cli_test.sh" "$root/tests/"
	# and Debian's trinity on our descriptors (rig/trinity/).
	"$tools/rig/trinity/pack.sh" "$root" "$tests"
fi

: >"$root/modules/load-list"
hd_add_kmod vgem "$root/modules"
# A real block device for O_DIRECT into an import's mapping (mapping_test).
hd_add_kmod brd "$root/modules"
# Endpoints live in configfs (a module on Debian's kernel).
hd_add_kmod configfs "$root/modules"
# hyper_dmabuf_acrn's virtio driver needs the virtio core where the kernel
# has one (modules on Debian's kernel; none in the kasan kernel).
# (virtio_ring does not pull virtio in: both.)
if modprobe -d "${KMODDIR%/lib/modules/*}/" -S "$KVER" -n virtio_ring \
	>/dev/null 2>&1; then
	hd_add_kmod virtio "$root/modules"
	hd_add_kmod virtio_ring "$root/modules"
fi
for m in $(cat "$mods/load-order"); do
	cp "$mods/$m.ko" "$root/modules/"
	echo "$m" >>"$root/modules/load-list"
	echo "$m" >>"$root/modules/unload-list"
done

case "$inject" in
"")	;;
fail)	cp "$tests/guest/rig-inject-fail" "$root/tests/" ;;
hang)	;;
warn|uaf|inversion|leak)
	fault=$(mktemp -d "$out/fault.XXXX")
	cp "$tools/rig/fault/"* "$fault/"
	make -s -C "$KDIR" M="$fault" modules >"$out/fault-build.log" 2>&1
	cp "$fault/rig_fault.ko" "$root/modules/"
	echo "rig_fault mode=$inject" >>"$root/modules/load-list" ;;
*)	hd_die "unknown --inject $inject" ;;
esac

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
	gzip -1 >"$out/initramfs.cpio.gz"

# --- boot -----------------------------------------------------------------
# The debug kernels must have every feature a distribution kernel gives a
# process (rig-features); Debian's has them, but /dev/ram0 only as a module.
features=1
[ "$flavor" = stock ] && features=0
# Debian's kernel makes lifecycle_test's 10,000 exports in 4 s; KASAN
# takes three minutes for them, the same paths as for 2,000.
scale_args=
[ "$flavor" = stock ] || scale_args=" HD_MANY_EXPORTS=2000"
# --fuzz: fuzz_test reads its figures from init's environment.
fuzz_args=
if [ -n "$fuzz" ]; then
	IFS=, read -r fz_calls fz_seed fz_secs <<<"$fuzz"
	fuzz_args=" HD_FUZZ_CALLS=$fz_calls HD_FUZZ_SEED=${fz_seed:-0} HD_FUZZ_SECONDS=${fz_secs:-0}${HD_FUZZ_OPS:+ HD_FUZZ_OPS=$HD_FUZZ_OPS}"
fi
hd_log "$flavor: booting $KVER under QEMU (TCG)${inject:+, injecting $inject}"
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
	-machine pc -accel tcg -m 1G -smp 2 -nodefaults -display none \
	-no-reboot -kernel "$KIMAGE" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=5 panic=-1 rig_inject=$inject rig_features=$features${swiotlb:+ swiotlb=force}$scale_args$fuzz_args" \
	-serial "file:$out/console.log" \
	-serial "file:$out/results.tap" \
	-serial "file:$out/dmesg.log" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	</dev/null >"$out/qemu.log" 2>&1
rc=$?
set -e

# --- report ---------------------------------------------------------------
{
	cat "$out/results.tap"
	echo "# suite: host"
	echo "1..3"
	case $rc in
	1)	echo "ok 1 guest verdict: pass" ;;
	3)	echo "not ok 1 guest verdict: fail" ;;
	0)	echo "not ok 1 guest verdict: none, the guest panicked or rebooted" ;;
	124|137) echo "not ok 1 guest verdict: none, timed out after ${timeout_s}s" ;;
	*)	echo "not ok 1 guest verdict: none, qemu exited $rc (see qemu.log)" ;;
	esac
	if grep -q '^# rig: done' "$out/results.tap"; then
		echo "ok 2 results complete"
	else
		echo "not ok 2 results complete"
	fi
	if hits=$("$tools/rig/logscan.sh" "$out/console.log" "$out/dmesg.log"); then
		echo "ok 3 kernel log clean"
	else
		echo "$hits" | awk '!seen[$0]++' | sed 's/^/# /; s/$/ FAIL/'
		echo "not ok 3 kernel log clean"
	fi
} >"$out/report.tap"

if [ -n "$demo" ]; then
	tr -d '\r' <"$out/results.tap" |
		sed -n '/^# suite: hyper_dmabuf_demo/,/^# exit:/{/^# suite/d;/^# exit/d;/^# time/d;s/^# /demo: /p}'
fi
awk -f "$tools/rig/tap-report.awk" "$out/report.tap" >"$out/report.txt"
sed '$d' "$out/report.txt" | sed "s/^/[$flavor] /"
read -r _ passed failed skipped < <(tail -n1 "$out/report.txt")
echo "$passed $failed $skipped" >"$out/summary"
echo "logs: $out/{console,dmesg,qemu}.log"
echo "$flavor-$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
