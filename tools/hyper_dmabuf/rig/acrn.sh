#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# acrn.sh [--transport mailbox|virtio] [--scenario FILE] [--keep]
#         [--timeout SECONDS] [--scenario-timeout SECONDS]
#
# The ACRN-model rig: ACRN's memory model without ACRN (which needs VT-x).
# Three QEMU TCG VMs on the "xen" debug kernel (booted bare: lockdep,
# kmemleak, UBSAN): the service VM "sos" (VM id 0) and two user VMs "uos1"
# and "uos2" (VM ids 1 and 2).  Each UOS's RAM is a 512 MiB file in
# /dev/shm; the UOS runs on its first 510 MiB, and the last 2 MiB are the
# link's mailbox.  One hdmabuf-ivshmem-server per UOS signs that mailbox,
# hands that whole file as BAR 2 of an ivshmem-doorbell device to the UOS
# (peer id N) and to the SOS (peer id 0x100 + N, one device per UOS), with
# their doorbells (two vectors: the transport's, and the raw doorbell of
# make bench), and keeps a presence word in the mailbox that tells the SOS
# when the UOS's QEMU goes.  Another server gives uos1 and the SOS one
# more ivshmem-doorbell device each, someone else's: 4 MiB files full of a
# pattern and no signature, which the driver must neither bind nor write
# (scenario 95-foreign).  Every VM loads vgem, hyper_dmabuf and, when built,
# hyper_dmabuf_acrn.
#
# The links' transport is --transport (or $HDMABUF_ACRN_TRANSPORT),
# "mailbox" by default: the servers sign each mailbox "HDAC" and the link
# carries the mailbox's rings.  With "virtio" they sign it "HDAV", and
# every VM also loads hyper_dmabuf_virtio_ivshmem after hyper_dmabuf_acrn
# (the run stops when it is not built): on a UOS it binds the link's
# device and registers a virtio device over it, which hyper_dmabuf_acrn
# drives; the SOS's hyper_dmabuf_acrn is that device, and the module binds
# nothing in the SOS.  The foreign devices stay unsigned either way.  The
# scenarios see the transport as $HDA_TRANSPORT.
#
# The host then runs the scenarios of rig/acrn/scenarios/ in order, each a
# TAP suite, driving the VMs through an agent on their second serial port.
# Then every surviving VM unloads our modules and checks lockdep, kmemleak
# and its taint, and every VM's kernel logs are scanned for kernel
# complaints (rig/logscan.sh), which fail the run even when every test
# passed.  Last line: "qemu-acrn: N passed, N failed, N skipped"
# ("qemu-acrn-virtio: ..." with virtio); exit status 0 only when
# everything passed.
#
# Channels of each VM (files in the output directory):
#   first serial port	kernel console		-> VM-console.log
#   second serial port	hda-agent, FIFOs VM.in and VM.out (-chardev pipe)
#			-> the host's on/on_bg... (rig/acrn/hda-lib.sh);
#			everything it said is kept in agent/VM.agent
#   third serial port	the full kernel log at the end -> VM-dmesg.log
#
# --transport T		mailbox (the default) or virtio, see above
# --scenario FILE	run only FILE (any path) instead of rig/acrn/scenarios/*
# --keep		keep the initramfs tree and image in the output directory
# --timeout S		kill the VMs after S seconds, a failure (default 900,
#			or $HDMABUF_RIG_TIMEOUT)
# --scenario-timeout S	kill one scenario after S seconds (default: half the
#			run's timeout)
#
# Before booting, ivshmem-server-check (tools/hyper_dmabuf/acrn/) checks
# the server on the host, as suite acrn-server.
#
# Output: build/xen/rig-acrn/, or build/xen/rig-acrn-NAME/ with --scenario;
# build/xen/rig-acrn-virtio[-NAME]/ with --transport virtio.
# See rig/acrn/README.md for the layout and writing scenarios.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib/common.sh"

scenario='' keep='' scen_timeout=''
timeout_s=${HDMABUF_RIG_TIMEOUT:-900}
transport=${HDMABUF_ACRN_TRANSPORT:-mailbox}
usage="usage: acrn.sh [--transport mailbox|virtio] [--scenario FILE] [--keep] [--timeout S] [--scenario-timeout S]"
while [ $# -gt 0 ]; do
	case "$1" in
	--transport)	transport=$2; shift 2 ;;
	--scenario)	scenario=$(realpath "$2"); shift 2 ;;
	--keep)		keep=1; shift ;;
	--timeout)	timeout_s=$2; shift 2 ;;
	--scenario-timeout) scen_timeout=$2; shift 2 ;;
	*)		hd_die "$usage" ;;
	esac
