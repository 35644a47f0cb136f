# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 50-reload.sh: unload and reload the ACRN backend in one VM while the
# others stay up: the links come back by themselves.  The SOS cannot
# unload it while it holds an import of a UOS's pages.  With virtio links
# the transport's module, hyper_dmabuf_virtio_ivshmem, reloads too: in
# the SOS, where it binds nothing, without a link noticing; in a UOS,
# whose link goes with it and comes back.
. "$HDA_LIB/hda-share.sh"

# --- the SOS --------------------------------------------------------------------
check "the SOS unloads hyper_dmabuf_acrn" on sos rmmod hyper_dmabuf_acrn
for n in 1 2; do
	check "uos$n sees the SOS go" hda_wait 20 eval '! hda_reaches uos'$n' 0'
done
check "the SOS loads it again" on sos insmod /modules/hyper_dmabuf_acrn.ko
for n in 1 2; do
	check "the SOS reaches uos$n again" hda_wait 30 hda_reaches sos $n
	check "uos$n reaches the SOS again" hda_wait 30 hda_reaches uos$n 0
done
hda_share uos1 sos 64k rw 51
hda_share uos2 sos 1m ro 52

# --- a UOS ----------------------------------------------------------------------
check "uos2 unloads hyper_dmabuf_acrn" on uos2 rmmod hyper_dmabuf_acrn
check "the SOS sees uos2 go" hda_wait 20 eval '! hda_reaches sos 2'
check "the SOS still reaches uos1" hda_reaches sos 1
check "uos2 loads it again" on uos2 insmod /modules/hyper_dmabuf_acrn.ko
check "the SOS reaches uos2 again" hda_wait 30 hda_reaches sos 2
check "uos2 reaches the SOS again" hda_wait 30 hda_reaches uos2 0
hda_share uos2 sos 64k rw 53

# --- the virtio transport's module ----------------------------------------------
if [ "$HDA_TRANSPORT" = virtio ]; then
	check "the SOS reloads hyper_dmabuf_virtio_ivshmem" on sos \
		"rmmod hyper_dmabuf_virtio_ivshmem &&
		 insmod /modules/hyper_dmabuf_virtio_ivshmem.ko"
	check "... which binds nothing there" \
		on sos "! ls $HDA_VDRV | grep -q '^0000:'"
	for n in 1 2; do
		check "the SOS still reaches uos$n" hda_reaches sos $n
	done
	check "uos2 unloads hyper_dmabuf_virtio_ivshmem" \
		on uos2 rmmod hyper_dmabuf_virtio_ivshmem
	check "the SOS sees uos2 go" hda_wait 20 eval '! hda_reaches sos 2'
	check "uos2's link goes with it" hda_wait 20 eval '! hda_reaches uos2 0'
	check "uos2 loads it again" \
		on uos2 insmod /modules/hyper_dmabuf_virtio_ivshmem.ko
	check "the SOS reaches uos2 again" hda_wait 30 hda_reaches sos 2
	check "uos2 reaches the SOS again" hda_wait 30 hda_reaches uos2 0
	hda_share uos2 sos 64k rw 56
fi

# --- the SOS holds an import ------------------------------------------------------
id=$(hda_export_bg uos1 exp --to 0 --size 64k --seed 54)
[ -n "$id" ] && ok "uos1 exports to the SOS" || not_ok "uos1 exports to the SOS"
check "the SOS imports it and holds it" on_bg sos imp hdmabuf import "$id" \
	--wait 10000 --verify 54 --hold-ms 600000
on_wait_line sos imp '^holding' 30 >/dev/null
check "the SOS cannot unload hyper_dmabuf_acrn while it holds the import" \
	on sos "! rmmod hyper_dmabuf_acrn"
check "uos1 cannot unload hyper_dmabuf_acrn while it shares a buffer" \
	on uos1 "! rmmod hyper_dmabuf_acrn"
on_kill sos imp >/dev/null
on_wait sos imp 30 >/dev/null
on_kill uos1 exp >/dev/null
check "uos1's exporter exits cleanly" on_wait uos1 exp 30
check "the SOS maps nothing once it let go" hda_quiet sos
check "uos1 shares nothing" hda_quiet uos1
check "the SOS unloads hyper_dmabuf_acrn now" on sos rmmod hyper_dmabuf_acrn
check "the SOS loads it again" on sos insmod /modules/hyper_dmabuf_acrn.ko
for n in 1 2; do
	check "the SOS reaches uos$n again" hda_wait 30 hda_reaches sos $n
done
hda_share uos1 sos 64k rw 55
