# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# hdx-lib.sh: the Xen rig's library for dom0, sourced by dom0's /init and by
# every scenario (busybox sh).  See README.md next to it for the full API.
#
# Domains are named "dom0" (or 0), "domU1", "domU2", or by numeric domid.
#
#   ok DESC / not_ok DESC / skip DESC [WHY] / diag TEXT
#				TAP results on fd 3 (the host's results.tap)
#   check DESC CMD...		ok when CMD succeeds, else not_ok with its output
#   on DOM CMD...		run the shell command "CMD..." in DOM, print its
#				output (the first 1900 bytes in a domU), return
#				its exit status; 124 on timeout ($HDX_ON_TIMEOUT,
#				default 120 s), 125 when DOM is gone.  dom0 runs
#				it locally.  One at a time per domU.
#   on_bg DOM NAME CMD...	start CMD in the background in DOM as job NAME
#   on_kill DOM NAME [SIG]	signal job NAME's process group (default TERM)
#   on_wait DOM NAME [SECS]	wait for job NAME, print its output's tail,
#				return its exit status (124: still running)
#   on_out DOM NAME		print the tail of job NAME's output so far
#   hdx_domid DOM		print DOM's numeric domid
#   hdx_alive DOM		true while DOM exists
#   hdx_create NAME		xl create domU NAME (the rig's config)
#   hdx_xlat DOM		true when DOM is auto-translated (every domain on
#				arm64; none in the x86 rig, all PV)
#   hdx_ready NAME [SECS]	wait for NAME's agent (its modules are loaded)
#   hdx_destroy DOM		xl destroy DOM; teardown then skips it
#   hdx_forget DOMID		remove the links of a destroyed domain
#   hdx_link A B / hdx_unlink A B	hdmabuf-xen-link, by name
#   hdx_expect_peers DOM DOMID...	DOM's hyper_dmabuf reaches exactly
#				those domains (rig-xen-peers, the INFO ioctl)
#   hdx_export FILE [NAME]	copy a dom0 file to the host's files/NAME
#   hdx_host REQUEST		ask the host's daemon (rig/scanout-check
#				serve), print its one-line answer
#   hdx_wait SECS CMD...	retry CMD every 0.5 s until it succeeds
#
# The library uses file descriptors 3 (TAP) and 9.
# Variables: HDX_XEN is 1 when hyper_dmabuf_xen.ko is in the rig, else
# empty; HDX_DOMUS lists the domU names.

HDX_RUN=/run/hdx
HDX_ON_TIMEOUT=${HDX_ON_TIMEOUT:-120}
# shellcheck disable=SC2034 # for the scenarios
HDX_DOMUS="domU1 domU2"
HDX_XEN=
# shellcheck disable=SC2034 # for the scenarios
[ -e /modules/hyper_dmabuf_xen.ko ] && HDX_XEN=1
hdx_n=${hdx_n:-0}
hdx_failed=${hdx_failed:-0}

# --- TAP ------------------------------------------------------------------
# Each result also goes to the console, to follow a run in console.log.
hdx_tap() {
	echo "$*" >&3
	echo "hdx [$(cut -d' ' -f1 /proc/uptime)]: $*" >/dev/console
}
ok() {
	hdx_n=$((hdx_n + 1))
	hdx_tap "ok $hdx_n $*"
}
not_ok() {
	hdx_n=$((hdx_n + 1))
	hdx_failed=$((hdx_failed + 1))
	hdx_tap "not ok $hdx_n $*"
}
skip() {
	hdx_n=$((hdx_n + 1))
	hdx_tap "ok $hdx_n $1 # SKIP${2:+ $2}"
}
diag() {
	printf '%s\n' "$*" | sed 's/^/# /' >&3
}
check() {
	_d=$1
	shift
	if "$@" >/tmp/hdx-check.out 2>&1; then
		ok "$_d"
	else
		_rc=$?
		sed 's/^/# /' /tmp/hdx-check.out | head -n 40 >&3
		not_ok "$_d (status $_rc)"
	fi
}

# --- domains --------------------------------------------------------------
# hdx_create records each domU's domid in $HDX_RUN/domid.NAME: xl is slow.
hdx_domid() {
	case "$1" in
	0|dom0|Domain-0)	echo 0 ;;
	*[!0-9]*)
		if [ -s "$HDX_RUN/domid.$1" ]; then
			cat "$HDX_RUN/domid.$1"
		else
			xl domid "$1" 2>/dev/null
		fi ;;
	*)		echo "$1" ;;
	esac
}

# libxl removes a domain's xenstore home when the domain goes.
hdx_alive() {
	_a=$(hdx_domid "$1")
	[ -n "$_a" ] && xenstore-exists "/local/domain/$_a" 2>/dev/null
}

