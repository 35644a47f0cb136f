#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-patches.sh [--each]: check the series of patches.sh as a kernel
# maintainer would receive it.  It is written afresh, applied with
# "git am" to a freshly extracted linux-source-6.1, and then:
#
#   - Kconfig of a small x86_64 kernel (allnoconfig plus what the driver
#     needs) enables the core and every backend as modules;
#   - drivers/dma-buf/hyper_dmabuf/ builds in tree with W=1 without a
#     warning, every C file of the series compiled;
#   - the kselftests build in tree through their TARGETS entry;
#   - scripts/checkpatch.pl --strict passes every patch;
#   - MAINTAINERS covers every file the series adds;
#   - our pages build with Sphinx under the tree's own
#     Documentation/conf.py without a warning, and are in the toctrees.
#
# --each builds the driver after every patch as well (slower).
# Prints one TAP suite; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# Debian's python3, for which deps.sh installs Sphinx and checkpatch's
# SPDX checker's modules, before any other in PATH (pyenv's, say).
export PATH=/usr/bin:/bin:$PATH
each=
[ "${1:-}" = --each ] && each=1
tools=$HDMABUF_TOP/tools/hyper_dmabuf
out=$HDMABUF_BUILD/check-patches
linux=$out/linux
kbuild=$out/kbuild
rm -rf "$out"
mkdir -p "$out"

hd_tap_n=0 hd_tap_failed=0
result() { hd_result "$@"; }
finish() {
	echo "1..$hd_tap_n"
	[ "$hd_tap_failed" -eq 0 ]
	exit
}

echo "TAP version 13"

# The series
if "$tools/patches.sh" "$out/patches" >"$out/patches.log" 2>&1; then
	result 0 "make patches writes the series"
else
	result 1 "make patches writes the series" "$out/patches.log"
	finish
fi
mapfile -t patches < <(ls "$out"/patches/[0-9][0-9][0-9][0-9]-*.patch |
	grep -v '/0000-cover-letter\.patch$')

# A pristine tree, tracking the files the series modifies.
mkdir -p "$linux"
tar -C "$linux" --strip-components=1 -xf /usr/src/linux-source-6.1.tar.xz
mapfile -t modified < <(awk '
	/^diff --git a\// { f = substr($3, 3); seen[f] = 1 }
	/^new file mode/ { added[f] = 1 }
	END { for (f in seen) if (!(f in added)) print f }' "${patches[@]}" |
	LC_ALL=C sort)
g() { git -C "$linux" -c user.name=check -c user.email=check@invalid \
	-c commit.gpgsign=false "$@"; }
