#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh OUTDIR BENCH.TXT...: make bench's report from the lines the
# bench scenarios collected ("RIG sample SERIES SIZE NS" and "RIG note KEY
# VALUE", times in ns).  Writes OUTDIR/results.json,
# OUTDIR/table.txt (also printed) and OUTDIR/latency.png (gnuplot), and
# prints each target the issue set with the ratio measured against it,
# and the frame figures that have none.  Ratios are taken between series
# of one rig's run only; OUTDIR/derived.txt (and "derived" in
# results.json) holds them, and OUTDIR/latency-ratios.txt (also printed)
# puts the event and frame ratios of the rigs side by side: the ACRN
# model's mailbox transport ("acrn") beside its virtio transport
# ("acrn-virtio"), and Xen, each against its own run's raw round trip.
set -euo pipefail
# Rig names sort "acrn" before "acrn-virtio"; numbers print with a point.
export LC_ALL=C
out=$1
shift
mkdir -p "$out"
all=$out/bench.txt
# Samples to "RIG result SERIES SIZE N MEDIAN P10 P90"; notes as they are.
cat "$@" | grep -E '^[a-z-]+ (sample|note) ' | sort -k1,1 -k3,3 -k4,4n -k5,5n |
awk '
function flush() {
	if (!n)
		return
	print key, n, v[int(n / 2) + 1], v[int(n / 10) + 1], v[n - int(n / 10)]
	n = 0
}
$2 == "note" { flush(); print; next }
{
	k = $1 " result " $3 " " $4
	if (k != key) { flush(); key = k }
	v[++n] = $5
}
END { flush() }' >"$all"

# --- derived figures ---------------------------------------------------------
# "RIG NAME VALUE": one-way latencies and ratios against the raw round trip
# of the same rig, and frame rates.  event-rtt and frame-rtt are our event
# one way plus the raw bell the other way (the two VMs have no common
# clock), raw-rtt the raw bell both ways: one way, ours is X-rtt less half
# of raw-rtt.  present-release-rtt is PRESENT to FRAME_RELEASED, so half
# of it is another estimate of a frame's one way.
derived=$out/derived.txt
awk '
$2 == "result" { med[$1, $3, $4] = $6; rig[$1] = 1 }
function put(r, name, v) { if (v != "") print r, name, v }
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "" }
END {
	fs = 8294400
	for (r in rig) {
		w = med[r, "raw-rtt", 4096]
		e = med[r, "event-rtt", 4096]
		f = med[r, "frame-rtt", fs]
		p = med[r, "present-release-rtt", fs]
		sw = med[r, "swapchain-frame", fs]
		cp = med[r, "frame-copy", fs]
		if (e > 0 && w > 0) {
			put(r, "event-one-way-ns", sprintf("%.0f", e - w / 2))
			put(r, "event-one-way/raw-rtt", ratio(e - w / 2, w))
		}
		if (f > 0 && w > 0) {
			put(r, "frame-one-way-ns", sprintf("%.0f", f - w / 2))
			put(r, "frame-one-way/raw-rtt", ratio(f - w / 2, w))
		}
		put(r, "present-release-rtt/raw-rtt", ratio(p, w))
		put(r, "present-release-half/raw-rtt", ratio(p / 2, w))
		put(r, "swapchain-frame/raw-rtt", ratio(sw, w))
		put(r, "swapchain-fps", sw > 0 ? sprintf("%.1f", 1e9 / sw) : "")
		put(r, "frame-copy-fps", cp > 0 ? sprintf("%.1f", 1e9 / cp) : "")
		put(r, "frame-copy/swapchain-frame", ratio(cp, sw))
	}
}' "$all" | sort >"$derived"

# --- latency ratios, rig beside rig --------------------------------------------
# Each row one rig's run, each ratio against that run's own raw-rtt
# (medians): the NEW event's and the frame's one way, PRESENT to
# FRAME_RELEASED (and halved), a swapchain frame, and its frame rate.
{
	printf '%-11s %8s %7s %7s %15s %10s %7s\n' "" raw-rtt event frame \
		present-release swapchain fps
	printf '%-11s %8s %7s %7s %15s %10s %7s\n' "" us 1-way 1-way \
		"rtt (halved)" frame ""
	awk '
	FILENAME == ARGV[1] { d[$1, $2] = $3; rig[$1] = 1; next }
	$2 == "result" && $3 == "raw-rtt" { w[$1] = $6 }
	function v(x) { return x == "" ? "-" : x }
	END {
		for (r in rig) {
			if (d[r, "event-one-way/raw-rtt"] == "" &&
			    d[r, "frame-one-way/raw-rtt"] == "")
				continue
			pr = d[r, "present-release-rtt/raw-rtt"]
			printf "%-11s %8s %7s %7s %15s %10s %7s\n", r,
				(w[r] > 0 ? sprintf("%.0f", w[r] / 1000) : "-"),
				v(d[r, "event-one-way/raw-rtt"]),
				v(d[r, "frame-one-way/raw-rtt"]),
				(pr == "" ? "-" : pr " (" d[r, "present-release-half/raw-rtt"] ")"),
				v(d[r, "swapchain-frame/raw-rtt"]), v(d[r, "swapchain-fps"])
		}
	}' "$derived" "$all" | sort
} | sed "s/ *$//" | tee "$out/latency-ratios.txt"

