# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 56-identity.sh: an id names one buffer, across an SOS that changes its
# epoch and a UOS that restarts its link while the SOS is importing.
# uos1 exports 64 KiB buffers over and over, two at a time, each with its
# own pattern, named in its metadata, and unexports them 0.3 s later, so
# that its pages, descriptors and tables are reused all the time; the SOS
# imports every id of uos1 that it lists, again and again, and checks the
# pattern that id's metadata names.  Meanwhile the SOS unbinds and binds
# uos1's link twice (a new epoch each time, with imports in flight), and
# uos1 does the same with its own twice (a new session).  Every import
# must give the buffer its id names or fail with ENOENT, some must get
# through, and both VMs end with nothing shared or mapped.  (90-kill does
# the same while a UOS dies.)
. "$HDA_LIB/hda-share.sh"

check "uos1 churns buffers" hda_churn uos1
check "the SOS imports and checks every id of uos1 it lists" hda_idcheck 1
sleep 5
for i in 1 2; do
	dev=$(hda_sos_dev 1)
	check "SOS epoch change $i: it unbinds and binds uos1's link ($dev)" \
		hda_rebind sos "$dev"
	check "SOS epoch change $i: the SOS reaches uos1 again" \
		hda_wait 30 hda_reaches sos 1
	check "SOS epoch change $i: uos1 reaches the SOS again" \
		hda_wait 30 hda_reaches uos1 0
	sleep 5
	check "uos1 restart $i: it unbinds and binds its link" hda_rebind uos1
	check "uos1 restart $i: the SOS reaches uos1 again" \
		hda_wait 30 hda_reaches sos 1
	check "uos1 restart $i: uos1 reaches the SOS again" \
		hda_wait 30 hda_reaches uos1 0
	sleep 5
done
out=$(hda_churn_stop uos1)
case "$out" in
*"churned "*) ok "uos1 stops churning (${out##*churned })" ;;
*) diag "$out"; not_ok "uos1 stops churning" ;;
esac
out=$(hda_idcheck_stop)
diag "$(echo "$out" | head -n 20)"
read -r nok ngone nbad < <(echo "$out" |
	sed -n 's/^imports ok \([0-9]*\) enoent \([0-9]*\) bad \([0-9]*\)$/\1 \2 \3/p')
if [ "${nbad:-x}" = 0 ]; then
	ok "every import gave the buffer its id names, or ENOENT ($ngone)"
else
	not_ok "every import gave the buffer its id names, or ENOENT (${nbad:-?} did not)"
fi
if [ "${nok:-0}" -gt 0 ]; then
	ok "the SOS imported and checked $nok buffers"
else
	not_ok "the SOS imported and checked some buffers"
fi
for v in sos uos1; do
	check "$v shares and maps nothing afterwards" hda_quiet $v
done
hda_share uos1 sos 64k rw 56
