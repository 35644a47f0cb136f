#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xen.sh [--arch amd64|arm64] [--scenario FILE] [--keep] [--timeout SECONDS]
#        [--scenario-timeout SECONDS] [--smp N]
#
# The Xen rig: Xen 4.17 (Debian's xen-hypervisor-4.17-amd64) under QEMU
# TCG, with a PV dom0 and two PV domUs (domU1, domU2), all running the
# "xen" debug kernel (lockdep, kmemleak, UBSAN; no KASAN, which cannot run
# as a PV guest).  Every domain loads vgem, hyper_dmabuf and, when built,
# hyper_dmabuf_xen; dom0 links every pair of domains (hdmabuf-xen-link),
# then runs the scenarios of rig/xen/scenarios/ in order, each a TAP suite.
# Then every domain unloads our modules and checks lockdep, kmemleak and
# its taint, and the kernel logs of all three domains come back to the host
# and are scanned for kernel complaints (rig/logscan.sh), which fail the
# run even when every test passed.  Last line: "qemu-xen: N passed, N
# failed, N skipped"; exit status 0 only when everything passed.
#
# --arch arm64: the same rig on arm64 (make check-xen-arm64), where every
# domain is auto-translated: Debian's xen-hypervisor-4.17-arm64 under
# qemu-system-aarch64 (virt, GICv3, virtualization=on, TCG), dom0 and the
# domUs on Debian's arm64 kernel with modules cross-built for it, and
# dom0's toolstack from Debian's arm64 packages (lib/arm64-root.sh).  The
# channels differ, see below.
#
# Channels between dom0 and the host (amd64):
#   first serial port	Xen's console and dom0's (hvc0)	-> console.log
#   second serial port	TAP results (dom0's ttyS1)	-> results.tap
#   QEMU debugcon (I/O port 0xe9, written by rig-xen-bulk): framed kernel
#	logs and files, about 200 KiB/s	-> bulk.out, split into logs/, files/
#   isa-debug-exit	the verdict
# Xen's own UART is put in polling mode (com1=...,0) so that dom0 can take
# the IRQ of the other serial ports.  A dom0 scenario copies a file to the
# host with "hdx_export FILE [NAME]"; it lands in files/NAME.  A domU's
# console goes to dom0's xenconsoled, which the host gets as
# logs/domUN-console.log.
# On arm64 the console is Xen's PL011 (-> console.log), TAP and the bulk
# channel are two virtio-serial ports that dom0 owns (virtio-mmio, named
# hdx.tap and hdx.bulk), and the verdict is the status in the last TAP
# line: dom0 powers the machine off (PSCI, through Xen).
#
# --scenario FILE	run only FILE (any path) instead of rig/xen/scenarios/*;
#			repeat it to run several, in the order of their names
# --keep		keep the images and initramfs trees in the output
#			directory (by default only logs and results stay)
# --timeout S		kill QEMU after S seconds, a failure (default 600, or
#			$HDMABUF_RIG_TIMEOUT)
# --scenario-timeout S	kill one scenario after S seconds (default: half the
#			run's timeout)
# --smp N		QEMU's CPUs (default 2, or $HDMABUF_XEN_SMP).  2 is
#			fastest on an idle host; when other VMs compete for
#			the host's CPUs, 1 degrades far less (no spinning on
#			the locks of a descheduled CPU, in Xen or dom0).
#
# Output: build/xen/rig-xen/, or build/xen/rig-xen-NAME/ with --scenario
# (NAME from the first).
# See rig/xen/README.md for writing scenarios.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

scenario='' scenarios=() keep='' scen_timeout='' arch=${HDMABUF_XEN_ARCH:-amd64}
timeout_s=${HDMABUF_RIG_TIMEOUT:-600} smp=${HDMABUF_XEN_SMP:-2}
while [ $# -gt 0 ]; do
	case "$1" in
	--arch)		arch=$2; shift 2 ;;
	--scenario)	scenarios+=("$(realpath "$2")"); shift 2 ;;
	--keep)		keep=1; shift ;;
	--timeout)	timeout_s=$2; shift 2 ;;
	--scenario-timeout) scen_timeout=$2; shift 2 ;;
	--smp)		smp=$2; shift 2 ;;
	*)		hd_die "usage: xen.sh [--arch amd64|arm64] [--scenario FILE] [--keep] [--timeout S] [--scenario-timeout S] [--smp N]" ;;
	esac
done
for s in "${scenarios[@]}"; do
	[ -r "$s" ] || hd_die "no scenario $s"
