# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 75-devmap.sh: a device given an import's DMA addresses reaches the
# exporting domain's frames.  dom0 imports a buffer of domU1's and maps it
# for one of its devices as a device driver would (dma_buf_attach and
# dma_buf_map_attachment, through the test module hyper_dmabuf_devmap).
# The host then reads machine memory at those addresses through QEMU's
# monitor, as a device without an IOMMU would (QEMU emulates none), and
# compares it with the pattern domU1 wrote.  That alone would pass with a
# bounce buffer, a copy made at map time: so dom0 then writes a new pattern
# through its CPU mapping, and the host must find that one at the same
# addresses, and domU1 in its own buffer.  The device is a PCI device in
# the x86 rig, whose PV dom0 maps every device through xen-swiotlb, and
# on arm64 the virtio-mmio device that carries dom0's channels, which dom0
# (mapped 1:1) maps through xen-swiotlb too.
. /rig/hdx-share.sh

if [ ! -e /modules/hyper_dmabuf_devmap.ko ]; then
	skip "a device reaches the exporter's frames" \
		"no hyper_dmabuf_devmap.ko"
	return 0
fi
# first GLOB: the name of the first path GLOB matches, or nothing
first() {
	for f in "$@"; do
		[ -e "$f" ] && echo "${f##*/}"
		return 0
	done
}
if hdx_xlat dom0; then
	bus=platform
	dev=$(first /sys/bus/platform/drivers/virtio-mmio/*.virtio_mmio)
else
	bus=pci
	dev=$(first /sys/bus/pci/devices/*)
fi
# (The first PCI device is the host bridge, with a 32-bit DMA mask: the
# rig's 2 GiB of machine memory are all below 4 GiB, so nothing bounces
# for the mask's sake.)
if [ -z "$dev" ]; then
	not_ok "dom0 has a device to map for ($bus)"
	return 1
fi
diag "the device: $bus $dev"
check "dom0 loads hyper_dmabuf_devmap" \
	insmod /modules/hyper_dmabuf_devmap.ko
# refused LINE: writing LINE to the module's file fails
refused() {
	! printf '%s' "$1" >/sys/kernel/debug/hyper_dmabuf_devmap/map
}
check "devmap refuses a line that is not FD BUS DEVICE" refused "nonsense"
check "devmap refuses a bus it does not know" refused "0 usb $dev"
check "devmap refuses a device that does not exist" refused "0 $bus no-such-device"
check "devmap refuses a descriptor that is no dma-buf" refused "0 $bus $dev"

size=262144
a=7500 b=7501
# First a share of the same size that dom0 imports and lets go: its pages
# go back to dom0's pool (or balloon), which hands them to the next import
# in the order that makes consecutive pages likeliest (ascending pfns),
# pages whose machine frames are not consecutive.  A table that merged
# them would make xen-swiotlb bounce the segment: the device would get a
# copy.
hdx_share domU1 dom0 256k ro 7499
hdx_quiet dom0
if ! hdmabuf pattern-write /tmp/devmap.a $a $size ||
   ! hdmabuf pattern-write /tmp/devmap.b $b $size; then
	not_ok "dom0 writes the patterns to compare with"
fi
want_a=$(sha256sum /tmp/devmap.a | cut -d' ' -f1)
want_b=$(sha256sum /tmp/devmap.b | cut -d' ' -f1)

id=$(hdx_export_bg domU1 dm --to 0 --size $size --seed $a \
	--expect-seed $b --timeout 120000)
if [ -z "$id" ]; then
	not_ok "domU1 exports 256 KiB to dom0"
	rmmod hyper_dmabuf_devmap
	return 1
fi
ok "domU1 exports 256 KiB to dom0"
out=/tmp/hdx/bg/devmap.out
check "dom0 imports it and maps it for $dev" \
	on_bg dom0 devmap rig-mem devmap "$id" $bus "$dev"
check "... mapped" hdx_wait 30 grep -q '^mapped ' $out

# The segments cover the buffer in order, one page each: xen-swiotlb
# translates dom0's DMA a page at a time (PV, and Arm's dom0), and would
# bounce a segment of several pages whose frames are not consecutive.
ranges='' next=0 bad=''
while read -r w off addr len; do
	[ "$w" = seg ] || continue
	[ $((0x$off)) = $next ] || bad="segment at 0x$off, not $next"
	[ $((0x$len)) = 4096 ] || bad="segment of 0x$len bytes at 0x$off"
	next=$((next + 0x$len))
	ranges="$ranges $addr+$len"
done <$out
segs=$(sed -n 's/^mapped \([0-9]*\) segments$/\1/p' $out)
if [ -z "$bad" ] && [ $next = $size ] && [ "$segs" = $((size / 4096)) ]; then
	ok "its $segs DMA segments cover the buffer in order, a page each"
	diag "first: $(grep -m 1 '^seg ' $out)"
else
	not_ok "its DMA segments cover the buffer in order, a page each (${bad:-$next bytes in ${segs:-no} segments})"
	diag "$(head -n 5 $out)"
fi

# host_has WANT: the host reads WANT's bytes at the DMA addresses
host_has() {
	# shellcheck disable=SC2086 # one word a range
	hh=$(hdx_host pmem-sha256 $ranges)
	[ "$hh" = "pmem-sha256 $1 $size" ] && return 0
	diag "host: $hh"
	return 1
}
check "a device at those addresses reads domU1's bytes (the host reads them)" \
	host_has "$want_a"
check "dom0 writes a new pattern over the buffer through its CPU mapping" \
	hdmabuf import "$id" --rw --verify $a --write $b
check "... which the device reads at the same addresses: domU1's frames, not a copy" \
	host_has "$want_b"
check "domU1 sees dom0's pattern in its own buffer" \
	hdx_wait 60 on domU1 "grep -q '^peer-wrote ok' /tmp/hdx/bg/dm.out"

on_kill dom0 devmap >/dev/null
check "dom0 unmaps it for the device and lets go" on_wait dom0 devmap 30
on_kill domU1 dm >/dev/null
check "domU1's exporter exits cleanly" on_wait domU1 dm 60
check "dom0 unloads hyper_dmabuf_devmap" rmmod hyper_dmabuf_devmap
check "domU1 shares nothing any more" hdx_quiet domU1
check "dom0 maps nothing any more" hdx_quiet dom0
rm -f /tmp/devmap.a /tmp/devmap.b