# hdx_create NAME: create domU NAME (the rig's kernel and initramfs; PV on
# x86, auto-translated on arm64, which has no other type)
hdx_create() {
	# arm64: 128 MiB more, which the balloon keeps for imports (below)
	if [ -e /guest/Image.gz ]; then
		_k=/guest/Image.gz _t='' _m=384
	else
		_k=/guest/vmlinux.gz _t='type = "pv"' _m=256
	fi
	cat >"/etc/xen/$1.cfg" <<-EOF
	name = "$1"
	$_t
	kernel = "$_k"
	ramdisk = "/guest/domu.cpio.gz"
	extra = "console=hvc0 loglevel=5"
	memory = $_m
	vcpus = 1
	max_grant_frames = 1024
	max_maptrack_frames = 4096
	on_poweroff = "destroy"
	on_reboot = "destroy"
	on_crash = "destroy"
	EOF
	rm -f "$HDX_RUN/domid.$1"
	xl create "/etc/xen/$1.cfg" || return
	xl domid "$1" >"$HDX_RUN/domid.$1"
	# Imports map grants onto ballooned pages where the kernel has no
	# unpopulated-page allocator (Debian's arm64 kernel: no ZONE_DEVICE),
	# and an empty balloon is refilled by memory hotplug, which 6.1
	# gets wrong on arm64 (a vmemmap_populate() warning: struct pages
	# below the vmemmap).  Stock the balloon, as a deployment would:
	# 128 MiB of the 384 go back to Xen, for the imports.  (The balloon
	# follows memory/target; xl mem-set would set it, but aborts on
	# arm64 in 4.17: a libxl_defbool_val assertion.)
	if hdx_xlat "$1"; then
		xenstore-write "/local/domain/$(hdx_domid "$1")/memory/target" \
			262144 || return
	fi
}

# hdx_xlat DOM: on arm64 every domain is auto-translated (Xen has no PV
# there); the x86 rig's domains are all PV.
hdx_xlat() {
	[ "$(uname -m)" = aarch64 ]
}

# hdx_ready NAME [SECS]: wait (default 120 s) for NAME's agent
hdx_ready() {
	_r=$(hdx_domid "$1")
	[ -n "$_r" ] &&
		hdx_wait "${2:-120}" \
			xenstore-exists "/local/domain/$_r/data/hdtest/ready"
}

# hdx_destroy DOM: xl destroy; the teardown then skips DOM (unless it is
# created again).  Its links stay in the others' xenstore trees until
# hdx_forget.
hdx_destroy() {
	_id=$(hdx_domid "$1")
	[ -n "$_id" ] || return 1
	_n=$(xl domname "$_id") || return 1
	echo "$_n $_id" >>"$HDX_RUN/destroyed"
	rm -f "$HDX_RUN/domid.$_n"
	xl destroy "$_id"
}

# hdx_link A B / hdx_unlink A B: hdmabuf-xen-link with domain names
hdx_link() {
	hdmabuf-xen-link "$(hdx_domid "$1")" "$(hdx_domid "$2")"
}
hdx_unlink() {
	hdmabuf-xen-link -u "$(hdx_domid "$1")" "$(hdx_domid "$2")"
}

# hdx_forget DOMID: remove every link node to DOMID (a destroyed domain)
# from the other domains' xenstore trees, as a toolstack would.
hdx_forget() {
	for _p in $(xenstore-list /local/domain 2>/dev/null); do
		for _t in backend/hyper_dmabuf device/hyper_dmabuf; do
			_x=/local/domain/$_p/$_t/$1
			if xenstore-exists "$_x" 2>/dev/null; then
				xenstore-rm "$_x"
			fi
		done
	done
}

# hdx_expect_peers DOM DOMID...: DOM's own vmid is its domid and it reaches
# exactly the DOMIDs.  On failure, $hdx_seen says what it reported.
hdx_expect_peers() {
	_ep=$1
	shift
	_want=$(echo "$@" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
	hdx_seen=$(on "$_ep" rig-xen-peers) || return 1
	case "$hdx_seen" in
	"vmid=$(hdx_domid "$_ep") "*) ;;
	*) return 1 ;;
	esac
	[ "$(echo "${hdx_seen##*peers=}" | tr , '\n' | sort -n |
		tr '\n' ' ' | sed 's/ $//')" = "$_want" ]
}

# hdx_uptime: whole seconds since dom0 booted
hdx_uptime() {
	read -r _u _ </proc/uptime
	echo "${_u%.*}"
}

hdx_wait() {
	_end=$(($(hdx_uptime) + $1))
	shift
	until "$@"; do
		[ "$(hdx_uptime)" -lt $_end ] || return 1
		usleep 500000
	done
}

