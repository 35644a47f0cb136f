# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 50-reload.sh: unload and reload the Xen backend in one domain while the
# others hold channels to it: they see it go and come back by themselves.
# A domain whose buffers are still shared cannot unload it.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)
reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}

# A frontend end (domU2 is the frontend of both its links).
id=$(hdx_export_bg domU2 exp --to 0 --size 64k --seed 9)
[ -n "$id" ] && ok "domU2 exports to dom0" || not_ok "domU2 exports to dom0"
check "domU2 cannot unload the backend while it shares a buffer" \
	on domU2 "! rmmod hyper_dmabuf_xen"
on_kill domU2 exp >/dev/null
on_wait domU2 exp 30 >/dev/null
check "domU2 shares nothing" hdx_quiet domU2
check "domU2 unloads hyper_dmabuf_xen" on domU2 rmmod hyper_dmabuf_xen
check "dom0 sees domU2 go" hdx_wait 20 eval "! reaches dom0 $d2"
check "domU1 sees domU2 go" hdx_wait 20 eval "! reaches domU1 $d2"
check "dom0 still reaches domU1" reaches dom0 "$d1"
check "domU2 loads it again" on domU2 insmod /modules/hyper_dmabuf_xen.ko
check "dom0 sees domU2 back" hdx_wait 30 reaches dom0 "$d2"
check "domU1 sees domU2 back" hdx_wait 30 reaches domU1 "$d2"
check "domU2 reaches both" eval "hdx_wait 30 reaches domU2 0 &&
				  hdx_wait 30 reaches domU2 $d1"
hdx_share dom0 domU2 64k rw 51
hdx_share domU1 domU2 64k rw 52

# A backend end: dom0 is the backend of both its links.
check "dom0 unloads hyper_dmabuf_xen" rmmod hyper_dmabuf_xen
check "domU1 sees dom0 go" hdx_wait 20 eval "! reaches domU1 0"
check "domU2 sees dom0 go" hdx_wait 20 eval "! reaches domU2 0"
check "domU1 and domU2 still reach each other" reaches domU1 "$d2"
check "dom0 loads it again" insmod /modules/hyper_dmabuf_xen.ko
check "domU1 sees dom0 back" hdx_wait 30 reaches domU1 0
check "domU2 sees dom0 back" hdx_wait 30 reaches domU2 0
hdx_share domU1 dom0 64k rw 53
