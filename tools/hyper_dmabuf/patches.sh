#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# patches.sh [OUTDIR]: write the driver as a git format-patch series, with
# a cover letter, that applies with "git am" onto Debian's pristine
# linux-source-6.1 (default OUTDIR: build/patches, or $OUT).
#
# The series is built as commits in a scratch repository over the pristine
# tree: it tracks only the kernel files the series modifies (the rest of
# the tree is there, untracked), so every patch is made against the real
# files.  Each patch carries the Kconfig options and Makefile lines of its
# own files only, so that the tree builds after each one.  Our top-level
# files (Makefile, Kbuild, Kconfig, README.md) and tools/hyper_dmabuf/ are
# not part of it; nor is the benchmark page, which describes our rigs.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

out=${1:-${OUT:-$HDMABUF_BUILD/patches}}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
top=$HDMABUF_TOP
hd=drivers/dma-buf/hyper_dmabuf
tarball=/usr/src/linux-source-6.1.tar.xz
[ -e "$tarball" ] || hd_die "$tarball missing (apt-get install linux-source-6.1)"
# The files the series modifies in the kernel tree.
modified=(drivers/dma-buf/Kconfig drivers/dma-buf/Makefile MAINTAINERS
	  Documentation/driver-api/index.rst
	  Documentation/userspace-api/index.rst
	  Documentation/userspace-api/ioctl/ioctl-number.rst
	  tools/testing/selftests/Makefile)

work=$(mktemp -d "${TMPDIR:-/tmp}/series-XXXXXX")
trap 'rm -rf "$work"' EXIT
linux=$work/linux
mkdir -p "$linux"
tar -C "$linux" --strip-components=1 -xf "$tarball" "${modified[@]/#/linux-source-6.1/}"

name=$(git -C "$top" config user.name) || hd_die "git config user.name unset"
email=$(git -C "$top" config user.email) || hd_die "git config user.email unset"
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email
# Reproducible: the same tree gives the same series.
export GIT_AUTHOR_DATE=$(git -C "$top" log -1 --format=%aI)
export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
g() { git -C "$linux" -c core.autocrlf=false -c commit.gpgsign=false "$@"; }
g init -q -b hyper_dmabuf
g add -- "${modified[@]}"
g commit -q -m "linux-source-6.1 $(dpkg-query -W -f='${Version}' linux-source-6.1)"
g tag base

# Configs by the patch that introduces them; a patch's Kconfig and
# Makefiles leave out those of the patches after it.
declare -A cfg_patch=(
	[HYPER_DMABUF]=core [HYPER_DMABUF_TEST_FUZZ]=core
	[HYPER_DMABUF_KUNIT_TEST]=kunit [HYPER_DMABUF_DEVMAP_TEST]=kunit
	[HYPER_DMABUF_LOOPBACK]=loopback
	[HYPER_DMABUF_LOOPBACK_TEST_FAULTS]=loopback
	[HYPER_DMABUF_XEN]=xen [HYPER_DMABUF_XEN_TEST_FAULTS]=xen
	[HYPER_DMABUF_ACRN]=acrn [HYPER_DMABUF_ACRN_VIRTIO]=acrn
	[HYPER_DMABUF_ACRN_TEST_FAULTS]=acrn
)
order=(core kunit loopback xen acrn selftests docs maintainers)
kcfgs=$(grep -E '^(menu)?config ' "$top/$hd/Kconfig" | awk '{print $2}')
for c in $kcfgs; do
	[ -n "${cfg_patch[$c]:-}" ] || hd_die "Kconfig option $c belongs to no patch"
done