done
# The first names the run.
scenario=${scenarios[0]:-}
scen_timeout=${scen_timeout:-$((timeout_s / 2))}
tools=$HDMABUF_TOP/tools/hyper_dmabuf
xdir=$tools/rig/xen
xenbin=/usr/lib/xen-4.17/bin
case $arch in
amd64)
	flavor=xen
	hd_flavor "$flavor"
	# dom0's toolstack and busybox: the host's own (a64 is the root
	# the guests' programs come from: / here)
	a64=
	xengz=/boot/xen-4.17-amd64.gz
	[ -e "$xengz" ] ||
		hd_die "$xengz missing (install xen-hypervisor-4.17-amd64)"
	[ -x "$xenbin/xl" ] || hd_die "$xenbin/xl missing (install xen-utils-4.17)"
	[ -e "$KDIR/vmlinux" ] || hd_die "$KDIR/vmlinux missing (make kernel-debug)"
	;;
arm64)
	flavor=arm64
	hd_flavor "$flavor"
	# Xen, busybox and dom0's toolstack from Debian's arm64 packages
	a64=$("$tools/lib/arm64-root.sh")
	;;
*)
	hd_die "--arch: amd64 or arm64, not $arch"
	;;
esac

name=xen${scenario:+-$(basename "$scenario" .sh)}
# what the last line calls the run: qemu-xen[-arm64][-NAME]
qname=xen${a64:+-arm64}${scenario:+-$(basename "$scenario" .sh)}
out=$FBUILD/rig-$name
# QEMU's -initrd separates modules with commas; the kernel line has spaces.
case "$out" in
*[,\ ]*)	hd_die "the output path must have no commas or spaces: $out" ;;
esac
rm -rf "$out"
mkdir -p "$out"/{boot,helpers,modules,logs,files}
t_start=$SECONDS

mods=$("$tools/build.sh" modules "$flavor")
if [ -z "$a64" ]; then
	tests=$("$tools/build.sh" selftests)
	for h in rig-xen-bulk rig-xen-peers; do
		gcc -static -O2 -Wall -Wextra -Werror \
			-I"$HDMABUF_TOP/include/uapi" \
			-o "$out/helpers/$h" "$xdir/$h.c"
	done
	# dom0's link daemon, on the xenstore library dom0 has for the
	# clients.
	gcc -O2 -Wall -Wextra -Werror -o "$out/helpers/hdmabuf-xen-linkd" \
		"$tools/xen/hdmabuf-xen-linkd.c" -lxenstore
else
	tests=$("$tools/build.sh" selftests arm64)
	# rig-xen-peers and the link daemon, cross-built (no debugcon, so no
	# rig-xen-bulk: dom0 writes the bulk channel's port itself)
	"$tools/build.sh" xen-helpers arm64 "$out/helpers" >/dev/null
fi

# --- modules, the same in every domain ------------------------------------
: >"$out/modules/load-list"
: >"$out/modules/unload-list"
# What Debian's arm64 kernel has as modules and the debug kernels build
# in (nothing to load there): Xen's devices for the toolstack, configfs,
# brd for rig-features' O_DIRECT, and dom0's virtio-serial channels.
# Both inits load /modules/early/load-list first.
mkdir -p "$out/modules/early"
: >"$out/modules/early/load-list"
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc configfs \
	brd virtio_mmio virtio_console; do
	modprobe -d "${KMODDIR%/lib/modules/*}/" -S "$KVER" -n "$m" \
		>/dev/null 2>&1 || continue
	hd_add_kmod "$m" "$out/modules/early"
done
hd_add_kmod vgem "$out/modules"
# The core, then the Xen backend when it is built (not the loopback one).
for m in hyper_dmabuf hyper_dmabuf_xen; do
	if [ ! -e "$mods/$m.ko" ]; then
		[ "$m" = hyper_dmabuf ] && hd_die "$mods/$m.ko missing"
		hd_log "xen: $m.ko not built, the rig loads hyper_dmabuf alone"
		continue
	fi
	cp "$mods/$m.ko" "$out/modules/"
	echo "$m" >>"$out/modules/load-list"
	echo "$m" >>"$out/modules/unload-list"
done
# The device-map scenario's test module, which it loads in dom0 itself.
if [ -e "$mods/hyper_dmabuf_devmap.ko" ]; then
	cp "$mods/hyper_dmabuf_devmap.ko" "$out/modules/"
