#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peer-fuzz.sh acrn|acrn-virtio|xen [COUNT]: make fuzz's campaign of
# malformed peer messages over one real transport: the ACRN-model rig's
# 59-peer-fuzz over mailbox links (acrn) or virtio links (acrn-virtio), or
# the Xen rig's 62-peer-fuzz (xen), alone, sending COUNT messages (default
# 100000) each way.  CI runs the same scenarios with 10,000 as part of
# the full rigs.  The rig prints its own report and last line.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

rig=${1:-}
n=${2:-100000}
case "$n" in
'' | *[!0-9]*) hd_die "usage: peer-fuzz.sh acrn|acrn-virtio|xen [COUNT]" ;;
esac
tools=$HDMABUF_TOP/tools/hyper_dmabuf
# About 500 messages a second each way on the slowest link, and the rest
# of the rig's run.
limit=$((n / 250 + 900))

case "$rig" in
acrn | acrn-virtio)
	t=mailbox
	[ "$rig" = acrn-virtio ] && t=virtio
	HDA_PEER_FUZZ=$n exec "$tools/rig/acrn.sh" --transport "$t" \
		--timeout "$limit" --scenario-timeout "$((limit - 300))" \
		--scenario "$tools/rig/acrn/scenarios/59-peer-fuzz.sh" ;;
xen)
	# The Xen rig's scenarios run in dom0: the count goes in with the file.
	out=$HDMABUF_BUILD/peer-fuzz
	mkdir -p "$out"
	{
		echo "HDX_PEER_FUZZ=$n"
		cat "$tools/rig/xen/scenarios/62-peer-fuzz.sh"
	} >"$out/62-peer-fuzz.sh"
	HDMABUF_RIG_TIMEOUT=$limit exec "$tools/rig/xen.sh" \
		--scenario-timeout "$((limit - 300))" \
		--scenario "$out/62-peer-fuzz.sh" ;;
*)
	hd_die "usage: peer-fuzz.sh acrn|acrn-virtio|xen [COUNT]" ;;
esac
