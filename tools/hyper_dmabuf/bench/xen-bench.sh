# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# xen-bench.sh: make bench's scenario for the Xen rig (rig/xen.sh
# --scenario; runs in dom0, busybox sh), domU1 sharing with dom0, and the
# raw grant floor of the same page counts (gntalloc in domU1, gntdev in
# dom0).  Every sample hdmabuf-bench prints goes to the host's
# files/bench.txt as "xen LINE"; the results here only say whether each
# step ran.
#
# 15 buffers per size; 10000 live exports for the scale series; three
# rounds of 100 events, 100 frames and raw event-channel round trips, and
# of 300 frames through a swapchain (dom0 sees no host environment, so
# these are fixed here).
bench=/tmp/bench.txt
: >$bench
reps=15
# "latency": only the event and frame series (make bench-latency).
series=${series:-all}
scale=10000
events=100
frames=300
HDX_ON_TIMEOUT=900
# gntalloc's default of 1024 grants is less than one 33 MiB buffer.
on domU1 "echo 1048576 >/sys/module/xen_gntalloc/parameters/limit" ||
	not_ok "domU1: raise gntalloc's limit"
# hyper_dmabuf's per-peer limits take neither the 96 MiB batches nor the
# scale series (the rig's domains have 1024 grant frames).
hp=/sys/module/hyper_dmabuf/parameters
on domU1 "echo $((2 * scale)) >$hp/max_exports_per_peer &&
	echo 2048 >$hp/max_export_mb_per_peer" ||
	not_ok "domU1: raise hyper_dmabuf's export limits"
echo $((2 * scale)) >$hp/max_imports ||
	not_ok "dom0: raise hyper_dmabuf's import limit"

# keep OUTPUT: its sample and note lines, into bench.txt
keep() {
	echo "$1" | grep -E '^(sample|note) ' | sed 's/^/xen /' >>$bench
}

# bench_batch SIZE N: domU1 exports N buffers of SIZE, dom0 imports and
# reads each, domU1 unexports each; every step timed
bench_batch() {
	on_bg domU1 bx "exec hdmabuf-bench export --to 0 --size $1 --reps $2"
	if ! hdx_wait 600 wait_line domU1 bx "ready $2"; then
		on_out domU1 bx | sed 's/^/# /' >&3
		on_kill domU1 bx KILL >/dev/null
		return 1
	fi
	if ! bb_out=$(hdmabuf-bench import --from "$(hdx_domid domU1)" \
		--size "$1" --count "$2" 2>&1); then
		diag "$bb_out"
		on_kill domU1 bx KILL >/dev/null
		return 1
	fi
	keep "$bb_out"
	on_kill domU1 bx USR1 >/dev/null
	bb_out=$(on_wait domU1 bx 600) || { diag "$bb_out"; return 1; }
	keep "$bb_out"
}

# floor_batch SIZE N: the raw grant floor of the same shares: domU1
# grants N buffers' worth of pages to dom0 with gntalloc, dom0 maps and
# reads each with gntdev
floor_batch() {
	on_bg domU1 gx "exec hdmabuf-bench grant --to 0 --size $1 --reps $2"
	if ! hdx_wait 600 wait_line domU1 gx "ready $2"; then
		on_out domU1 gx | sed 's/^/# /' >&3
		on_kill domU1 gx KILL >/dev/null
		return 1
	fi
	# Each buffer's references, in pieces that fit the agent's answer.
	bb_refs=
	bb_k=0
	while [ $bb_k -lt "$2" ]; do
		bb_r= bb_j=0
		while :; do
			bb_p=$(on domU1 "dd if=/tmp/hdmabuf-bench-refs/$bb_k \
				bs=1800 skip=$bb_j count=1 2>/dev/null") || break
			[ -n "$bb_p" ] || break
			bb_r=$bb_r$bb_p
			bb_j=$((bb_j + 1))
		done
		bb_refs="$bb_refs $bb_r"
		bb_k=$((bb_k + 1))
	done
	# shellcheck disable=SC2086 # one argument per buffer's ranges
	if ! bb_out=$(hdmabuf-bench grant-map --from "$(hdx_domid domU1)" \
		--size "$1" --count "$2" $bb_refs 2>&1); then
		diag "$bb_out"
		on_kill domU1 gx KILL >/dev/null
		return 1
	fi
	keep "$bb_out"
	on_kill domU1 gx USR1 >/dev/null
	bb_out=$(on_wait domU1 gx 600) || { diag "$bb_out"; return 1; }
	keep "$bb_out"
}

