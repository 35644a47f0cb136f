# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# hdx-share.sh: sharing helpers for the Xen rig's scenarios, on top of
# hdx-lib.sh and the hdmabuf CLI (tools/hyper_dmabuf/cli).  Sourced by the
# scenarios that share buffers.
#
#   hdx_stat DOM KEY		one counter of DOM's debugfs stats
#   hdx_quiet DOM		wait (30 s) until DOM has no export, import,
#				shared or mapped page left
#   hdx_export_bg DOM JOB ARGS...
#				start "hdmabuf export ARGS" in DOM as job JOB
#				and print the buffer's id once it is exported
#   hdx_share FROM TO SIZE ro|rw SEED
#				share SIZE bytes from FROM to TO and check
#				the bytes on both sides (see below)
#   $HDX_SYSBUF, $HDX_FILL	hdmabuf's --alloc and rig-mem's fill mode for
#				system memory: heap and fill-heap, or vgem and
#				fill on a kernel without dma-buf heaps

# System-memory buffers come from the system dma-buf heap where the kernel
# has heaps, else from vgem (shmem pages): Debian's arm64 kernel has no
# heaps.  rig-mem fills memory from the same source.  Every domain of a
# rig runs the same kernel, so dom0's answer holds for all.
if [ -e /dev/dma_heap/system ]; then
	HDX_SYSBUF=heap HDX_FILL=fill-heap
else
	# shellcheck disable=SC2034 # for the scenarios
	HDX_SYSBUF=vgem HDX_FILL=fill
fi

hdx_stat() {
	on "$1" "sed -n 's/^$2: //p' /sys/kernel/debug/hyper_dmabuf/stats"
}

hdx_is_quiet() {
	[ "$(on "$1" cat /sys/kernel/debug/hyper_dmabuf/stats | tr '\n' ' ')" = \
	  "exports: 0 imports: 0 shared_pages: 0 mapped_pages: 0 " ]
}

hdx_quiet() {
	hdx_wait 30 hdx_is_quiet "$1" && return 0
	on "$1" cat /sys/kernel/debug/hyper_dmabuf/stats | tr '\n' ' ' >&2
	return 1
}

hdx_export_bg() {
	hs_dom=$1 hs_job=$2
	shift 2
	on "$hs_dom" rm -f "/tmp/id.$hs_job" >/dev/null
	on_bg "$hs_dom" "$hs_job" hdmabuf export "$@" --idfile "/tmp/id.$hs_job" ||
		return 1
	hdx_wait 60 on "$hs_dom" test -s "/tmp/id.$hs_job" >/dev/null || {
		on_out "$hs_dom" "$hs_job" >&2
		return 1
	}
	on "$hs_dom" cat "/tmp/id.$hs_job"
}

# hdx_share FROM TO SIZE ro|rw SEED
#   ro: TO imports read-only and checks every byte; a writable import is
#       refused with EACCES.
#   rw: TO checks every byte and writes pattern SEED+1000 over them; FROM
#       sees that pattern in its own buffer (the same pages).
# Then FROM's exporter exits (unexport) and both domains end with nothing
# shared or mapped.
hdx_share() {
	hs_from=$1 hs_to=$2 hs_size=$3 hs_mode=$4 hs_seed=$5
	hs_what="$hs_from -> $hs_to, $hs_size $hs_mode"
	hs_back=$((hs_seed + 1000))
	if [ "$hs_mode" = ro ]; then
		hs_id=$(hdx_export_bg "$hs_from" share "--to $(hdx_domid "$hs_to")" \
			--size "$hs_size" --ro --seed "$hs_seed")
	else
		hs_id=$(hdx_export_bg "$hs_from" share "--to $(hdx_domid "$hs_to")" \
			--size "$hs_size" --seed "$hs_seed" \
			--expect-seed "$hs_back" --timeout 120000)
	fi
	if [ -z "$hs_id" ]; then
		not_ok "$hs_what: exported"
		return 1
	fi
	if [ "$hs_mode" = ro ]; then
		check "$hs_what: importer reads every byte" \
			on "$hs_to" hdmabuf import "$hs_id" --wait 10000 \
			--verify "$hs_seed"
		check "$hs_what: writable import refused (EACCES)" \
			on "$hs_to" hdmabuf import "$hs_id" --rw --expect-errno EACCES
	else
		check "$hs_what: importer reads every byte, writes them all" \
			on "$hs_to" hdmabuf import "$hs_id" --wait 10000 --rw \
			--verify "$hs_seed" --write "$hs_back"
		if hdx_wait 120 on "$hs_from" \
		   "grep -q '^peer-wrote ok' /tmp/hdx/bg/share.out"; then
			ok "$hs_what: exporter sees every byte the importer wrote"
		else
			on_out "$hs_from" share | sed 's/^/# /' >&3
			not_ok "$hs_what: exporter sees every byte the importer wrote"
		fi
	fi
	on_kill "$hs_from" share >/dev/null
	check "$hs_what: exporter exits cleanly" on_wait "$hs_from" share 60
	check "$hs_what: $hs_from shares nothing any more" hdx_quiet "$hs_from"
	check "$hs_what: $hs_to maps nothing any more" hdx_quiet "$hs_to"
}
