# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# hda-share.sh: sharing helpers for the ACRN-model rig's scenarios, on top
# of hda-lib.sh and the hdmabuf CLI (tools/hyper_dmabuf/cli).  Sourced by
# the scenarios that share buffers.
#
#   hda_stat VM KEY		one counter of VM's debugfs stats
#   hda_quiet VM		wait (30 s) until VM has no export, import,
#				shared or mapped page left
#   hda_export_bg VM JOB ARGS...
#				start "hdmabuf export ARGS" in VM as job JOB
#				and print the buffer's id once it is exported
#   hda_share FROM TO SIZE ro|rw SEED
#				share SIZE bytes from FROM to TO and check
#				the bytes on both sides (see below)
#   hda_reaches VM VMID		VM's "hdmabuf info" lists peer VMID
#   hda_info_ok VM		VM's "hdmabuf info" says its own vmid and
#				lists exactly the peers the ACRN model gives
#				it (sos: 1 and 2; a UOS: 0), backend "acrn"
#   hda_sos_dev N		the PCI address of the SOS's device of uosN's
#				link (its doorbell id is 0x100 + N)
#   hda_rebind VM DEV		unbind VM's link device DEV from its driver
#				and bind it again (a UOS: a new session; the
#				SOS: a new epoch); DEV defaults to a UOS's
#				only link device
#   HDA_DRV			the driver's directory in the VMs' sysfs
#   HDA_VDRV			the virtio transport's (its PCI driver)
#   hda_link_drv VM		the directory of the driver that binds VM's
#				link devices: HDA_DRV, but on a UOS with
#				virtio links HDA_VDRV
#   hda_churn VM		start job "churn" in UOS VM: export 64 KiB
#				buffers to the SOS over and over, two at a
#				time, each with its own pattern K, named in
#				its metadata ("seed=K"), each unexported
#				0.3 s later; stop it with hda_churn_stop VM
#   hda_idcheck VMID		start job "idcheck" in the SOS: import every
#				id of VMID that it lists, again and again, and
#				check the pattern its metadata names; stop it
#				with hda_idcheck_stop, which prints "imports
#				ok N enoent N bad N" and a line per bad one

HDA_STATS=/sys/kernel/debug/hyper_dmabuf/stats

hda_stat() {
	on "$1" "sed -n 's/^$2: //p' $HDA_STATS"
}

hda_is_quiet() {
	[ "$(on "$1" cat $HDA_STATS | tr '\n' ' ')" = \
	  "exports: 0 imports: 0 shared_pages: 0 mapped_pages: 0 " ]
}

hda_quiet() {
	hda_wait 30 hda_is_quiet "$1" && return 0
	on "$1" cat $HDA_STATS | tr '\n' ' ' >&2
	return 1
}

hda_export_bg() {
	local vm=$1 job=$2
	shift 2
	on "$vm" rm -f "/tmp/id.$job" >/dev/null
	on_bg "$vm" "$job" hdmabuf export "$@" --idfile "/tmp/id.$job" ||
		return 1
	HDA_ON_TIMEOUT=90 on "$vm" "i=0; while [ ! -s /tmp/id.$job ]; do
		[ \$i -lt 600 ] || exit 1; usleep 100000; i=\$((i + 1)); done" \
		>/dev/null || {
		on_out "$vm" "$job" >&2
		return 1
	}
	on "$vm" cat "/tmp/id.$job"
}

hda_reaches() {
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}

hda_info_ok() {
	local vm=$1 want info
	case "$vm" in
	sos)	want="1 acrn,2 acrn," ;;
	*)	want="0 acrn," ;;
	esac
	info=$(on "$vm" hdmabuf info) || { echo "$info"; return 1; }
	# shellcheck disable=SC2034 # for the scenarios
	hda_info=$info
	echo "$info" | grep -qx "vmid $(hda_vmid "$vm")" &&
		[ "$(echo "$info" | awk '$1 == "peer" { print $2, $3 }' |
		     sort -n | tr '\n' ,)" = "$want" ]
}

