# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# msg-path.sh: checks of the frame path's latency cut, for the scan-out
# scenarios of both rigs (each has its own on, ok, not_ok and diag).  A
# message reaches the peer's core from its backend's threaded interrupt
# handler, with no workqueue between; the calls a peer waits on (EXPORT,
# PRESENT, RELEASE_FRAME) send from their own context when the channel has
# room.  guest/hd-msg-path counts both in a VM.

# msg_path_check EXPORTER IMPORTER EXPORTER_BEFORE IMPORTER_BEFORE: what
# the two VMs did since the hd-msg-path lines given
msg_path_check() {
	_mp_e=$(on "$1" "hd-msg-path since '$3'")
	_mp_i=$(on "$2" "hd-msg-path since '$4'")
	# shellcheck disable=SC2086 # "threads N switches S direct D deferred F"
	set -- "$1" "$2" $_mp_i
	if [ "${4:-0}" -ge 1 ] && [ "${6:-0}" -ge 1 ]; then
		ok "$2 receives in threaded interrupt handlers ($4), woken $6 times"
	else
		not_ok "$2 receives in threaded interrupt handlers"
		diag "$_mp_i"
	fi
	if [ "${8:-0}" -ge 1 ]; then
		ok "$2's RELEASE_FRAMEs send from the call: direct $8, deferred ${10}"
	else
		not_ok "$2's RELEASE_FRAMEs send from the call"
		diag "$_mp_i"
	fi
	# shellcheck disable=SC2086
	set -- "$1" "$2" $_mp_e
	if [ "${8:-0}" -ge 1 ]; then
		ok "$1's EXPORTs and PRESENTs send from the call: direct $8, deferred ${10}"
	else
		not_ok "$1's EXPORTs and PRESENTs send from the call"
		diag "$_mp_e"
	fi
}