g init -q -b pristine
# LICENSES/ and include/ too: checkpatch reads them from the git tree (the
# SPDX check, and the names of include/ that are not CamelCase to us).
g add -f -- "${modified[@]}" LICENSES include
g commit -q -m "linux-source-6.1, the files the series modifies"
if g am -q --whitespace=error-all "${patches[@]}" >"$out/am.log" 2>&1 &&
   [ "$(g rev-list --count HEAD)" = $((${#patches[@]} + 1)) ] &&
   [ -z "$(g status --porcelain)" ]; then
	result 0 "git am applies the ${#patches[@]} patches to pristine linux-source-6.1"
else
	result 1 "git am applies the ${#patches[@]} patches to pristine linux-source-6.1" \
		"$out/am.log"
	finish
fi

# A small kernel with everything of ours as modules.
want_m=$(sed -n 's/^\(menu\)\{0,1\}config \(HYPER_DMABUF[A-Z_]*\)$/\2/p' \
	"$linux/drivers/dma-buf/hyper_dmabuf/Kconfig")
cat >"$out/frag.config" <<EOF
CONFIG_64BIT=y
CONFIG_MODULES=y
CONFIG_MMU=y
CONFIG_SYSFS=y
CONFIG_DEBUG_FS=y
CONFIG_CONFIGFS_FS=y
CONFIG_SYNC_FILE=y
CONFIG_DMA_SHARED_BUFFER=y
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_SMP=y
CONFIG_X86_LOCAL_APIC=y
CONFIG_X86_IO_APIC=y
CONFIG_ACPI=y
CONFIG_SPARSEMEM_VMEMMAP=y
CONFIG_MIGRATION=y
CONFIG_MEMORY_HOTPLUG=y
CONFIG_MEMORY_HOTREMOVE=y
CONFIG_ZONE_DEVICE=y
CONFIG_HYPERVISOR_GUEST=y
CONFIG_PARAVIRT=y
CONFIG_XEN=y
CONFIG_XEN_PV=y
CONFIG_XEN_DOM0=y
CONFIG_XEN_BACKEND=y
CONFIG_XEN_PCIDEV_FRONTEND=y
CONFIG_XEN_BALLOON=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO_PCI=y
CONFIG_KUNIT=y
EOF
# Modules (tristate) as m, test switches (bool) y.
for c in $want_m; do
	case $(awk -v c="$c" '
		$1 ~ /^(menu)?config$/ { on = ($2 == c); next }
		on && $1 ~ /^(bool|tristate)$/ { print $1; exit }' \
		"$linux/drivers/dma-buf/hyper_dmabuf/Kconfig") in
	bool)	echo "CONFIG_$c=y" ;;
	*)	echo "CONFIG_$c=m" ;;
	esac
done >>"$out/frag.config"
kmake() { nice make -s -C "$linux" O="$kbuild" ARCH=x86_64 "$@"; }
: >"$out/kconfig.log"
if kmake KCONFIG_ALLCONFIG="$out/frag.config" allnoconfig \
	>"$out/kconfig.log" 2>&1; then
	while read -r line; do
		grep -qx "$line" "$kbuild/.config" ||
			echo "$line: not set (got: $(grep "^${line%%=*}=" \
				"$kbuild/.config" || echo unset))"
	done <"$out/frag.config" >>"$out/kconfig.log"
else
	echo "allnoconfig failed" >>"$out/kconfig.log"
fi
if ! grep -q 'not set\|failed' "$out/kconfig.log"; then
	result 0 "Kconfig enables $(grep -c '=m$' "$out/frag.config") modules and every test option"
else
	result 1 "Kconfig enables every hyper_dmabuf module and test option" \
		"$out/kconfig.log"
fi

# build_driver LOG: build our directory in tree with W=1; true when it
# built without a warning and compiled every C file of the tree's
# drivers/dma-buf/hyper_dmabuf/ (what went wrong is in LOG)
build_driver() {
	local c
	find "$kbuild/drivers/dma-buf/hyper_dmabuf" -name '*.o' -delete 2>/dev/null || true
	kmake -j"$(nproc)" W=1 drivers/dma-buf/hyper_dmabuf/ >"$1" 2>&1 ||
		echo "error: make failed" >>"$1"
	for c in $(cd "$linux" && git ls-files -- 'drivers/dma-buf/hyper_dmabuf/*.c'); do
		[ -e "$kbuild/${c%.c}.o" ] && continue
		# A KUnit suite may be #included by the file it tests.
		grep -q "^#include \"${c##*/}\"" "$linux/${c%/*}"/*.c && continue
		echo "error: $c not compiled" >>"$1"
	done
	! grep -qE 'warning:|error:' "$1"
}
if build_driver "$out/build.log"; then
	result 0 "drivers/dma-buf/hyper_dmabuf/ builds in tree with W=1, no warnings, every C file"
else
	result 1 "drivers/dma-buf/hyper_dmabuf/ builds in tree with W=1, no warnings, every C file" \
		"$out/build.log"
fi

# The kselftests build in tree through the TARGETS entry, as
# "make kselftest-all" builds them, without a warning.
ksft=$kbuild/kselftest/drivers/dma-buf/hyper_dmabuf
want=$(ls "$linux"/tools/testing/selftests/drivers/dma-buf/hyper_dmabuf/*_test.c | wc -l)
if kmake -j"$(nproc)" TARGETS=drivers/dma-buf/hyper_dmabuf kselftest-all \
	>"$out/kselftest.log" 2>&1 &&
   ! grep -qE 'warning:|error:' "$out/kselftest.log" &&
   built=$(find "$ksft" -maxdepth 1 -type f -name '*_test' | wc -l) &&
   [ "$built" = "$want" ]; then
	result 0 "kselftests build in tree (TARGETS=drivers/dma-buf/hyper_dmabuf), $built programs, no warnings"
else
	result 1 "kselftests build in tree (TARGETS=drivers/dma-buf/hyper_dmabuf), no warnings" \
		"$out/kselftest.log"
fi

# checkpatch, from the tree's top, as a maintainer runs it.
# FILE_PATH_CHANGES ("does MAINTAINERS need updating?"): the last patch
# adds the MAINTAINERS entry, and the check below proves that it covers
# every file the series adds.
for p in "${patches[@]}"; do
	log=$out/checkpatch-$(basename "$p" .patch).log
	(cd "$linux" && perl scripts/checkpatch.pl --strict --terse --show-types \
		--ignore FILE_PATH_CHANGES "$p") >"$log.all" 2>&1 || true
	# xenbus's states are the enum members XenbusState*: checkpatch
	# learns names from include/'s declarations but never an enum's
	# members, so it flags them in every Xen driver.  Those only.
	grep -vE ': CHECK:CAMELCASE: Avoid CamelCase: <XenbusState[A-Za-z]+>$|^total: ' \
		"$log.all" >"$log" || true
	if [ -s "$log" ]; then	# anything else it says is a finding
		result 1 "checkpatch --strict $(basename "$p")" "$log"
	else
		result 0 "checkpatch --strict $(basename "$p")"
	fi
done

# Every added file has an F: line of our MAINTAINERS entry.
awk '/^diff --git a\// { f = substr($3, 3) } /^new file mode/ { print f }' \
	"${patches[@]}" | LC_ALL=C sort >"$out/added.txt"
awk '/^HYPER_DMABUF:/ { on = 1 } on && /^$/ { on = 0 }
	on && /^F:\t/ { print substr($0, 4) }' "$linux/MAINTAINERS" >"$out/flines.txt"
while read -r f; do
	hit=
	while read -r pat; do
		case "$pat" in
		*/)	[ "${f#"$pat"}" != "$f" ] && hit=1 ;;
		*)	[ "$f" = "$pat" ] && hit=1 ;;
		esac
	done <"$out/flines.txt"
	[ -n "$hit" ] || echo "$f: no F: line"
done <"$out/added.txt" >"$out/maintainers.log"
if [ -s "$out/flines.txt" ] && [ ! -s "$out/maintainers.log" ]; then
	result 0 "MAINTAINERS covers the $(wc -l <"$out/added.txt") files the series adds"
else
	result 1 "MAINTAINERS covers every file the series adds" "$out/maintainers.log"
fi

# Our pages, built by Sphinx with the tree's own conf.py and extensions:
# a source directory holding only them, at their paths, so that it takes
# seconds rather than the whole of Documentation/.
docs=$out/sphinx
mkdir -p "$docs/src"
: >"$docs/toc.log"
mapfile -t pages < <(grep -x 'Documentation/.*\.rst' "$out/added.txt" |
	sed 's|^Documentation/||')
for p in "${pages[@]}"; do
	mkdir -p "$docs/src/$(dirname "$p")"
	cp "$linux/Documentation/$p" "$docs/src/$p"
	idx=$linux/Documentation/$(dirname "$p")/index.rst
	grep -qx "   $(basename "$p" .rst)" "$idx" ||
		echo "$p: not in the toctree of ${idx#"$linux"/}" >>"$docs/toc.log"
done
magic=$(sed -n 's/^#define HYPER_DMABUF_IOC_MAGIC[[:space:]]*//p' \
	"$linux/include/uapi/linux/hyper_dmabuf.h")
grep -qi "^$magic .*uapi/linux/hyper_dmabuf\.h" \
	"$linux/Documentation/userspace-api/ioctl/ioctl-number.rst" ||
	echo "ioctl magic $magic not in ioctl-number.rst" >>"$docs/toc.log"
if hd_sphinx "$linux" "$linux" "$docs" "$docs/build.log" \
	-D version=6.1 -D release=6.1 && [ ${#pages[@]} -gt 0 ]; then
	result 0 "Sphinx builds ${pages[*]} with the tree's conf.py, no warnings"
else
	result 1 "Sphinx builds our pages with the tree's conf.py, no warnings" \
		"$docs/build.log"
fi
if [ ! -s "$docs/toc.log" ]; then
	result 0 "the pages are in their toctrees, the ioctl magic is registered"
else
	result 1 "the pages are in their toctrees, the ioctl magic is registered" \
		"$docs/toc.log"
fi

# --each: the driver builds after every patch.
if [ -n "$each" ]; then
	for ((i = ${#patches[@]} - 1; i >= 1; i--)); do
		c=$(g rev-parse "pristine~$i")
		g checkout -q "$c"
		s=$(g log -1 --format=%s)
		# Every option this patch's Kconfig has, from the same fragment.
		kmake KCONFIG_ALLCONFIG="$out/frag.config" allnoconfig \
			>/dev/null 2>&1 || true
		if build_driver "$out/build-$i.log"; then
			result 0 "builds with W=1, every C file, after: $s"
		else
			result 1 "builds with W=1, every C file, after: $s" \
				"$out/build-$i.log"
		fi
	done
	g checkout -q pristine
fi

finish
