# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# hda-lib.sh: the ACRN-model rig's host library, sourced (bash) by acrn.sh
# and by every scenario.  See README.md next to it.
#
# VMs are named "sos" (VM id 0), "uos1" and "uos2" (VM ids 1 and 2).
#
#   ok DESC / not_ok DESC / skip DESC [WHY] / diag TEXT
#				TAP results on fd 3 (results.tap)
#   check DESC CMD...		ok when CMD succeeds, else not_ok with its output
#   fails_with DESC TEXT CMD...	ok when CMD exits 1 saying TEXT (grep)
#   on VM CMD...		run the shell command "CMD..." in VM (sh -c),
#				print its output, return its exit status; 124
#				on timeout ($HDA_ON_TIMEOUT, default 120 s),
#				125 when VM's QEMU is gone
#   on_bg VM NAME CMD...	start CMD in the background in VM as job NAME
#				(hdx-bg; output in VM's /tmp/hdx/bg/NAME.out)
#   on_kill VM NAME [SIG]	signal job NAME's process group (default TERM)
#   on_wait VM NAME [SECS]	wait (default 60 s) for job NAME, print its
#				output's tail, return its status (124: running)
#   on_out VM NAME		print the tail of job NAME's output so far
#   on_wait_line VM NAME ERE [SECS]
#				wait (default 30 s) for a line of job NAME's
#				output matching ERE (grep -E)
#   vm_alive VM			true while VM's QEMU runs
#   vm_kill VM			SIGKILL VM's QEMU (a VM dying); the teardown
#				then skips VM
#   vm_restart VM		boot VM anew after vm_kill, wait for its agent;
#				the teardown checks it again
#   hda_vmid VM			print VM's id
#   hda_wait SECS CMD...	retry CMD every 0.5 s until it succeeds
#   hda_quote STRING		STRING as one single-quoted shell word
#   hda_fault KIND		"FILE VALUE": the parameter file that arms
#				fault KIND and what to write, for this run's
#				transport (see below)
#   hda_arm VM KIND		arm fault KIND in VM
#   hda_link VM VMID		"TRANSPORT STATE DROPS WHY" of VM's link to
#				VMID, from the driver's links file
#
# The library uses file descriptor 3 (TAP).  Variables from acrn.sh:
# HDA_RUN (FIFOs, pids), HDA_OUT (the output directory), HDA_T0 (the
# epoch second the VMs started, for progress.log); HDA_ACRN is 1 when
# hyper_dmabuf_acrn.ko is in the rig, else empty; HDA_TRANSPORT is the
# links' transport, "mailbox" or "virtio" (acrn.sh --transport).

HDA_ON_TIMEOUT=${HDA_ON_TIMEOUT:-120}
HDA_TRANSPORT=${HDA_TRANSPORT:-mailbox}
# shellcheck disable=SC2034 # for the scenarios
HDA_UOSES="uos1 uos2"
# shellcheck disable=SC2034 # for the scenarios
HDA_VMS="sos uos1 uos2"
hda_n=${hda_n:-0}
hda_failed=${hda_failed:-0}

# --- TAP ------------------------------------------------------------------
# Each result also goes to progress.log, to follow a run.
hda_log() {
	printf '[%4d] %s\n' $((EPOCHSECONDS - HDA_T0)) "$*" \
		>>"$HDA_OUT/progress.log"
}
hda_tap() {
	echo "$*" >&3
	hda_log "$*"
}
ok() {
	hda_n=$((hda_n + 1))
	hda_tap "ok $hda_n $*"
}
not_ok() {
	hda_n=$((hda_n + 1))
	hda_failed=$((hda_failed + 1))
	hda_tap "not ok $hda_n $*"
}
skip() {
	hda_n=$((hda_n + 1))
	hda_tap "ok $hda_n $1 # SKIP${2:+ $2}"
}
diag() {
	printf '%s\n' "$*" | sed 's/^/# /' >&3
}
check() {
	local d=$1 out rc
	shift
	if out=$("$@" 2>&1); then
		ok "$d"
	else
		rc=$?
		printf '%s\n' "$out" | head -n 40 | sed 's/^/# /' >&3
		not_ok "$d (status $rc)"
	fi
}
fails_with() {
	local d=$1 text=$2 out rc
	shift 2
	out=$("$@")
	rc=$?
	if [ $rc = 1 ] && grep -q "$text" <<<"$out"; then
		ok "$d"
	else
		diag "status $rc, output: $out"
		not_ok "$d"
	fi
}