else
	hd_log "xen: hyper_dmabuf_devmap.ko not built, 75-devmap will skip"
fi
# The display driver of the scan-out scenario, which loads it (in dom0):
# cirrus and what it needs, in load order, in modules/display/load-list.
mkdir -p "$out/modules/display"
: >"$out/modules/display/load-list"
if [ -n "$a64" ]; then
	hd_log "xen: no screen on arm64's virt machine, 70-scanout will skip"
elif modprobe -d "${KMODDIR%/lib/modules/*}/" -S "$KVER" -n cirrus 2>/dev/null; then
	hd_add_kmod cirrus "$out/modules/display"
else
	hd_log "xen: the $flavor kernel has no cirrus.ko, 70-scanout will skip"
fi

# --- root filesystems -----------------------------------------------------
# add_libs ROOT BINARY...: the shared libraries of BINARY..., same paths
# (arm64: BINARY's path in the arm64 packages' root, and the libraries
# from there, found by their DT_NEEDED entries, recursively)
add_libs() {
	local root=$1 lib
	shift
	if [ -n "$a64" ]; then
		add_libs_a64 "$root" "$@"
		return
	fi
	ldd "$@" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

add_libs_a64() {
	local root=$1 todo=() f n d lib
	shift
	todo=("$@")
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for n in $(aarch64-linux-gnu-readelf -d "$f" |
			   sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			lib=
			for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
				[ -e "$a64/$d/$n" ] && lib=$d/$n && break
			done
			[ -n "$lib" ] || hd_die "arm64: no $n (needed by $f)"
			[ -e "$root/$lib" ] && continue
			mkdir -p "$root/${lib%/*}"
			cp -L "$a64/$lib" "$root/$lib"
			todo+=("$a64/$lib")
		done
	done
	mkdir -p "$root/lib"
	[ -e "$root/lib/ld-linux-aarch64.so.1" ] ||
		cp -L "$a64/lib/ld-linux-aarch64.so.1" "$root/lib/"
}

# common_root ROOT: what dom0 and the domUs share
common_root() {
	local root=$1 c
	mkdir -p "$root"/{bin,usr/bin,dev,proc,sys,tmp,run,rig,tests} \
		"$root/etc/udev/rules.d"
	cp "$a64/bin/busybox" "$root/bin/"
	cp "$tools/udev/70-hyper_dmabuf.rules" "$root/etc/udev/rules.d/"
	cp "$xdir/hdx-setup" "$xdir/hdx-early" "$xdir/hdx-bg" "$xdir/hdx-finish" \
		"$xdir/hdx-reload" "$out/helpers/rig-xen-peers" "$root/bin/"
	# Every guest helper (rig-exit, demo, the hdmabuf CLI...) into /bin,
	# every kselftest program into /tests.
	cp "$tests"/guest/* "$root/bin/"
	find "$tests/ksft" -maxdepth 1 -type f -perm -u+x \
		-exec cp {} "$root/tests/" \;
	# Static programs: their symbols only make the images bigger.
	"${a64:+aarch64-linux-gnu-}strip" "$root"/tests/* \
		"$root/bin/rig-xen-peers" 2>/dev/null || true
	for c in "$tests"/guest/*; do
		"${a64:+aarch64-linux-gnu-}strip" "$root/bin/${c##*/}" \
			2>/dev/null || true
	done
	cp -a "$out/modules" "$root/"
	# The xenstore clients are one program that looks at its name.
	cp "$a64/usr/bin/xenstore" "$root/usr/bin/"
	for c in read write ls list chmod rm exists watch; do
		ln -s xenstore "$root/usr/bin/xenstore-$c"
	done
	add_libs "$root" "$a64/usr/bin/xenstore"
}

# cpio_gz ROOT FILE
cpio_gz() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
		gzip -1 >"$2"
}

domu=$out/domu-root
common_root "$domu"
cp "$xdir/domu-init" "$domu/init"
cp "$xdir/hdx-agent" "$domu/bin/"

