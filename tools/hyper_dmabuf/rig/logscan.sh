#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# logscan.sh LOG...: print every line of the kernel logs that shows the
# kernel complained (warnings, oopses, sanitizer and lockdep reports, hung
# tasks, RCU stalls, Xen hypercalls that failed).  Exits 1 when there is
# one, 0 when the logs are clean.
set -uo pipefail

pat='BUG:|WARNING:|Oops|general protection fault|KASAN|UBSAN|'
pat+='possible circular locking|possible recursive locking|'
pat+='inconsistent lock state|lock held when returning|'
pat+='suspicious RCU usage|blocked for more than|Kernel panic|'
pat+='Call Trace:|kmemleak: [0-9]+ new suspected|'
# RCU stall reports: "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
# "rcu: INFO: rcu_sched self-detected stall on CPU".
pat+='rcu: INFO: .*stall|'
# Xen's release builds refuse a bad page-table or grant operation without
# a word of their own; a PV guest's log then shows only what
# arch/x86/xen/multicalls.c prints: the WARN in xen_mc_flush(),
# "N of M multicall(s) failed: cpu C" and one line per failed call,
# "  call  1: op=26 arg=[...] result=-16"; or, from arch/x86/xen/p2m.c,
# "gnttab unmap failed: rc=..." and, from drivers/xen/grant-table.c,
# "... eagain grant" (a grant that stayed busy).
pat+='xen_mc_flush|multicall\(s\) failed|call +[0-9]+: op=[0-9]+ arg=.*result=-|'
pat+='gnttab unmap failed|eagain grant'

# Not a complaint: Xen's boot banner when the arm64 rig chooses XSM's dummy
# policy over the SILO default on purpose (rig/xen.sh, so that domUs may
# share with each other).
ok='^\(XEN\) WARNING: SILO mode is not enabled\.$'
hits=$(cat "$@" 2>/dev/null | tr -d '\r' | grep -Ev "$ok" |
	grep -E -m 20 "$pat")
[ -z "$hits" ] && exit 0
echo "$hits"
exit 1
