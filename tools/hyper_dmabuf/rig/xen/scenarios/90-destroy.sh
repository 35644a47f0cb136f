# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 90-destroy.sh: a domain destroyed mid-share (xl destroy).  Runs last:
# both domUs are gone afterwards.
#   - the exporter dies while dom0 has its buffer mapped: dom0 keeps
#     reading valid memory, then lets go cleanly;
#   - the importer dies while it has dom0's buffer mapped: dom0's export
#     ends by itself, its grants end and its counters return to zero; an
#     unexport after that finds nothing (ENOENT).
. /rig/hdx-share.sh

# --- the exporter dies ---------------------------------------------------------
id=$(hdx_export_bg domU1 exp --to 0 --size 8m --seed 61)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0" || not_ok "domU1 exports 8 MiB to dom0"
check "dom0 maps it and keeps reading" on_bg dom0 imp hdmabuf import "$id" \
	--wait 10000 --verify 61 --read-after-ms 10000 --verify-after 61
hdx_wait 30 on dom0 "grep -q '^verify ok' /tmp/hdx/bg/imp.out" >/dev/null
check "xl destroy domU1 while dom0 has its buffer mapped" hdx_destroy domU1
out=$(on_wait dom0 imp 60)
rc=$?
case "$rc $out" in
"0 "*"verify-after ok 8388608"*)
	ok "dom0 reads every byte of the dead domain's buffer until it lets go" ;;
*)
	diag "status $rc: $out"
	not_ok "dom0 reads every byte of the dead domain's buffer until it lets go" ;;
esac
check "dom0 drops domU1's buffers and maps nothing" hdx_quiet dom0
hdx_share dom0 domU2 64k rw 62

# --- the importer dies ---------------------------------------------------------
id=$(hdx_export_bg dom0 exp --to "$(hdx_domid domU2)" --size 8m --seed 63)
[ -n "$id" ] && ok "dom0 exports 8 MiB to domU2" || not_ok "dom0 exports 8 MiB to domU2"
check "domU2 maps it and holds it" on_bg domU2 imp hdmabuf import "$id" \
	--wait 10000 --verify 63 --hold-ms 600000
hdx_wait 30 on domU2 "grep -q '^verify ok' /tmp/hdx/bg/imp.out" >/dev/null
if [ "$(hdx_stat dom0 shared_pages)" = 2048 ]; then
	ok "dom0 shares 2048 pages with domU2"
else
	not_ok "dom0 shares 2048 pages with domU2"
fi
check "xl destroy domU2 while it has dom0's buffer mapped" hdx_destroy domU2
# The export's only importer is gone: the export ends by itself.
check "dom0 ends the export by itself: grants ended, nothing left" \
	hdx_quiet dom0
check "dom0 signals its exporter to unexport" on_kill dom0 exp USR1
check "the unexport reports ENOENT: the buffer no longer exists" \
	hdx_wait 30 grep -q '^hdmabuf: unexport: ENOENT' /tmp/hdx/bg/exp.out
on_kill dom0 exp >/dev/null
out=$(on_wait dom0 exp 30)
rc=$?
if [ $rc = 0 ] || [ $rc = 1 ]; then
	ok "dom0's exporter exits (status $rc)"
else
	diag "status $rc: $out"
	not_ok "dom0's exporter exits"
fi
