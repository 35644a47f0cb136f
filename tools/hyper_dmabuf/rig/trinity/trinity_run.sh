#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trinity_run.sh: Debian's trinity, Dave Jones's system call fuzzer, on
# hyper_dmabuf's descriptors in the plain rig (loopback backend).  Prints
# TAP; exit status 0 when all passed, 1 otherwise (also when trinity is
# missing or could not run).  POSIX sh: runs under busybox.
#
# rig-trinity opens /dev/hyper_dmabuf, exports two vgem buffers to this VM
# and imports them back, and hands trinity the device file holding the
# exports, the exported dma-bufs, the imports' dma-bufs and fresh opens of
# the device (rig-trinity.c says how: trinity opens nothing but paths).
# trinity then makes a fixed count of the system calls below, all on those
# descriptors (its other descriptor sources are off), from a fixed seed.
#
# Parameters (kernel command line, or /etc/trinity.env from pack.sh):
#   trinity_syscalls=N	system calls to make (default 5000: about a
#			minute on the KASAN kernel; the rig runs it
#			before the other suites, whose leftovers make
#			trinity three times slower)
#   trinity_seed=S	trinity's seed (default 1)
#   trinity_children=C	trinity's child processes (default 2)
#   trinity_timeout=S	fail when the calls take longer (default 900, a
#			guard against a hang, not a measure of speed)
# The seed fixes each child's sequence of calls; with more than one child
# their interleaving still varies from run to run.

# shellcheck source=/dev/null
[ -r /etc/trinity.env ] && . /etc/trinity.env
syscalls=${trinity_syscalls:-5000}
seed=${trinity_seed:-1}
children=${trinity_children:-2}
limit=${trinity_timeout:-900}
# What reaches a driver's file: its file operations, and the mm calls on
# its mappings.  Not open (trinity may only reopen paths), not splice,
# sendfile, flock, mlock or select (the core's code, not ours; flock and
# select only block trinity's children on each other).  Not munmap: once a
# child has unmapped all its mappings, trinity (1.9+git20230109) spins in
# get_map() on its next mm call, and its watchdog never kills a child
# that is not inside a system call.  Our mappings are still unmapped when
# mremap moves them and when each child exits.
calls="ioctl read write pread64 pwrite64 readv writev lseek mmap mremap
mprotect madvise msync poll ppoll fcntl newfstat dup dup2 dup3 close"

stats=/sys/kernel/debug/hyper_dmabuf/stats
work=/tmp/trinity
victims=/tmp/trinity-victims
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
}

# show FILE [LINES]: the end of FILE as TAP diagnostics
show() {
	[ -s "$1" ] && tail -n "${2:-20}" "$1" | sed "s|^|# ${1##*/}: |"
}

echo "TAP version 13"
echo "1..3"
echo "# trinity: $syscalls syscalls, seed $seed, $children children;" \
	"replay: kernel parameters trinity_syscalls=$syscalls trinity_seed=$seed"

rm -rf "$work" "$victims"
mkdir -p "$work" "$victims"
# trinity adds the -V path itself to its victims unless it may not read
# it; root still lists it (CAP_DAC_READ_SEARCH).
chmod 0111 "$victims"

set --
for c in $calls; do
	set -- "$@" -c "$c"
done

taint0=$(cat /proc/sys/kernel/tainted)
dmesg >"$work/dmesg.before"
uptime_s() {
	cut -d. -f1 /proc/uptime
}
t0=$(uptime_s)
(
	cd "$work" || exit 1
	# Root (--dangerous) with --clowntown: no ten-second countdown.  -a 64:
	# the debug kernel has no 32-bit system calls.  SIGINT at the time
	# limit: trinity stops its children and still prints its statistics.
	exec rig-trinity "$victims" timeout -s INT "$limit" \
		env LD_PRELOAD=/lib/rig-trinity-victims.so \
		RIG_TRINITY_VICTIMS="$victims" \
		trinity --dangerous --clowntown -q --stats -a 64 -C "$children" \
		-N "$syscalls" -s "$seed" -V "$victims" --enable-fds=pseudo "$@"
) >"$work/out.log" 2>&1 3>&- &
pid=$!
# trinity_spinning DIR: /proc/DIR is a child of trinity's main process
# that runs in user space (its kernel stack is empty, or only the way back
# to user mode from an interrupt), outside any system call.
trinity_spinning() {
	ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "$1/status" 2>/dev/null)
	grep -q '^Name:.*trinity' "/proc/$ppid/status" 2>/dev/null || return 1
	[ "$(cut -d' ' -f1 "$1/syscall" 2>/dev/null)" = running ] || return 1
	! grep -v 'exit_to_user_mode\|asm_sysvec_\|asm_common_interrupt' \
		"$1/stack" 2>/dev/null | grep -q .
}

