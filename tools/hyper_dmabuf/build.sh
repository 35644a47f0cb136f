#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build hyper_dmabuf's pieces out of tree, keeping the checkout clean.
#
#   build.sh modules FLAVOR [OUT] [make args...]
#	kernel modules against FLAVOR's build tree (stock, kasan, xen, arm64);
#	prints the directory holding the .ko files
#   build.sh selftests [ARCH]
#	the kselftests (in ksft/) and guest helpers (in guest/), static, for
#	ARCH amd64 (the default; in selftests/) or arm64 (cross-built; in
#	selftests-arm64/); prints their directory
#   build.sh xen-helpers arm64 [OUT]
#	for the Xen arm64 rig, cross-built: dom0's link daemon
#	hdmabuf-xen-linkd (on the arm64 root's libxenstore) and the guest
#	helper rig-xen-peers (static), into OUT (default xen-helpers-arm64/);
#	prints OUT.  (The x86 Xen rig builds its own, in rig/xen.sh.)
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# The modules the plain rig loads, in load order (core first).  The ACRN
# backend binds no device there, but loads, runs its KUnit suite and
# unloads; the Xen and ACRN-model rigs load their own backends.
HDMABUF_MODULES="hyper_dmabuf hyper_dmabuf_loopback hyper_dmabuf_acrn"

build_modules() {
	local flavor=$1 out=${2:-} src kunit
	shift 2 || shift $#
	hd_flavor "$flavor"
	out=${out:-$FBUILD/modules}
	src=$out/src
	rm -rf "$src"
	mkdir -p "$src/drivers/dma-buf" "$src/include"
	cp -a "$HDMABUF_TOP/drivers/dma-buf/hyper_dmabuf" "$src/drivers/dma-buf/"
	cp -a "$HDMABUF_TOP/include/uapi" "$src/include/"
	# the out-of-tree Kbuild: the UAPI include path and the options
	cp "$HDMABUF_TOP/Kbuild" "$src/"
	# KUnit suites go into the core wherever the kernel has KUnit.
	kunit=
	grep -q '^CONFIG_KUNIT=y' "$KDIR/.config" 2>/dev/null &&
		kunit=CONFIG_HYPER_DMABUF_KUNIT_TEST=y
	# The ACRN user VM's virtio transport wherever the kernel has virtio
	# (Kconfig's choice in tree).
	virtio=
	grep -qE '^CONFIG_VIRTIO=[ym]' "$KDIR/.config" 2>/dev/null &&
		virtio=CONFIG_HYPER_DMABUF_ACRN_VIRTIO=m
	# The ACRN backend where Kconfig allows it: not on arm64 (no
	# ZONE_DEVICE in Debian's kernel, and no ACRN there).
	acrn=
	grep -q '^CONFIG_ZONE_DEVICE=y' "$KDIR/.config" 2>/dev/null &&
		acrn="CONFIG_HYPER_DMABUF_ACRN=m CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS=y"
	[ -n "$acrn" ] || virtio=
	# shellcheck disable=SC2086 # KMAKE, acrn: words
	make -C "$KDIR" M="$src" $KMAKE \
		CONFIG_HYPER_DMABUF=m CONFIG_HYPER_DMABUF_LOOPBACK=m \
		CONFIG_HYPER_DMABUF_TEST_FUZZ=y \
		CONFIG_HYPER_DMABUF_LOOPBACK_TEST_FAULTS=y \
		CONFIG_HYPER_DMABUF_XEN=m CONFIG_HYPER_DMABUF_XEN_TEST_FAULTS=y \
		CONFIG_HYPER_DMABUF_DEVMAP_TEST=m \
		$acrn $virtio $kunit \
		"$@" modules >"$out/build.log" 2>&1 || {
		cat "$out/build.log" >&2
		hd_die "module build for $flavor failed"
	}
	rm -f "$out"/*.ko
	find "$src" -name '*.ko' -exec cp {} "$out/" \;
	echo "$HDMABUF_MODULES" >"$out/load-order"
	echo "$out"
}

build_selftests() {
	local arch=${1:-amd64} linux uapi out cc
	local rel=tools/testing/selftests/drivers/dma-buf/hyper_dmabuf
	local cross=()
	case "$arch" in
	amd64)
		out=$HDMABUF_BUILD/selftests
		cc=gcc
		;;
	arm64)
		# lib.mk takes its compiler from CROSS_COMPILE (and ARCH
		# only for clang's target, kept for any LLVM=1 build)
		out=$HDMABUF_BUILD/selftests-arm64
		cc=aarch64-linux-gnu-gcc
		cross=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
		;;
	*)
		hd_die "selftests: unknown architecture '$arch' (amd64, arm64)"
		;;
	esac
	linux=$(hd_linux_src)
	# the UAPI headers of the architecture built for, never another's
	uapi=$(hd_linux_uapi "$arch")
	rm -rf "$out"
	mkdir -p "$out/ksft" "$out/guest"
	# Overlay our selftest directory onto the kernel tree so that its
	# Makefile includes the kernel's lib.mk exactly as it would in-tree.
	rm -rf "${linux:?}/$rel"
	cp -a "$HDMABUF_TOP/$rel" "$linux/$rel"
	# Static for the rigs' busybox initramfs, and no warning allowed:
	# ours, not the kselftest Makefile's (the Makefile appends to CFLAGS
	# from the environment).
	CFLAGS="-static -Werror" make -s -C "$linux/$rel" OUTPUT="$out/ksft" \
		"${cross[@]}" \
		KHDR_INCLUDES="-I$HDMABUF_TOP/include/uapi -isystem $uapi" \
		>"$out/build.log" 2>&1 || {
		cat "$out/build.log" >&2
		hd_die "selftest build for $arch failed"
	}
	# Guest helpers for the rigs, the hdmabuf CLI, the scan-out test's
	# halves and make bench's guest half.
	for h in "$HDMABUF_TOP"/tools/hyper_dmabuf/rig/guest/*.c \
		 "$HDMABUF_TOP"/tools/hyper_dmabuf/demo/*.c \
		 "$HDMABUF_TOP"/tools/hyper_dmabuf/display/*.c \
		 "$HDMABUF_TOP"/tools/hyper_dmabuf/cli/*.c \
		 "$HDMABUF_TOP"/tools/hyper_dmabuf/bench/*.c; do
		# rig-exit ends the VM through QEMU's isa-debug-exit port,
		# x86 port I/O (sys/io.h): the x86 rigs' only
		[ "$arch" != amd64 ] && [ "${h##*/}" = rig-exit.c ] && continue
		"$cc" -static -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
			-isystem "$linux/tools/testing/selftests" \
			-I"$HDMABUF_TOP/include/uapi" -isystem "$uapi" \
			-o "$out/guest/$(basename "$h" .c)" "$h" -lpthread -lz
	done
	# the library Debian's trinity (linked dynamically) preloads in the
	# plain rig (rig/trinity/, rig/guest/rig-trinity.c): x86 only
	if [ "$arch" = amd64 ]; then
		gcc -shared -fPIC -O2 -Wall -Wextra -Werror \
			-o "$out/guest/rig-trinity-victims.so" \
			"$HDMABUF_TOP"/tools/hyper_dmabuf/rig/guest/preload/rig-trinity-victims.c
	fi
	# and the guest helpers that are shell scripts
	for h in "$HDMABUF_TOP"/tools/hyper_dmabuf/rig/guest/hd-*; do
		cp "$h" "$out/guest/"
	done
	echo "$out"
}

