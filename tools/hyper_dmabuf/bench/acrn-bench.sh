# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# acrn-bench.sh: make bench's scenario for the ACRN-model rig
# (rig/acrn.sh --scenario), uos1 sharing with the SOS, over the links'
# transport ($HDA_TRANSPORT).  Every series hdmabuf-bench prints goes to
# $HDA_OUT/bench.txt as "RIG LINE", RIG being "acrn" with mailbox links
# and "acrn-virtio" with virtio links; the results here only say whether
# each step ran, never how fast.
#
# HDMABUF_BENCH_REPS (default 15) buffers per size; HDMABUF_BENCH_SCALE
# (default 10000) live exports for the scale series; HDMABUF_BENCH_EVENTS
# (default 100) events, frames and raw round trips in each of three
# rounds; HDMABUF_BENCH_FRAMES (default 300) frames through the swapchain
# in each round.
. "$HDA_LIB/hda-share.sh"

reps=${HDMABUF_BENCH_REPS:-15}
# "latency": only the event and frame series (make bench-latency).
series=${series:-all}
scale=${HDMABUF_BENCH_SCALE:-10000}
events=${HDMABUF_BENCH_EVENTS:-100}
frames=${HDMABUF_BENCH_FRAMES:-300}
# The report's name for this run, and uos1's raw doorbell: on virtio links
# its device is the virtio transport's, which has the doorbell file.
rig=acrn ubell=acrn:0
[ "$HDA_TRANSPORT" = mailbox ] ||
	rig=acrn-$HDA_TRANSPORT ubell=acrn-$HDA_TRANSPORT:0
bench=$HDA_OUT/bench.txt
: >"$bench"
HDA_ON_TIMEOUT=900
# hyper_dmabuf's per-peer limits take neither the 96 MiB batches nor the
# scale series.
hp=/sys/module/hyper_dmabuf/parameters
on uos1 "echo $((2 * scale)) >$hp/max_exports_per_peer &&
	echo 2048 >$hp/max_export_mb_per_peer" ||
	not_ok "uos1: raise hyper_dmabuf's export limits"
on sos "echo $((2 * scale)) >$hp/max_imports" ||
	not_ok "the SOS: raise hyper_dmabuf's import limit"

# keep OUTPUT: the sample and note lines of OUTPUT, into bench.txt
keep() {
	grep -E '^(sample|note) ' <<<"$1" | sed "s/^/$rig /" >>"$bench"
}

# bench_batch SIZE N: uos1 exports N buffers of SIZE, the SOS imports and
# reads each, uos1 unexports each; every step timed
bench_batch() {
	local size=$1 n=$2 out

	on_bg uos1 bx "exec hdmabuf-bench export --to 0 --size $size --reps $n"
	if ! on_wait_line uos1 bx '^ready' 600 >/dev/null; then
		on_out uos1 bx | sed 's/^/# /' >&3
		on_kill uos1 bx KILL >/dev/null
		return 1
	fi
	if ! out=$(on sos hdmabuf-bench import --from 1 --size "$size" \
		--count "$n"); then
		diag "$out"
		on_kill uos1 bx KILL >/dev/null
		return 1
	fi
	keep "$out"
	on_kill uos1 bx USR1 >/dev/null
	out=$(on_wait uos1 bx 600) || { diag "$out"; return 1; }
	keep "$out"
}

if [ "$series" = all ]; then
	# The SOS's QEMU maps a page of uos1's RAM file into itself the first time
	# the SOS touches it, and the host allocates the page if uos1 never
	# touched it either: costs of this rig, not of sharing (a hypervisor maps
	# a VM's memory once).  Touch all of uos1's RAM from the SOS first, so
	# that imports and the window floor alike read pages the host has ready.
	if out=$(on sos hdmabuf-bench window-map --from 1 --size $((510 << 20)) \
		--count 1 --offset 0); then
		ok "the SOS touched all of uos1's RAM once"
	else
		diag "$out"
		not_ok "the SOS touched all of uos1's RAM once"
	fi

	# 4 KiB, 64 KiB, 1 MiB, 8 MiB (1080p RGBA), 33 MiB (4K RGBA, 3840x2160x4),
	# in batches of at most 96 MiB live (a UOS has 510 MiB of RAM).
	for size in 4096 65536 1048576 8294400 33177600; do
		batch=$((96 * 1024 * 1024 / size))
		[ "$batch" -le "$reps" ] || batch=$reps
		[ "$batch" -ge 1 ] || batch=1
		done_reps=0
		while [ "$done_reps" -lt "$reps" ]; do
			bench_batch "$size" "$batch" || break
			done_reps=$((done_reps + batch))
		done
		if [ "$done_reps" -ge "$reps" ]; then
			ok "bench $size: $done_reps shares timed"
		else
			not_ok "bench $size: $reps shares timed (only $done_reps)"
		fi
		# The floor: as many bytes of uos1's RAM mapped from the window.
		if out=$(on sos hdmabuf-bench window-map --from 1 --size "$size" \
			--count "$reps"); then
			keep "$out"
			ok "floor $size: $reps raw window maps timed"
		else
			diag "$out"
			not_ok "floor $size: $reps raw window maps timed"
		fi
	done
