#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: checkpatch --strict over every source file, a W=1 build and a
# sparse (C=2) build of the modules (x86 and arm64), a Sphinx build of
# Documentation/ and warning-free selftest builds (x86 and arm64).
# Prints one TAP suite; exits non-zero on any finding.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

tools=$HDMABUF_TOP/tools/hyper_dmabuf
linux=$(hd_linux_src)
out=$HDMABUF_BUILD/lint
rm -rf "$out"
mkdir -p "$out"

hd_tap_n=0 hd_tap_failed=0
result() { hd_result "$@"; }

echo "TAP version 13"
cd "$HDMABUF_TOP"
mapfile -t files < <(git ls-files -co --exclude-standard -- \
	'*.c' '*.h' 'Kconfig' '*/Kconfig' | grep -v '^build/' | LC_ALL=C sort)
for f in "${files[@]}"; do
	log=$out/checkpatch-${f//\//_}.log
	extra=()
	# A Kconfig that sources another Kconfig names a file called
	# "Kconfig" by necessity; that is all EMBEDDED_FILENAME sees there.
	[ "${f##*/}" = Kconfig ] && extra=(--ignore EMBEDDED_FILENAME)
	# The Xen backend uses xenbus's XenbusState* names; checkpatch knows
	# them only when it can read include/xen (not with --no-tree).
	case "$f" in
	*/backends/xen/*) extra=(--ignore CAMELCASE) ;;
	esac
	perl "$linux/scripts/checkpatch.pl" --no-tree --strict --terse \
		--show-types "${extra[@]}" -f "$f" >"$log" 2>&1 || true
	# checkpatch exits 0 on CHECKs and on some set-up errors ("Must be
	# run from the top-level dir"): judge by its output, not its status.
	if grep -qE '^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK):|^ERROR|^WARNING|Must be run' "$log"; then
		result 1 "checkpatch --strict $f" "$log"
	else
		result 0 "checkpatch --strict $f"
	fi
done

# kernel-doc comments must parse cleanly wherever they are used.
kdoc_bad=0
: >"$out/kernel-doc.log"
for f in "${files[@]}"; do
	case "$f" in *.c|*.h) ;; *) continue ;; esac
	perl "$linux/scripts/kernel-doc" -none -v "$f" 2>&1 |
		{ grep -i 'warning\|error' || true; } |
		{ grep -v '^[0-9]* warnings$' || true; } >>"$out/kernel-doc.log"
done
[ -s "$out/kernel-doc.log" ] && kdoc_bad=1
result $kdoc_bad "kernel-doc has no warnings" "$out/kernel-doc.log"

# The Documentation pages build with Sphinx without a warning (-n -W),
# under the kernel's own Documentation/conf.py and its extensions, as
# "make htmldocs" builds them in a kernel tree; only the source directory
# is ours, our pages laid out as under Documentation/.  (It had a conf.py
# of its own with a hand-picked list of the kernel's extensions, which
# could miss what the kernel's configuration reports.)
docs=$out/sphinx
mkdir -p "$docs/src"
cp -r Documentation/. "$docs/src/"
if hd_sphinx "$linux" "$HDMABUF_TOP" "$docs" "$docs/build.log"; then
	result 0 "Documentation builds with Sphinx without warnings"
else
	result 1 "Documentation builds with Sphinx without warnings" \
		"$docs/build.log"
fi

# Debian's kernel, and the KASAN debug kernel when it is built: there the
# KUnit suites are compiled too; and Debian's arm64 kernel, cross-built
# for (the Xen arm64 rig's; lib/arm64-root.sh fetches it once, as root).
flavors=stock
[ -e "$HDMABUF_KCACHE/kasan/arch/x86/boot/bzImage" ] && flavors="stock kasan"
flavors="$flavors arm64"
for flavor in $flavors; do
	for mode in "W=1" "C=2"; do
		d=$out/$flavor-${mode/=/}
		log=$d/build.log
		what="$flavor module build $mode has no warnings"
		if "$tools/build.sh" modules "$flavor" "$d" "$mode" \
			>/dev/null 2>"$out/err.log" &&
		   ! grep -E 'warning:|error:' "$log" >"$out/warn.log"; then
			result 0 "$what"
		else
			cat "$out/err.log" >>"$out/warn.log"
			result 1 "$what" "$out/warn.log"
		fi
	done
done

if "$tools/build.sh" selftests >/dev/null 2>"$out/selftests.log" &&
   ! grep -q 'warning:' "$HDMABUF_BUILD/selftests/build.log"; then
	result 0 "selftests build with -Wall -Wextra -Werror"
else
	result 1 "selftests build with -Wall -Wextra -Werror" "$out/selftests.log"
fi
if "$tools/build.sh" selftests arm64 >/dev/null 2>"$out/selftests-arm64.log" &&
   ! grep -q 'warning:' "$HDMABUF_BUILD/selftests-arm64/build.log"; then
	result 0 "arm64 selftests build with -Wall -Wextra -Werror"
else
	result 1 "arm64 selftests build with -Wall -Wextra -Werror" \
		"$out/selftests-arm64.log"
fi

echo "1..$hd_tap_n"
[ "$hd_tap_failed" -eq 0 ]
