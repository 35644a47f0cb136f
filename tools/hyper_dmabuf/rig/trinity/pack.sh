#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pack.sh ROOT SELFTESTS: put the trinity run into the plain rig's
# initramfs ROOT: trinity_run.sh into ROOT/tests, Debian's trinity with
# its shared libraries, and, from the selftest build SELFTESTS, the
# launcher (rig-trinity) and the library trinity preloads
# (rig-trinity-victims.so).  See trinity_run.sh.
#
# HDMABUF_TRINITY_SYSCALLS and HDMABUF_TRINITY_SEED on the host set the
# run's count of system calls and its seed (ROOT/etc/trinity.env); the
# kernel parameters trinity_syscalls= and trinity_seed= override them.
set -euo pipefail
. "$(dirname "$0")/../../lib/common.sh"

[ $# -eq 2 ] || hd_die "usage: pack.sh ROOT SELFTESTS"
root=$1
tests=$2
trinity=$(command -v trinity) ||
	hd_die "trinity is not installed (tools/hyper_dmabuf/lib/deps.sh)"

# copy_with_libs FILE DEST: FILE as DEST in ROOT, and every shared library
# it loads at the path the dynamic loader looks for it.
copy_with_libs() {
	local lib
	mkdir -p "$root/$(dirname "$2")"
	cp -L "$1" "$root/$2"
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				   $1 ~ /^\// { print $1 }'); do
		[ -e "$root/$lib" ] && continue
		mkdir -p "$root/$(dirname "$lib")"
		cp -L "$lib" "$root/$lib"
	done
}

copy_with_libs "$trinity" /bin/trinity
copy_with_libs "$tests/guest/rig-trinity-victims.so" /lib/rig-trinity-victims.so
cp "$tests/guest/rig-trinity" "$root/bin/"
mkdir -p "$root/tests" "$root/etc"
cp "$(dirname "$0")/trinity_run.sh" "$root/tests/"
for v in "${HDMABUF_TRINITY_SYSCALLS:-}" "${HDMABUF_TRINITY_SEED:-}"; do
	case "$v" in
	*[!0-9]*) hd_die "HDMABUF_TRINITY_SYSCALLS and _SEED are numbers" ;;
	esac
done
{
	[ -n "${HDMABUF_TRINITY_SYSCALLS:-}" ] &&
		echo ": \"\${trinity_syscalls:=$HDMABUF_TRINITY_SYSCALLS}\""
	[ -n "${HDMABUF_TRINITY_SEED:-}" ] &&
		echo ": \"\${trinity_seed:=$HDMABUF_TRINITY_SEED}\""
	true
} >"$root/etc/trinity.env"
