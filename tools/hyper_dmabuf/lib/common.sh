# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the hyper_dmabuf build and rig scripts.  Source it.

HDMABUF_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HDMABUF_BUILD=${HDMABUF_BUILD:-$HDMABUF_TOP/build}

hd_die() { echo "error: $*" >&2; exit 1; }
hd_log() { echo ">>> $*" >&2; }

# The ABI version of Debian's linux-image-amd64, read from its dependency
# (never uname -r: the host may run an unrelated kernel).
hd_debian_kver() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) ||
		hd_die "linux-image-amd64 is not installed"
	dep=${dep%% *}
	dep=${dep#linux-image-}
	[ -e "/boot/vmlinuz-$dep" ] || hd_die "/boot/vmlinuz-$dep missing"
	[ -d "/lib/modules/$dep/build" ] ||
		hd_die "no build tree for $dep (install linux-headers-amd64)"
	echo "$dep"
}

# hd_flavor NAME sets, for a kernel flavour the rigs can boot:
#   KVER     kernel release
#   KIMAGE   bootable image
#   KDIR     build tree for out-of-tree modules
#   KMODDIR  /lib/modules/<release> tree holding its modules
#   FBUILD   our per-flavour output directory
#   KMAKE    make arguments for building against KDIR (cross-compiling)
# "stock" is Debian's kernel; "kasan" and "xen" are the debug kernels of
# tools/hyper_dmabuf/kernel/build.sh; "arm64" is Debian's arm64 kernel
# (lib/arm64-root.sh), cross-built for.
hd_flavor() {
	local kb root
	KMAKE=
	case "$1" in
	stock)
		KVER=$(hd_debian_kver)
		KIMAGE=/boot/vmlinuz-$KVER
		KDIR=/lib/modules/$KVER/build
		KMODDIR=/lib/modules/$KVER
		;;
	kdir)
		# make KDIR=...: any configured kernel build tree
		[ -n "${KDIR:-}" ] && [ -e "$KDIR/Makefile" ] ||
			hd_die "KDIR '${KDIR:-}' is not a kernel build tree"
		KVER=$(make -s -C "$KDIR" kernelrelease 2>/dev/null)
		KIMAGE=
		KMODDIR=/lib/modules/$KVER
		;;
	kasan|xen)
		kb=$HDMABUF_KCACHE/$1
		[ -e "$kb/arch/x86/boot/bzImage" ] ||
			hd_die "debug kernel '$1' not built (make kernel-debug)"
		KVER=$(cat "$kb/include/config/kernel.release")
		KIMAGE=$kb/arch/x86/boot/bzImage
		KDIR=$kb
		KMODDIR=$kb/mod/lib/modules/$KVER
		;;
	arm64)
		root=$("$HDMABUF_TOP/tools/hyper_dmabuf/lib/arm64-root.sh") ||
			exit 1
		KVER=$(hd_debian_kver)
		KVER=${KVER%-amd64}-arm64
		KIMAGE=$root/boot/vmlinuz-$KVER
		KDIR=$root/usr/src/linux-headers-$KVER
		KMODDIR=$root/lib/modules/$KVER
		KMAKE="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
		;;
	*)
		hd_die "unknown kernel flavour '$1'"
		;;
	esac
	FBUILD=$HDMABUF_BUILD/$1
}

# Debug kernels live outside the checkout so that a fresh clone on the same
# machine reuses them (build.sh rebuilds only when config or source change).
HDMABUF_KCACHE=${HDMABUF_KCACHE:-/var/cache/hyper_dmabuf/kernel}

# Extract linux-source-6.1 once into $HDMABUF_BUILD/linux, with its UAPI
# headers installed under usr/include; used for checkpatch and kselftests.
hd_linux_src() {
	local src=$HDMABUF_BUILD/linux
	local ver stamp
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	stamp="$src/.hdmabuf-stamp"
	if [ ! -e "$stamp" ] || [ "$(cat "$stamp")" != "$ver" ]; then
		hd_log "extracting linux-source-6.1 $ver"
		rm -rf "$src" "$src.tmp"
		mkdir -p "$src.tmp"
		tar -C "$src.tmp" --strip-components=1 \
			-xf /usr/src/linux-source-6.1.tar.xz
		make -s -C "$src.tmp" ARCH=x86 headers_install >/dev/null
		mv "$src.tmp" "$src"
		echo "$ver" >"$stamp"
	fi
	echo "$src"
}

# hd_linux_uapi ARCH: the include directory of ARCH's (amd64 or arm64) UAPI
# headers, installed from hd_linux_src's tree: the x86 ones are its
# usr/include; the arm64 ones are installed once into usr-arm64/include,
# built in a directory of their own (O=) so that nothing of x86's is
# overwritten or mixed in.  They go with the tree when it is re-extracted.
hd_linux_uapi() {
	local src dir
	src=$(hd_linux_src) || exit 1
	case "$1" in
	amd64)	echo "$src/usr/include"; return 0 ;;
	arm64)	;;
	*)	hd_die "no UAPI headers for architecture '$1'" ;;
	esac
	dir=$src/usr-arm64
	if [ ! -e "$dir/.done" ]; then
		hd_log "installing the arm64 UAPI headers"
		rm -rf "$dir" "$src/.hdr-arm64"
		make -s -C "$src" O="$src/.hdr-arm64" ARCH=arm64 \
			INSTALL_HDR_PATH="$dir" headers_install >/dev/null
		rm -rf "$src/.hdr-arm64"
		touch "$dir/.done"
	fi
	echo "$dir/include"
}

