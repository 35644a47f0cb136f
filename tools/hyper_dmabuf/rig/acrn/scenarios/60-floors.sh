# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 60-floors.sh: the raw floors make bench measures against (debugfs files
# of the test builds, backends/acrn/bench.c): the bare doorbell on each
# link's second vector, the SOS's mmap of a UOS's RAM from the window,
# make bench's frame series in brief, and a reader blocked on the
# doorbell while its device goes away.
#
# With virtio links a UOS's ivshmem device is the virtio transport's, so
# the UOS's doorbell is that module's file
# (hyper_dmabuf_virtio_ivshmem/vm0/doorbell, backends/acrn/virtio_ivshmem.c,
# "--bell acrn-virtio:0"), and the blocked reader's device is unbound from
# the transport's PCI driver; the SOS's side is hyper_dmabuf_acrn's either
# way.
. "$HDA_LIB/hda-share.sh"

dbg=/sys/kernel/debug/hyper_dmabuf_acrn
# A UOS's doorbell: its directory and hdmabuf-bench's --bell for it.
udbg=$dbg ubell=acrn:0
[ "$HDA_TRANSPORT" != virtio ] ||
	udbg=/sys/kernel/debug/hyper_dmabuf_virtio_ivshmem ubell=acrn-virtio:0

for n in 1 2; do
	check "uos$n has a doorbell ($udbg/vm0), no window" \
		on uos$n "test -e $udbg/vm0/doorbell && ! test -e $dbg/vm0/window"
	[ "$udbg" = "$dbg" ] ||
		check "uos$n: hyper_dmabuf_acrn has no floors there (no link)" \
			on uos$n "! test -e $dbg/vm0"
done
check "the SOS has a doorbell and a window per UOS" \
	on sos "test -e $dbg/vm1/doorbell && test -e $dbg/vm2/window"

# Round trips over vector 1 in both pairs, one pair at a time.
for n in 1 2; do
	on_bg sos pong "exec hdmabuf-bench pong --bell acrn:$n --reps 20"
	check "uos$n: 20 raw doorbell round trips with the SOS" \
		on uos$n hdmabuf-bench ping --bell $ubell --reps 20
	check "the SOS answered uos$n all 20" on_wait sos pong 30
done

# The window: mapped within uos1's RAM, refused past its end (the bench
# maps from 64 MiB; uos1 has 510 MiB).
check "the SOS maps 1 MiB of uos1's RAM from the window, twice" \
	on sos hdmabuf-bench window-map --from 1 --size 1048576 --count 2
fails_with "the window refuses a mapping past uos1's RAM: EINVAL" \
	"window mmap: Invalid argument" \
	on sos hdmabuf-bench window-map --from 1 --size $((447 << 20)) --count 1

# make bench's frame series, briefly: frames of a 1080p buffer rung back
# raw, then presented and released, then through a swapchain of three.
bench_frames() {
	on_bg sos fe "exec hdmabuf-bench frame-echo --from 1 --bell acrn:1 \
		--reps $3 $2"
	check "uos1: hdmabuf-bench $1, $3 frames to the SOS" \
		on uos1 hdmabuf-bench "$1" --to 0 --bell $ubell --reps "$3"
	check "the SOS released all $3 frames" on_wait sos fe 60
}
bench_frames frame --ring 5
bench_frames frame-release "" 5
bench_frames swapchain "--buffers 3" 10

# A reader blocked on the doorbell when its device is unbound (from
# hyper_dmabuf_acrn, or from the virtio transport's PCI driver): it wakes
# with ENODEV, the unbind does not wait for it, and the link comes back.
on_bg uos2 stuck "exec hdmabuf-bench ping --bell $ubell --reps 1"
sleep 1
check "uos2's device unbinds under a blocked doorbell reader" \
	hda_rebind uos2
fails_with "the blocked reader woke with ENODEV" "No such device" \
	on_wait uos2 stuck 30
check "uos2 has its doorbell again" \
	hda_wait 30 on uos2 "test -e $udbg/vm0/doorbell"
check "uos2 reaches the SOS again" hda_wait 30 hda_reaches uos2 0
check "the SOS reaches uos2 again" hda_wait 30 hda_reaches sos 2
hda_share uos2 sos 64k rw 62
for v in sos uos1 uos2; do
	check "$v shares and maps nothing afterwards" hda_quiet $v
done