# --- table ---------------------------------------------------------------
awk '
function us(ns) { return sprintf("%.0f", ns / 1000) }
function kib(b) { return b >= 1048576 ? sprintf("%.1f MiB", b / 1048576) : sprintf("%g KiB", b / 1024) }
$2 == "result" { med[$1, $3, $4] = $6; p10[$1, $3, $4] = $7; p90[$1, $3, $4] = $8
	rig[$1] = 1; has[$1, $3] = 1; if ($3 == "export") size[$1, ++ns[$1]] = $4 }
$2 == "note" { note[$1, $3] = $4 }
END {
	n = split("export import first-read first-map first-unmap local-read unexport copy floor-export floor-import floor-read floor-unmap", col, " ")
	for (r in rig) {
		printf "%s: median (p10-p90) in microseconds\n", r
		printf "%-9s", "size"
		for (c = 1; c <= n; c++) if (has[r, col[c]]) printf " %20s", col[c]
		printf " %10s\n", "copy/share"
		for (i = 1; i <= ns[r]; i++) {
			s = size[r, i]
			printf "%-9s", kib(s)
			for (c = 1; c <= n; c++) {
				k = r SUBSEP col[c] SUBSEP s
				if (!has[r, col[c]])
					continue
				if (k in med)
					printf " %20s", us(med[k]) " (" us(p10[k]) "-" us(p90[k]) ")"
				else
					printf " %20s", "-"
			}
			sh = med[r, "export", s] + med[r, "import", s]
			printf " %10s\n", sh ? sprintf("%.1fx", med[r, "copy", s] / sh) : "-"
		}
		for (k in med) {
			split(k, f, SUBSEP)
			if (f[1] == r && f[2] ~ /-at-|-rtt$|^swapchain-frame$|^frame-copy$/)
				printf "  %-18s %10s us (%s-%s)\n", f[2], us(med[k]), us(p10[k]), us(p90[k]) | "sort"
		}
		close("sort")
		e = med[r, "event-rtt", 4096]; w = med[r, "raw-rtt", 4096]
		if (e > 0 && w > 0)
			printf "  %-18s %10s us (event-rtt less half of raw-rtt)\n", "event-one-way", us(e - w / 2)
		e = med[r, "frame-rtt", 8294400]
		if (e > 0 && w > 0)
			printf "  %-18s %10s us (frame-rtt less half of raw-rtt)\n", "frame-one-way", us(e - w / 2)
		e = med[r, "swapchain-frame", 8294400]
		if (e > 0)
			printf "  %-18s %10.1f (1080p, three buffers, from swapchain-frame)\n", "swapchain-fps", 1e9 / e
		e = med[r, "frame-copy", 8294400]
		if (e > 0)
			printf "  %-18s %10.1f (one memcpy of 8294400 B per frame, from frame-copy)\n", "frame-copy-fps", 1e9 / e
		for (k in note) {
			split(k, f, SUBSEP)
			if (f[1] == r)
				printf "  %-18s %10s\n", f[2], note[k]
		}
		print ""
	}
}' "$all" | tee "$out/table.txt"