# hd_add_kmod NAME DIR: copy module NAME of the kernel under test
# (hd_flavor's KMODDIR, KVER), and every module it depends on, into DIR as
# uncompressed NAME.ko files, appending each name to DIR/load-list in load
# order; modules already listed there are skipped.
hd_add_kmod() {
	local dir=$2 line path base
	modprobe -d "${KMODDIR%/lib/modules/*}/" -S "$KVER" --show-depends "$1" |
	while read -r line; do
		case "$line" in builtin*) continue ;; esac
		path=${line#insmod }
		path=${path%% *}
		base=$(basename "$path")
		base=${base%%.ko*}
		grep -q "^$base\( \|\$\)" "$dir/load-list" && continue
		case "$path" in
		*.xz)	xz -dc "$path" >"$dir/$base.ko" ;;
		*.zst)	zstd -qdc "$path" >"$dir/$base.ko" ;;
		*)	cp "$path" "$dir/$base.ko" ;;
		esac
		echo "$base" >>"$dir/load-list"
	done
}

# Host-side TAP for a rig's own report, numbered by hd_tap_n (set it to 0
# first; "1..$hd_tap_n" is the plan).
# hd_tap_res OK|FAIL DESCRIPTION: one result
hd_tap_res() {
	hd_tap_n=$((hd_tap_n + 1))
	if [ "$1" = OK ]; then
		echo "ok $hd_tap_n $2"
	else
		echo "not ok $hd_tap_n $2"
	fi
}

# hd_result STATUS DESCRIPTION [LOGFILE]: one TAP result of a host-side
# check (STATUS 0 passes), numbered by hd_tap_n; a failure shows the first
# 40 lines of LOGFILE and is counted in hd_tap_failed (set both to 0 first).
hd_result() {
	hd_tap_n=$((hd_tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $hd_tap_n $2"
		return 0
	fi
	# head closes the pipe early: sed's SIGPIPE is no failure
	if [ -n "${3:-}" ] && [ -e "$3" ]; then
		{ sed 's/^/# /' "$3" | head -n 40; } || true
	fi
	echo "not ok $hd_tap_n $2"
	hd_tap_failed=$((hd_tap_failed + 1))
}

# hd_sphinx LINUX SRCTREE DIR LOG [ARGS...]: build the pages under DIR/src,
# laid out as under Documentation/, with LINUX's own Documentation/conf.py
# and extensions as "make htmldocs" would, warnings as errors (-n -W) and
# kernel-doc reading SRCTREE; ARGS go to sphinx-build.  DIR/src/index.rst
# is written here, a toctree of every other page; the HTML goes to
# DIR/html and sphinx-build's output to LOG.  python3 is /usr/bin's: the
# kernel's extensions need Debian's modules (a pyenv shim may come first).
hd_sphinx() {
	local linux=$1 srctree=$2 dir=$3 log=$4
	shift 4
	{
		printf 'hyper_dmabuf\n============\n\n.. toctree::\n\n'
		(cd "$dir/src" && find . -name '*.rst' ! -name index.rst |
			sed 's|^\./||; s|\.rst$||' | LC_ALL=C sort |
			sed 's/^/   /')
	} >"$dir/src/index.rst"
	(cd "$dir" && PATH=/usr/bin:$PATH nice sphinx-build -q -n -W \
		--keep-going -b html -c "$linux/Documentation" \
		-d "$dir/doctrees" -D kerneldoc_srctree="$srctree" \
		-D kerneldoc_bin="$linux/scripts/kernel-doc" "$@" \
		src html) >"$log" 2>&1
}

# hd_tap_scan VM LOG...: one result for a VM's kernel logs (rig/logscan.sh),
# a failure when any of them did not arrive.  Those that did are scanned
# all the same: a VM that hung sends no log at the end, and what its
# console said before is the best clue.
hd_tap_scan() {
	local v=$1 hits f got=() missing=
	shift
	for f in "$@"; do
		if [ -s "$f" ]; then
			got+=("$f")
		else
			hd_tap_res FAIL "kernel log of $v received (${f##*/})"
			missing=1
		fi
	done
	[ ${#got[@]} -gt 0 ] || return 0
	if hits=$("$HDMABUF_TOP/tools/hyper_dmabuf/rig/logscan.sh" "${got[@]}"); then
		# A clean part of the logs proves nothing about the rest.
		[ -n "$missing" ] || hd_tap_res OK "kernel log clean: $v"
	else
		echo "$hits" | awk '!seen[$0]++' | sed 's/^/# /; s/$/ FAIL/'
		hd_tap_res FAIL "kernel log clean: $v"
	fi
}

# hd_tap_scanout LOG: one result for the frames the host's capture daemon
# (rig/scanout-check serve) checked: a failure when it checked none or any
# differed from what the exporter drew.
hd_tap_scanout() {
	local good bad
	good=$(grep -c '^frame [0-9]*: 0 of ' "$1" || true)
	bad=$(grep -c '^frame [0-9]*: [1-9][0-9]* of ' "$1" || true)
	grep '^frame [0-9]*: [1-9][0-9]* of ' "$1" | sed 's/^/# /' || true
	if [ "$good" -gt 0 ] && [ "$bad" = 0 ]; then
		hd_tap_res OK "scan-out: the host captured $good frames, every pixel as drawn"
	else
		hd_tap_res FAIL "scan-out: the host captured $good exact frames, $bad wrong"
	fi
}
