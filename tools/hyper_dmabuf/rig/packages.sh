#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packages.sh: make check-packages, test-all.sh's step "packages".  Builds
# the Debian packages from a copy of the checkout's tracked files (the
# checkout stays as it is) into build/packages/, runs lintian on them,
# builds and installs the hyper-dmabuf-dkms package's source with DKMS for
# Debian's kernel, copies the modules DKMS installed and removes them
# again, then boots the plain QEMU rig on that kernel (flavor stock) with
# those modules and the hyper-dmabuf-tools .deb installed into the guest
# (rig/packages-root.sh), where rig/guest/packages_test.sh and the CLI's
# cli_test.sh run on what the package installed.
#
# Prints TAP and ends with "packages: N passed, N failed, N skipped".
#
# DKMS's state is machine-wide: the source goes in as a version of its
# own (VERSION.ciPID), and it is removed on exit whatever happened.  Run
# it under flock /tmp/hdmabuf-rig.lock, as every rig.
#
#   packages.sh --deb	only build the .debs (make deb); prints their directory
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

tools=$HDMABUF_TOP/tools/hyper_dmabuf
out=$HDMABUF_BUILD/packages
ver=$(dpkg-parsechangelog -l "$HDMABUF_TOP/debian/changelog" -S Version)

# build_debs: the .debs and .changes into $out
build_debs() {
	local src=$out/src/hyper-dmabuf-$ver
	rm -rf "$out"
	mkdir -p "$src"
	(cd "$HDMABUF_TOP" && git ls-files -z | xargs -0 cp --parents -t "$src")
	(cd "$src" && nice dpkg-buildpackage -us -uc -b) \
		>"$out/dpkg-buildpackage.log" 2>&1
	mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
}

if [ "${1:-}" = --deb ]; then
	build_debs || { tail -n 30 "$out/dpkg-buildpackage.log" >&2; exit 1; }
	echo "$out"
	exit 0
fi

