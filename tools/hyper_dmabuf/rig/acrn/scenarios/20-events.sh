# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 20-events.sh: new-buffer and withdrawn events and the list ioctl in the
# SOS for buffers of both UOSes, and an unexport while the SOS has the
# buffer mapped.
. "$HDA_LIB/hda-share.sh"

# --- new: one buffer from each UOS -------------------------------------------
check "the SOS listens for two new buffers" \
	on_bg sos ev hdmabuf wait-event --type new --count 2 --timeout 100000
on_wait_line sos ev '^listening' 20 >/dev/null
id1=$(hda_export_bg uos1 exp --to 0 --size 256k --seed 7 \
	--priv format=XR24,width=256,height=256)
id2=$(hda_export_bg uos2 exp --to 0 --size 64k --seed 8)
for n in 1 2; do
	eval "id=\$id$n"
	if [ -n "$id" ]; then ok "uos$n exports to the SOS ($id)"; else not_ok "uos$n exports to the SOS"; fi
done
out=$(on_wait sos ev 110)
rc=$?
case "$out" in
*"event new $id1 262144 format=XR24,width=256,height=256"*)
	ok "the SOS gets uos1's new-buffer event with its id, size and metadata" ;;
*)
	diag "status $rc: $out"
	not_ok "the SOS gets uos1's new-buffer event with its id, size and metadata" ;;
esac
case "$out" in
*"event new $id2 65536"*)
	ok "the SOS gets uos2's new-buffer event with its id and size" ;;
*)
	diag "status $rc: $out"
	not_ok "the SOS gets uos2's new-buffer event with its id and size" ;;
esac
list=$(on sos hdmabuf list)
if echo "$list" | grep -qx "$id1" && echo "$list" | grep -qx "$id2"; then
	ok "the SOS lists both UOSes' buffers"
else
	diag "$list"
	not_ok "the SOS lists both UOSes' buffers"
fi
check "uos2 does not list uos1's buffer" on uos2 "! hdmabuf list | grep -qx '$id1'"
check "the SOS reads uos1's buffer" on sos hdmabuf import "$id1" --verify 7
check "the SOS reads uos2's buffer" on sos hdmabuf import "$id2" --verify 8
out=$(on sos hdmabuf query "$id1")
case "$out" in
*"exporter_vmid 1"*"importer_vmid 0"*"size 262144"*)
	ok "the SOS's query names exporter, importer and size" ;;
*)
	diag "$out"
	not_ok "the SOS's query names exporter, importer and size" ;;
esac

# --- withdrawn ---------------------------------------------------------------
check "the SOS listens for withdrawals" \
	on_bg sos ev hdmabuf wait-event --type withdrawn --count 2 --timeout 100000
on_wait_line sos ev '^listening' 20 >/dev/null
for n in 1 2; do
	check "uos$n unexports" on_kill uos$n exp USR1
	on_wait_line uos$n exp '^unexported' 30 >/dev/null
done
out=$(on_wait sos ev 110)
rc=$?
case "$out" in
*"event withdrawn $id1"*) ok "the SOS gets uos1's withdrawn event" ;;
*) diag "status $rc: $out"; not_ok "the SOS gets uos1's withdrawn event" ;;
esac
case "$out" in
*"event withdrawn $id2"*) ok "the SOS gets uos2's withdrawn event" ;;
*) diag "status $rc: $out"; not_ok "the SOS gets uos2's withdrawn event" ;;
esac
check "the SOS no longer lists them" hda_wait 20 on sos \
	"! hdmabuf list | grep -qx -e '$id1' -e '$id2'"
check "importing uos1's now fails (ENOENT)" \
	on sos hdmabuf import "$id1" --expect-errno ENOENT
for n in 1 2; do
	on_kill uos$n exp >/dev/null
	check "uos$n's exporter exits" on_wait uos$n exp 30
done
for v in $HDA_VMS; do
	check "$v shares and maps nothing" hda_quiet $v
done

# --- unexport while the SOS has it mapped ------------------------------------
id=$(hda_export_bg uos1 exp --to 0 --size 8m --seed 11)
[ -n "$id" ] && ok "uos1 exports 8 MiB to the SOS" || not_ok "uos1 exports 8 MiB to the SOS"
check "the SOS maps it and keeps reading" on_bg sos imp hdmabuf import "$id" \
	--wait 10000 --verify 11 --hold-ms 8000 --verify-after 11
on_wait_line sos imp '^verify ok' 30 >/dev/null
check "uos1 unexports while the SOS has it mapped" on_kill uos1 exp USR1
check "uos1's unexport returns" on_wait_line uos1 exp '^unexported' 30
if [ "$(hda_stat uos1 shared_pages)" = 2048 ]; then
	ok "uos1 still shares the pages while the SOS maps them"
else
	not_ok "uos1 still shares the pages while the SOS maps them"
fi
out=$(on_wait sos imp 60)
rc=$?
case "$rc $out" in
"0 "*"held ok"*"verify-after ok 8388608"*)
	ok "the SOS reads every byte until it lets go" ;;
*)
	diag "status $rc: $out"
	not_ok "the SOS reads every byte until it lets go" ;;
esac
check "uos1 shares nothing once the SOS let go" hda_quiet uos1
check "the SOS maps nothing" hda_quiet sos
on_kill uos1 exp >/dev/null
on_wait uos1 exp 30 >/dev/null
