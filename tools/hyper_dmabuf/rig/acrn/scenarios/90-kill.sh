# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 90-kill.sh: a UOS dies (its QEMU is killed) while the SOS has its buffer
# mapped, and while the SOS imports and checks every id of it that it
# lists as the UOS churns buffers (as in 56-identity).  The host's ivshmem
# server tells the SOS (the presence word); the SOS drops the link, keeps
# reading the dead VM's memory (the host keeps the file) until it lets go,
# and ends with nothing mapped; every import gave the buffer its id named
# or ENOENT; the other UOS is not affected.  Runs late: uos2 is gone
# afterwards, until 92-restart boots it again.
. "$HDA_LIB/hda-share.sh"

id=$(hda_export_bg uos2 exp --to 0 --size 8m --seed 91)
[ -n "$id" ] && ok "uos2 exports 8 MiB to the SOS" || not_ok "uos2 exports 8 MiB to the SOS"
check "the SOS maps it and keeps reading" on_bg sos imp hdmabuf import "$id" \
	--wait 10000 --verify 91 --hold-ms 25000 --verify-after 91
check "the SOS has read every byte once" on_wait_line sos imp '^verify ok' 30
if [ "$(hda_stat sos mapped_pages)" = 2048 ]; then
	ok "the SOS maps 2048 pages of uos2"
else
	not_ok "the SOS maps 2048 pages of uos2"
fi
check "uos2 churns buffers" hda_churn uos2
check "the SOS imports and checks every id of uos2 it lists" hda_idcheck 2
sleep 5
check "the host kills uos2's QEMU" vm_kill uos2
t0=$SECONDS
if hda_wait 10 eval '! hda_reaches sos 2'; then
	ok "the SOS drops uos2 ($((SECONDS - t0)) s)"
else
	not_ok "the SOS drops uos2 within 10 s"
fi
out=$(on_wait sos imp 60)
rc=$?
case "$rc $out" in
"0 "*"held ok"*"verify-after ok 8388608"*)
	ok "the SOS reads every byte of the dead VM's buffer until it lets go" ;;
*)
	diag "status $rc: $out"
	not_ok "the SOS reads every byte of the dead VM's buffer until it lets go" ;;
esac
out=$(hda_idcheck_stop)
diag "$(echo "$out" | head -n 20)"
case "$out" in
*"imports ok "*" bad 0"*)
	ok "every import gave the buffer its id names, or ENOENT" ;;
*)
	not_ok "every import gave the buffer its id names, or ENOENT" ;;
esac
case "$out" in
*"imports ok 0 "*|"") not_ok "the SOS imported and checked some buffers" ;;
*) ok "the SOS imported and checked some buffers" ;;
esac
check "the SOS's counters return to zero" hda_quiet sos
check "the SOS no longer lists uos2's buffer" \
	on sos "! hdmabuf list | grep -qx '$id'"
check "the SOS still reaches uos1" hda_reaches sos 1
hda_share uos1 sos 1m rw 92