done
case "$transport" in
mailbox|virtio) ;;
*)	hd_die "acrn.sh: unknown transport '$transport' (mailbox or virtio); $usage" ;;
esac
[ -z "$scenario" ] || [ -r "$scenario" ] || hd_die "no scenario $scenario"
scen_timeout=${scen_timeout:-$((timeout_s / 2))}
flavor=xen
hd_flavor "$flavor"

tools=$HDMABUF_TOP/tools/hyper_dmabuf
adir=$tools/rig/acrn
name=acrn
[ "$transport" = mailbox ] || name=$name-$transport
name=$name${scenario:+-$(basename "$scenario" .sh)}
out=$FBUILD/rig-$name
rm -rf "$out"
mkdir -p "$out"/{boot,agent}
t_start=$SECONDS

# A directory of its own: the rig may run while someone builds the modules
# of the same flavour into the usual one (build.sh starts from scratch).
mods=$("$tools/build.sh" modules "$flavor" "$FBUILD/modules-acrn")
tests=$("$tools/build.sh" selftests)
server=$out/boot/hdmabuf-ivshmem-server
gcc -O2 -Wall -Wextra -Werror -o "$server" \
	"$tools/acrn/hdmabuf-ivshmem-server.c"
gcc -O2 -Wall -Wextra -Werror -o "$out/boot/ivshmem-server-check" \
	"$tools/acrn/ivshmem-server-check.c"
gcc -static -O2 -Wall -Wextra -Werror -o "$out/boot/hda-pcimem" \
	"$adir/hda-pcimem.c"
# The server's own check, on the host, first.
mkdir -p "$out/boot/server-check"
{
	echo "# suite: acrn-server"
	"$out/boot/ivshmem-server-check" "$server" "$out/boot/server-check" \
		2>"$out/server-check.log"
	echo "# exit: $?"
} >"$out/server-check.tap" || true

# --- initramfs, the same for every VM --------------------------------------
root=$out/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,modules,etc/udev/rules.d}
cp /bin/busybox "$root/bin/"
cp "$tools/udev/70-hyper_dmabuf.rules" "$root/etc/udev/rules.d/"
cp "$adir/init" "$root/init"
# The Xen rig's guest helpers need nothing of Xen: module loading with
# KUnit results, background jobs, the end-of-run checks.
cp "$adir/hda-agent" "$tools/rig/xen/hdx-setup" "$tools/rig/xen/hdx-bg" \
	"$tools/rig/xen/hdx-finish" "$tools/rig/xen/hdx-reload" "$root/bin/"
cp "$tests"/guest/* "$out/boot/hda-pcimem" "$root/bin/"
strip "$root/bin/hda-pcimem"
for c in "$tests"/guest/*; do
	strip "$root/bin/${c##*/}" 2>/dev/null || true
done
: >"$root/modules/load-list"
: >"$root/modules/unload-list"
hd_add_kmod vgem "$root/modules"
acrn=
# The virtio transport's module comes last: it binds each UOS's link and
# registers the virtio device that hyper_dmabuf_acrn's virtio driver takes.
vmods=(hyper_dmabuf hyper_dmabuf_acrn)
[ "$transport" = virtio ] && vmods+=(hyper_dmabuf_virtio_ivshmem)
for m in "${vmods[@]}"; do
	if [ ! -e "$mods/$m.ko" ]; then
		[ "$m" = hyper_dmabuf ] && hd_die "$mods/$m.ko missing"
		[ "$transport" = virtio ] &&
			hd_die "acrn: --transport virtio needs $m.ko, not built in $mods (hyper_dmabuf_virtio_ivshmem needs CONFIG_VIRTIO in the $flavor kernel)"
		hd_log "acrn: $m.ko not built, the rig loads hyper_dmabuf alone"
		continue
	fi
	[ "$m" = hyper_dmabuf_acrn ] && acrn=1
	cp "$mods/$m.ko" "$root/modules/"
	echo "$m" >>"$root/modules/load-list"
	echo "$m" >>"$root/modules/unload-list"
done
# The display driver of the scan-out scenario, which loads it (in the SOS):
# cirrus and what it needs, in load order, in modules/display/load-list.
mkdir -p "$root/modules/display"
: >"$root/modules/display/load-list"
if modprobe -d "${KMODDIR%/lib/modules/*}/" -S "$KVER" -n cirrus 2>/dev/null; then
	hd_add_kmod cirrus "$root/modules/display"
