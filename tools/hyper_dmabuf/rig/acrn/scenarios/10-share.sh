# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 10-share.sh: buffers from 1 page to 64 MiB, read-only and read-write,
# UOS -> SOS (the only direction ACRN's memory model gives), with every
# byte checked on both sides; then both UOSes sharing with the SOS at once
# (N:1).
. "$HDA_LIB/hda-share.sh"

seed=1
for size in 4k 64k 1m 8m 64m; do
	for mode in ro rw; do
		hda_share uos1 sos $size $mode $seed
		seed=$((seed + 1))
	done
done
hda_share uos2 sos 4k rw $seed
hda_share uos2 sos 8m ro $((seed + 1))

# --- N:1: both UOSes share 8 MiB with the SOS at the same time -----------
ids=
for n in 1 2; do
	id=$(hda_export_bg uos$n par --to 0 --size 8m --seed $((20 + n)) \
		--expect-seed $((1020 + n)) --timeout 120000)
	if [ -n "$id" ]; then
		ok "N:1: uos$n exports 8 MiB to the SOS ($id)"
	else
		not_ok "N:1: uos$n exports 8 MiB to the SOS"
	fi
	ids="$ids $id"
done
n=0
for id in $ids; do
	n=$((n + 1))
	check "N:1: the SOS imports uos$n's buffer in the background" \
		on_bg sos imp$n hdmabuf import "$id" --wait 10000 --rw \
		--verify $((20 + n)) --write $((1020 + n))
done
for n in 1 2; do
	out=$(on_wait sos imp$n 120)
	rc=$?
	case "$rc $out" in
	"0 "*"verify ok 8388608"*"wrote 8388608"*)
		ok "N:1: the SOS reads and writes every byte of uos$n's buffer" ;;
	*)
		diag "status $rc: $out"
		not_ok "N:1: the SOS reads and writes every byte of uos$n's buffer" ;;
	esac
	if on_wait_line uos$n par '^peer-wrote ok' 120 >/dev/null; then
		ok "N:1: uos$n sees every byte the SOS wrote"
	else
		on_out uos$n par | sed 's/^/# /' >&3
		not_ok "N:1: uos$n sees every byte the SOS wrote"
	fi
	on_kill uos$n par >/dev/null
	check "N:1: uos$n's exporter exits cleanly" on_wait uos$n par 60
done
for v in $HDA_VMS; do
	check "N:1: $v shares and maps nothing afterwards" hda_quiet $v
done
