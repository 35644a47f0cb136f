# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 10-share.sh: buffers from 1 page to 64 MiB, read-only and read-write,
# domU -> dom0, dom0 -> domU and domU -> domU (dom0 takes no part in the
# last), with every byte checked on both sides.
. /rig/hdx-share.sh

seed=1
for dir in "domU1 dom0" "dom0 domU1" "domU1 domU2"; do
	# shellcheck disable=SC2086
	set -- $dir
	for case in "4k ro" "4k rw" "1m rw" "64m ro" "64m rw"; do
		# shellcheck disable=SC2086
		hdx_share "$1" "$2" $case $seed
		seed=$((seed + 1))
	done
done
