#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# packages_test.sh: in the guest of make check-packages (rig/packages.sh),
# check what the hyper-dmabuf-tools .deb installed and the modules DKMS
# built: dpkg's record, the files against the package's md5sums, the
# loaded modules' build ids against the DKMS build's, the installed
# programs, and the installed udev rule's permissions.  Prints TAP; exit
# status 0 when all passed.  POSIX sh: runs under busybox.

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $*"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n $*"
}
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@" >/tmp/pkg-check.out 2>&1; then
		ok "$d"
	else
		sed 's/^/# /' /tmp/pkg-check.out
		not_ok "$d"
	fi
}

# check_exit DESCRIPTION STATUS PATTERN COMMAND...: COMMAND exits with
# STATUS and its output has a line matching PATTERN.
check_exit() {
	d=$1 want=$2 pat=$3
	shift 3
	"$@" >/tmp/pkg-check.out 2>&1
	rc=$?
	if [ $rc = "$want" ] && grep -q "$pat" /tmp/pkg-check.out; then
		ok "$d"
	else
		sed 's/^/# /' /tmp/pkg-check.out
		not_ok "$d (status $rc)"
	fi
}

echo "TAP version 13"
st=/var/lib/dpkg/status
check "dpkg: hyper-dmabuf-tools is installed" \
	grep -A3 -x 'Package: hyper-dmabuf-tools' $st
grep -A3 -x 'Package: hyper-dmabuf-tools' $st | grep -q '^Status: install ok installed' ||
	not_ok "dpkg: its status is install ok installed"
check "the installed files match the package's md5sums" \
	sh -c 'cd / && md5sum -c /var/lib/dpkg/info/hyper-dmabuf-tools.md5sums'

# NAME BUILD-ID lines of the DKMS build.  A module's notes file holds its
# GNU build-id note: namesz, descsz, type, "GNU\0", then the id.
while read -r m id; do
	note=/sys/module/$m/notes/.note.gnu.build-id
	got=$(od -An -tx1 -v -j16 "$note" 2>/dev/null | tr -d ' \n')
	if [ -n "$id" ] && [ "$got" = "$id" ]; then
		ok "module $m is DKMS's build (build id $id)"
	else
		not_ok "module $m is DKMS's build (build id ${got:-none}, DKMS ${id:-none})"
	fi
done </pkg/build-ids

check "hdmabuf info (installed /usr/bin/hdmabuf)" \
	sh -c '/usr/bin/hdmabuf info | tee /dev/stderr | grep -q "^vmid "'
check "hdmabuf info names the loopback peer" \
	sh -c '/usr/bin/hdmabuf info | grep -q "^peer .*loopback"'
check_exit "hdmabuf-ivshmem-server runs (usage, status 2)" 2 \
	'^usage: hdmabuf-ivshmem-server' /usr/sbin/hdmabuf-ivshmem-server
check_exit "hdmabuf-xen-link runs (usage, status 2)" 2 'usage:' \
	/usr/sbin/hdmabuf-xen-link

# dom0's link daemon reads its configuration without xenstore (-n): a
# good one passes, a bad one names its line.
printf '# dom0 and two guests\nlink Domain-0 guest1\ngroup guest1 guest2\n' \
	>/tmp/links.conf
check "hdmabuf-xen-linkd -n accepts a good configuration" \
	/usr/sbin/hdmabuf-xen-linkd -n -c /tmp/links.conf
printf '# one typo\nlinx guest1 guest2\n' >/tmp/bad.conf
check_exit "hdmabuf-xen-linkd -n refuses a bad configuration at its line" 1 \
	'/tmp/bad.conf:2: unknown keyword' \
	/usr/sbin/hdmabuf-xen-linkd -n -c /tmp/bad.conf

# The installed rule's GROUP and MODE, applied by /init (no udev here).
rule=/lib/udev/rules.d/70-hyper_dmabuf.rules
line=$(grep '^[^#]*KERNEL=="hyper_dmabuf"' $rule)
group=$(echo "$line" | sed -n 's/.*GROUP="\([^"]*\)".*/\1/p')
mode=$(echo "$line" | sed -n 's/.*MODE="0*\([0-7]*\)".*/\1/p')
got=$(stat -c '%G %a' /dev/hyper_dmabuf)
if [ "$got" = "$group $mode" ]; then
	ok "/dev/hyper_dmabuf is $got, as $rule says"
else
	not_ok "/dev/hyper_dmabuf is $got, $rule says $group $mode"
fi
check "uid 1000 in group video runs hdmabuf info" \
	rig-as 1000 44 /usr/bin/hdmabuf info
if rig-as 1001 1001 /usr/bin/hdmabuf info >/tmp/other.out 2>&1; then
	not_ok "uid 1001 in no group of ours cannot open /dev/hyper_dmabuf"
else
	ok "uid 1001 in no group of ours cannot open /dev/hyper_dmabuf"
fi
echo "1..$n"
exit $failed
