#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packages-root.sh ROOT: qemu.sh --extra hook of rig/packages.sh.  Installs
# the hyper-dmabuf-tools .deb ($HD_PKG_TOOLS_DEB) into the guest's
# initramfs ROOT with the host's dpkg (dpkg --root: its database lands in
# ROOT/var/lib/dpkg, its maintainer scripts run chrooted into ROOT under
# busybox sh), adds the libc its programs link (the host's libc6, the same
# Debian package the .deb was built against) and the guest's tests:
# rig/guest/packages_test.sh and the CLI's cli_test.sh run on the
# installed /usr/bin/hdmabuf.  $HD_PKG_MODDIR/build-ids names the GNU
# build id of each DKMS-built module, which the guest checks against the
# ones it loaded.
set -euo pipefail
root=$1
tools=$(cd "$(dirname "$0")/.." && pwd)

: "${HD_PKG_TOOLS_DEB:?}" "${HD_PKG_MODDIR:?}"
mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers} "$root/pkg"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
ln -sf busybox "$root/bin/sh"
# No dependency of the .deb is in a busybox root (libc6 is added below);
# the PATH check looks for tools (ldconfig, start-stop-daemon) that the
# guest does not have and the package's scripts do not use.
dpkg --root="$root" --force-depends --force-bad-path \
	-i "$HD_PKG_TOOLS_DEB" >"$root/pkg/dpkg.log" 2>&1 || {
	cat "$root/pkg/dpkg.log" >&2
	exit 1
}

# The dynamic linker and libraries of the installed programs.
for exe in "$root"/usr/bin/hdmabuf "$root"/usr/sbin/hdmabuf-ivshmem-server \
	   "$root"/usr/sbin/hdmabuf-xen-linkd; do
	ldd "$exe" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done

# The udev rule the package installed, where /init applies it (no udev
# runs in the guest: rig/guest/hd-udev-apply does what the rule says).
ln -sf /lib/udev/rules.d/70-hyper_dmabuf.rules \
	"$root/etc/udev/rules.d/70-hyper_dmabuf.rules"

cp "$HD_PKG_MODDIR/build-ids" "$root/pkg/"
cp "$tools/rig/guest/packages_test.sh" "$root/tests/"
cp "$tools/cli/cli_test.sh" "$root/pkg/"
printf '#!/bin/sh\nHDMABUF=/usr/bin/hdmabuf exec /pkg/cli_test.sh\n' \
	>"$root/tests/cli_test"
chmod +x "$root/tests/cli_test"
