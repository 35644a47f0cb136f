#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# logscan.sh LOG...: print every line of the kernel logs that shows the
# kernel complained (warnings, oopses, sanitizer and lockdep reports, hung
# tasks).  Exits 1 when there is one, 0 when the logs are clean.
set -uo pipefail

pat='BUG:|WARNING:|Oops|general protection fault|KASAN|UBSAN|'
pat+='possible circular locking|possible recursive locking|'
pat+='inconsistent lock state|lock held when returning|'
pat+='suspicious RCU usage|blocked for more than|Kernel panic|'
pat+='Call Trace:|kmemleak: [0-9]+ new suspected'

hits=$(cat "$@" 2>/dev/null | tr -d '\r' | grep -E -m 20 "$pat")
[ -z "$hits" ] && exit 0
echo "$hits"
exit 1
