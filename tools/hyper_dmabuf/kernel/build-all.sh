#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-all.sh: build (or find up to date) both debug kernels into
# $HDMABUF_KCACHE and report each as a TAP result.  A kernel is rebuilt
# only when its config fragments, patches, build script or the
# linux-source-6.1 package changed.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"

n=0 failed=0
echo "TAP version 13"
mkdir -p "$HDMABUF_KCACHE"
for v in kasan xen; do
	n=$((n + 1))
	start=$SECONDS
	log=$HDMABUF_BUILD/kernel-$v.log
	mkdir -p "$HDMABUF_BUILD"
	if "$(dirname "$0")/build.sh" "$v" "$HDMABUF_KCACHE" >"$log" 2>&1; then
		echo "ok $n debug kernel $v ($(grep -m1 'kernel release' "$log" | cut -d' ' -f3), $((SECONDS - start)) s)"
	else
		tail -n 30 "$log" | sed 's/^/# /'
		echo "not ok $n debug kernel $v"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
