#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package that building, linting and testing
# hyper_dmabuf needs.  Idempotent: when everything is already installed it
# does nothing and prints nothing.
set -euo pipefail

pkgs=(
	# build and lint
	build-essential kmod perl python3 xz-utils sparse rsync
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	# the Documentation pages (graphviz: the kernel's conf.py wants dot)
	python3-sphinx graphviz
	# checkpatch's SPDX check (scripts/spdxcheck.py) in a git tree
	python3-ply python3-git
	# debug kernels
	bc bison flex libelf-dev libssl-dev dwarves
	# VM rigs
	qemu-system-x86 busybox-static cpio gzip coreutils zlib1g-dev
	# Xen rig
	xen-hypervisor-4.17-amd64 xen-utils-4.17
	# Xen arm64 rig (lib/arm64-root.sh takes the arm64 half from the
	# archive): cross-building the modules, selftests and helpers
	# (build.sh), demo's zlib for aarch64, and QEMU's aarch64 machine
	qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	device-tree-compiler zlib1g-dev:arm64
	# hdmabuf-xen-linkd (xenstore.h)
	libxen-dev
	# the plain rig's fuzzer run (rig/trinity/)
	trinity
	# make bench's plot
	gnuplot-nox
	# the Debian packages (make deb, make check-packages): debian/control's
	# Build-Depends, and what checks the result
	dpkg-dev debhelper dh-dkms dkms fakeroot lintian
)

# The :arm64 packages need apt to know the architecture before they can be
# queried or installed (dpkg-query names a foreign package NAME:arm64).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: apt has no arm64 architecture; run as root" >&2
		exit 1
	fi
	echo "deps: adding the arm64 architecture" >&2
	dpkg --add-architecture arm64
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
fi

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "${st:0:2}" = "ii" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