# Progress every 30 s: trinity's children log one line per call.  When
# there was none for 60 s, say once where each of trinity's processes is.
# trinity (1.9+git20230109) has more than one loop of its own in which a
# child may spin for good outside any system call (see munmap above), and
# its watchdog only kills children stuck inside one: after 60 s without a
# call, such a child is killed, and trinity starts another in its place.
# A child stuck in the kernel is left alone, and the time limit fails the
# run.
next=30
last=-1
stalled=0
spun=0
while kill -0 $pid 2>/dev/null; do
	sleep 1
	t=$(($(uptime_s) - t0))
	[ $t -lt $next ] && continue
	next=$((next + 30))
	logged=$(cat "$work"/trinity-child*.log 2>/dev/null | wc -l)
	echo "# trinity: $t s, $logged calls logged"
	if [ "$logged" -ne "$last" ]; then
		last=$logged
		stalled=0
		continue
	fi
	stalled=$((stalled + 1))
	[ $stalled -ge 2 ] || continue
	for d in /proc/[0-9]*; do
		grep -q '^Name:.*trinity' "$d/status" 2>/dev/null || continue
		[ $stalled -eq 2 ] && echo "# stalled: pid ${d#/proc/}" \
			"$(grep '^State:' "$d/status" | tr -s '\t ' ' ')" \
			"wchan $(cat "$d/wchan" 2>/dev/null)" \
			"syscall $(cut -d' ' -f1-3 "$d/syscall" 2>/dev/null)" &&
			sed 's/^/#   /' "$d/stack" 2>/dev/null | head -n 12
		trinity_spinning "$d" || continue
		kill -KILL "${d#/proc/}" 2>/dev/null || continue
		spun=$((spun + 1))
		echo "# trinity: child ${d#/proc/} spun in user space for 60 s:" \
			"killed, trinity starts another"
	done
done
wait $pid
rc=$?
t=$(($(uptime_s) - t0))
ran=$(sed -n 's/.*Ran \([0-9]*\) syscalls.*/\1/p' "$work/out.log" | tail -n 1)
reached=$(sed -n 's/^# ioctls during the run: calls \([0-9]*\) dispatched \([0-9]*\)$/\1/p' \
	"$work/out.log")
dispatched=$(sed -n 's/^# ioctls during the run: calls [0-9]* dispatched \([0-9]*\)$/\1/p' \
	"$work/out.log")
grep '^# victim' "$work/out.log"
grep -h 'Bailing main loop\|Ran [0-9]* syscalls' "$work/out.log" | sed 's/^/# /'
# --stats: per call, attempts, successes and failures by errno
sed -n '/^[a-z0-9_]*: (attempted:/,$p' "$work/out.log" | head -n 120 |
	sed 's/^/# stats: /'
echo "# trinity: ${t} s, $spun children killed for spinning in user space"

if [ $t -ge "$limit" ]; then
	show "$work/out.log" 40
	for f in "$work"/trinity-child*.log; do
		show "$f" 5
	done
	not_ok "trinity ran ${ran:-0} of $syscalls syscalls in the $limit s allowed"
elif [ $rc -eq 0 ] && [ -n "$ran" ] && [ "$ran" -gt 0 ]; then
	ok "trinity ran $ran syscalls (seed $seed) in $t s"
else
	show "$work/out.log" 40
	for f in "$work"/trinity-child*.log; do
		show "$f" 5
	done
	not_ok "trinity ran (exit $rc)"
fi

# Any new taint bit (D oops, W warning, B bad page, ...) or kernel
# complaint while trinity ran.
taint1=$(cat /proc/sys/kernel/tainted)
dmesg | grep -v -x -F -f "$work/dmesg.before" |
	grep -E 'BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|INFO: task|lockdep|leak' \
	>"$work/complaints"
if [ "$taint1" != "$taint0" ] || [ -s "$work/complaints" ]; then
	show "$work/complaints" 40
	not_ok "trinity: ${ran:-0} syscalls, ${reached:-0} reached hyper_dmabuf" \
		"ioctls: the kernel complained (taint $taint0 -> $taint1)"
elif [ -z "$reached" ] || [ "$reached" -eq 0 ]; then
	not_ok "trinity: ${ran:-0} syscalls, none reached hyper_dmabuf ioctls"
else
	ok "trinity: ${ran:-0} syscalls, $reached reached hyper_dmabuf ioctls" \
		"($dispatched past the command check), no oops"
fi

# Everything trinity and rig-trinity held is closed: nothing may be left.
# Release is asynchronous: give the counters up to 20 s.
i=0
while grep -qv ': 0$' $stats && [ $i -lt 200 ]; do
	usleep 100000
	i=$((i + 1))
done
if grep -qv ': 0$' $stats; then
	not_ok "hyper_dmabuf counters back to zero after trinity:" \
		"$(tr '\n' ' ' <$stats)"
else
	ok "hyper_dmabuf counters back to zero after trinity"
fi

rm -rf "$work" "$victims"
[ $failed -eq 0 ]