# later_cfgs N: the options of the patches after number N, as a regex
later_cfgs() {
	local c i re=
	for c in "${!cfg_patch[@]}"; do
		for ((i = $1 + 1; i < ${#order[@]}; i++)); do
			[ "${cfg_patch[$c]}" = "${order[$i]}" ] && re+="${re:+|}$c"
		done
	done
	echo "${re:-NONE_LATER}"
}

# kconfig_upto N FILE: FILE without the config blocks of later patches
kconfig_upto() {
	awk -v re="^($(later_cfgs "$1"))\$" '
		/^(menu)?config / { drop = ($2 ~ re) }
		/^(if|endif|menu|endmenu|source|comment)/ { drop = 0 }
		!drop' "$2"
}

# make_upto N FILE: FILE without the lines (continuations joined) naming
# a later patch's option
make_upto() {
	awk -v re="CONFIG_($(later_cfgs "$1"))\\)" '
		{ buf = buf $0 "\n" }
		/\\$/ { next }
		{ if (buf !~ re) printf "%s", buf; buf = "" }' "$2" |
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# put FILE...: copy our files to the same paths
put() {
	local f
	for f in "$@"; do
		mkdir -p "$linux/$(dirname "$f")"
		cp "$top/$f" "$linux/$f"
		g add -- "$f"
	done
}

# commit SUBJECT: commit with the body on stdin and a sign-off
commit() {
	{ echo "$1"; echo; cat; echo; echo "Signed-off-by: $name <$email>"; } |
		g commit -q -F -
}

# The driver's Makefiles and Kconfig as of patch N
driver_build_files() {
	local n=$1 f
	kconfig_upto "$n" "$top/$hd/Kconfig" >"$linux/$hd/Kconfig"
	for f in $(cd "$top" && git ls-files -- "$hd/Makefile" "$hd/*/Makefile"); do
		[ -d "$linux/$(dirname "$f")" ] || continue
		make_upto "$n" "$top/$f" >"$linux/$f"
		g add -- "$f"
	done
	g add -- "$hd/Kconfig"
}

files() { (cd "$top" && git ls-files -- "$@"); }

# 1: the core and its UAPI
n=0
mapfile -t fl < <(files "include/uapi/linux/hyper_dmabuf.h" "$hd/*.c" "$hd/*.h" |
	grep -v -e "^$hd/tests/" -e "^$hd/backends/")
put "${fl[@]}"
driver_build_files $n
sed -i '/^source "drivers\/dma-buf\/heaps\/Kconfig"/a\
\
source "drivers/dma-buf/hyper_dmabuf/Kconfig"' "$linux/drivers/dma-buf/Kconfig"
grep -q hyper_dmabuf "$linux/drivers/dma-buf/Kconfig" ||
	hd_die "drivers/dma-buf/Kconfig: no place for the source line"
echo 'obj-$(CONFIG_HYPER_DMABUF)	+= hyper_dmabuf/' >>"$linux/drivers/dma-buf/Makefile"
g add -- drivers/dma-buf/Kconfig drivers/dma-buf/Makefile
commit "dma-buf: add hyper_dmabuf, to share dma-bufs between virtual machines" <<'EOF'
A compositor in one virtual machine wants to show a buffer rendered in
another without copying it.  hyper_dmabuf lets a process export a local
dma-buf to a named VM; the driver there maps the same physical pages and
gives its user a local dma-buf fd for them.

This adds the hypervisor-independent core, module hyper_dmabuf: the
/dev/hyper_dmabuf misc device and its ioctls (include/uapi/linux/
hyper_dmabuf.h: export, import, unexport, query, list, info, bind,
wait for release, and a frame protocol with fences), buffer ids and
keys, the export and import tables with per-peer quotas, the message
protocol between peers with a strict decoder, events, configfs
endpoints that say which local user gets which imports, and the
importer's dma-buf ops.  Hypervisors plug in as backends through the
ops table of backend.h, added in the following patches.

HYPER_DMABUF_TEST_FUZZ adds a debugfs file that makes this VM send a
peer malformed messages, for tests only.
EOF

# 2: KUnit
n=1
mapfile -t fl < <(files "$hd/tests/*.c")
put "${fl[@]}"
driver_build_files $n
commit "dma-buf: hyper_dmabuf: add KUnit tests and a device-map test module" <<'EOF'
The core's pure logic is tested without a peer: buffer ids and keys, the
message codec against hostile input (reserved bytes, lengths, headers,
flags, statuses, metadata, sizes, and random and corrupted messages),
and the export and import tables driven through a fake backend by a
lying peer.  The suites are built into the module with
CONFIG_HYPER_DMABUF_KUNIT_TEST and run when it loads.

CONFIG_HYPER_DMABUF_DEVMAP_TEST builds hyper_dmabuf_devmap, a test
module that maps a dma-buf for a named device as a device driver would,
and shows the DMA addresses in debugfs: the test rigs check that a
device given an import's addresses reaches the exporting VM's pages.
EOF

# 3: loopback
n=2
mapfile -t fl < <(files "$hd/backends/loopback/*")
put "${fl[@]}"
driver_build_files $n
commit "dma-buf: hyper_dmabuf: add a loopback backend" <<'EOF'
A backend whose only peer is this kernel itself: a buffer exported to
this VM's own id is imported here through the same message path,
asynchronously as with a real hypervisor.  It lets the core and its
userspace be tested without a hypervisor; the kselftests use it.

HYPER_DMABUF_LOOPBACK_TEST_FAULTS lets a test hold back, read out and
inject messages through debugfs, so that fault injection reaches the
core's message handlers.
EOF

# 4: Xen
n=3
mapfile -t fl < <(files "$hd/backends/xen/*")
put "${fl[@]}"
driver_build_files $n
commit "dma-buf: hyper_dmabuf: add a Xen grant-table backend" <<'EOF'
Shares buffers between Xen domains.  Two linked domains talk over a
xenbus device of type "hyper_dmabuf", with one ring page each way and a
late-EOI event channel; the ring is read through copies of its slots and
a peer whose indices lie is disconnected.  The exporter grants its pages
to the importing domain through a chained page directory of grant
references, claimed in batches; the importer walks the directory,
bounded by the validated page count, and maps the pages with the
grant-table API, on PV domains straight into page tables as gntdev
does.  Grants end only when the peer no longer maps them.

HYPER_DMABUF_XEN_TEST_FAULTS lets a test make this domain lie to its
peer once, to check the peer's defences.
EOF

# 5: ACRN
n=4
mapfile -t fl < <(files "$hd/backends/acrn/*" include/uapi/linux/virtio_hdmabuf.h)
put "${fl[@]}"
driver_build_files $n
commit "dma-buf: hyper_dmabuf: add an ACRN memory-model backend" <<'EOF'
In ACRN's memory model the service VM can reach all of a user VM's RAM,
so a user VM shares a buffer by sending the guest-physical addresses of
its pages in a table, and the service VM builds the importer's dma-buf
on the same pages, seen through a window onto that RAM with struct pages
(memremap_pages).  The table's depth follows from the validated page
count and every address is checked for bounds and alignment before use.
A page the service VM may still map is quarantined on the user VM until
the service VM says it maps nothing of that session any more.

Each link is an ivshmem-doorbell PCI device backed by the user VM's RAM
that the host signed; messages go over rings of the link's own mailbox
or over virtio (include/uapi/linux/virtio_hdmabuf.h), with the service
VM as the device and HYPER_DMABUF_ACRN_VIRTIO the user VM's transport.
EOF

# 6: selftests
n=5
mapfile -t fl < <(files "tools/testing/selftests/drivers/dma-buf/hyper_dmabuf/*")
put "${fl[@]}"
sed -i 's|^TARGETS += drivers/dma-buf$|&\nTARGETS += drivers/dma-buf/hyper_dmabuf|' \
	"$linux/tools/testing/selftests/Makefile"
grep -q 'drivers/dma-buf/hyper_dmabuf' "$linux/tools/testing/selftests/Makefile" ||
	hd_die "selftests Makefile: no place for the target"
g add -- tools/testing/selftests/Makefile
commit "selftests: hyper_dmabuf: add tests over the loopback backend" <<'EOF'
Each test is one capability of /dev/hyper_dmabuf, exercised over the
loopback backend with vgem buffers: export and import with every byte
checked, the ABI with older and newer argument sizes, events and the
frame protocol, endpoints and permissions, quotas, release waits,
mappings of an import (fork, mremap, madvise, O_DIRECT, io_uring),
lifetimes under races, a peer that dies at each protocol step, systematic
fault injection and a fuzzer of the ioctls.  A test skips when a
facility it needs is missing.
EOF

# 7: Documentation
n=6
put Documentation/driver-api/hyper_dmabuf.rst Documentation/userspace-api/hyper_dmabuf.rst
sed -i 's|^   dma-buf$|&\n   hyper_dmabuf|' "$linux/Documentation/driver-api/index.rst"
sed -i 's|^   futex2$|&\n   hyper_dmabuf|' "$linux/Documentation/userspace-api/index.rst"
magic=$(sed -n 's/^#define HYPER_DMABUF_IOC_MAGIC[[:space:]]*//p' \
	"$top/include/uapi/linux/hyper_dmabuf.h")
maxnr=$(grep -o 'HYPER_DMABUF_IOC_MAGIC, 0x[0-9a-f]*' \
	"$top/include/uapi/linux/hyper_dmabuf.h" | awk '{print $2}' | sort | tail -n1)
[ -n "$magic" ] && [ -n "$maxnr" ] || hd_die "no ioctl magic in the UAPI header"
python3 - "$linux/Documentation/userspace-api/ioctl/ioctl-number.rst" "$magic" "$maxnr" <<'PY'
import sys
path, magic, maxnr = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
seq = "00-%02X" % (maxnr | 0x0f)
row = "%-6s%-7s%-58s%s\n" % ("0x%02X" % magic, seq, "uapi/linux/hyper_dmabuf.h",
                             "<mailto:dri-devel@lists.freedesktop.org>")
lines = open(path).readlines()
at = None
for i, l in enumerate(lines):
    code = l.split(" ", 1)[0]
    if code.startswith("0x") and len(code) == 4:
        if int(code, 16) == magic:
            sys.exit("ioctl magic 0x%02X already registered: %s" % (magic, l))
        if int(code, 16) < magic:
            at = i + 1
lines.insert(at, row)
open(path, "w").writelines(lines)
PY
g add -- Documentation/driver-api/index.rst Documentation/userspace-api/index.rst \
	Documentation/userspace-api/ioctl/ioctl-number.rst
commit "Documentation: hyper_dmabuf: describe the driver and its userspace API" <<EOF
The driver-api page describes the design: the core, the backend
interface, the Xen backend (linking domains, the handshake and the ring,
grant directories, mapping) and the ACRN memory-model backend (address
tables, the window, page lifetimes, both transports), and what the test
options add.  The userspace-api page describes /dev/hyper_dmabuf: each
ioctl, events, frames, endpoints, quotas and errors.

Register the ioctl magic $magic, which include/uapi/linux/hyper_dmabuf.h
uses for commands 0x00 to $maxnr.
EOF

# 8: MAINTAINERS
n=7
python3 - "$linux/MAINTAINERS" "$top/MAINTAINERS" "$linux" <<'PY'
import os, sys
path, ours, tree = sys.argv[1], sys.argv[2], sys.argv[3]
entry = []
for l in open(ours).read().strip("\n").split("\n"):
    # Only the files of the series: our out-of-tree tools are not in it.
    if l.startswith("F:\t") and not os.path.exists(os.path.join(tree, l[3:])):
        continue
    entry.append(l + "\n")
head = entry[0].upper()
lines = open(path).readlines()
start = next(i for i, l in enumerate(lines) if l.startswith("3C59X NETWORK DRIVER"))
# Section headers of the same initial, which are in order: the entry goes
# after the last one that sorts before it.
heads = [i for i in range(start, len(lines) - 1)
         if lines[i - 1] == "\n" and lines[i + 1][1:3] == ":\t" and
         lines[i][0].upper() == head[0]]
before = [i for i in heads if lines[i].upper() < head]
at = heads[0]
if before:
    at = before[-1] + 1
    while lines[at] != "\n":
        at += 1
    at += 1
lines[at:at] = entry + ["\n"]
open(path, "w").writelines(lines)
PY
g add -- MAINTAINERS
commit "MAINTAINERS: add an entry for hyper_dmabuf" <<'EOF'
The driver, its UAPI headers, its documentation and its selftests.
EOF

# The series, and a cover letter in place of format-patch's template.
rm -rf "$out"
mkdir -p "$out"
g format-patch -q --cover-letter --no-signature -o "$out" base..HEAD
cover=$(ls "$out"/0000-*.patch)
python3 - "$cover" <<'PY'
import sys
path = sys.argv[1]
subject = "hyper_dmabuf: share dma-bufs between virtual machines"
blurb = """\
A compositor in one virtual machine often has to show what a client in
another one rendered.  Today that buffer is copied, through the
hypervisor or a virtual display device, once per frame.  hyper_dmabuf
shares it instead: a process exports a local dma-buf to a named VM, and
the driver in that VM maps the same physical pages and gives its user a
local dma-buf fd, which it can import into DRM, map or wait on like any
other.  Nothing is copied, and the exporter learns when the importer has
released the buffer.

Design in brief:

- The core (drivers/dma-buf/hyper_dmabuf/, module hyper_dmabuf) knows
  nothing of hypervisors.  It owns the misc device /dev/hyper_dmabuf and
  its ioctls (dispatched from a table, extensible argument sizes), the
  export and import tables with per-peer quotas, buffer ids and keys, a
  fixed-size message protocol with a strict decoder that treats every
  peer as hostile, events and a frame protocol (present, release, fences)
  for swapchains, and configfs endpoints that give a VM's imports to
  chosen local users.  A backend registers an ops table (backend.h): send
  a message, share pages, map a peer's pages.
- The Xen backend links two domains with a xenbus device, carries
  messages over one ring page each way with a late-EOI event channel,
  shares pages through a chained directory of grant references and maps
  them with the grant-table API (into page tables directly on PV, as
  gntdev does).
- The ACRN backend follows ACRN's memory model, where the service VM
  reaches all of a user VM's RAM: the user VM sends a table of its pages'
  guest-physical addresses, and the service VM builds the dma-buf on
  those pages through a memremap_pages() window.  Links are
  ivshmem-doorbell devices; messages go over rings of their own or over
  virtio.
- The loopback backend makes this kernel its own peer, so that the core
  and its userspace API can be tested without a hypervisor.

Testing: the series applies to v6.1 (Debian's linux-source-6.1) and
builds with W=1 without a warning after each patch, every backend as a
module.  checkpatch --strict reports only the CamelCase of xenbus's own
XenbusState* names, and the two pages build under Sphinx with the
kernel's conf.py without a warning.  The kselftests (patch 6) and KUnit
suites (patch 2) run in QEMU on Debian's 6.1 kernel and on a KASAN,
lockdep and kmemleak kernel.  The Xen backend is tested
under Xen 4.17 with a PV dom0 and two PV domUs sharing in every
direction, with lying peers, driver reloads and destroyed domains; the
ACRN backend in a model of ACRN's memory built from QEMU's ivshmem, a
service VM and two user VMs, over both transports.  The ioctls were
fuzzed (10^6 calls under KASAN), every allocation of every ioctl and
message handler was failed in turn, and each backend's decoder took
10^5 malformed messages from a hostile peer.  Those rigs live out of
tree with the driver's development repository.
"""
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***", subject)
text = text.replace("*** BLURB HERE ***", blurb.rstrip("\n"))
open(path, "w").write(text)
PY
hd_log "$(ls "$out"/*.patch | wc -l) files (cover letter included) in $out"
