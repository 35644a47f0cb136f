# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# 62-peer-fuzz.sh: malformed messages over the real rings
# (CONFIG_HYPER_DMABUF_TEST_FUZZ, hyper_dmabuf/peer_fuzz): domU2 sends
# domU1 $HDX_PEER_FUZZ (default 10,000) random, malformed and lying
# messages through their ring, while domU1 keeps sharing with dom0; then
# domU1 sends as many to domU2, while domU2 shares with dom0.  Each time
# the victim counts every message (hyper_dmabuf/rx), rejects at least
# every one that could not decode, keeps the link up, holds no more of
# the liar's announcements than max_imports, and forgets them when dom0
# links the two again; both then share as before.  The teardown's kmemleak, lockdep and log scan cover
# the rest.
. /rig/hdx-share.sh

n=${HDX_PEER_FUZZ:-10000}
pf=/sys/kernel/debug/hyper_dmabuf/peer_fuzz
rx=/sys/kernel/debug/hyper_dmabuf/rx
d1=$(hdx_domid domU1)
d2=$(hdx_domid domU2)

reaches() {	# reaches DOM DOMID
	on "$1" "hdmabuf info | grep -q '^peer $2 '"
}
rxval() {	# rxval DOM KEY
	on "$1" "sed -n 's/^$2: //p' $rx"
}
field() {	# field KEY LINE: the value after KEY in peer_fuzz's line
	echo "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }'
}
# shares_with_dom0 DOM WHAT SEED: dom0 imports what DOM exports and checks
# it (DOM may hold the liar's announcements meanwhile)
shares_with_dom0() {
	sw_id=$(hdx_export_bg "$1" s0 --to 0 --size 64k --seed "$3")
	check "$2: dom0 imports what $1 exports" \
		on dom0 hdmabuf import "$sw_id" --wait 10000 --verify "$3"
	on_kill "$1" s0 >/dev/null
	on_wait "$1" s0 30 >/dev/null
	check "$2: dom0 maps nothing any more" hdx_quiet dom0
}

# fuzz FROM TO SEED: FROM sends TO $n messages drawn from SEED, while TO
# shares with dom0
fuzz() {
	pf_from=$1 pf_to=$2 pf_seed=$3
	pf_what="$pf_from -> $pf_to, $n messages, seed $pf_seed"
	pf_m0=$(rxval "$pf_to" messages)
	pf_b0=$(rxval "$pf_to" malformed)
	check "$pf_what: sending" on_bg "$pf_from" pf \
		"echo '$(hdx_domid "$pf_to") $n $pf_seed' >$pf && cat $pf"
	pf_i=0
	while on "$pf_from" hdx-bg running pf >/dev/null && [ $pf_i -lt 6 ]; do
		pf_i=$((pf_i + 1))
		shares_with_dom0 "$pf_to" "$pf_what: meanwhile" $((6200 + pf_i))
	done
	ok "$pf_what: $pf_to shared with dom0 $pf_i times meanwhile"
	pf_res=$(on_wait "$pf_from" pf 900)
	pf_rc=$?
	diag "$pf_what: $pf_res"
	if [ $pf_rc = 0 ] && [ "$(field sent "$pf_res")" = "$n" ] &&
	   [ "$(field err "$pf_res")" = 0 ]; then
		ok "$pf_what: all sent ($(field waits "$pf_res") waits for room)"
	else
		not_ok "$pf_what: all sent"
	fi
	# shellcheck disable=SC2034 # read by the eval below
	pf_sent=$(field sent "$pf_res")
	pf_bad=$(($(field random "$pf_res") + $(field header "$pf_res")))
	# shellcheck disable=SC2016 # evaluated by hdx_wait
	check "$pf_what: $pf_to counts every message" hdx_wait 120 eval \
		'[ $(($(rxval "$pf_to" messages) - pf_m0)) -ge "$pf_sent" ]'
	pf_m1=$(rxval "$pf_to" messages)
	pf_b1=$(rxval "$pf_to" malformed)
	diag "$pf_what: $pf_to received $((pf_m1 - pf_m0)), malformed $((pf_b1 - pf_b0))"
	if [ $((pf_b1 - pf_b0)) -ge "$pf_bad" ] &&
	   [ $((pf_b1 - pf_b0)) -le $((pf_m1 - pf_m0)) ]; then
		ok "$pf_what: $pf_to rejects every undecodable one ($((pf_b1 - pf_b0)) >= $pf_bad)"
	else
		not_ok "$pf_what: $pf_to rejects every undecodable one ($((pf_b1 - pf_b0)) >= $pf_bad)"
	fi
	check "$pf_what: the link stays up both ways" eval \
		"reaches $pf_from $(hdx_domid "$pf_to") &&
		 reaches $pf_to $(hdx_domid "$pf_from")"
	pf_max=$(on "$pf_to" cat /sys/module/hyper_dmabuf/parameters/max_imports)
	pf_got=$(hdx_stat "$pf_to" imports)
	if [ "$pf_got" -le "$pf_max" ]; then
		ok "$pf_what: $pf_to holds at most max_imports of its buffers ($pf_got)"
	else
		not_ok "$pf_what: $pf_to holds at most max_imports of its buffers ($pf_got > $pf_max)"
	fi
	check "$pf_what: dom0 unlinks domU1 and domU2" hdx_unlink domU1 domU2
	check "$pf_what: domU1 sees domU2 go" hdx_wait 30 eval "! reaches domU1 $d2"
	check "$pf_what: dom0 links them again" hdx_link domU1 domU2
	check "$pf_what: domU1 reaches domU2 again" hdx_wait 30 reaches domU1 "$d2"
	check "$pf_what: domU2 reaches domU1 again" hdx_wait 30 reaches domU2 "$d1"
	check "$pf_what: $pf_to holds nothing of $pf_from's any more" \
		hdx_quiet "$pf_to"
	check "$pf_what: $pf_from holds nothing of $pf_to's" hdx_quiet "$pf_from"
}

if ! on domU2 "[ -e $pf ]"; then
	skip "peer fuzz" "no $pf (CONFIG_HYPER_DMABUF_TEST_FUZZ)"
	return 0
fi
fuzz domU2 domU1 62
hdx_share domU2 domU1 1m rw 621
fuzz domU1 domU2 6262
hdx_share domU1 domU2 1m ro 622
hdx_share domU2 domU1 64k rw 623