# --- remote execution -----------------------------------------------------
# dom0 writes "SEQ<newline>COMMAND" to /local/domain/N/data/hdtest/cmd; the
# domU's agent (hdx-agent) sees it through a xenstore watch, runs COMMAND
# with sh -c, and writes "SEQ STATUS<newline>OUTPUT" to .../done.  dom0
# waits on a watch of done, read from a fifo on fd 9 with a 2 s timeout to
# notice a dead domain.  Values go raw (-R) both ways.
HDX_NL='
'
on() {
	_dom=$1
	shift
	_id=$(hdx_domid "$_dom")
	if [ -z "$_id" ]; then
		echo "on: no domain $_dom" >&2
		return 125
	fi
	if [ "$_id" = 0 ]; then
		sh -c "$*"
		return
	fi
	_b=/local/domain/$_id/data/hdtest
	_seq=0
	[ -e "$HDX_RUN/seq.$_id" ] && read -r _seq <"$HDX_RUN/seq.$_id"
	_seq=$((_seq + 1))
	echo $_seq >"$HDX_RUN/seq.$_id"
	_f=$HDX_RUN/watch.$_id
	[ -p "$_f" ] || mkfifo "$_f"
	xenstore-watch "$_b/done" >"$_f" 2>/dev/null &
	_w=$!
	exec 9<"$_f"
	_rc=0
	if xenstore-write -R "$_b/cmd" "$_seq$HDX_NL$*"; then
		# Not _end: hdx_wait's, which runs "on" in its loop.
		_on_end=$(($(hdx_uptime) + HDX_ON_TIMEOUT))
		# The watch fires once when set, then on every write of done.
		while :; do
			# shellcheck disable=SC3045 # busybox sh has read -t
			read -r -t 2 _ <&9
			_r=$?
			_done=$(xenstore-read -R "$_b/done" 2>/dev/null)
			[ "${_done%%[ "$HDX_NL"]*}" = "$_seq" ] && break
			[ $_r = 0 ] && continue
			# A timeout, or a dead watch (EOF at once, so pause):
			# is the domain still there?
			usleep 200000
			if ! hdx_alive "$_id"; then
				echo "on: domain $_dom is gone" >&2
				_rc=125
				break
			fi
			if [ "$(hdx_uptime)" -ge $_on_end ]; then
				echo "on: $_dom: timed out after ${HDX_ON_TIMEOUT}s: $*" >&2
				_rc=124
				break
			fi
		done
	else
		_rc=125
	fi
	kill $_w 2>/dev/null
	wait $_w 2>/dev/null
	exec 9<&-
	[ $_rc = 0 ] || return $_rc
	case "$_done" in
	*"$HDX_NL"*)	printf '%s\n' "${_done#*"$HDX_NL"}" ;;
	esac
	_done=${_done%%"$HDX_NL"*}
	return "${_done#* }"
}

# Background jobs are run by hdx-bg in the target domain.
on_bg() {
	_dom=$1 _name=$2
	shift 2
	on "$_dom" hdx-bg start "$_name" "$(hdx_quote "$*")"
}
on_kill() {
	on "$1" hdx-bg kill "$2" "${3:-TERM}"
}
on_wait() {
	on "$1" hdx-bg wait "$2" "${3:-60}"
}
on_out() {
	on "$1" hdx-bg out "$2"
}

# hdx_quote STRING: STRING as one single-quoted shell word
hdx_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# --- the host's daemon ----------------------------------------------------
# $HDX_HOST (ttyS2, or the virtio-serial port hdx.host on arm64) reaches the
# host's daemon, which answers one line per request line.  The exchange is
# bounded as a whole (a write to a virtio-serial port blocks while the
# host's end is not connected), and first drains any late answer to an
# earlier request.  Fails when no answer comes within 60 s.
hdx_host() {
	[ -n "${HDX_HOST:-}" ] || return 1
	# shellcheck disable=SC2016,SC3045 # for sh -c; busybox sh has read -t
	hh_ans=$(timeout 90 sh -c '
		exec 9<>"$1"
		while IFS= read -r -t 1 _ <&9; do :; done
		printf "%s\n" "$2" >&9
		IFS= read -r -t 60 a <&9 || exit 1
		printf "%s\n" "$a"' sh "$HDX_HOST" "$*") || return 1
	printf '%s\n' "$hh_ans" | tr -d '\r'
}

# --- files to the host ----------------------------------------------------
# The bulk channel is QEMU's debugcon (I/O port 0xe9), written by
# rig-xen-bulk, or on arm64 the virtio-serial port $HDX_BULK; the host
# splits it into logs/ and files/.
hdx_bulk() {
	if [ -n "${HDX_BULK:-}" ]; then
		cat >"$HDX_BULK"
	else
		rig-xen-bulk
	fi
}
hdx_ship_log() {	# hdx_ship_log NAME FILE
	{
		echo "@@hdx begin log $1"
		cat "$2"
		echo
		echo "@@hdx end log $1"
	} | hdx_bulk
}
hdx_export() {		# hdx_export FILE [NAME]
	_name=${2:-${1##*/}}
	[ -r "$1" ] || { echo "hdx_export: cannot read $1" >&2; return 1; }
	{
		echo "@@hdx begin file $_name"
		base64 "$1"
		echo "@@hdx end file $_name $(md5sum <"$1" | cut -d' ' -f1)"
	} | hdx_bulk
}
