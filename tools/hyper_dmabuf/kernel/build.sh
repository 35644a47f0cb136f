#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a trimmed debug kernel from Debian's linux-source-6.1 for the
# hyper_dmabuf test rigs.
#
# usage: build.sh VARIANT OUTDIR      (VARIANT = kasan | xen)
#
#   OUTDIR/src            pristine source + patches/*.patch, shared by variants
#   OUTDIR/VARIANT        the O= build directory; usable as KDIR:
#                           make -C OUTDIR/VARIANT M=$PWD/...
#   OUTDIR/VARIANT/arch/x86/boot/bzImage, OUTDIR/VARIANT/vmlinux
#   OUTDIR/VARIANT/mod    modules_install tree (INSTALL_MOD_PATH)
#   OUTDIR/VARIANT/build.log   full log of the last build
#
# The config is tinyconfig's fragments + common.config + VARIANT.config,
# applied with KCONFIG_ALLCONFIG=... make allnoconfig; make olddefconfig.
# Every option named in common.config and VARIANT.config is then checked
# in .config and the build fails, listing them, if any did not stick.
#
# The build is skipped when OUTDIR/VARIANT/stamp matches the hash of the
# source package version, the config fragments, the patches and this script.
set -euo pipefail

usage() {
	echo "usage: $0 kasan|xen OUTDIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
VARIANT=$1
case "$VARIANT" in
kasan|xen) ;;
*) usage ;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
TARBALL=/usr/src/linux-source-6.1.tar.xz
PKG=linux-source-6.1
TINY_FRAGMENTS="kernel/configs/tiny-base.config kernel/configs/tiny.config arch/x86/configs/tiny.config"

mkdir -p "$2"
OUTDIR=$(cd "$2" && pwd)
SRC=$OUTDIR/src
BUILD=$OUTDIR/$VARIANT
LOG=$BUILD/build.log
JOBS=$(nproc)

die() {
	echo "build.sh: error: $*" >&2
	exit 1
}

[ -r "$TARBALL" ] || die "$TARBALL not found (apt-get install $PKG)"
[ -r "$HERE/common.config" ] || die "$HERE/common.config missing"
[ -r "$HERE/$VARIANT.config" ] || die "$HERE/$VARIANT.config missing"
PKGVER=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
	die "cannot read the version of package $PKG"
[ -n "$PKGVER" ] || die "package $PKG has no version (not installed?)"

