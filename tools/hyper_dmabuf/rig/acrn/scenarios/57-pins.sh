# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 57-pins.sh: an SOS import's pages cannot be pinned, and the backend's
# unload and unbind stay safe while a process holds an import.  The core
# maps imports into processes with PFN mappings, so vmsplice, O_DIRECT
# (read from /dev/ram0 into the mapping) and io_uring's fixed buffers
# must fail with EFAULT ("hdmabuf abuse").  While a process of the SOS
# holds an import's fd and a read-write mapping, rmmod hyper_dmabuf_acrn
# is refused, even while an unbind of the link's device waits for the
# mapping; the process keeps reading its buffer intact meanwhile, and once
# it lets go the unbind completes, the device binds again and uos1, which
# kept the pages all along, reclaims them.
. "$HDA_LIB/hda-share.sh"

id=$(hda_export_bg uos1 exp --to 0 --size 1m --seed 57)
[ -n "$id" ] && ok "uos1 exports 1 MiB to the SOS" ||
	not_ok "uos1 exports 1 MiB to the SOS"
out=$(on sos hdmabuf abuse "$id" --rw --wait 10000 \
	--only vmsplice,odirect,iouring)
rc=$?
diag "status $rc: $out"
for a in vmsplice odirect iouring; do
	if echo "$out" | grep -qx "abuse $a refused EFAULT"; then
		ok "$a on the SOS's mapping of uos1's buffer: EFAULT"
	else
		not_ok "$a on the SOS's mapping of uos1's buffer: EFAULT"
	fi
done
check "the SOS still reads every byte" \
	on sos hdmabuf import "$id" --verify 57

# --- unload and unbind under a process that holds an import ------------------
check "a process of the SOS holds an import read-write, and reads it" \
	on_bg sos hold hdmabuf import "$id" --rw --verify 57 \
	--hold-ms 12000 --verify-after 57
check "... holding" on_wait_line sos hold '^holding' 30
check "rmmod hyper_dmabuf_acrn is refused meanwhile" \
	on sos "! rmmod hyper_dmabuf_acrn"
dev=$(hda_sos_dev 1)
check "the SOS unbinds uos1's link ($dev), in the background" \
	on_bg sos unbind "echo $dev >$HDA_DRV/unbind"
check "the unbind waits for the mapping" on sos "sleep 2; hdx-bg running unbind"
check "rmmod is still refused, and returns, while the unbind waits" \
	on sos "! rmmod hyper_dmabuf_acrn"
check "uos1 sees the SOS go" hda_wait 20 eval '! hda_reaches uos1 0'
on_kill uos1 exp >/dev/null
check "uos1 unexports (its exporter exits)" on_wait uos1 exp 30
out=$(on_wait sos hold 60)
rc=$?
case "$rc $out" in
"0 "*"held ok"*"verify-after ok 1048576"*)
	ok "the process read its buffer intact until it let go" ;;
*)
	diag "status $rc: $out"
	not_ok "the process read its buffer intact until it let go" ;;
esac
check "then the unbind completes" on_wait sos unbind 30
check "uos1 reclaims the pages" hda_quiet uos1
check "the SOS maps nothing" hda_quiet sos
check "the SOS binds the device again" on sos "echo $dev >$HDA_DRV/bind"
check "the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
hda_share uos1 sos 64k rw 58