dom0=$out/dom0-root
common_root "$dom0"
cp "$xdir/dom0-init" "$dom0/init"
# hdx-lib.sh and any other library a scenario may source (/rig/NAME.sh).
cp "$xdir"/*.sh "$tools/rig/msg-path.sh" "$xdir/run-scenario" "$dom0/rig/"
mkdir -p "$dom0/rig/scenarios"
if [ -n "$scenario" ]; then
	cp "${scenarios[@]}" "$dom0/rig/scenarios/"
else
	cp "$xdir"/scenarios/*.sh "$dom0/rig/scenarios/"
fi
cp "$tools/xen/hdmabuf-xen-link" "$out/helpers/hdmabuf-xen-linkd" \
	"$dom0/bin/"
[ -n "$a64" ] || cp "$out/helpers/rig-xen-bulk" "$dom0/bin/"
add_libs "$dom0" "$dom0/bin/hdmabuf-xen-linkd"
mkdir -p "$dom0$xenbin" "$dom0"/etc/xen "$dom0"/var/{lib/xen,log/xen/console}
ln -s ../run "$dom0/var/run"
ln -s ../run/lock "$dom0/var/lock"
for b in xl xenstored xenconsoled xen-init-dom0; do
	cp "$a64$xenbin/$b" "$dom0$xenbin/"
	add_libs "$dom0" "$a64$xenbin/$b"
done
# xl needs libgcc_s (for pthread_exit) though ldd does not list it.
if [ -n "$a64" ]; then
	mkdir -p "$dom0/lib/aarch64-linux-gnu"
	cp -L "$a64/lib/aarch64-linux-gnu/libgcc_s.so.1" \
		"$dom0/lib/aarch64-linux-gnu/"
else
	libgcc=$(gcc -print-file-name=libgcc_s.so.1)
	mkdir -p "$dom0/lib/x86_64-linux-gnu"
	cp -L "$libgcc" "$dom0/lib/x86_64-linux-gnu/"
fi
# dom0's memory is fixed: no ballooning, and parallel xl create.
echo 'autoballoon="off"' >"$dom0/etc/xen/xl.conf"
# The domUs' kernel, which hdx_create names: a PV vmlinux, or an arm64
# Image; xl unpacks either.
mkdir -p "$dom0/guest"
if [ -n "$a64" ]; then
	gzip -1 -c "$KIMAGE" >"$dom0/guest/Image.gz"
else
	gzip -1 -c "$KDIR/vmlinux" >"$dom0/guest/vmlinux.gz"
fi
cpio_gz "$domu" "$dom0/guest/domu.cpio.gz"
cpio_gz "$dom0" "$out/boot/dom0.cpio.gz"
if [ -n "$a64" ]; then
	cp "$a64/boot/xen-4.17-arm64" "$out/boot/xen"
	cp "$KIMAGE" "$out/boot/Image"
else
	zcat "$xengz" >"$out/boot/xen"
	cp "$KDIR/vmlinux" "$out/boot/vmlinux"
fi
t_built=$SECONDS

# --- boot -----------------------------------------------------------------
xen_cmd="dom0_mem=768M,max:768M loglvl=all guest_loglvl=all"
xen_cmd+=" gnttab_max_frames=1024 gnttab_max_maptrack_frames=4096"
dom0_cmd="console=hvc0 loglevel=5 hdx_scenario_timeout=$scen_timeout"

# The host's daemon (rig/scanout-check serve) answers dom0's requests on a
# channel of its own: screen captures for the scan-out scenario, and reads
# of machine memory, as devices see it, for the device-map scenario.  It
# talks to QEMU through sockets in $sock, and ends when QEMU closes the
# channel.
hostd_start() {
	sock=$(mktemp -d /tmp/hdmabuf-xen.XXXXXX)
	"$tools/rig/scanout-check" serve --chan "$sock/capture" \
		--monitor "$sock/monitor" --dir "$out/scanout" \
		>"$out/scanout-daemon.log" 2>&1 &
	capd=$!
}

hostd_stop() {
	# The daemon has seen the channel close, or never connected.
	kill "$capd" 2>/dev/null
	wait "$capd" 2>/dev/null
	rm -rf "$sock"
}

# boot_amd64: Xen and dom0 through QEMU's multiboot loader
boot_amd64() {
	local cpu
	xen_cmd="console=com1 com1=115200,8n1,0x3f8,0 $xen_cmd"
	dom0_cmd="earlyprintk=xen $dom0_cmd"
	# qemu64 is an AMD K8 (family 15, model 107) with erratum 400, for
	# which Linux reads MSR 0xc0010055 at boot
	# (arch_post_acpi_subsys_init); Xen refuses that read to PV guests,
	# so every domain would log an "unchecked MSR access error" with a
	# call trace.  Model 65 stepping 1 is just below that erratum's range
	# (model 0x41 stepping 2 on); models up to 0x3f have erratum 121, on
	# which Xen refuses to boot without allow_unsafe.  (-cpu max crashes
	# dom0: SMAP.)
	cpu=qemu64,model=65,stepping=1
	# The scan-out scenario's screen is QEMU's cirrus-vga; dom0's ttyS2
	# (I/O 0x3e8, IRQ 4, which Xen's polled UART leaves to dom0) is the
	# channel to the host's daemon.
	hostd_start
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-machine pc -accel tcg -cpu "$cpu" -m 2G -smp "$smp" -nodefaults \
		-display none -no-reboot \
		-kernel "$out/boot/xen" -append "$xen_cmd" \
		-initrd "$out/boot/vmlinux $dom0_cmd,$out/boot/dom0.cpio.gz" \
		-serial "file:$out/console.log" \
		-serial "file:$out/results.tap" \
		-debugcon "file:$out/bulk.out" \
		-chardev "socket,id=capture,path=$sock/capture,server=on,wait=off" \
		-serial chardev:capture \
		-vga cirrus -monitor "unix:$sock/monitor,server=on,wait=off" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		</dev/null >"$out/qemu.log" 2>&1
	rc=$?
	hostd_stop
}

# boot_arm64: Xen as QEMU's kernel; dom0's kernel and initramfs loaded raw
# at fixed addresses (QEMU puts Xen near 0x40200000 and its DTB near
# 0x48000000) and named to Xen in the DTB's /chosen, with both command
# lines.  The DTB is QEMU's own for this machine, dumped first.
boot_arm64() {
	local m=virt,virtualization=on,gic-version=3 dtb=$out/boot/virt.dtb
	local kaddr=0x50000000 iaddr=0x58000000 ksz isz
	local qemu=(qemu-system-aarch64 -accel tcg -cpu cortex-a57 -m 2G
		    -smp "$smp" -nodefaults -display none -no-reboot)
	"${qemu[@]}" -machine "$m,dumpdtb=$dtb" >"$out/qemu.log" 2>&1 ||
		hd_die "qemu-system-aarch64 could not dump its DTB (qemu.log)"
	ksz=$(stat -c %s "$out/boot/Image")
	isz=$(stat -c %s "$out/boot/dom0.cpio.gz")
	[ $((kaddr + ksz)) -le $((iaddr)) ] ||
		hd_die "arm64: the kernel image is too big for its slot"
	# Debian's arm64 Xen enforces XSM SILO by default: a domU may
	# talk only to dom0, so no event channel or grant between domU1
	# and domU2, whose link would fail with EPERM.  Driver domains need
	# that, hence XSM's dummy policy, as on x86 (a deployment would
	# write a FLASK policy instead).
	xen_cmd="console=dtuart dtuart=/pl011@9000000 bootscrub=0 xsm=dummy $xen_cmd"
	xen_cmd+=" dom0_max_vcpus=$smp"
	dom0_cmd="earlycon=xen rdinit=/init $dom0_cmd"
	fdtput -t i "$dtb" /chosen '#address-cells' 2
	fdtput -t i "$dtb" /chosen '#size-cells' 2
	fdtput -t s "$dtb" /chosen xen,xen-bootargs "$xen_cmd"
	fdtput -t s "$dtb" /chosen xen,dom0-bootargs "$dom0_cmd"
	fdtput -c "$dtb" "/chosen/module@${kaddr#0x}" "/chosen/module@${iaddr#0x}"
	fdtput -t s "$dtb" "/chosen/module@${kaddr#0x}" compatible \
		multiboot,kernel multiboot,module
	fdtput -t x "$dtb" "/chosen/module@${kaddr#0x}" reg \
		0 "${kaddr#0x}" 0 "$(printf %x "$ksz")"
	fdtput -t s "$dtb" "/chosen/module@${iaddr#0x}" compatible \
		multiboot,ramdisk multiboot,module
	fdtput -t x "$dtb" "/chosen/module@${iaddr#0x}" reg \
		0 "${iaddr#0x}" 0 "$(printf %x "$isz")"
	# No screen; the virtio-serial port hdx.host is the channel to the
	# host's daemon.
	hostd_start
	timeout -k 10 "$timeout_s" "${qemu[@]}" -machine "$m" \
		-dtb "$dtb" -kernel "$out/boot/xen" \
		-device "loader,file=$out/boot/Image,addr=$kaddr,force-raw=on" \
		-device "loader,file=$out/boot/dom0.cpio.gz,addr=$iaddr,force-raw=on" \
		-serial "file:$out/console.log" \
		-device virtio-serial-device \
		-chardev "file,id=tap,path=$out/results.tap" \
		-device virtserialport,chardev=tap,name=hdx.tap \
		-chardev "file,id=bulk,path=$out/bulk.out" \
		-device virtserialport,chardev=bulk,name=hdx.bulk \
		-chardev "socket,id=capture,path=$sock/capture,server=on,wait=off" \
		-device virtserialport,chardev=capture,name=hdx.host \
		-monitor "unix:$sock/monitor,server=on,wait=off" \
		</dev/null >>"$out/qemu.log" 2>&1
	rc=$?
	hostd_stop
	# The verdict is the last TAP line's: QEMU exits 0 whenever dom0
	# powers off.  Map it onto isa-debug-exit's codes.
	if [ $rc = 0 ]; then
		case $(tr -d '\r' <"$out/results.tap" |
		       sed -n 's/^# rig: done status=\([0-9]*\).*/\1/p') in
		0)	rc=1 ;;
		"")	rc=0 ;;
		*)	rc=3 ;;
		esac
	fi
}