# --- targets ---------------------------------------------------------------
awk '
FILENAME == ARGV[1] { d[$1, $2] = $3; next }
$2 == "result" { med[$1, $3, $4] = $6; rig[$1] = 1; has[$1, $3] = 1 }
$2 == "note" { note[$1, $3] = $4 }
# Ratios are strings: compare them as v + 0.
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "" }
# A figure with no target.
function tell(r, what, v) {
	printf "%-11s %-52s %8s\n", r, what, v == "" ? "n/a" : v
}
function say(r, what, v, goal, good) {
	if (v == "")
		printf "%-11s %-52s %8s   target %s\n", r, what, "n/a", goal
	else
		printf "%-11s %-52s %8s   target %s: %s\n", r, what, v, goal, good ? "met" : "MISSED"
}
END {
	for (r in rig) {
		big = 0
		for (k in med) {
			split(k, f, SUBSEP)
			if (f[1] == r && f[2] ~ /^import-at-/ && f[3] > 0) {
				m = substr(f[2], 11) + 0; if (m > big) big = m
			}
		}
		v = ratio(med[r, "copy", 8294400], med[r, "export", 8294400] + med[r, "import", 8294400])
		say(r, "8 MiB: copying / sharing (export + import)", v, ">= 10", v + 0 >= 10)
		v = ratio(med[r, "import-at-" big, 4096], med[r, "import-at-10", 4096])
		say(r, "import at " big " live / at 10", v, "<= 1.25 (flat)", v + 0 <= 1.25)
		v = ratio(med[r, "lookup-at-" big, 4096], med[r, "lookup-at-10", 4096])
		say(r, "lookup at " big " live / at 10", v, "<= 1.25 (flat)", v + 0 <= 1.25)
		v = ratio(med[r, "export-at-" big, 4096], med[r, "export-at-10", 4096])
		say(r, "export at " big " live / at 10", v, "<= 1.25 (flat)", v + 0 <= 1.25)
		v = note[r, "kmem-per-page-33177600"]
		say(r, "kernel memory per shared page, 33 MiB buffers (B)", v, "<= 16", v != "" && v + 0 <= 16)
		for (s = 1; s <= 3; s++) {
			sz = s == 1 ? 1048576 : s == 2 ? 8294400 : 33177600
			v = ratio(med[r, "import", sz] + med[r, "first-read", sz],
				  med[r, "floor-import", sz] + med[r, "floor-read", sz])
			say(r, "import+first read / raw map+read, " sz " B", v, "<= 1.25", v != "" && v + 0 <= 1.25)
			# The ACRN model has no grant step to compare with.
			if (!has[r, "floor-export"])
				continue
			v = ratio(med[r, "export", sz], med[r, "floor-export", sz])
			say(r, "export / raw grant, " sz " B", v, "<= 1.25", v != "" && v + 0 <= 1.25)
		}
		# event-rtt is our event one way plus the raw bell back, raw-rtt
		# the raw bell both ways: one way, ours is event-rtt - raw-rtt / 2.
		e = med[r, "event-rtt", 4096]; w = med[r, "raw-rtt", 4096]
		v = (e > 0 && w > 0) ? sprintf("%.2f", (e - w / 2) / w) : ""
		say(r, "event (export to poll() wake) / raw round trip", v, "<= 2", v != "" && v + 0 <= 2)
		v = d[r, "frame-one-way/raw-rtt"]
		say(r, "frame (present to poll() wake) / raw round trip", v, "<= 2", v != "" && v + 0 <= 2)
		tell(r, "frame: present to frame released / raw round trip", d[r, "present-release-rtt/raw-rtt"])
		tell(r, "frame: present to released, halved / raw round trip", d[r, "present-release-half/raw-rtt"])
		tell(r, "frames per second, 1080p, three buffers", d[r, "swapchain-fps"])
		tell(r, "frames per second, one 8 MiB memcpy each", d[r, "frame-copy-fps"])
		tell(r, "swapchain frame / raw round trip", d[r, "swapchain-frame/raw-rtt"])
	}
}' "$derived" "$all" | sort | tee "$out/targets.txt"

# --- JSON --------------------------------------------------------------------
awk -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
FILENAME == ARGV[1] { dl[++o] = sprintf("    {\"rig\": \"%s\", \"key\": \"%s\", \"value\": %s}", $1, $2, $3); next }
$2 == "result" { line[++n] = sprintf("    {\"rig\": \"%s\", \"series\": \"%s\", \"bytes\": %s, \"n\": %s, \"median_ns\": %s, \"p10_ns\": %s, \"p90_ns\": %s}", $1, $3, $4, $5, $6, $7, $8) }
$2 == "note" { nl[++m] = sprintf("    {\"rig\": \"%s\", \"key\": \"%s\", \"value\": %s}", $1, $3, $4) }
END {
	printf "{\n  \"generated\": \"%s\",\n  \"results\": [\n", date
	for (i = 1; i <= n; i++) printf "%s%s\n", line[i], i < n ? "," : ""
	printf "  ],\n  \"notes\": [\n"
	for (i = 1; i <= m; i++) printf "%s%s\n", nl[i], i < m ? "," : ""
	printf "  ],\n  \"derived\": [\n"
	for (i = 1; i <= o; i++) printf "%s%s\n", dl[i], i < o ? "," : ""
	printf "  ]\n}\n"
}' "$derived" "$all" >"$out/results.json"

# --- plot ----------------------------------------------------------------------
plots=
for r in $(awk '{print $1}' "$all" | sort -u); do
	for s in export import first-read copy floor-export floor-read; do
		d=$out/plot-$r-$s.dat
		awk -v r="$r" -v s="$s" '$1 == r && $2 == "result" && $3 == s { print $4, $6 / 1000 }' \
			"$all" | sort -n >"$d"
		[ -s "$d" ] || { rm -f "$d"; continue; }
		plots+="${plots:+, }'$d' using (\$1/1024):2 with linespoints title '$r $s'"
	done
done
if [ -n "$plots" ]; then
	gnuplot <<EOF
set terminal pngcairo size 1000,640 noenhanced
set output '$out/latency.png'
set logscale xy
set xlabel 'buffer size (KiB)'
set ylabel 'median latency (microseconds)'
set title 'hyper_dmabuf: latency against size, with a plain copy for scale'
set key left top
set grid
plot $plots
EOF
fi
rm -f "$out"/plot-*.dat
echo "report: $out/{table.txt,targets.txt,latency-ratios.txt,results.json,latency.png}"