# --- VMs ------------------------------------------------------------------
hda_vmid() {
	case "$1" in
	sos|0)		echo 0 ;;
	uos1|1)		echo 1 ;;
	uos2|2)		echo 2 ;;
	*)		return 1 ;;
	esac
}

vm_alive() {
	local pid
	pid=$(cat "$HDA_RUN/$1.pid" 2>/dev/null) && [ -n "$pid" ] &&
		kill -0 "$pid" 2>/dev/null
}

vm_kill() {
	local pid
	pid=$(cat "$HDA_RUN/$1.pid" 2>/dev/null) || return 1
	echo "$1" >>"$HDA_RUN/killed"
	hda_log "vm_kill $1 (qemu pid $pid)"
	kill -KILL "$pid" || return 1
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# vm_restart VM [LIFE]: start VM killed by vm_kill anew, as its first
# boot did (the console of its LIFE, default life2, is
# VM-LIFE-console.log), and wait until its agent is up; the teardown
# checks it again.
vm_restart() {
	local off life=${2:-life2}
	vm_alive "$1" && return 1
	off=$(stat -c %s "$HDA_RUN/$1.agent")
	hda_log "vm_restart $1 ($life)"
	setsid "$HDA_RUN/$1.boot" "$life" </dev/null >/dev/null 2>&1 &
	# The old reader of VM.out saw its end when the old QEMU went.
	# shellcheck disable=SC2016 # the inner shell's arguments
	setsid sh -c 'cat "$1" >>"$2"' sh "$HDA_RUN/$1.out" \
		"$HDA_RUN/$1.agent" </dev/null >/dev/null 2>&1 &
	# shellcheck disable=SC2016 # the inner shell's arguments
	hda_wait 240 sh -c 'tail -c +$(($2 + 1)) "$1" | grep -aq "^@@hda-ready"' \
		sh "$HDA_RUN/$1.agent" "$off" || return 1
	sed -i "/^$1\$/d" "$HDA_RUN/killed"
}

hda_wait() {
	local end=$((SECONDS + ${1:-0}))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.5
	done
}

hda_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# --- remote execution -----------------------------------------------------
# The request goes to the VM's FIFO $HDA_RUN/VM.in (acrn.sh holds it open,
# so a write never blocks); a reader of VM.out appends everything the agent
# says to $HDA_RUN/VM.agent.  See hda-agent for the format.
on() {
	local vm=$1 tok off end rc log line
	shift
	log=$HDA_RUN/$vm.agent
	if [ ! -e "$log" ]; then
		echo "on: no VM $vm" >&2
		return 125
	fi
	if ! vm_alive "$vm"; then
		echo "on: $vm is gone" >&2
		return 125
	fi
	tok=$BASHPID.$RANDOM$RANDOM
	off=$(stat -c %s "$log")
	hda_log "on $vm [$tok]: $*"
	printf '%s %s\n' "$tok" "$(printf '%s' "$*" | base64 -w0)" \
		>"$HDA_RUN/$vm.in"
	end=$((SECONDS + HDA_ON_TIMEOUT))
	while :; do
		line=$(tail -c +$((off + 1)) "$log" |
			grep -a -m1 "^@@hda-end $tok ")
		[ -n "$line" ] && break
		if ! vm_alive "$vm"; then
			echo "on: $vm is gone" >&2
			return 125
		fi
		if [ $SECONDS -ge $end ]; then
			echo "on: $vm: timed out after ${HDA_ON_TIMEOUT}s: $*" >&2
			return 124
		fi
		sleep 0.05
	done
	tail -c +$((off + 1)) "$log" |
		sed -n "/^@@hda-begin $tok\$/,/^@@hda-end $tok /{/^@@hda-/d;p}" |
		base64 -d
	rc=${line##* }
	hda_log "on $vm [$tok]: status $rc"
	return "$rc"
}

# Background jobs are run by hdx-bg (from the Xen rig) in the target VM.
on_bg() {
	local vm=$1 name=$2
	shift 2
	on "$vm" hdx-bg start "$name" "$(hda_quote "$*")"
}
on_kill() {
	on "$1" hdx-bg kill "$2" "${3:-TERM}"
}
on_wait() {
	local s=${3:-60}
	HDA_ON_TIMEOUT=$((s + 30)) on "$1" hdx-bg wait "$2" "$s"
}
on_out() {
	on "$1" hdx-bg out "$2"
}
on_wait_line() {
	local s=${4:-30}
	HDA_ON_TIMEOUT=$((s + 30)) on "$1" "i=0
		while ! grep -Eq $(hda_quote "$3") /tmp/hdx/bg/$2.out 2>/dev/null; do
			[ \$i -lt $((s * 10)) ] || exit 1
			usleep 100000
			i=\$((i + 1))
		done"
}

# --- transports -------------------------------------------------------------
# The test builds' faults (CONFIG_HYPER_DMABUF_ACRN_TEST_FAULTS): each
# module's parameter "fault", one-shot on the VM's next share or send but
# deaf, which lasts until none.  hyper_dmabuf_acrn's ring-lie and flood lie
# about the mailbox's rings, which a virtio link does not have; there the
# transport module's faults stand for them.
HDA_FAULT=/sys/module/hyper_dmabuf_acrn/parameters/fault
HDA_VFAULT=/sys/module/hyper_dmabuf_virtio_ivshmem/parameters/fault
# One line a link: "vm ID mailbox|virtio up|down drops N why TEXT|-".
HDA_LINKS=/sys/kernel/debug/hyper_dmabuf_acrn/links

# hda_fault KIND: "FILE VALUE".  KIND ring-lie, a lie about the ring that
# costs the UOS its link until it attaches again: mailbox ring-lie, virtio
# avail-jump.  flood, a storm of doorbells that changes nothing: mailbox
# flood, virtio notify-flood.  The virtio transport's own (desc-oob,
# chain-loop, chain-long, indirect-oob, avail-jump, notify-flood) go to its
# module; anything else (gpa-oob, deaf, none...) to hyper_dmabuf_acrn.
hda_fault() {
	case "$HDA_TRANSPORT:$1" in
	virtio:ring-lie)	echo "$HDA_VFAULT avail-jump" ;;
	virtio:flood)		echo "$HDA_VFAULT notify-flood" ;;
	*:desc-oob|*:chain-loop|*:chain-long|*:indirect-oob|*:avail-jump|\
	*:notify-flood)
				echo "$HDA_VFAULT $1" ;;
	*)			echo "$HDA_FAULT $1" ;;
	esac
}

hda_arm() {
	local f
	f=$(hda_fault "$2")
	on "$1" "echo ${f#* } >${f%% *}"
}

# hda_link VM VMID: "TRANSPORT STATE DROPS WHY" (WHY may have spaces: read
# it last); fails when VM lists no link to VMID
hda_link() {
	on "$1" cat "$HDA_LINKS" | awk -v id="$2" '
		$1 == "vm" && $2 == id {
			w = $8
			for (i = 9; i <= NF; i++)
				w = w " " $i
			print $3, $4, $6, w
			found = 1
		}
		END { exit !found }'
}

# hda_link_is VM VMID STATE DROPS: one result, that VM's link to VMID is
# on this run's transport, in STATE (up or down), with DROPS protocol
# drops (none since DROPS was read)
hda_link_is() {
	local tr st d
	read -r tr st d _ < <(hda_link "$1" "$2")
	if [ "$tr $st" = "$HDA_TRANSPORT $3" ] && [ "$d" = "$4" ]; then
		ok "$1's link to vm $2: $tr, $st, no protocol error ($d drops)"
	else
		not_ok "$1's link to vm $2: $HDA_TRANSPORT, $3, $4 drops (it says: $tr $st $d)"
	fi
}