fi

# --- event and frame latency and the raw doorbell round trip ----------------
# pair INITIATOR RESPONDER [REPS]: uos1 runs hdmabuf-bench INITIATOR
# against the SOS's RESPONDER over the raw doorbell (vector 1 of their
# link; uos1's is $ubell), REPS times (default $events)
pair() {
	local out reps=${3:-$events}

	on_bg sos pr "exec hdmabuf-bench $2 --bell acrn:1 --reps $reps"
	# shellcheck disable=SC2086 # INITIATOR is a command and its options
	if ! out=$(on uos1 hdmabuf-bench $1 --bell $ubell --reps "$reps"); then
		diag "$out"
		on_kill sos pr KILL >/dev/null
		return 1
	fi
	keep "$out"
	out=$(on_wait sos pr 120) || { diag "$out"; return 1; }
}

# Three rounds, each kind in turn, so that the machine's drift hits all:
# the raw round trip; NEW events and frames (PRESENT to FRAME) of a 1080p
# buffer, each rung back raw; PRESENT to FRAME_RELEASED; and $frames
# frames through a swapchain of three 1080p buffers.
for round in 1 2 3; do
	check "round $round: $events raw doorbell round trips" pair ping pong
	check "round $round: $events events, each rung back raw" \
		pair "event --to 0" "event-echo --from 1"
	check "round $round: $events frames, each rung back raw" \
		pair "frame --to 0" "frame-echo --from 1 --ring"
	check "round $round: $events frames presented and released" \
		pair "frame-release --to 0" "frame-echo --from 1"
	check "round $round: $frames frames through three 1080p buffers" \
		pair "swapchain --to 0" "frame-echo --from 1 --buffers 3" \
		"$frames"
done

if [ "$series" = all ]; then
	# --- scale: 10 live exports, then $scale -----------------------------------
	on_bg uos1 sc "exec hdmabuf-bench scale --to 0 --count $scale"
	if on_wait_line uos1 sc '^ready 10$' 120 >/dev/null &&
	   out=$(on sos hdmabuf-bench scale-import --from 1 --count 10); then
		ok "scale: the SOS lists and imports at 10 live buffers"
		keep "$out"
		# What the exporter measured so far (job output is kept as a tail).
		keep "$(on_out uos1 sc)"
	else
		not_ok "scale: the SOS lists and imports at 10 live buffers"
	fi
	on_kill uos1 sc USR1 >/dev/null
	if on_wait_line uos1 sc "^ready $scale\$" 1200 >/dev/null &&
	   out=$(on sos hdmabuf-bench scale-import --from 1 --count "$scale"); then
		ok "scale: the SOS lists and imports at $scale live buffers"
		keep "$out"
	else
		on_out uos1 sc | sed 's/^/# /' >&3
		not_ok "scale: the SOS lists and imports at $scale live buffers"
	fi
	on_kill uos1 sc USR1 >/dev/null
	if out=$(on_wait uos1 sc 1200); then
		ok "scale: uos1 unexports all $scale"
		# The tail of the job's output: only what came after "ready 10".
		keep "$(grep -E "^sample [a-z-]+-at-$scale |^note " <<<"$out")"
	else
		diag "$out"
		not_ok "scale: uos1 unexports all $scale"
	fi
fi
for v in sos uos1; do
	check "$v shares and maps nothing afterwards" hda_quiet $v
done
