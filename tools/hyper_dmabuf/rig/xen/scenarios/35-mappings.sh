# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 35-mappings.sh: what a process may do to its mapping of an import.  On
# PV the importer maps the grants straight into the process's page tables
# (ptemap.c); on an auto-translated domain (arm64) the core maps the
# grant-mapped pages with PFN entries (import.c), which a forked child
# inherits like any shared mapping of a dma-buf: its VMA holds the
# dma-buf's file, so the import and its grant maps live until the child
# unmaps, and the child reads the same buffer.  "hdmabuf abuse" tries, each on a fresh mapping:
# MADV_DOFORK then fork, a plain fork, mremap to a new place and to a
# larger size, MADV_DONTNEED, and handing the pages to the kernel
# (vmsplice, O_DIRECT from /dev/ram0, io_uring fixed buffers).  Each must
# be refused or leave the mapping whole: a child never sees it (on PV),
# nothing pins the foreign pages, and no domain may complain in its kernel log
# (Xen's release build refuses a bad page table silently, so that log is
# the only trace: a xen_mc_flush warning, a failed multicall).
# domU1 -> dom0 (dom0 runs it) and dom0 -> domU1, read-write, then
# dom0 -> domU1 read-only.
. /rig/hdx-share.sh

# What the kernel log says when something went wrong underneath.
complaint='WARNING:|BUG:|Oops|general protection|xen_mc_flush|multicall\(s\) failed|detected stall|self-detected stall|soft lockup|blocked for more than|Object already free|list_del corruption'

# expect WHAT NAME ERE: the abuse line of attempt NAME matches ^ERE$
expect() {
	_l=$(printf '%s\n' "$out" | grep "^abuse $2 ")
	if printf '%s\n' "$_l" | grep -qE "^$3\$"; then
		ok "$1: ${_l#abuse }"
	elif printf '%s\n' "$_l" | grep -q "^abuse $2 skipped"; then
		_why=${_l#*skipped: }
		skip "$1: $2" "$_why"
	else
		diag "want: $3"
		diag "got: ${_l:-nothing}"
		not_ok "$1: $2"
	fi
}

# abuse FROM TO SEED rw|ro
abuse() {
	what="$1 -> $2, $4"
	if [ "$4" = ro ]; then
		id=$(hdx_export_bg "$1" abuse --to "$(hdx_domid "$2")" \
			--size 64k --ro --seed "$3")
		args=
	else
		id=$(hdx_export_bg "$1" abuse --to "$(hdx_domid "$2")" \
			--size 64k --seed "$3")
		args=--rw
	fi
	if [ -z "$id" ]; then
		not_ok "$what: exported"
		return 1
	fi
	before=$(on "$2" 'dmesg | wc -l')
	out=$(on "$2" hdmabuf abuse "$id" $args --wait 10000)
	rc=$?
	if [ $rc = 0 ]; then
		ok "$what: every attempt ran"
	else
		diag "$out"
		not_ok "$what: every attempt ran (status $rc)"
	fi
	child='child SIG(SEGV|BUS); parent intact'
	hdx_xlat "$2" && child='child read the buffer; parent intact'
	expect "$what" dofork "abuse dofork (refused EINVAL|allowed): $child"
	expect "$what" fork "abuse fork allowed: $child"
	expect "$what" mremap-move \
		'abuse mremap-move (refused E[A-Z]+: old|allowed: moved) mapping intact'
	expect "$what" mremap-grow 'abuse mremap-grow refused E[A-Z]+: mapping intact'
	expect "$what" dontneed \
		'abuse dontneed (refused E[A-Z]+: mapping|allowed: data) intact'
	expect "$what" vmsplice 'abuse vmsplice refused EFAULT'
	expect "$what" odirect 'abuse odirect refused EFAULT'
	expect "$what" iouring 'abuse iouring refused EFAULT'
	# Matched here: a domU's agent echoes its commands on its console.
	log=$(on "$2" "dmesg | tail -n +$((before + 1))" |
		grep -E "$complaint")
	if [ -z "$log" ]; then
		ok "$what: $2's kernel log has no complaint"
	else
		diag "$log"
		not_ok "$what: $2's kernel log has no complaint"
	fi
	check "$what: a new import still reads every byte" \
		on "$2" hdmabuf import "$id" --verify "$3"
	on_kill "$1" abuse >/dev/null
	check "$what: exporter exits cleanly" on_wait "$1" abuse 60
	check "$what: $1 shares nothing any more" hdx_quiet "$1"
	check "$what: $2 maps nothing any more" hdx_quiet "$2"
}

abuse domU1 dom0 41 rw
abuse dom0 domU1 42 rw
abuse dom0 domU1 43 ro
