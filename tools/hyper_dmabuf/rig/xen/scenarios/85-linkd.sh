# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 85-linkd.sh: dom0's link daemon, hdmabuf-xen-linkd, links the domains
# its configuration lists as they come and removes their links as they go,
# with no hdmabuf-xen-link call.
#   - a bad configuration: the daemon exits 1 naming the line;
#   - at start it removes a link end to a gone domain, links the listed
#     pairs that are not linked yet and leaves the unlisted pair (domU1,
#     domU2) alone;
#   - it waits for watches with no timeout (its threads block, and never
#     wake while nothing happens);
#   - domU2 destroyed: dom0's end of their link goes; domU2 created again
#     (a new domid): linked again, and a buffer crosses the new link;
#   - SIGHUP with a bad configuration keeps the old one; with a group of
#     all three domains, domU1 and domU2 get linked.
# Leaves every pair linked, as 90-destroy.sh expects.

. /rig/hdx-share.sh

if [ -z "$HDX_XEN" ] || ! command -v hdmabuf >/dev/null; then
	skip "link daemon" "needs hyper_dmabuf_xen.ko and hdmabuf"
	return 0
fi

conf=/etc/hyper_dmabuf/xen-links.conf
log=/tmp/hdx/bg/linkd.out

# lk_paths A B: the frontend and backend nodes of the link between A and B
lk_paths() {
	_a=$(hdx_domid "$1") _b=$(hdx_domid "$2")
	if [ "$_a" -lt "$_b" ]; then _be=$_a _fe=$_b; else _be=$_b _fe=$_a; fi
	echo "/local/domain/$_fe/device/hyper_dmabuf/$_be" \
		"/local/domain/$_be/backend/hyper_dmabuf/$_fe/$_be"
}
lk_linked() {
	for _p in $(lk_paths "$1" "$2"); do
		xenstore-exists "$_p" 2>/dev/null || return 1
	done
}
lk_unlinked() {
	for _p in $(lk_paths "$1" "$2"); do
		! xenstore-exists "$_p" 2>/dev/null || return 1
	done
}
# lk_bad NAME CONTENT EXPECT: the daemon refuses CONTENT, saying EXPECT
lk_bad() {
	# shellcheck disable=SC2059 # the content is a format
	printf "$2" >/tmp/linkd-bad.conf
	_out=$(hdmabuf-xen-linkd -f -c /tmp/linkd-bad.conf 2>&1)
	_rc=$?
	case "$_rc $_out" in
	"1 "*"$3"*)	ok "a bad configuration ($1): exits 1, says \"$3\"" ;;
	*)		diag "status $_rc: $_out"
			not_ok "a bad configuration ($1): exits 1, says \"$3\"" ;;
	esac
}
# lk_idle PID: every thread of PID blocked, the main one in poll with no
# timeout, and none woken over 3 s
lk_switches() {
	cat /proc/"$1"/task/*/status |
		awk '/ctxt_switches/ { n += $2 } END { print n }'
}
lk_idle() {
	read -r _nr _a0 _a1 _a2 _rest </proc/"$1"/syscall
	diag "main thread's syscall: $_nr $_a0 $_a1 $_a2"
	case "$_nr $_a2" in
	# x86-64: poll (7) with timeout -1, ppoll (271) with no timeout;
	# arm64 has only ppoll (73)
	"7 0xffffffff"|"7 0xffffffffffffffff"|"271 0x0"|"73 0x0") ;;
	*)	echo "not in poll(-1)/ppoll(NULL): $_nr $_a2"; return 1 ;;
	esac
	_s0=$(lk_switches "$1")
	sleep 3
	_s1=$(lk_switches "$1")
	diag "context switches: $_s0, 3 s later $_s1"
	[ "$_s0" = "$_s1" ]
}

# lk_peers DESC DOM DOMID...: hdx_expect_peers (within 30 s) as one result
lk_peers() {
	lk_desc=$1
	shift
	if hdx_wait 30 hdx_expect_peers "$@"; then
		ok "$lk_desc ($hdx_seen)"
	else
		diag "got: $hdx_seen"
		not_ok "$lk_desc"
	fi
}

lk_bad "line 3" '# links\nlink Domain-0 domU1\nlink domU2\n' \
	"/tmp/linkd-bad.conf:3: link needs two domain names"
lk_bad "line 2" 'group a b\nlnk a b # typo\n' \
	"/tmp/linkd-bad.conf:2: unknown keyword"

# At start: dom0-domU1 is linked already, dom0-domU2 is listed but not
# linked, domU1-domU2 is not listed.
d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)
hdx_unlink dom0 domU2
hdx_unlink domU1 domU2
lk_peers "dom0 and domU2, domU1 and domU2 unlinked by hand" domU2
mkdir -p /etc/hyper_dmabuf
cat >$conf <<EOF
# hyper_dmabuf's links (85-linkd.sh)
link Domain-0 domU1
link Domain-0 domU2	# domU1 and domU2: not linked
EOF
# What a domain destroyed while no daemon ran leaves: dom0's end of a link
# to a domid that is gone (without "state", which no driver probes).
stale=/local/domain/0/backend/hyper_dmabuf/77
xenstore-write $stale/0/frontend-id 77
check "the daemon starts (default configuration)" on_bg dom0 linkd \
	hdmabuf-xen-linkd -f
check "at start it removes dom0's end of a link to a gone domain" \
	hdx_wait 10 sh -c "! xenstore-exists $stale"
check "it links dom0 and domU2 at start" hdx_wait 10 lk_linked dom0 domU2
check "... and says so" \
	hdx_wait 5 grep -q "^hdmabuf-xen-linkd: linked Domain-0 (0) and domU2 ($d2)" $log
check "it leaves the existing dom0-domU1 link alone" \
	sh -c "! grep -q 'linked Domain-0 (0) and domU1' $log"
lk_peers "dom0 reaches both domUs" dom0 "$d1" "$d2"
check "domU1 and domU2 (not listed) stay unlinked" lk_unlinked domU1 domU2
pid=$(pidof hdmabuf-xen-linkd)
diag "daemon pid $pid"
check "it waits for watches with no timeout, and sleeps while idle" \
	lk_idle "$pid"

# domU2 goes, and comes back as a new domain.
old=$d2
check "xl destroy domU2" hdx_destroy domU2
check "the daemon removes dom0's end of the link" hdx_wait 20 \
	sh -c "! xenstore-exists /local/domain/0/backend/hyper_dmabuf/$old"
check "... and says so" grep -q \
	"unlinked Domain-0 (0) from gone domain $old" $log
lk_peers "dom0 drops domU2" dom0 "$d1"
check "xl create domU2 again" hdx_create domU2
d2=$(hdx_domid domU2)
check "the daemon links dom0 and the new domU2 ($d2)" hdx_wait 20 \
	lk_linked dom0 domU2
check "new domU2 agent up" hdx_ready domU2 120
lk_peers "the new domU2 reaches dom0, and only dom0" domU2 0
hdx_share domU2 dom0 64k rw 85
check "domU1 and the new domU2 stay unlinked" lk_unlinked domU1 domU2

# SIGHUP: a bad configuration is refused, a group links the last pair.
printf 'group Domain-0 domU1 domU2 domU2\n' >$conf
kill -HUP "$pid"
check "SIGHUP with a bad configuration: the previous one stays" hdx_wait 10 \
	grep -q "xen-links.conf: keeping the previous configuration" $log
check "... and the daemon still runs" kill -0 "$pid"
printf '# every two of them\ngroup Domain-0 domU1 domU2\n' >$conf
kill -HUP "$pid"
check "SIGHUP with a group of the three: 3 pairs" hdx_wait 10 \
	grep -q "xen-links.conf: reloaded, 3 pairs" $log
check "the daemon links domU1 and domU2" hdx_wait 10 lk_linked domU1 domU2
lk_peers "domU1 reaches dom0 and the new domU2" domU1 0 "$d2"
lk_peers "the new domU2 reaches dom0 and domU1" domU2 0 "$d1"

kill -TERM "$pid"
out=$(on_wait dom0 linkd 10)
rc=$?
if [ $rc = 0 ]; then
	ok "the daemon exits 0 on SIGTERM"
else
	diag "status $rc"
	not_ok "the daemon exits 0 on SIGTERM"
fi
printf '%s\n' "$out" | sed 's/^/# linkd: /' >&3