hd_flavor stock
hd_tap_n=0
passed=0 failed=0
res() {		# res OK|FAIL DESCRIPTION
	hd_tap_res "$@"
	if [ "$1" = OK ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
echo "# suite: packages-host"
echo "TAP version 13"
t0=$SECONDS

before=$(cd "$HDMABUF_TOP" && git status --porcelain)
if build_debs; then
	res OK "dpkg-buildpackage -b: $(cd "$out" && echo *.deb)"
else
	tail -n 30 "$out/dpkg-buildpackage.log" | sed 's/^/# /'
	res FAIL "dpkg-buildpackage -b"
	echo "1..$hd_tap_n"
	echo "packages: $passed passed, $failed failed, 0 skipped"
	exit 1
fi
after=$(cd "$HDMABUF_TOP" && git status --porcelain)
if [ "$before" = "$after" ]; then
	res OK "the checkout is as it was"
else
	res FAIL "the checkout changed: $after"
fi

# Errors and warnings fail; info and pedantic hints are shown.  (An
# unused override is an info hint: hdmabuf(1)'s, once the page exists.)
if lintian --allow-root --pedantic -I --fail-on error,warning \
	"$out"/hyper-dmabuf_*.changes >"$out/lintian.log" 2>&1; then
	sed 's/^/# /' "$out/lintian.log"
	res OK "lintian: no error or warning (overrides: debian/*.lintian-overrides)"
else
	sed 's/^/# /' "$out/lintian.log"
	res FAIL "lintian: no error or warning"
fi

# --- DKMS -----------------------------------------------------------------
dver=$ver.ci$$
dsrc=/usr/src/hyper-dmabuf-$dver
upd=/lib/modules/$KVER/updates/dkms
dkms_cleanup() {
	dkms remove "hyper-dmabuf/$dver" --all >/dev/null 2>&1 || true
	rm -rf "$dsrc"
}
trap dkms_cleanup EXIT
mkdir -p "$out/dkms-deb"
dpkg-deb -x "$out"/hyper-dmabuf-dkms_"${ver}"_all.deb "$out/dkms-deb"
cp -a "$out/dkms-deb/usr/src/hyper-dmabuf-$ver" "$dsrc"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$dver\"/" "$dsrc/dkms.conf"
expect=$(sh "$dsrc/tools/hyper_dmabuf/dkms-options.sh" modules "$KDIR/.config" |
	 cut -d' ' -f1)
if dkms add "hyper-dmabuf/$dver" >"$out/dkms.log" 2>&1 &&
	nice dkms build "hyper-dmabuf/$dver" -k "$KVER" >>"$out/dkms.log" 2>&1; then
	res OK "dkms build -k $KVER: $(echo "$expect" | tr '\n' ' ')"
else
	tail -n 30 "$out/dkms.log" | sed 's/^/# /'
	tail -n 30 "/var/lib/dkms/hyper-dmabuf/$dver/build/make.log" \
		2>/dev/null | sed 's/^/# /'
	res FAIL "dkms build -k $KVER"
fi
missing=
if dkms install "hyper-dmabuf/$dver" -k "$KVER" >>"$out/dkms.log" 2>&1; then
	for m in $expect; do
		[ -e "$upd/$m.ko" ] || missing="$missing $m"
	done
fi
if dkms status "hyper-dmabuf/$dver" -k "$KVER" | grep -q ': installed' &&
	[ -z "$missing" ]; then
	res OK "dkms install -k $KVER: every module in $upd"
else
	tail -n 30 "$out/dkms.log" | sed 's/^/# /'
	res FAIL "dkms install -k $KVER${missing:+ (missing:$missing)}"
fi

# What the rig loads: the core, loopback and ACRN (which binds no device
# there), as the plain rig does; Xen's needs a Xen domain.
mods=$out/modules
# Each with its GNU build id, which the guest reads back from the module it
# loaded (/sys/module/NAME/notes).
mkdir -p "$mods"
: >"$mods/build-ids"
order= noid=
for m in hyper_dmabuf hyper_dmabuf_loopback hyper_dmabuf_acrn; do
	[ -e "$upd/$m.ko" ] || continue
	cp "$upd/$m.ko" "$mods/"
	id=$(readelf -n "$upd/$m.ko" | sed -n 's/^ *Build ID: //p')
	[ -n "$id" ] || noid="$noid $m"
	echo "$m $id" >>"$mods/build-ids"
	order="$order $m"
done
echo "$order" >"$mods/load-order"
if [ -n "$order" ] && [ -z "$noid" ]; then
	res OK "copied for the guest, with their build ids:$order"
else
	res FAIL "copied for the guest:${order:- nothing}${noid:+; no build id:$noid}"
fi

dkms remove "hyper-dmabuf/$dver" --all >>"$out/dkms.log" 2>&1 || true
rm -rf "$dsrc"
left=$(find "$upd" -name 'hyper_dmabuf*' -printf '%f ' 2>/dev/null || true)
if [ -z "$left" ] && ! dkms status 2>/dev/null | grep -q "hyper-dmabuf/$dver"; then
	res OK "dkms remove: nothing of hyper-dmabuf/$dver left"
else
	res FAIL "dkms remove left: $left $(dkms status 2>/dev/null | grep "hyper-dmabuf/$dver")"
fi
echo "# host part: $((SECONDS - t0)) s"
echo "1..$hd_tap_n"

# --- the guest ------------------------------------------------------------
rig=$out/rig.log
HD_PKG_TOOLS_DEB=$(echo "$out"/hyper-dmabuf-tools_"${ver}"_*.deb) \
HD_PKG_MODDIR=$mods \
	"$tools/rig/qemu.sh" --modules "$mods" \
	--extra "$tools/rig/packages-root.sh" stock 2>&1 | tee "$rig" || true
line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed' "$rig" | tail -n1)
read -r p f s < <(echo "$line" |
	sed -E 's/^[^ ]+: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/')
[ -n "$line" ] || { p=0 f=1 s=0; }
echo "# whole step: $((SECONDS - t0)) s"
echo "packages: $((passed + p)) passed, $((failed + f)) failed, ${s:-0} skipped"
[ $((failed + f)) -eq 0 ]