# hda_share FROM TO SIZE ro|rw SEED [JOB]
#   ro: TO imports read-only and checks every byte; a writable import is
#       refused with EACCES.
#   rw: TO checks every byte and writes pattern SEED+1000 over them; FROM
#       sees that pattern in its own buffer (the same pages).
# Then FROM's exporter exits (unexport) and both VMs end with nothing
# shared or mapped.
hda_share() {
	local from=$1 to=$2 size=$3 mode=$4 seed=$5 job=${6:-share}
	local what="$from -> $to, $size $mode" back=$((seed + 1000)) id
	if [ "$mode" = ro ]; then
		id=$(hda_export_bg "$from" "$job" --to "$(hda_vmid "$to")" \
			--size "$size" --ro --seed "$seed")
	else
		id=$(hda_export_bg "$from" "$job" --to "$(hda_vmid "$to")" \
			--size "$size" --seed "$seed" \
			--expect-seed "$back" --timeout 120000)
	fi
	if [ -z "$id" ]; then
		not_ok "$what: exported"
		on_kill "$from" "$job" KILL >/dev/null 2>&1
		return 1
	fi
	if [ "$mode" = ro ]; then
		check "$what: importer reads every byte" \
			on "$to" hdmabuf import "$id" --wait 10000 \
			--verify "$seed"
		check "$what: writable import refused (EACCES)" \
			on "$to" hdmabuf import "$id" --rw --expect-errno EACCES
	else
		check "$what: importer reads every byte, writes them all" \
			on "$to" hdmabuf import "$id" --wait 10000 --rw \
			--verify "$seed" --write "$back"
		if on_wait_line "$from" "$job" '^peer-wrote ok' 120 >/dev/null; then
			ok "$what: exporter sees every byte the importer wrote"
		else
			on_out "$from" "$job" | sed 's/^/# /' >&3
			not_ok "$what: exporter sees every byte the importer wrote"
		fi
	fi
	on_kill "$from" "$job" >/dev/null
	check "$what: exporter exits cleanly" on_wait "$from" "$job" 60
	check "$what: $from shares nothing any more" hda_quiet "$from"
	check "$what: $to maps nothing any more" hda_quiet "$to"
}

HDA_DRV=/sys/bus/pci/drivers/hyper_dmabuf_acrn
# Its PCI driver is named after its module, as hyper_dmabuf_acrn's is.
HDA_VDRV=/sys/bus/pci/drivers/hyper_dmabuf_virtio_ivshmem

# With virtio links a UOS's ivshmem device belongs to the transport,
# whose virtio device hyper_dmabuf_acrn drives: unbinding that PCI device
# takes the virtio device away, and hyper_dmabuf_acrn with it.  The SOS's
# are hyper_dmabuf_acrn's in both transports.
hda_link_drv() {
	if [ "$HDA_TRANSPORT" = virtio ] && [ "$1" != sos ]; then
		echo "$HDA_VDRV"
	else
		echo "$HDA_DRV"
	fi
}

hda_sos_dev() {
	on sos "for d in $HDA_DRV/0000:*; do
		[ \"\$(hda-pcimem \${d##*/} 0 8)\" = 0x0000010$1 ] &&
			echo \${d##*/}
	done"
}

hda_rebind() {
	local drv
	drv=$(hda_link_drv "$1")
	on "$1" "d=${2:-\$(basename \"\$(readlink -f $drv/0000:*)\")} &&
		echo \$d >$drv/unbind && echo \$d >$drv/bind"
}

hda_churn() {
	on_bg "$1" churn hd-churn export 0 /tmp/churn.stop
}

hda_churn_stop() {
	on "$1" touch /tmp/churn.stop >/dev/null
	on_wait "$1" churn 30
}

hda_idcheck() {
	on_bg sos idcheck hd-churn idcheck "$1" /tmp/idcheck.stop
}

hda_idcheck_stop() {
	on sos touch /tmp/idcheck.stop >/dev/null
	on_wait sos idcheck 60
}
