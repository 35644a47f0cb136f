# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 00-smoke.sh: the Xen rig's first scenario.
#  - every domain has vgem, hyper_dmabuf and (when built) hyper_dmabuf_xen
#    loaded, and /dev/hyper_dmabuf;
#  - the rig's remote execution works: exit status and output come back,
#    a background job runs, dies by signal and reports it;
#  - once linked, each domain's hyper_dmabuf has its domid as vmid and
#    reaches exactly its two peers (HYPER_DMABUF_IOCTL_INFO, through
#    rig-xen-peers), and "hdmabuf info" says the same where the CLI is
#    built.  Skipped without hyper_dmabuf_xen.ko.

doms="dom0 $HDX_DOMUS"

# One round trip per domain: the module list and the device node.
for d in $doms; do
	if ! state=$(on $d "cut -d' ' -f1 /proc/modules;
			   test -c /dev/hyper_dmabuf && echo chardev"); then
		diag "$state"
		not_ok "$d: module and device state"
		continue
	fi
	for m in vgem hyper_dmabuf hyper_dmabuf_xen; do
		if [ $m = hyper_dmabuf_xen ] && [ -z "$HDX_XEN" ]; then
			skip "$d: $m loaded" "hyper_dmabuf_xen.ko not built"
		elif echo "$state" | grep -qx $m; then
			ok "$d: $m loaded"
		else
			not_ok "$d: $m loaded"
		fi
	done
	if echo "$state" | grep -qx chardev; then
		ok "$d: /dev/hyper_dmabuf is a character device"
	else
		not_ok "$d: /dev/hyper_dmabuf is a character device"
	fi
done

# The rig itself.
out=$(on domU1 'echo "a  b"; echo err >&2; exit 3')
rc=$?
if [ $rc = 3 ] && [ "$out" = "a  b
err" ]; then
	ok "rig: on returns status and output"
else
	diag "status $rc, output: $out"
	not_ok "rig: on returns status and output"
fi
check "rig: on_bg starts a job" on_bg domU2 sleeper 'echo "it'"'"'s up"; sleep 600'
check "rig: the job runs" on domU2 hdx-bg running sleeper
check "rig: on_kill signals it" on_kill domU2 sleeper TERM
out=$(on_wait domU2 sleeper 10)
rc=$?
if [ $rc = 143 ] && [ "$out" = "it's up" ]; then
	ok "rig: on_wait returns its status and output"
else
	diag "status $rc, output: $out"
	not_ok "rig: on_wait returns its status and output"
fi

# Peers.  The drivers connect by themselves after the link: allow 30 s.
for d in $doms; do
	others=
	for o in $doms; do
		[ $o = $d ] || others="$others $(hdx_domid $o)"
	done
	if [ -z "$HDX_XEN" ]; then
		skip "$d: reaches its two peers" "hyper_dmabuf_xen.ko not built"
		continue
	fi
	# shellcheck disable=SC2086
	if hdx_wait 30 hdx_expect_peers $d $others; then
		ok "$d: reaches its two peers ($hdx_seen)"
	else
		diag "$d: want vmid=$(hdx_domid $d) peers$others; got: $hdx_seen"
		not_ok "$d: reaches its two peers"
		continue
	fi
	# The CLI, where built, must agree: "vmid N", then "peer VMID ...".
	on $d 'command -v hdmabuf' >/dev/null || continue
	if info=$(on $d hdmabuf info) &&
	   echo "$info" | grep -qx "vmid $(hdx_domid $d)" &&
	   [ "$(echo "$info" | awk '$1 == "peer" { print $2 }' | sort -n |
		tr '\n' ' ')" = "$(echo $others | tr ' ' '\n' | sort -n |
		tr '\n' ' ')" ]; then
		ok "$d: hdmabuf info agrees"
	else
		diag "$info"
		not_ok "$d: hdmabuf info agrees"
	fi
done
