# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 30-access.sh: only the named domain may import; a domain that is not
# linked reaches nothing, and ids cannot be guessed.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)

id=$(hdx_export_bg domU1 exp --to 0 --size 64k --seed 3)
[ -n "$id" ] && ok "domU1 exports to dom0" || not_ok "domU1 exports to dom0"
check "domU2 cannot import a buffer exported to dom0 (ENOENT)" \
	on domU2 hdmabuf import "$id" --expect-errno ENOENT
check "domU2 cannot query it either" on domU2 "! hdmabuf query '$id'"
check "dom0 can" on dom0 hdmabuf import "$id" --wait 10000 --verify 3
check "domU2 guesses 500 ids of domU1: all fail with ENOENT" \
	on domU2 hdmabuf guess "$d1" --tries 500
check "dom0 guesses 500 ids of domU1: all fail with ENOENT" \
	on dom0 hdmabuf guess "$d1" --tries 500
on_kill domU1 exp >/dev/null
on_wait domU1 exp 30 >/dev/null

# Unlink domU1 and domU2: neither reaches the other any more.
reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}
check "unlink domU1 and domU2" hdmabuf-xen-link -u "$d1" "$d2"
check "domU1 no longer reaches domU2" hdx_wait 20 eval "! reaches domU1 $d2"
check "domU2 no longer reaches domU1" hdx_wait 20 eval "! reaches domU2 $d1"
out=$(on domU1 hdmabuf export --to "$d2" --size 4k --exit-after-export 2>&1)
case "$out" in
*EHOSTUNREACH*) ok "exporting to an unlinked domain fails (EHOSTUNREACH)" ;;
*) diag "$out"; not_ok "exporting to an unlinked domain fails (EHOSTUNREACH)" ;;
esac
check "domU1 still reaches dom0" reaches domU1 0
check "link them again" hdmabuf-xen-link "$d1" "$d2"
check "domU1 reaches domU2 again" hdx_wait 30 reaches domU1 "$d2"
check "domU2 reaches domU1 again" hdx_wait 30 reaches domU2 "$d1"
hdx_share domU2 domU1 64k rw 31
