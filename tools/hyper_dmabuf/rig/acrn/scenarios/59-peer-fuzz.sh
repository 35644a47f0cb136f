# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 59-peer-fuzz.sh: malformed messages over the real links
# (CONFIG_HYPER_DMABUF_TEST_FUZZ, hyper_dmabuf/peer_fuzz): uos2 sends the
# SOS $HDA_PEER_FUZZ (default 10,000) random, malformed and lying messages
# through its link, mailbox rings or virtqueues, while uos1 keeps sharing
# with the SOS; then the SOS sends as many to uos2.  Each time the victim
# counts every message (hyper_dmabuf/rx), rejects at least every one that
# could not decode, keeps its link up with no protocol drop, holds no more
# of the liar's announcements than max_imports, and forgets them when the
# liar attaches again; the victim then shares as before.  The teardown's
# kmemleak, lockdep and log scan cover the rest.
. "$HDA_LIB/hda-share.sh"

n=${HDA_PEER_FUZZ:-10000}
pf=/sys/kernel/debug/hyper_dmabuf/peer_fuzz
rx=/sys/kernel/debug/hyper_dmabuf/rx

# rxval VM KEY: one counter of VM's rx file
rxval() {
	on "$1" "sed -n 's/^$2: //p' $rx"
}
# field KEY LINE: the value after KEY in peer_fuzz's line
field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }' <<<"$2"
}

# uos1_shares WHAT SEED: the SOS imports what uos1 exports and checks it
# (the SOS may hold the liar's announcements meanwhile)
uos1_shares() {
	local id
	id=$(hda_export_bg uos1 s1 --to 0 --size 64k --seed "$2")
	check "$1: the SOS imports what uos1 exports" \
		on sos hdmabuf import "$id" --wait 10000 --verify "$2"
	on_kill uos1 s1 >/dev/null
	on_wait uos1 s1 30 >/dev/null
	check "$1: uos1 shares nothing any more" hda_quiet uos1
}

# fuzz FROM TO SEED [SHARE]: FROM sends TO $n messages drawn from SEED;
# with SHARE, uos1 shares with the SOS meanwhile
fuzz() {
	local from=$1 to=$2 seed=$3 share=${4:-} what uos m0 b0 d0 res i=0
	local sent bad m1 b1 d1 max got
	what="$from -> $to, $n messages, seed $seed"
	uos=$from
	[ "$uos" = sos ] && uos=$to
	m0=$(rxval "$to" messages)
	b0=$(rxval "$to" malformed)
	read -r _ _ d0 _ < <(hda_link sos "$(hda_vmid "$uos")")
	check "$what: sending" on_bg "$from" pf \
		"echo '$(hda_vmid "$to") $n $seed' >$pf && cat $pf"
	if [ -n "$share" ]; then
		while on "$from" hdx-bg running pf >/dev/null &&
		      [ $i -lt 10 ]; do
			i=$((i + 1))
			uos1_shares "$what: meanwhile" $((5900 + i))
		done
		ok "$what: uos1 shared with the SOS $i times meanwhile"
	fi
	if res=$(on_wait "$from" pf 900) && [ "$(field sent "$res")" = "$n" ] &&
	   [ "$(field err "$res")" = 0 ]; then
		ok "$what: all sent ($(field waits "$res") waits for room)"
	else
		diag "$res"
		not_ok "$what: all sent"
	fi
	diag "$what: $res"
	# shellcheck disable=SC2034 # read by the eval below
	sent=$(field sent "$res")
	bad=$(($(field random "$res") + $(field header "$res")))
	# shellcheck disable=SC2016 # evaluated by hda_wait
	check "$what: $to counts every message" hda_wait 120 \
		eval '[ $(($(rxval "$to" messages) - m0)) -ge "$sent" ]'
	m1=$(rxval "$to" messages)
	b1=$(rxval "$to" malformed)
	diag "$what: $to received $((m1 - m0)), malformed $((b1 - b0))"
	if [ $((b1 - b0)) -ge "$bad" ] && [ $((b1 - b0)) -le $((m1 - m0)) ]; then
		ok "$what: $to rejects every undecodable one ($((b1 - b0)) >= $bad)"
	else
		not_ok "$what: $to rejects every undecodable one ($((b1 - b0)) >= $bad)"
	fi
	read -r _ _ d1 _ < <(hda_link sos "$(hda_vmid "$uos")")
	if [ "$d1" = "$d0" ] && hda_reaches "$from" "$(hda_vmid "$to")"; then
		ok "$what: the link stays up, no protocol drop ($d1)"
	else
		not_ok "$what: the link stays up, no protocol drop ($d0 -> $d1)"
	fi
	max=$(on "$to" cat /sys/module/hyper_dmabuf/parameters/max_imports)
	got=$(hda_stat "$to" imports)
	if [ "$got" -le "$max" ]; then
		ok "$what: $to holds at most max_imports of its buffers ($got)"
	else
		not_ok "$what: $to holds at most max_imports of its buffers ($got > $max)"
	fi
	check "$what: $uos attaches again" hda_rebind "$uos"
	check "$what: the SOS reaches $uos again" hda_wait 30 hda_reaches sos \
		"$(hda_vmid "$uos")"
	check "$what: $uos reaches the SOS again" hda_wait 30 hda_reaches \
		"$uos" 0
	check "$what: $to holds nothing of $from's any more" hda_quiet "$to"
	check "$what: $from holds nothing of $to's" hda_quiet "$from"
}

if ! on uos2 "[ -e $pf ]"; then
	skip "peer fuzz" "no $pf (CONFIG_HYPER_DMABUF_TEST_FUZZ)"
	return 0
fi
fuzz uos2 sos 59 share
hda_share uos2 sos 1m rw 591
fuzz sos uos2 5959
hda_share uos2 sos 1m ro 592
hda_share uos1 sos 64k rw 593
