# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 30-direction.sh: what the ACRN model allows.  A UOS shares with the SOS
# only: the SOS cannot export (its RAM is not mapped in any UOS), and a UOS
# cannot reach another UOS.  Ids cannot be guessed.
. "$HDA_LIB/hda-share.sh"

# export_fails VM TO ERRNO: "hdmabuf export" from VM to TO fails with ERRNO
export_fails() {
	local out
	out=$(on "$1" hdmabuf export --to "$2" --size 4k --exit-after-export 2>&1)
	[ $? != 0 ] && echo "$out" | grep -q "^hdmabuf: export: $3 " && return
	echo "$out"
	return 1
}

check "the SOS cannot export to uos1 (EOPNOTSUPP)" export_fails sos 1 EOPNOTSUPP
check "the SOS cannot export to uos2 (EOPNOTSUPP)" export_fails sos 2 EOPNOTSUPP
check "uos1 cannot export to uos2 (EHOSTUNREACH)" export_fails uos1 2 EHOSTUNREACH
check "uos2 cannot export to uos1 (EHOSTUNREACH)" export_fails uos2 1 EHOSTUNREACH
check "the SOS shares nothing" hda_quiet sos
check "uos1 shares nothing" hda_quiet uos1

# uos1 -> SOS works, and while it is exported the SOS guesses ids of uos1.
id=$(hda_export_bg uos1 exp --to 0 --size 64k --seed 31)
[ -n "$id" ] && ok "uos1 exports to the SOS ($id)" || not_ok "uos1 exports to the SOS"
check "the SOS imports it" on sos hdmabuf import "$id" --wait 10000 --verify 31
check "guessed ids of uos1 fail in the SOS (ENOENT)" \
	on sos "hdmabuf guess 1 --tries 300 | grep -q '^guess ok 300'"
check "guessed ids of the SOS fail in uos1 (ENOENT)" \
	on uos1 "hdmabuf guess 0 --tries 100 | grep -q '^guess ok 100'"
on_kill uos1 exp >/dev/null
check "uos1's exporter exits cleanly" on_wait uos1 exp 30
check "uos1 shares nothing" hda_quiet uos1
check "the SOS maps nothing" hda_quiet sos
