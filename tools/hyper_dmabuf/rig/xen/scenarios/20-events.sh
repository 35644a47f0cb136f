# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 20-events.sh: new-buffer and withdrawn events and the list ioctl across
# domains, and an unexport while the importer has the buffer mapped.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)

# --- events and list: domU1 exports to domU2 ---------------------------------
check "domU2 listens for new buffers" \
	on_bg domU2 ev hdmabuf wait-event --type new --timeout 100000
hdx_wait 20 on domU2 "grep -q listening /tmp/hdx/bg/ev.out" >/dev/null
id=$(hdx_export_bg domU1 exp --to "$d2" --size 256k --seed 7 \
	--priv format=XR24,width=256,height=256)
if [ -n "$id" ]; then ok "domU1 exports to domU2 ($id)"; else not_ok "domU1 exports to domU2"; fi
out=$(on_wait domU2 ev 110)
case "$out" in
*"event new $id 262144 format=XR24,width=256,height=256"*)
	ok "domU2 gets the new-buffer event with its id, size and metadata" ;;
*)
	diag "$out"
	not_ok "domU2 gets the new-buffer event with its id, size and metadata" ;;
esac
check "domU2 lists it" on domU2 "hdmabuf list | grep -qx '$id'"
check "dom0 does not list it (not its buffer)" \
	on dom0 "! hdmabuf list | grep -qx '$id'"
check "domU2 reads it" on domU2 hdmabuf import "$id" --verify 7
out=$(on domU2 hdmabuf query "$id")
case "$out" in
*"exporter_vmid $d1"*"importer_vmid $d2"*"size 262144"*)
	ok "domU2's query names exporter, importer and size" ;;
*)
	diag "$out"
	not_ok "domU2's query names exporter, importer and size" ;;
esac

check "domU2 listens for withdrawals" \
	on_bg domU2 ev hdmabuf wait-event --type withdrawn --timeout 100000
hdx_wait 20 on domU2 "grep -q listening /tmp/hdx/bg/ev.out" >/dev/null
check "domU1 unexports" on_kill domU1 exp USR1
hdx_wait 30 on domU1 "grep -q '^unexported' /tmp/hdx/bg/exp.out" >/dev/null
out=$(on_wait domU2 ev 110)
case "$out" in
*"event withdrawn $id"*) ok "domU2 gets the withdrawn event" ;;
*) diag "$out"; not_ok "domU2 gets the withdrawn event" ;;
esac
check "domU2 no longer lists it" hdx_wait 20 on domU2 \
	"! hdmabuf list | grep -qx '$id'"
check "importing it now fails (ENOENT)" \
	on domU2 hdmabuf import "$id" --expect-errno ENOENT
on_kill domU1 exp >/dev/null
check "domU1's exporter exits" on_wait domU1 exp 30
check "domU1 shares nothing" hdx_quiet domU1
check "domU2 maps nothing" hdx_quiet domU2

# --- unexport while the importer has it mapped: domU1 -> dom0 ----------------
id=$(hdx_export_bg domU1 exp --to 0 --size 8m --seed 11)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0" || not_ok "domU1 exports 8 MiB to dom0"
check "dom0 maps it and keeps reading" on_bg dom0 imp hdmabuf import "$id" \
	--wait 10000 --verify 11 --read-after-ms 8000 --verify-after 11
hdx_wait 30 on dom0 "grep -q '^verify ok' /tmp/hdx/bg/imp.out" >/dev/null
check "domU1 unexports while dom0 has it mapped" on_kill domU1 exp USR1
check "domU1's unexport returns" hdx_wait 30 on domU1 \
	"grep -q '^unexported' /tmp/hdx/bg/exp.out"
if [ "$(hdx_stat domU1 shared_pages)" = 2048 ]; then
	ok "domU1 still shares the pages while dom0 maps them"
else
	not_ok "domU1 still shares the pages while dom0 maps them"
fi
out=$(on_wait dom0 imp 60)
rc=$?
case "$rc $out" in
"0 "*"verify-after ok 8388608"*)
	ok "dom0 reads every byte until it lets go" ;;
*)
	diag "status $rc: $out"
	not_ok "dom0 reads every byte until it lets go" ;;
esac
check "domU1 shares nothing once dom0 let go" hdx_quiet domU1
check "dom0 maps nothing" hdx_quiet dom0
on_kill domU1 exp >/dev/null
on_wait domU1 exp 30 >/dev/null
