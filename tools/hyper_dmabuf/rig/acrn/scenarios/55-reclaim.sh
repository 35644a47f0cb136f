# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# 55-reclaim.sh: a UOS never reuses a page that the SOS may still map.
# A process of the SOS keeps a read-write mapping of a UOS's buffer (its
# local dma-buf stays valid after the link goes) while the link ends:
#   A. the SOS unbinds the link's device (which waits for the mapping);
#   B. the UOS breaks the ring (fault=ring-lie, with virtio links the
#      transport's avail-jump: the SOS drops it) and then attaches again,
#      so that a new session runs next to the old mapping.
# Each time the UOS unexports the buffer and then fills about all of its
# free memory with a pattern; the SOS's process writes over its whole
# mapping; none of that may reach the UOS's memory, and the UOS counts the
# pages as shared until the SOS's process lets go, when it reclaims them
# (its counters back to zero).  The SOS's process is rig-mem scribble, the
# UOS's memory rig-mem fill.
. "$HDA_LIB/hda-share.sh"

# reuse CASE SEED: uos1 fills its free memory, the SOS's process writes
# over its mapping, and uos1 finds its memory as it wrote it
reuse() {
	local mib out rc
	mib=$(on uos1 "awk '/^MemFree:/ { print int(\$2 / 1024) - 32 }' /proc/meminfo")
	check "$1: uos1 fills $mib MiB, about all of its free memory" \
		on_bg uos1 fill rig-mem fill "$mib" "$2"
	check "$1: ... filled" on_wait_line uos1 fill '^filled' 180
	check "$1: the SOS's process writes over all of its mapping" \
		on_kill sos scr USR1
	check "$1: ... written" on_wait_line sos scr '^scribbled' 30
	on_kill uos1 fill USR1 >/dev/null
	out=$(on_wait uos1 fill 180)
	rc=$?
	case "$rc $out" in
	"0 "*"intact $mib"*)
		ok "$1: none of the SOS's writes reached uos1's memory" ;;
	*)
		diag "status $rc: $out"
		not_ok "$1: none of the SOS's writes reached uos1's memory" ;;
	esac
}

# --- A: the SOS unbinds the link while its process maps the buffer -----------
id=$(hda_export_bg uos1 exp --to 0 --size 16m --seed 55)
[ -n "$id" ] && ok "A: uos1 exports 16 MiB to the SOS" ||
	not_ok "A: uos1 exports 16 MiB to the SOS"
check "A: a process of the SOS maps it read-write" \
	on_bg sos scr rig-mem scribble "$id"
check "A: ... mapped" on_wait_line sos scr '^mapped 16777216' 30
dev=$(hda_sos_dev 1)
[ -n "$dev" ] && ok "A: the SOS's device of uos1's link is $dev" ||
	not_ok "A: the SOS's device of uos1's link"
check "A: the SOS unbinds it, in the background" \
	on_bg sos unbind "echo $dev >$HDA_DRV/unbind"
check "A: uos1 sees the SOS go" hda_wait 20 eval '! hda_reaches uos1 0'
check "A: the unbind waits for the mapping" \
	on sos "sleep 2; hdx-bg running unbind"
on_kill uos1 exp >/dev/null
check "A: uos1 unexports (its exporter exits)" on_wait uos1 exp 30
shared=$(hda_stat uos1 shared_pages)
if [ "$shared" = 4096 ]; then
	ok "A: uos1 keeps the 4096 pages the SOS may still map"
else
	not_ok "A: uos1 keeps the 4096 pages the SOS may still map ($shared)"
fi
reuse A 56
on_kill sos scr >/dev/null
check "A: the SOS's process lets go" on_wait sos scr 30
check "A: then the unbind completes" on_wait sos unbind 30
check "A: uos1 reclaims the pages (counters back to zero)" hda_quiet uos1
check "A: the SOS maps nothing" hda_quiet sos
check "A: the SOS binds the device again" on sos "echo $dev >$HDA_DRV/bind"
check "A: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "A: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
hda_share uos1 sos 64k rw 57

# --- B: the ring breaks, and uos1 attaches again, under a mapping -------------
id=$(hda_export_bg uos1 exp --to 0 --size 4m --seed 58)
[ -n "$id" ] && ok "B: uos1 exports 4 MiB to the SOS" ||
	not_ok "B: uos1 exports 4 MiB to the SOS"
check "B: a process of the SOS maps it read-write" \
	on_bg sos scr rig-mem scribble "$id"
check "B: ... mapped" on_wait_line sos scr '^mapped 4194304' 30
check "B: uos1 arms a ring lie" hda_arm uos1 ring-lie
on uos1 hdmabuf export --to 0 --size 4k --exit-after-export >/dev/null 2>&1
check "B: the SOS drops uos1" hda_wait 20 eval '! hda_reaches sos 1'
check "B: uos1 sees it" hda_wait 20 eval '! hda_reaches uos1 0'
on_kill uos1 exp >/dev/null
check "B: uos1 unexports (its exporter exits)" on_wait uos1 exp 30
# The lie's own page, which the SOS may have mapped for all uos1 knows.
shared=$(hda_stat uos1 shared_pages)
if [ "$shared" = 1025 ]; then
	ok "B: uos1 keeps the 1025 pages the SOS may still map"
else
	not_ok "B: uos1 keeps the 1025 pages the SOS may still map ($shared)"
fi
check "B: uos1 unbinds and binds its link: a new session" hda_rebind uos1
check "B: the SOS reaches uos1 again" hda_wait 30 hda_reaches sos 1
check "B: uos1 reaches the SOS again" hda_wait 30 hda_reaches uos1 0
shared=$(hda_stat uos1 shared_pages)
if [ "$shared" = 1025 ]; then
	ok "B: uos1 still keeps them, its link up again"
else
	not_ok "B: uos1 still keeps them, its link up again ($shared)"
fi
reuse B 59
on_kill sos scr >/dev/null
check "B: the SOS's process lets go" on_wait sos scr 30
check "B: uos1 reclaims the pages (counters back to zero)" hda_quiet uos1
check "B: the SOS maps nothing" hda_quiet sos
hda_share uos1 sos 64k rw 60
