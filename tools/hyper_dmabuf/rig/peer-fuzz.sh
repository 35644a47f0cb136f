#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peer-fuzz.sh [COUNT]: make fuzz's campaign of malformed peer messages
# over the real transports: the ACRN-model rig's 59-peer-fuzz over mailbox
# links, then over virtio links, then the Xen rig's 62-peer-fuzz, each
# sending COUNT messages (default 100000) each way.  CI runs the same
# scenarios with 10,000 as part of the full rigs.  Each rig prints its own
# report; the exit status is 0 only when all three passed.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

n=${1:-100000}
case "$n" in
'' | *[!0-9]*) hd_die "usage: peer-fuzz.sh [COUNT]" ;;
esac
tools=$HDMABUF_TOP/tools/hyper_dmabuf
out=$HDMABUF_BUILD/peer-fuzz
mkdir -p "$out"
# The Xen rig's scenarios run in dom0: the count goes in with the file.
{
	echo "HDX_PEER_FUZZ=$n"
	cat "$tools/rig/xen/scenarios/62-peer-fuzz.sh"
} >"$out/62-peer-fuzz.sh"

rc=0
for t in mailbox virtio; do
	HDA_PEER_FUZZ=$n "$tools/rig/acrn.sh" --transport "$t" \
		--timeout 3600 --scenario-timeout 3000 \
		--scenario "$tools/rig/acrn/scenarios/59-peer-fuzz.sh" || rc=1
done
HDMABUF_RIG_TIMEOUT=3600 "$tools/rig/xen.sh" --scenario-timeout 3000 \
	--scenario "$out/62-peer-fuzz.sh" || rc=1
exit $rc