else
	hd_log "acrn: the $flavor kernel has no cirrus.ko, 70-scanout will skip"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
	gzip -1 >"$out/boot/initramfs.cpio.gz"
t_built=$SECONDS

# --- host side: servers, memory files, FIFOs --------------------------------
run=$(mktemp -d /tmp/hdmabuf-acrn.XXXXXX)
shm=/dev/shm/hdmabuf-acrn-$$
pids=()
cleanup() {
	local p
	for p in "$run"/{sos,uos1,uos2}.pid; do
		[ -s "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	# The servers, the FIFO readers and QEMU's timeout wrappers.
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$run" "$shm"-uos1 "$shm"-uos2 "$shm"-foreign-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HDA_RUN=$run HDA_OUT=$out HDA_ACRN=$acrn HDA_T0=$EPOCHSECONDS HDA_SHM=$shm
export HDA_TRANSPORT=$transport
# shellcheck source=acrn/hda-lib.sh
. "$adir/hda-lib.sh"
mbox=$((510 * 1024 * 1024))
# -t: the mailbox's magic, "HDAC" (mailbox) or "HDAV" (virtio).
for n in 1 2; do
	truncate -s 512M "$shm-uos$n"
	"$server" -v 2 -t "$transport" -p "$run/server$n.pid" \
		--peer "$run/uos$n.sock,id=$n,shm=$shm-uos$n,status=$((mbox + 8)),mbox=$mbox" \
		--peer "$run/sos-uos$n.sock,id=$((0x100 + n)),shm=$shm-uos$n" \
		>"$out/server$n.log" 2>&1 &
	pids+=($!)
done
# Someone else's shared memory, with ids our driver would once have taken
# for links: uos1's is a UOS id and probes before uos1's link (it comes
# first on the command line), the SOS's a link to a UOS 3.  No mbox=:
# unsigned in both transports.  The originals stay in $run for the check.
for v in uos1 sos; do
	# yes dies of SIGPIPE, which pipefail would count.
	{ yes "foreign ivshmem memory of $v, not ours" || :; } |
		head -c 4M >"$shm-foreign-$v"
	cp "$shm-foreign-$v" "$run/foreign-$v.orig"
done
"$server" -v 1 -p "$run/server-foreign.pid" \
	--peer "$run/foreign-uos1.sock,id=3,shm=$shm-foreign-uos1" \
	--peer "$run/foreign-sos.sock,id=$((0x103)),shm=$shm-foreign-sos" \
	>"$out/server-foreign.log" 2>&1 &
pids+=($!)
for s in sos-uos1 sos-uos2 foreign-sos; do
	hda_wait 10 test -S "$run/$s.sock" ||
		hd_die "ivshmem server for $s did not start (see $out/server*.log)"
done

# --- boot -------------------------------------------------------------------
# vm NAME QEMU-ARGS...: start NAME's QEMU in the background.  Its command
# is kept as $run/NAME.boot [LIFE], which a scenario runs again to start
# the VM anew after vm_kill (vm_restart): the console of a later LIFE is
# NAME-LIFE-console.log.
vm() {
	local v=$1
	shift
	mkfifo "$run/$v.in" "$run/$v.out"
	: >"$run/$v.agent"
	{
		echo '#!/bin/bash'
		# shellcheck disable=SC2016 # expanded by the boot script
		echo 'con=${1:+$1-}console.log'
		printf 'exec timeout -k 10 %q qemu-system-x86_64' "$timeout_s"
		printf ' %q' -machine pc -accel tcg -smp 1 -nodefaults \
			-display none -no-reboot -pidfile "$run/$v.pid" \
			-kernel "$KIMAGE" -initrd "$out/boot/initramfs.cpio.gz" \
			-append "console=ttyS0 loglevel=5 panic=-1 hda_vm=$v"
		# shellcheck disable=SC2016 # expanded by the boot script
		printf ' -serial file:%q"$con"' "$out/$v-"
		printf ' %q' -chardev "pipe,id=ctl,path=$run/$v" \
			-serial chardev:ctl -serial "file:$out/$v-dmesg.log" "$@"
		printf ' </dev/null >>%q 2>&1\n' "$out/$v-qemu.log"
	} >"$run/$v.boot"
	chmod +x "$run/$v.boot"
	"$run/$v.boot" &
	pids+=($!)
	# A scenario may kill it (vm_kill): no job report of that, please.
	disown $!
	# QEMU opens both FIFOs read-write; so does the rig, so that writing
	# a request never blocks and the reader sees the end only at exit.
	cat "$run/$v.out" >>"$run/$v.agent" &
	pids+=($!)
}
hd_log "$flavor: booting $KVER under QEMU (TCG): sos, uos1, uos2 ($transport links)"
# foreign VM: the arguments of VM's foreign ivshmem-doorbell device
foreign() {
	echo -chardev "socket,id=fgn,path=$run/foreign-$1.sock" \
		-device ivshmem-doorbell,chardev=fgn,vectors=1
}
for n in 1 2; do
	# shellcheck disable=SC2046 # words on purpose
	vm "uos$n" -m 510M \
		-object "memory-backend-file,id=ram,size=510M,mem-path=$shm-uos$n,share=on" \
		-machine memory-backend=ram \
		$([ $n = 1 ] && foreign uos1) \
		-chardev "socket,id=ivs,path=$run/uos$n.sock" \
		-device ivshmem-doorbell,chardev=ivs,vectors=2
done
# The scan-out scenario's screen and capture channel: the SOS has QEMU's
# cirrus-vga and a fourth serial port (ttyS3, I/O 0x2e8, on IRQ 5: IRQ 3
# is ttyS1's) that reaches the host's capture daemon (rig/scanout-check),
# which takes screendumps through QEMU's monitor and checks every pixel.
# It ends when QEMU closes the channel.
"$tools/rig/scanout-check" serve --chan "$run/sos-capture.sock" \
	--monitor "$run/sos-monitor.sock" --dir "$out/scanout" \
	>"$out/scanout-daemon.log" 2>&1 &
pids+=($!)
# shellcheck disable=SC2046 # words on purpose
vm sos -m 512M \
	-vga cirrus -monitor "unix:$run/sos-monitor.sock,server=on,wait=off" \
	-chardev "socket,id=capture,path=$run/sos-capture.sock,server=on,wait=off" \
	-device isa-serial,chardev=capture,index=3,irq=5 \
	-chardev "socket,id=ivs1,path=$run/sos-uos1.sock" \
	-device ivshmem-doorbell,chardev=ivs1,vectors=2 \
	-chardev "socket,id=ivs2,path=$run/sos-uos2.sock" \
	-device ivshmem-doorbell,chardev=ivs2,vectors=2 \
	$(foreign sos)
exec 7<>"$run/sos.in" 8<>"$run/uos1.in" 9<>"$run/uos2.in"
t_boot=$SECONDS
deadline=$((t_boot + timeout_s))

# From here on the rig counts failures itself.
set +e
results=$out/results.tap
exec 3>"$results"
cat "$out/server-check.tap" >&3
status=0
# relay FILE PREFIX: record the TAP-like lines of hdx-setup or hdx-finish
relay() {
	local l
	while IFS= read -r l; do
		case "$l" in
		"ok "*)		ok "$2: ${l#ok }" ;;
		"not ok "*)	not_ok "$2: ${l#not ok }" ;;
		"#"*)		echo "$l" >&3 ;;
		esac
	done <"$1"
}
suite() {
	hda_n=0
	echo "# suite: $1" >&3
	echo "TAP version 13" >&3
}

