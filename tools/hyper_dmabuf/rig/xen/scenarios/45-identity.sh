# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 45-identity.sh: an id names one buffer, across links that go and come
# back while buffers are being imported.  domU1 exports 64 KiB buffers
# over and over, two at a time, each with its own pattern named in its
# metadata, and unexports them 0.3 s later, so that grant references are
# ended and claimed again all the time; dom0 imports every id of domU1 it
# lists, again and again, and checks the pattern the id's metadata names.
# Meanwhile dom0 unlinks and links domU1 three times (a new session each
# time, with imports and grants in flight).  Every import must give the
# buffer its id names or fail with ENOENT, some must get through, and both
# domains end with nothing shared or mapped.
. /rig/hdx-share.sh

d1=$(hdx_domid domU1)
reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}

check "domU1 churns buffers" \
	on_bg domU1 churn hd-churn export 0 /tmp/churn.stop
check "dom0 imports and checks every id of domU1 it lists" \
	on_bg dom0 idcheck hd-churn idcheck "$d1" /tmp/idcheck.stop
sleep 5
for i in 1 2 3; do
	check "relink $i: dom0 unlinks domU1" hdx_unlink dom0 domU1
	check "relink $i: domU1 no longer reaches dom0" \
		hdx_wait 30 eval "! reaches domU1 0"
	sleep 1
	check "relink $i: dom0 links domU1 again" hdx_link dom0 domU1
	check "relink $i: dom0 reaches domU1 again" hdx_wait 30 reaches dom0 "$d1"
	check "relink $i: domU1 reaches dom0 again" hdx_wait 30 reaches domU1 0
	sleep 5
done
on domU1 touch /tmp/churn.stop >/dev/null
out=$(on_wait domU1 churn 60)
case "$out" in
*"churned "*) ok "domU1 stops churning (${out##*churned })" ;;
*) diag "$out"; not_ok "domU1 stops churning" ;;
esac
touch /tmp/idcheck.stop
out=$(on_wait dom0 idcheck 120)
diag "$(echo "$out" | tail -n 20)"
res=$(echo "$out" | sed -n 's/^imports ok \([0-9]*\) enoent \([0-9]*\) bad \([0-9]*\)$/\1 \2 \3/p')
# shellcheck disable=SC2086
set -- $res
if [ "${3:-x}" = 0 ]; then
	ok "every import gave the buffer its id names, or ENOENT ($2)"
else
	not_ok "every import gave the buffer its id names, or ENOENT (${3:-?} did not)"
fi
if [ "${1:-0}" -gt 0 ]; then
	ok "dom0 imported and checked $1 buffers"
else
	not_ok "dom0 imported and checked some buffers"
fi
check "domU1 shares nothing afterwards" hdx_quiet domU1
check "dom0 maps nothing afterwards" hdx_quiet dom0
hdx_share domU1 dom0 64k rw 45