shopt -s nullglob
PATCHES=("$HERE"/patches/*.patch)
shopt -u nullglob

# Identity of the patched source, and of this variant's whole build.
patch_hash() {
	{
		echo "pkg $PKG $PKGVER"
		for p in "${PATCHES[@]}"; do
			echo "patch $(basename "$p")"
			cat "$p"
		done
	} | sha256sum | cut -d' ' -f1
}
build_hash() {
	{
		echo "pkg $PKG $PKGVER"
		echo "variant $VARIANT"
		for f in "$HERE/common.config" "$HERE/$VARIANT.config" "$SELF" \
			 "${PATCHES[@]}"; do
			echo "file ${f#"$HERE"/}"
			cat "$f"
		done
	} | sha256sum | cut -d' ' -f1
}
SRC_ID=$(patch_hash)
BUILD_ID=$(build_hash)

# One build at a time per OUTDIR: the variants share OUTDIR/src.
exec 9>"$OUTDIR/.lock"
flock 9

report() {
	local rel
	rel=$(make -s -C "$SRC" O="$BUILD" kernelrelease 2>/dev/null)
	echo "kernel release: $rel"
	echo "bzImage:  $BUILD/arch/x86/boot/bzImage"
	echo "vmlinux:  $BUILD/vmlinux"
	echo "modules:  $BUILD/mod/lib/modules/$rel"
	echo "KDIR:     $BUILD    (make -C $BUILD M=\$PWD)"
	echo "config:   $BUILD/.config"
}

if [ -f "$BUILD/stamp" ] && [ -f "$BUILD/arch/x86/boot/bzImage" ] &&
   [ "$(cat "$BUILD/stamp")" = "$BUILD_ID" ] &&
   [ -f "$SRC/.hyper_dmabuf_src" ] &&
   [ "$(cat "$SRC/.hyper_dmabuf_src")" = "$SRC_ID" ]; then
	echo "build.sh: $VARIANT is up to date (stamp $BUILD_ID)"
	report
	exit 0
fi

START=$(date +%s)

# --- Source tree: extract once, patch, reuse while version+patches match ---
if [ -f "$SRC/.hyper_dmabuf_src" ] &&
   [ "$(cat "$SRC/.hyper_dmabuf_src")" = "$SRC_ID" ]; then
	echo "build.sh: reusing source $SRC ($PKG $PKGVER)"
else
	echo "build.sh: extracting $TARBALL ($PKG $PKGVER) to $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	for p in "${PATCHES[@]}"; do
		echo "build.sh: applying $(basename "$p")"
		patch -p1 -s -N -d "$SRC.tmp" -i "$p" ||
			die "patch $(basename "$p") does not apply to $PKG $PKGVER"
	done
	echo "$SRC_ID" > "$SRC.tmp/.hyper_dmabuf_src"
	mv "$SRC.tmp" "$SRC"
fi

mkdir -p "$BUILD"
rm -f "$BUILD/stamp"
: > "$LOG"

# Run a kernel make quietly; on failure show the end of the log.
kmake() {
	echo "+ make $*" >> "$LOG"
	if ! make -C "$SRC" O="$BUILD" "$@" >> "$LOG" 2>&1; then
		echo "build.sh: 'make $*' failed; last lines of $LOG:" >&2
		tail -n 60 "$LOG" >&2
		exit 1
	fi
}

# --- Config ----------------------------------------------------------------
FRAG=$BUILD/fragment.config
{
	for f in $TINY_FRAGMENTS; do
		echo "# ---- $f (from the source tree)"
		cat "$SRC/$f"
	done
	echo "# ---- common.config"
	cat "$HERE/common.config"
	echo "# ---- $VARIANT.config"
	cat "$HERE/$VARIANT.config"
} > "$FRAG"

echo "build.sh: configuring $VARIANT"
kmake KCONFIG_ALLCONFIG="$FRAG" allnoconfig
kmake olddefconfig

# Wanted value of each option named in our fragments; the last one wins,
# so a variant can override common.config.  "# CONFIG_X is not set" is n.
want_values() {
	cat "$HERE/common.config" "$HERE/$VARIANT.config" | sed -n \
		-e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
		-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p'
}
have_value() {
	local line
	line=$(grep -E "^(# )?$1[= ]" "$BUILD/.config" | tail -n 1 || true)
	case "$line" in
	"") echo "(absent)" ;;
	"# $1 is not set") echo n ;;
	"$1="*) echo "${line#*=}" ;;
	*) echo "(unparsable: $line)" ;;
	esac
}
declare -A WANT=()
ORDER=()
while read -r sym val; do
	[ -n "${WANT[$sym]+x}" ] || ORDER+=("$sym")
	WANT[$sym]=$val
done < <(want_values)
BAD=()
for sym in "${ORDER[@]}"; do
	want=${WANT[$sym]}
	have=$(have_value "$sym")
	if [ "$want" = n ]; then
		# An absent (invisible, unmet-dependency) option is also off.
		case "$have" in n|"(absent)") continue ;; esac
	elif [ "$have" = "$want" ]; then
		continue
	fi
	BAD+=("$sym: wanted $want, got $have")
done
if [ ${#BAD[@]} -ne 0 ]; then
	echo "build.sh: ${#BAD[@]} option(s) did not stick in $BUILD/.config:" >&2
	printf '  %s\n' "${BAD[@]}" >&2
	exit 1
fi
echo "build.sh: all ${#ORDER[@]} options of common.config + $VARIANT.config are set as asked"

# --- Build -----------------------------------------------------------------
echo "build.sh: building $VARIANT with -j$JOBS (log: $LOG)"
kmake -j"$JOBS" bzImage vmlinux modules
rm -rf "$BUILD/mod"
kmake INSTALL_MOD_PATH="$BUILD/mod" INSTALL_MOD_STRIP=1 modules_install

echo "$BUILD_ID" > "$BUILD/stamp"
END=$(date +%s)
echo "build.sh: $VARIANT built in $(( (END - START) / 60 ))m$(( (END - START) % 60 ))s"
report