# build_xen_helpers ARCH [OUT]: rig/xen.sh's helpers, for arm64.
build_xen_helpers() {
	local arch=${1:-} out=${2:-} root lib inc f
	local tools=$HDMABUF_TOP/tools/hyper_dmabuf
	[ "$arch" = arm64 ] ||
		hd_die "xen-helpers: only arm64 (rig/xen.sh builds x86's)"
	out=${out:-$HDMABUF_BUILD/xen-helpers-$arch}
	root=$("$tools/lib/arm64-root.sh") || exit 1
	lib=$root/usr/lib/aarch64-linux-gnu
	[ -e "$lib/libxenstore.so.4" ] ||
		hd_die "xen-helpers: $lib/libxenstore.so.4 missing"
	rm -rf "$out"
	mkdir -p "$out"
	# as rig/xen.sh builds it for x86 (rig-xen-bulk is x86 port I/O)
	aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror \
		-I"$HDMABUF_TOP/include/uapi" \
		-o "$out/rig-xen-peers" "$tools/rig/xen/rig-xen-peers.c"
	# dom0's link daemon.  libxen-dev is not Multi-Arch, so there is no
	# libxen-dev:arm64 beside the host's: the library is the arm64
	# root's (the one dom0 runs with; it has no .so link, hence -l:),
	# the headers the host's, which are the same on every architecture.
	# Only those three are taken, copied into a directory of their own:
	# Debian's cross compiler searches /usr/include last anyway (for the
	# arch-independent headers of Multi-Arch packages), and
	# -idirafter /usr/include would add nothing.  What keeps anything
	# else of the host's out is the check after the build: every header
	# from /usr/include must be one of these copies or a Multi-Arch
	# aarch64 one, so that no other libxen-dev header (xenctrl.h and
	# its x86 xen/arch-x86 definitions, say) can slip in unnoticed.
	inc=$out/include
	mkdir -p "$inc/xen/io"
	cp /usr/include/xenstore.h /usr/include/xenstore_lib.h "$inc/"
	cp /usr/include/xen/io/xs_wire.h "$inc/xen/io/"
	aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -I"$inc" \
		-MD -MF "$out/linkd.d" -o "$out/hdmabuf-xen-linkd" \
		"$tools/xen/hdmabuf-xen-linkd.c" \
		-L"$lib" -Wl,-rpath-link,"$lib" -l:libxenstore.so.4
	f=$(grep -o '[^ ]\+' "$out/linkd.d" | grep '^/usr/include/' |
		grep -v '^/usr/include/aarch64-linux-gnu/' || true)
	[ -z "$f" ] || hd_die "hdmabuf-xen-linkd: host headers used: $f"
	rm -rf "$out/linkd.d" "$inc"
	echo "$out"
}

case "${1:-}" in
modules)	shift; build_modules "$@" ;;
selftests)	shift; build_selftests "$@" ;;
xen-helpers)	shift; build_xen_helpers "$@" ;;
*)		hd_die "usage: build.sh modules FLAVOR [OUT] | selftests [ARCH] | xen-helpers arm64 [OUT]" ;;
esac
