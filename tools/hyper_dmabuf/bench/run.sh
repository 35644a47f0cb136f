#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [acrn] [acrn-virtio] [xen]: make bench.  Boots the ACRN-model
# rig with mailbox links (acrn), the ACRN-model rig with virtio links
# (acrn-virtio, acrn.sh --transport virtio) and the Xen rig (xen), by
# default all three in that order, with the bench scenarios next to this
# file, which run hdmabuf-bench inside the VMs, then writes the report
# (report.sh) to build/bench/: table.txt, targets.txt, latency-ratios.txt,
# results.json and latency.png.  Each rig's results are its own (RIG in
# the report), their ratios taken against that run's own raw floors;
# the raw files stay in the rigs' output directories:
# build/xen/rig-acrn-acrn-bench/, rig-acrn-virtio-acrn-bench/ and
# rig-xen-xen-bench/files/.
#
# Benchmarks never fail on timing: the exit status says only whether every
# step ran.  HDMABUF_BENCH_REPS and HDMABUF_BENCH_SCALE tune the ACRN
# scenario (see acrn-bench.sh); HDMABUF_BENCH_SERIES=latency (make
# bench-latency) runs only the event and frame series, with their raw
# round trips, in each.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

here=$(cd "$(dirname "$0")" && pwd)
rigs=("$@")
[ ${#rigs[@]} -gt 0 ] || rigs=(acrn acrn-virtio xen)
mkdir -p "$HDMABUF_BUILD"
hd_log "bench: xen debug kernel (built once, then cached in $HDMABUF_KCACHE)"
"$here/../kernel/build.sh" xen "$HDMABUF_KCACHE" >"$HDMABUF_BUILD/kernel-xen.log" 2>&1 || {
	tail -n 20 "$HDMABUF_BUILD/kernel-xen.log" >&2
	hd_die "building the xen debug kernel failed"
}

# The scenarios see the series chosen in their first line (dom0 sees no
# host environment).
series=${HDMABUF_BENCH_SERIES:-all}
case "$series" in
all|latency) ;;
*)	hd_die "HDMABUF_BENCH_SERIES: all or latency, not $series" ;;
esac
sdir=$HDMABUF_BUILD/bench/scenarios
mkdir -p "$sdir"
for r in acrn xen; do
	{ echo "series=$series"; cat "$here/$r-bench.sh"; } >"$sdir/$r-bench.sh"
done

files=() rc=0
for r in "${rigs[@]}"; do
	log=$HDMABUF_BUILD/bench-$r.log
	hd_log "bench: $r rig (log: $log)"
	case "$r" in
	acrn|acrn-virtio)
		t=${r#acrn}
		t=${t#-}
		HDMABUF_RIG_TIMEOUT=3600 "$here/../rig/acrn.sh" \
			--transport "${t:-mailbox}" \
			--scenario "$sdir/acrn-bench.sh" \
			--scenario-timeout 3300 >"$log" 2>&1 || rc=1
		f=$HDMABUF_BUILD/xen/rig-$r-acrn-bench/bench.txt ;;
	xen)
		HDMABUF_RIG_TIMEOUT=3600 "$here/../rig/xen.sh" \
			--scenario "$sdir/xen-bench.sh" \
			--scenario-timeout 3300 >"$log" 2>&1 || rc=1
		f=$HDMABUF_BUILD/xen/rig-xen-xen-bench/files/bench.txt ;;
	*)	hd_die "unknown rig $r (acrn, acrn-virtio, xen)" ;;
	esac
	tail -n 1 "$log"
	if [ -s "$f" ]; then
		files+=("$f")
	else
		echo "bench: $r produced no results; see $log" >&2
		rc=1
	fi
done
[ ${#files[@]} -gt 0 ] || exit 1
"$here/report.sh" "$HDMABUF_BUILD/bench" "${files[@]}"
exit $rc
