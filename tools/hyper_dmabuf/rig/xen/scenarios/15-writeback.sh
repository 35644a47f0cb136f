# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 15-writeback.sh: what the importer wrote stays in the exporter's buffer
# after the sharing ends.  dom0 (whose DMA goes through swiotlb-xen) and a
# domU each export 1 MiB and 8 MiB system-heap buffers (vgem's without
# heaps); the other side writes a pattern over every byte; the exporter
# unexports, waits until the importer released the buffer and the sharing
# ended, and then finds the importer's bytes, not a stale copy of its own.
. /rig/hdx-share.sh

seed=1500
for dir in "dom0 domU1" "domU1 dom0"; do
	# shellcheck disable=SC2086
	set -- $dir
	for size in 1m 8m; do
		what="$1 -> $2, $size $HDX_SYSBUF"
		back=$((seed + 1000))
		id=$(hdx_export_bg "$1" wb "--to $(hdx_domid "$2")" \
			--alloc "$HDX_SYSBUF" --size "$size" --seed "$seed" \
			--expect-seed "$back" --released-seed "$back" \
			--timeout 120000)
		if [ -z "$id" ]; then
			on_out "$1" wb | sed 's/^/# /' >&3
			not_ok "$what: exported"
			seed=$((seed + 1))
			continue
		fi
		ok "$what: exported"
		check "$what: the importer reads every byte and writes its own" \
			on "$2" hdmabuf import "$id" --wait 10000 --rw \
			--verify "$seed" --write "$back"
		check "$what: the exporter sees them while shared" \
			hdx_wait 120 on "$1" \
			"grep -q '^peer-wrote ok' /tmp/hdx/bg/wb.out"
		on_kill "$1" wb USR1 >/dev/null
		if hdx_wait 120 on "$1" \
		   "grep -q '^after-release ok' /tmp/hdx/bg/wb.out"; then
			ok "$what: after the release the buffer holds the importer's bytes"
		else
			on_out "$1" wb | sed 's/^/# /' >&3
			not_ok "$what: after the release the buffer holds the importer's bytes"
		fi
		on_kill "$1" wb >/dev/null
		check "$what: the exporter exits cleanly" on_wait "$1" wb 60
		check "$what: $1 shares nothing any more" hdx_quiet "$1"
		check "$what: $2 maps nothing any more" hdx_quiet "$2"
		seed=$((seed + 1))
	done
done
