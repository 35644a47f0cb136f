# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 47-held.sh: an exporter never reuses a page the importer still maps.
# dom0 maps a buffer of domU1's read-write; dom0 unlinks domU1, so each
# side counts the other as gone and domU1 releases the export, and its
# exporter exits, putting its dma-buf.  The grants are still mapped in
# dom0, so domU1 must keep the pages (its counters say so) until dom0
# lets go.  Meanwhile domU1 fills a new heap buffer (anonymous memory for a
# vgem buffer, without heaps), which would take those pages first, were
# they free, with a pattern, and dom0's process
# writes over its whole mapping: none of those writes may reach domU1's
# memory.  Once dom0 unmaps, domU1 reclaims the
# pages, and the link comes back.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}
line() {	# line DOM JOB REGEX: JOB's output has a line matching REGEX
	on "$1" "grep -q '$3' /tmp/hdx/bg/$2.out"
}

id=$(hdx_export_bg domU1 exp --to 0 --alloc "$HDX_SYSBUF" --size 8m --seed 47)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0" ||
	not_ok "domU1 exports 8 MiB to dom0"
check "a process of dom0 maps it read-write" \
	on_bg dom0 scr rig-mem scribble "$id"
check "... mapped" hdx_wait 30 line dom0 scr '^mapped 8388608'
check "dom0 unlinks domU1" hdx_unlink dom0 domU1
check "domU1 sees dom0 go" hdx_wait 30 eval "! reaches domU1 0"
check "dom0 sees domU1 go" hdx_wait 30 eval "! reaches dom0 $d1"
on_kill domU1 exp >/dev/null
check "domU1's exporter exits, putting its dma-buf" on_wait domU1 exp 30
shared=$(hdx_stat domU1 shared_pages)
if [ "$shared" = 2048 ]; then
	ok "domU1 keeps the 2048 pages dom0 still maps"
else
	not_ok "domU1 keeps the 2048 pages dom0 still maps ($shared)"
fi

# A heap buffer of about all free memory: it takes the large blocks the
# exporter's gave back, were they free.
mib=$(on domU1 "awk '/^MemFree:/ { print int(\$2 / 1024) - 24 }' /proc/meminfo")
check "domU1 fills $mib MiB ($HDX_FILL), about all of its free memory" \
	on_bg domU1 fill rig-mem "$HDX_FILL" "$mib" 48
check "... filled" hdx_wait 180 line domU1 fill '^filled'
check "dom0's process writes over all of its mapping" on_kill dom0 scr USR1
check "... written" hdx_wait 30 line dom0 scr '^scribbled'
on_kill domU1 fill USR1 >/dev/null
out=$(on_wait domU1 fill 180)
rc=$?
case "$rc $out" in
"0 "*"intact $mib"*)
	ok "none of dom0's writes reached domU1's memory" ;;
*)
	diag "status $rc: $out"
	not_ok "none of dom0's writes reached domU1's memory" ;;
esac

on_kill dom0 scr >/dev/null
check "dom0's process lets go" on_wait dom0 scr 30
check "domU1 reclaims the pages (counters back to zero)" hdx_quiet domU1
check "dom0 maps nothing" hdx_quiet dom0
check "dom0 links domU1 again" hdx_link dom0 domU1
check "dom0 reaches domU1 again" hdx_wait 30 reaches dom0 "$d1"
check "domU1 reaches dom0 again" hdx_wait 30 reaches domU1 0
hdx_share domU1 dom0 64k rw 49