hd_log "$flavor: booting Xen 4.17 + $KVER (dom0, domU1, domU2) under QEMU (TCG)"
set +e
"boot_$arch"
set -e
t_ran=$SECONDS

# --- logs and files out of the bulk channel ------------------------------
awk -v out="$out" -f "$xdir/bulk-split.awk" "$out/bulk.out"
for b in "$out"/files/*.b64; do
	[ -e "$b" ] || continue
	f=${b%.b64}
	tr -d '\r' <"$b" | grep -E '^[A-Za-z0-9+/=]+$' | base64 -d >"$f" ||
		true
	rm -f "$b"
done

# --- report ---------------------------------------------------------------
hd_tap_n=0
{
	cat "$out/results.tap"
	echo "# suite: host"
	case $rc in
	1)	hd_tap_res OK "guest verdict: pass" ;;
	3)	hd_tap_res FAIL "guest verdict: fail" ;;
	0)	hd_tap_res FAIL "guest verdict: none, a panic or a reboot" ;;
	124|137) hd_tap_res FAIL "guest verdict: none, timed out after ${timeout_s}s" ;;
	*)	hd_tap_res FAIL "guest verdict: none, qemu exited $rc (see qemu.log)" ;;
	esac
	if tr -d '\r' <"$out/results.tap" | grep -q '^# rig: done'; then
		hd_tap_res OK "results complete"
	else
		hd_tap_res FAIL "results complete"
	fi
	hd_tap_scan dom0 "$out/console.log" "$out/logs/dom0-dmesg.log"
	for d in domU1 domU2; do
		# A domU a scenario destroyed sent no dmesg: its console remains.
		if [ -e "$out/logs/$d-dmesg.log" ]; then
			hd_tap_scan "$d" "$out/logs/$d-console.log" "$out/logs/$d-dmesg.log"
		else
			hd_tap_scan "$d" "$out/logs/$d-console.log"
		fi
	done
	# What the host itself saw of the scan-out scenario, when it ran (a
	# display program said hello): every capture it checked, each pixel
	# the same as in the exporter's frame.
	if grep -qs "^hello" "$out/scanout/capture.log"; then
		hd_tap_scanout "$out/scanout/capture.log"
	fi
	for m in "$out"/files/*.md5; do
		[ -e "$m" ] || continue
		f=${m%.md5}
		if [ "$(md5sum <"$f" | cut -d' ' -f1)" = "$(cat "$m")" ]; then
			hd_tap_res OK "file ${f##*/} received intact"
		else
			hd_tap_res FAIL "file ${f##*/} received intact"
		fi
		rm -f "$m"
	done
	echo "1..$hd_tap_n"
	echo "# time: build $((t_built - t_start)) s, run $((t_ran - t_built)) s"
} >"$out/report.tap"

awk -f "$tools/rig/tap-report.awk" "$out/report.tap" >"$out/report.txt"
sed '$d' "$out/report.txt" | sed "s/^/[$flavor] /"
read -r _ passed failed skipped < <(tail -n1 "$out/report.txt")
echo "$passed $failed $skipped" >"$out/summary"
[ -n "$keep" ] || rm -rf "${out:?}/boot" "$out/dom0-root" "$out/domu-root"
echo "time: build $((t_built - t_start)) s, run $((t_ran - t_built)) s"
echo "logs: $out/{console,qemu}.log $out/logs/"
if ls "$out/files/"* >/dev/null 2>&1; then
	echo "files: $out/files/"
fi
echo "qemu-$qname: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
