# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 00-smoke.sh: the ACRN-model rig's first scenario.
#  - every VM has vgem, hyper_dmabuf and (when built) hyper_dmabuf_acrn
#    loaded, with virtio links hyper_dmabuf_virtio_ivshmem too, and
#    /dev/hyper_dmabuf;
#  - the rig's remote execution works: exit status and output come back,
#    a background job runs, dies by signal and reports it;
#  - "hdmabuf info": the SOS is vmid 0 and reaches UOSes 1 and 2, UOS n is
#    vmid n and reaches the SOS alone, all through backend "acrn".  The
#    links come up by themselves: allow 60 s.
#  - each link's line in the driver's links file names this run's
#    transport (HDA_TRANSPORT), up; with virtio, each UOS's link device is
#    the transport's, whose virtio device hyper_dmabuf_acrn drives, and the
#    transport binds nothing in the SOS.
. "$HDA_LIB/hda-share.sh"

for v in $HDA_VMS; do
	if ! state=$(on $v "cut -d' ' -f1 /proc/modules;
			   test -c /dev/hyper_dmabuf && echo chardev"); then
		diag "$state"
		not_ok "$v: module and device state"
		continue
	fi
	mods="vgem hyper_dmabuf hyper_dmabuf_acrn"
	[ "$HDA_TRANSPORT" = virtio ] && mods="$mods hyper_dmabuf_virtio_ivshmem"
	for m in $mods; do
		if echo "$state" | grep -qx $m; then
			ok "$v: $m loaded"
		elif [ $m = hyper_dmabuf_acrn ] && [ -z "$HDA_ACRN" ]; then
			not_ok "$v: $m loaded (hyper_dmabuf_acrn.ko not built)"
		else
			not_ok "$v: $m loaded"
		fi
	done
	if echo "$state" | grep -qx chardev; then
		ok "$v: /dev/hyper_dmabuf is a character device"
	else
		not_ok "$v: /dev/hyper_dmabuf is a character device"
	fi
done

# The rig itself.
out=$(on uos1 'echo "a  b"; echo err >&2; exit 3')
rc=$?
if [ $rc = 3 ] && [ "$out" = "a  b
err" ]; then
	ok "rig: on returns status and output"
else
	diag "status $rc, output: $out"
	not_ok "rig: on returns status and output"
fi
out=$(on sos "printf '%s\n' 'it'\\''s' \"\$(seq 3 | tr '\\n' ,)\"")
if [ "$out" = "it's
1,2,3," ]; then
	ok "rig: quotes and newlines reach the VM intact"
else
	diag "output: $out"
	not_ok "rig: quotes and newlines reach the VM intact"
fi
check "rig: on_bg starts a job" on_bg uos2 sleeper 'echo "it'"'"'s up"; sleep 600'
check "rig: the job runs" on uos2 hdx-bg running sleeper
check "rig: on_wait_line sees its output" on_wait_line uos2 sleeper "^it's up\$" 10
check "rig: on_kill signals it" on_kill uos2 sleeper TERM
out=$(on_wait uos2 sleeper 10)
rc=$?
if [ $rc = 143 ] && [ "$out" = "it's up" ]; then
	ok "rig: on_wait returns its status and output"
else
	diag "status $rc, output: $out"
	not_ok "rig: on_wait returns its status and output"
fi

# Peers.
for v in $HDA_VMS; do
	if hda_wait "${HDA_ACRN:+60}" hda_info_ok $v; then
		ok "$v: hdmabuf info: vmid $(hda_vmid $v), its peers, backend acrn"
	else
		# shellcheck disable=SC2154 # set by hda_info_ok
		diag "$hda_info"
		not_ok "$v: hdmabuf info: vmid $(hda_vmid $v), its peers, backend acrn"
	fi
done

[ -n "$HDA_ACRN" ] || return 0

# The transport.
# link_ok VM VMID: VM's links file has VMID's link, this transport's, up
link_ok() {
	local tr st
	read -r tr st _ < <(hda_link "$1" "$2") &&
		[ "$tr $st" = "$HDA_TRANSPORT up" ]
}
for v in $HDA_VMS; do
	if [ $v = sos ]; then
		ids="1 2"
	else
		ids=0
	fi
	for id in $ids; do
		if hda_wait 30 link_ok $v $id; then
			ok "$v: links: vm $id $HDA_TRANSPORT up"
		else
			diag "$(on $v cat "$HDA_LINKS")"
			not_ok "$v: links: vm $id $HDA_TRANSPORT up"
		fi
	done
done
[ "$HDA_TRANSPORT" = virtio ] || return 0
check "sos: hyper_dmabuf_virtio_ivshmem binds nothing" \
	on sos "test -d $HDA_VDRV && ! ls $HDA_VDRV | grep -q '^0000:'"
for v in $HDA_UOSES; do
	check "$v: its link device is hyper_dmabuf_virtio_ivshmem's, not hyper_dmabuf_acrn's" \
		on $v "ls $HDA_VDRV | grep -q '^0000:' &&
			! ls $HDA_DRV | grep -q '^0000:'"
	# Its driver's module, or its name when it has no module link.
	# shellcheck disable=SC2016 # for the VM's shell
	check "$v: hyper_dmabuf_acrn drives a virtio device" on $v \
		'for d in /sys/bus/virtio/devices/*; do
			drv=$(readlink -f $d/driver) || continue
			m=$(readlink -f $drv/module)
			[ "${m##*/}" = hyper_dmabuf_acrn ] ||
				[ "${drv##*/}" = hyper_dmabuf_acrn ] && exit 0
		done
		exit 1'
done