# --- setup ------------------------------------------------------------------
suite acrn-setup
for v in $HDA_VMS; do
	if hda_wait 240 grep -aq '^@@hda-ready' "$run/$v.agent"; then
		ok "$v: agent up ($(grep -a '^@@hda-ready' "$run/$v.agent" |
			head -n1 | cut -d' ' -f3) s of its uptime)"
		on "$v" cat /tmp/hdx/setup >"$run/setup.$v" 2>&1
		relay "$run/setup.$v" "$v"
	else
		not_ok "$v: agent up"
	fi
done
echo "# VMs ready $((SECONDS - t_boot)) s after start" >&3
echo "1..$hda_n" >&3
[ "$hda_failed" = 0 ] || status=1

# --- scenarios --------------------------------------------------------------
if [ -n "$scenario" ]; then
	scens=("$scenario")
else
	scens=("$adir"/scenarios/*.sh)
fi
for s in "${scens[@]}"; do
	sname=$(basename "$s" .sh)
	echo "# suite: acrn-$sname" >&3
	echo "TAP version 13" >&3
	left=$((deadline - SECONDS))
	# Without the backend only the smoke test means something.
	if [ -z "$acrn" ] && [ "$sname" != 00-smoke ]; then
		echo "ok 1 $sname # SKIP hyper_dmabuf_acrn.ko not built" >&3
		echo "1..1" >&3
		continue
	fi
	if [ $left -le 30 ]; then
		echo "1..1" >&3
		echo "not ok 1 not run: the run's timeout is reached" >&3
		status=1
		continue
	fi
	[ $left -gt "$scen_timeout" ] && left=$scen_timeout
	hda_log "scenario $sname"
	t0=$SECONDS
	echo "=== $sname" >>"$out/scenarios.log"
	# In the background: a signal to the rig must not wait for it.
	timeout -s KILL "$left" "$adir/run-scenario" "$s" </dev/null \
		>>"$out/scenarios.log" 2>&1 &
	pids+=($!)
	wait $!
	rc=$?
	[ $rc = 137 ] && echo "# scenario killed after $left s" >&3
	echo "# time: $((SECONDS - t0)) s" >&3
	echo "# exit: $rc" >&3
	[ $rc = 0 ] || status=1
done

# --- teardown ---------------------------------------------------------------
suite acrn-teardown
live=''
fpids=()
for v in $HDA_VMS; do
	if vm_alive "$v"; then
		ok "$v alive at the end"
		live="$live $v"
		(HDA_ON_TIMEOUT=180 on "$v" hdx-finish "$v" \
			>"$run/finish.$v" 2>&1) &
		fpids+=($!)
	elif grep -qx "$v" "$run/killed" 2>/dev/null; then
		skip "$v alive at the end" "killed by a scenario"
	else
		not_ok "$v alive at the end"
	fi
done
for p in "${fpids[@]}"; do
	wait "$p"
done
for v in $live; do
	relay "$run/finish.$v" "$v"
	if grep -q '^# hdx-finish: done' "$run/finish.$v"; then
		ok "$v: end-of-run checks complete"
	else
		sed -n '/^[^o#n]/s/^/# /p' "$run/finish.$v" | head -n 5 >&3
		not_ok "$v: end-of-run checks complete"
	fi
	# The whole kernel log, on the third serial port.
	on "$v" 'dmesg >/dev/ttyS2; echo "@@hda end dmesg" >/dev/ttyS2' \
		>/dev/null 2>&1
done
# dmesg_in VM: VM's whole kernel log is in, or will never be
dmesg_in() {
	grep -aq '^@@hda end dmesg' "$out/$1-dmesg.log" || ! vm_alive "$1"
}
for v in $live; do
	hda_wait 30 dmesg_in "$v"
done
echo "1..$hda_n" >&3
[ "$hda_failed" = 0 ] || status=1
echo "# rig: done status=$status" >&3
exec 3>&-
t_ran=$SECONDS

# Everything is in: stop the VMs, then the servers.
for v in $HDA_VMS; do
	[ -s "$run/$v.pid" ] && kill "$(cat "$run/$v.pid")" 2>/dev/null
done
sleep 1
cp "$run"/*.agent "$out/agent/"

# --- report -----------------------------------------------------------------
hd_tap_n=0
{
	cat "$results"
	echo "# suite: host"
	if [ $status = 0 ]; then
		hd_tap_res OK "rig verdict: pass"
	else
		hd_tap_res FAIL "rig verdict: fail"
	fi
	if [ $SECONDS -ge "$deadline" ]; then
		hd_tap_res FAIL "finished within the run's timeout (${timeout_s}s)"
	else
		hd_tap_res OK "finished within the run's timeout (${timeout_s}s)"
	fi
	# What the host itself saw of the scan-out scenario, when it ran (a
	# display program said hello): every capture it checked, each pixel
	# the same as in the exporter's frame.
	if grep -qs "^hello" "$out/scanout/capture.log"; then
		hd_tap_scanout "$out/scanout/capture.log"
	fi
	for v in $HDA_VMS; do
		# A VM a scenario killed sent no dmesg: its consoles remain.
		logs=("$out/$v-console.log")
		for f in "$out/$v"-life*-console.log; do
			[ -e "$f" ] && logs+=("$f")
		done
		grep -qx "$v" "$run/killed" 2>/dev/null ||
			logs+=("$out/$v-dmesg.log")
		hd_tap_scan "$v" "${logs[@]}"
	done
	echo "1..$hd_tap_n"
	echo "# time: build $((t_built - t_start)) s, run $((t_ran - t_built)) s"
} >"$out/report.tap"

awk -f "$tools/rig/tap-report.awk" "$out/report.tap" >"$out/report.txt"
sed '$d' "$out/report.txt" | sed "s/^/[$name] /"
read -r _ passed failed skipped < <(tail -n1 "$out/report.txt")
echo "$passed $failed $skipped" >"$out/summary"
[ -n "$keep" ] || rm -rf "${out:?}/boot" "$out/root"
echo "time: build $((t_built - t_start)) s, run $((t_ran - t_built)) s"
echo "logs: $out/{VM-console,VM-dmesg,VM-qemu,progress,scenarios}.log"
echo "qemu-$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
