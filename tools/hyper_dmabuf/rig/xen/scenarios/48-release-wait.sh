# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 48-release-wait.sh: an exporter that waits for the release of its buffer
# (hdmabuf export --wait-released, the WAIT_RELEASED ioctl) is told when
# the importing domain can reach none of its pages, and not before.
#   - domU1 exports to dom0, whose process maps the buffer; domU1 unexports
#     and waits: "released" comes only once dom0's process let go, and by
#     then domU1 has its pages back (its counters say so);
#   - the same, but dom0 unlinks domU1 while domU1 waits: each side counts
#     the other as gone, yet dom0 still maps the grants, so domU1 goes on
#     waiting until dom0 lets go; then the link comes back.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}
line() {	# line DOM JOB REGEX: JOB's output has a line matching REGEX
	on "$1" "grep -q '$3' /tmp/hdx/bg/$2.out"
}
# not_yet JOB DESC: domU1's JOB, which waits, has not been told released,
# and domU1 still shares the 2048 pages of its buffer.
not_yet() {
	if line domU1 "$1" '^released'; then
		not_ok "$2"
	else
		ok "$2"
	fi
	ry_shared=$(hdx_stat domU1 shared_pages)
	if [ "$ry_shared" = 2048 ]; then
		ok "... and domU1 still shares the 2048 pages"
	else
		not_ok "... and domU1 still shares the 2048 pages ($ry_shared)"
	fi
}
# released JOB: domU1's JOB is told released, and has its pages back.
released() {
	check "domU1 is told released once dom0 let go" \
		hdx_wait 60 line domU1 "$1" '^released$'
	ry_shared=$(hdx_stat domU1 shared_pages)
	if [ "$ry_shared" = 0 ]; then
		ok "... by then domU1 shares no page any more"
	else
		not_ok "... by then domU1 shares no page any more ($ry_shared)"
	fi
}

# --- the importer lets go --------------------------------------------------------
id=$(hdx_export_bg domU1 exp --to 0 --size 8m --seed 71 \
	--wait-released 120000)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0" ||
	not_ok "domU1 exports 8 MiB to dom0"
check "a process of dom0 maps it and holds it" on_bg dom0 imp \
	hdmabuf import "$id" --wait 10000 --verify 71 --hold-ms 600000
check "... mapped" hdx_wait 60 line dom0 imp '^holding'
check "domU1 unexports it and waits for the release" on_kill domU1 exp USR1
check "... unexported" hdx_wait 30 line domU1 exp '^unexported$'
sleep 3
not_yet exp "domU1 is not told released while dom0 maps the buffer"
on_kill dom0 imp >/dev/null
on_wait dom0 imp 30 >/dev/null
released exp
on_kill domU1 exp >/dev/null
check "domU1's exporter exits cleanly" on_wait domU1 exp 30
check "domU1 shares nothing" hdx_quiet domU1
check "dom0 maps nothing" hdx_quiet dom0

# --- the importer's link goes away while the exporter waits ---------------------
id=$(hdx_export_bg domU1 exp2 --to 0 --size 8m --seed 72 \
	--wait-released 300000)
[ -n "$id" ] && ok "domU1 exports 8 MiB to dom0 again" ||
	not_ok "domU1 exports 8 MiB to dom0 again"
check "a process of dom0 maps it and holds it" on_bg dom0 imp2 \
	hdmabuf import "$id" --wait 10000 --verify 72 --hold-ms 600000
check "... mapped" hdx_wait 60 line dom0 imp2 '^holding'
check "domU1 unexports it and waits for the release" on_kill domU1 exp2 USR1
check "... unexported" hdx_wait 30 line domU1 exp2 '^unexported$'
check "dom0 unlinks domU1 while domU1 waits" hdx_unlink dom0 domU1
check "domU1 sees dom0 go" hdx_wait 30 eval "! reaches domU1 0"
check "dom0 sees domU1 go" hdx_wait 30 eval "! reaches dom0 $d1"
sleep 3
not_yet exp2 "domU1 still waits: dom0 still maps the grants"
on_kill dom0 imp2 >/dev/null
on_wait dom0 imp2 30 >/dev/null
released exp2
on_kill domU1 exp2 >/dev/null
check "domU1's exporter exits cleanly" on_wait domU1 exp2 30
check "domU1 shares nothing" hdx_quiet domU1
check "dom0 maps nothing" hdx_quiet dom0
check "dom0 links domU1 again" hdx_link dom0 domU1
check "dom0 reaches domU1 again" hdx_wait 30 reaches dom0 "$d1"
check "domU1 reaches dom0 again" hdx_wait 30 reaches domU1 0