# wait_line DOM JOB LINE: job JOB's output so far has the line LINE
wait_line() {
	on_out "$1" "$2" | grep -qx "$3"
}

# port_line DOM JOB: job JOB printed the event channel port it listens on
port_line() {
	on_out "$1" "$2" | grep -q '^port '
}

# pair INITIATOR RESPONDER [REPS]: domU1 runs hdmabuf-bench INITIATOR
# against dom0's RESPONDER over a raw event channel that domU1 offers,
# REPS times (default $events)
pair() {
	bb_reps=${3:-$events}
	on_bg domU1 pr "exec hdmabuf-bench $1 --bell xen-listen:0 --reps $bb_reps"
	if ! hdx_wait 60 port_line domU1 pr; then
		on_out domU1 pr | sed 's/^/# /' >&3
		on_kill domU1 pr KILL >/dev/null
		return 1
	fi
	bb_port=$(on_out domU1 pr | sed -n 's/^port //p')
	# shellcheck disable=SC2086 # RESPONDER is a command and its options
	if ! bb_out=$(hdmabuf-bench $2 --reps "$bb_reps" \
		--bell "xen-connect:$(hdx_domid domU1):$bb_port" 2>&1); then
		diag "$bb_out"
		on_kill domU1 pr KILL >/dev/null
		return 1
	fi
	bb_out=$(on_wait domU1 pr 120) || { diag "$bb_out"; return 1; }
	keep "$bb_out"
}

if [ "$series" = all ]; then
	# 4 KiB, 64 KiB, 1 MiB, 8 MiB (1080p RGBA), 33 MiB (4K RGBA), in batches
	# of at most 96 MiB live.
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
		done_reps=0
		while [ "$done_reps" -lt "$reps" ]; do
			floor_batch "$size" "$batch" || break
			done_reps=$((done_reps + batch))
		done
		if [ "$done_reps" -ge "$reps" ]; then
			ok "floor $size: $done_reps raw grant maps timed"
		else
			not_ok "floor $size: $reps raw grant maps timed (only $done_reps)"
		fi
	done
fi

# --- event and frame latency and the raw event-channel round trip ----------
# Three rounds, each kind in turn, so that the machine's drift hits all:
# the raw round trip; NEW events and frames (PRESENT to FRAME) of a 1080p
# buffer, each rung back raw; PRESENT to FRAME_RELEASED; and $frames
# frames through a swapchain of three 1080p buffers.
from=$(hdx_domid domU1)
for round in 1 2 3; do
	check "round $round: $events raw event-channel round trips" \
		pair ping pong
	check "round $round: $events events, each rung back raw" \
		pair "event --to 0" "event-echo --from $from"
	check "round $round: $events frames, each rung back raw" \
		pair "frame --to 0" "frame-echo --from $from --ring"
	check "round $round: $events frames presented and released" \
		pair "frame-release --to 0" "frame-echo --from $from"
	check "round $round: $frames frames through three 1080p buffers" \
		pair "swapchain --to 0" "frame-echo --from $from --buffers 3" \
		$frames
done

if [ "$series" = all ]; then
	# --- scale: 10 live exports, then $scale -----------------------------------
	on_bg domU1 sc "exec hdmabuf-bench scale --to 0 --count $scale"
	if hdx_wait 120 wait_line domU1 sc "ready 10" &&
	   out=$(hdmabuf-bench scale-import --from "$from" --count 10 2>&1); then
		ok "scale: dom0 lists and imports at 10 live buffers"
		keep "$out"
		# What the exporter measured so far (job output is kept as a tail).
		keep "$(on_out domU1 sc)"
	else
		not_ok "scale: dom0 lists and imports at 10 live buffers"
	fi
	on_kill domU1 sc USR1 >/dev/null
	if hdx_wait 1200 wait_line domU1 sc "ready $scale" &&
	   out=$(hdmabuf-bench scale-import --from "$from" --count $scale 2>&1); then
		ok "scale: dom0 lists and imports at $scale live buffers"
		keep "$out"
	else
		on_out domU1 sc | sed 's/^/# /' >&3
		not_ok "scale: dom0 lists and imports at $scale live buffers"
	fi
	on_kill domU1 sc USR1 >/dev/null
	if out=$(on_wait domU1 sc 1200); then
		ok "scale: domU1 unexports all $scale"
		# The tail of the job's output: only what came after "ready 10".
		keep "$(echo "$out" | grep -E "^sample [a-z-]+-at-$scale |^note ")"
	else
		diag "$out"
		not_ok "scale: domU1 unexports all $scale"
	fi
fi
hdx_export $bench bench.txt
