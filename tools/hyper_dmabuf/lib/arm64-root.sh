#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-root.sh: the arm64 half of the Xen arm64 rig, from Debian's archive
# only, through apt's multiarch (lib/deps.sh adds the arm64 architecture).
# Prints the directory of an extracted root holding:
#   boot/xen-4.17-arm64			the hypervisor (a plain Image)
#   boot/vmlinuz-KVER			Debian's arm64 kernel (an Image), for
#					dom0 and every domU
#   lib/modules/KVER/			its modules
#   usr/src/linux-headers-KVER/		its build tree, for cross-building
#					modules with the host's linux-kbuild-6.1
#					(amd64 fixdep and modpost: Debian's
#					way of cross-building)
#   bin/busybox, usr/lib/xen-4.17/bin/	busybox and the Xen toolstack for
#   usr/bin/xenstore, lib/aarch64-*/	dom0, with their libraries
# KVER is the arm64 twin of Debian's amd64 kernel (same ABI, same package
# version as the host's linux-kbuild-6.1).  The .debs and the tree are
# cached under $HDMABUF_ARM64_CACHE (default /var/cache/hyper_dmabuf/arm64),
# one directory per kernel package version; downloading needs root.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cache=${HDMABUF_ARM64_CACHE:-/var/cache/hyper_dmabuf/arm64}
amd64=$(hd_debian_kver)
kver=${amd64%-amd64}-arm64
kbver=$(dpkg-query -W -f='${Version}' linux-kbuild-6.1)
dir=$cache/$kver-$kbver
root=$dir/root
if [ -e "$dir/.done" ]; then
	echo "$root"
	exit 0
fi

# Packages at the archive's version, except the kernel's, which must be
# the host's kbuild's.  The libraries are what dom0's toolstack links.
pkgs=(
	"linux-image-$kver:arm64=$kbver" "linux-headers-$kver:arm64=$kbver"
	xen-hypervisor-4.17-arm64:arm64 xen-utils-4.17:arm64
	xen-utils-common:arm64 xenstore-utils:arm64 busybox-static:arm64
	libc6:arm64 libgcc-s1:arm64 libyajl2:arm64 libzstd1:arm64
	libncursesw6:arm64 libtinfo6:arm64 libfdt1:arm64 libbz2-1.0:arm64
	liblzma5:arm64 zlib1g:arm64 libuuid1:arm64
	libxencall1:arm64 libxendevicemodel1:arm64 libxenevtchn1:arm64
	libxenforeignmemory1:arm64 libxengnttab1:arm64 libxenhypfs1:arm64
	libxenmisc4.17:arm64 libxenstore4:arm64 libxentoolcore1:arm64
	libxentoollog1:arm64
)
[ "$(id -u)" -eq 0 ] || hd_die "arm64 packages not cached in $dir; run as root"
dpkg --print-foreign-architectures | grep -qx arm64 ||
	hd_die "apt has no arm64 architecture (run tools/hyper_dmabuf/lib/deps.sh)"
hd_log "arm64: downloading Debian's arm64 Xen, kernel $kver and dom0's tools"
rm -rf "$dir"
mkdir -p "$dir/debs" "$root"
# apt's sandbox user cannot write into root's cache: download as root.
(cd "$dir/debs" &&
	apt-get -q -o APT::Sandbox::User=root download "${pkgs[@]}" >/dev/null)
for d in "$dir"/debs/*.deb; do
	dpkg-deb -x "$d" "$root"
done
# The build tree's relative links lead to the arch-independent headers and
# to kbuild, both the host's own (same version: checked above).
ln -sfn "/usr/src/linux-headers-${amd64%-amd64}-common" \
	"$root/usr/src/linux-headers-${amd64%-amd64}-common"
mkdir -p "$root/usr/lib"
ln -sfn /usr/lib/linux-kbuild-6.1 "$root/usr/lib/linux-kbuild-6.1"
for f in "boot/vmlinuz-$kver" boot/xen-4.17-arm64 bin/busybox \
	usr/lib/xen-4.17/bin/xl "usr/src/linux-headers-$kver/Module.symvers"; do
	[ -e "$root/$f" ] || hd_die "arm64: $f missing from the packages"
done
# modules.dep, for the rig's modprobe --show-depends
depmod -b "$root" "$kver"
rm -rf "$dir/debs"
touch "$dir/.done"
echo "$root"
