#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dkms-options.sh options|modules KCONFIG
#
# What DKMS builds of hyper_dmabuf for the kernel whose .config is KCONFIG,
# read from drivers/dma-buf/hyper_dmabuf/Kconfig's "depends on" (dkms.conf
# sources this file's answers; the top-level Kbuild takes them):
#
#   options	the make arguments (CONFIG_HYPER_DMABUF_...=m), one line
#   modules	"NAME LOCATION" of each module that will be built
#
# Production modules only, never a test option (TEST_FUZZ, *_TEST_FAULTS,
# KUNIT_TEST):
#
#   hyper_dmabuf		always (dkms.conf's BUILD_EXCLUSIVE_CONFIG holds
#				its own depends: DMA_SHARED_BUFFER, MMU,
#				CONFIGFS_FS)
#   hyper_dmabuf_loopback	always: it has no dependency and no test hook
#				(those are LOOPBACK_TEST_FAULTS), does nothing
#				until loaded by hand, and lets an installation
#				be checked without a hypervisor
#   hyper_dmabuf_xen		XEN, XEN_XENBUS_FRONTEND, XEN_BACKEND, one of
#				XEN_UNPOPULATED_ALLOC or XEN_BALLOON, 4 KiB
#				pages on arm64, and MMU_NOTIFIER for PV
#				kernels (Kconfig selects it in a tree)
#   hyper_dmabuf_acrn		PCI_MSI, ZONE_DEVICE, 64BIT
#   hyper_dmabuf_virtio_ivshmem	the ACRN backend and VIRTIO (y or m)
#
# POSIX sh: dkms.conf runs it while dkms reads its configuration.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 options|modules KCONFIG" >&2; exit 2; }
mode=$1 kconfig=$2

# on NAME: NAME is y (or m, with any as the third word) in KCONFIG
on() {
	[ -r "$kconfig" ] || return 1
	if [ "${2:-}" = any ]; then
		grep -Eq "^CONFIG_$1=[ym]\$" "$kconfig"
	else
		grep -q "^CONFIG_$1=y\$" "$kconfig"
	fi
}

d=drivers/dma-buf/hyper_dmabuf
opts="CONFIG_HYPER_DMABUF=m CONFIG_HYPER_DMABUF_LOOPBACK=m"
mods="hyper_dmabuf:$d hyper_dmabuf_loopback:$d/backends/loopback"

if on XEN && on XEN_XENBUS_FRONTEND && on XEN_BACKEND &&
	{ on XEN_UNPOPULATED_ALLOC || on XEN_BALLOON; } &&
	{ ! on ARM64 || on ARM64_4K_PAGES; } &&
	{ ! on XEN_PV || on MMU_NOTIFIER; }; then
	opts="$opts CONFIG_HYPER_DMABUF_XEN=m"
	mods="$mods hyper_dmabuf_xen:$d/backends/xen"
fi
if on PCI_MSI && on ZONE_DEVICE && on 64BIT; then
	opts="$opts CONFIG_HYPER_DMABUF_ACRN=m"
	mods="$mods hyper_dmabuf_acrn:$d/backends/acrn"
	if on VIRTIO any; then
		opts="$opts CONFIG_HYPER_DMABUF_ACRN_VIRTIO=m"
		mods="$mods hyper_dmabuf_virtio_ivshmem:$d/backends/acrn"
	fi
fi

case "$mode" in
options)	echo "$opts" ;;
modules)	for m in $mods; do echo "${m%%:*} ${m#*:}"; done ;;
*)		echo "$0: unknown mode $mode" >&2; exit 2 ;;
esac
