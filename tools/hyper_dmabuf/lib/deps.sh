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
