#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cli_test.sh: exercise every subcommand of hdmabuf against the loopback
# backend, where this VM is its own and only peer: export in the
# background, import and verify, write back, unexport by SIGUSR1, events,
# guessing, query, list, info; --help of every subcommand, --json, watch
# and wait-release.  Prints TAP.  Exit status 0 when all
# passed, 4 (kselftest's skip) without /dev/hyper_dmabuf or a loopback
# peer, 1 otherwise.  POSIX sh: runs under busybox.
#
# HDMABUF names the binary; default: hdmabuf on PATH, else the one next
# to this script.  JSON_CHECK names json_check (json_check.c, found the
# same way), which checks the --json output; without it those checks skip.
#
# Copyright (C) 2026 The hyper_dmabuf authors

HD=${HDMABUF:-$(command -v hdmabuf)}
[ -n "$HD" ] || HD=$(dirname "$0")/hdmabuf
JC=${JSON_CHECK:-$(command -v json_check)}
[ -n "$JC" ] || JC=$(dirname "$0")/json_check
[ -x "$JC" ] || JC=
T=$(mktemp -d /tmp/cli_test.XXXXXX) || exit 1
MIB=1048576
ID_RE='[0-9a-f]\{1,8\}:[0-9a-f]\{1,8\}:[0-9a-f]\{24\}'

n=0
failed=0
pids=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

# not_ok DESCRIPTION [FILE...]: a failed test, showing FILEs as diagnostics
not_ok() {
	d=$1
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f"
	done
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $d"
}

skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

# run NAME ARGS...: hdmabuf ARGS, output in $T/NAME.out and .err, status rc
run() {
	name=$1
	shift
	"$HD" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}

# bg NAME ARGS...: hdmabuf ARGS in the background; its pid in $pid.
# The child truncates NAME's files when it gets to it: remove them first,
# so that wait_for never reads what an earlier NAME left.
bg() {
	name=$1
	shift
	rm -f "$T/$name.out" "$T/$name.err"
	"$HD" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	pids="$pids $pid"
}

# finish PID: wait for a background hdmabuf; its status in rc
finish() {
	wait "$1"
	rc=$?
	new=
	for p in $pids; do
		[ "$p" = "$1" ] || new="$new $p"
	done
	pids=$new
}

has() {		# has NAME REGEX: NAME's stdout has a line matching REGEX
	grep -q "$2" "$T/$1.out"
}

# wait_for NAME REGEX [SECONDS]: until NAME's stdout has a matching line
wait_for() {
	i=0
	while ! grep -q "$2" "$T/$1.out" 2>/dev/null; do
		[ $i -ge $((${3:-20} * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# retry SECONDS COMMAND...: until COMMAND succeeds
retry() {
	s=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		[ $i -ge $((s * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# gone ID: importing ID fails with ENOENT (the buffer was withdrawn)
# shellcheck disable=SC2317 # called by retry
gone() {
	"$HD" import "$1" --expect-errno ENOENT
}

# json NAME: NAME's stdout is JSON Lines (true without json_check)
json() {
	[ -z "$JC" ] || "$JC" <"$T/$1.out" 2>"$T/$1.jc"
}

# jexported NAME: the id an exporter printed with --json
jexported() {
	sed -n 's/^{"event":"exported","id":"\([0-9a-f:]*\)",.*}$/\1/p' \
		"$T/$1.out"
}

# exported NAME: the id an exporter printed
exported() {
	sed -n "s/^exported \($ID_RE\) [0-9]*$/\1/p" "$T/$1.out"
}

echo "TAP version 13"

# --- info, list -------------------------------------------------------------
run info info
vmid=$(sed -n 's/^vmid \([0-9]*\)$/\1/p' "$T/info.out")
if [ $rc -ne 0 ] && grep -q 'open /dev/hyper_dmabuf: ENOENT' "$T/info.err"; then
	echo "1..0 # SKIP no /dev/hyper_dmabuf"
	exit 4
fi
if [ $rc -eq 0 ] && [ -n "$vmid" ] && has info "^peer $vmid loopback export import$"; then
	ok "info: vmid $vmid, loopback peer $vmid"
else
	not_ok "info: vmid and loopback peer" "$T/info.out" "$T/info.err"
	echo "1..$n"
	exit 1
fi

run list list
if [ $rc -eq 0 ] && ! grep -v "^$ID_RE\$" "$T/list.out" >/dev/null; then
	ok "list: one id a line"
else
	not_ok "list: one id a line" "$T/list.out" "$T/list.err"
fi

# --- export A, its new event, list, query, import ----------------------------
bg evnew wait-event --type new --timeout 20000
evnew=$pid
wait_for evnew '^listening$'
bg a export --to "$vmid" --size 1m --seed 1 --priv "cli test A" \
	--idfile "$T/a.id"
pa=$pid
if wait_for a '^exported ' 30; then
	A=$(exported a)
else
	A=
fi
if [ -n "$A" ] && has a "^exported $A $MIB\$" &&
   [ "$(cat "$T/a.id" 2>/dev/null)" = "$A" ]; then
	ok "export: exported ID SIZE, and --idfile holds the id"
else
	not_ok "export: exported ID SIZE, and --idfile holds the id" \
		"$T/a.out" "$T/a.err"
	echo "1..$n"
	exit 1
fi

finish $evnew
if [ $rc -eq 0 ] && has evnew "^event new $A $MIB cli test A\$"; then
	ok "wait-event: event new ID SIZE PRIV"
else
	not_ok "wait-event: event new ID SIZE PRIV" "$T/evnew.out" "$T/evnew.err"
fi

run list list
if [ $rc -eq 0 ] && grep -qx "$A" "$T/list.out"; then
	ok "list: shows the export"
else
	not_ok "list: shows the export" "$T/list.out" "$T/list.err"
fi

run query query "$A"
if [ $rc -eq 0 ] && has query "^id $A\$" &&
   has query "^exporter_vmid $vmid\$" && has query "^importer_vmid $vmid\$" &&
   has query "^size $MIB\$" && has query '^exported_here 1$' &&
   has query '^unexported 0$' && has query '^priv cli test A$'; then
	ok "query: key value lines"
else
	not_ok "query: key value lines" "$T/query.out" "$T/query.err"
fi

run imp import "$A" --verify 1
if [ $rc -eq 0 ] && has imp "^size $MIB\$" && has imp "^verify ok $MIB\$"; then
	ok "import: size, verify ok"
else
	not_ok "import: size, verify ok" "$T/imp.out" "$T/imp.err"
fi

run imp import "$A" --verify 2
if [ $rc -eq 1 ] && has imp '^verify mismatch 0$' &&
   grep -q '^hdmabuf: verify: EBADMSG' "$T/imp.err"; then
	ok "import: a wrong pattern fails with its offset"
else
	not_ok "import: a wrong pattern fails with its offset" \
		"$T/imp.out" "$T/imp.err"
fi

# --- write-back: the exporter sees what the importer wrote ------------------
bg b export --to "$vmid" --size 256k --seed 6 --expect-seed 7 --timeout 60000
pb=$pid
wait_for b '^exported ' 30
B=$(exported b)
run imp import "$B" --rw --verify 6 --write 7
if [ $rc -eq 0 ] && has imp '^wrote 262144$' && wait_for b '^peer-wrote ok$' 30
then
	ok "import --rw --write: the exporter's --expect-seed sees it"
else
	not_ok "import --rw --write: the exporter's --expect-seed sees it" \
		"$T/imp.out" "$T/imp.err" "$T/b.out" "$T/b.err"
fi

# The first word of patterns 20 and 104 has the same first byte (0xac) but
# not the same second: the exporter's first look finds the difference at
# offset 1, inside a word.  Its later looks must resume at that word, and
# see the importer's pattern (they once resumed at offset 1, compared
# misaligned words, and timed out however right the buffer was).
bg word export --to "$vmid" --size 64k --seed 20 --expect-seed 104 \
	--timeout 20000
pword=$pid
wait_for word '^exported ' 30
W=$(exported word)
sleep 0.5
run imp import "$W" --rw --verify 20 --write 104
if [ $rc -eq 0 ] && wait_for word '^peer-wrote ok$' 30; then
	ok "export --expect-seed: a difference inside a word resumes at the word"
else
	not_ok "export --expect-seed: a difference inside a word resumes at the word" \
		"$T/imp.out" "$T/imp.err" "$T/word.out" "$T/word.err"
fi
kill $pword 2>/dev/null
finish $pword

# Two imports of one buffer share its pages.
bg late import "$B" --verify 7 --read-after-ms 4000 --verify-after 8
late=$pid
wait_for late '^verify ok'
run imp import "$B" --rw --write 8
finish $late
if [ $rc -eq 0 ] && has late '^verify-after ok 262144$'; then
	ok "import --read-after-ms --verify-after: sees another import's write"
else
	not_ok "import --read-after-ms --verify-after: sees another import's write" \
		"$T/late.out" "$T/late.err" "$T/imp.out" "$T/imp.err"
fi

# --- read-only exports ----------------------------------------------------
bg c export --to "$vmid" --size 64k --seed 9 --ro
pc=$pid
wait_for c '^exported ' 30
C=$(exported c)
run imp import "$C" --rw --expect-errno EACCES
run imp2 import "$C" --verify 9
if [ $rc -eq 0 ] && has imp '^import-failed EACCES$' &&
   has imp2 '^verify ok 65536$'; then
	ok "export --ro: import --rw is EACCES, read-only import works"
else
	not_ok "export --ro: import --rw is EACCES, read-only import works" \
		"$T/imp.out" "$T/imp.err" "$T/imp2.out" "$T/imp2.err"
fi

run imp import "$C" --expect-errno EACCES
if [ $rc -eq 1 ] && grep -q 'import: succeeded, expected EACCES' "$T/imp.err"
then
	ok "import --expect-errno fails when the import works"
else
	not_ok "import --expect-errno fails when the import works" \
		"$T/imp.out" "$T/imp.err"
fi

# --- guessing, with live exports around --------------------------------------
run guess guess "$vmid" --tries 300
if [ $rc -eq 0 ] && has guess '^guess ok 300$'; then
	ok "guess: 300 ids with random keys are all ENOENT"
else
	not_ok "guess: 300 ids with random keys are all ENOENT" \
		"$T/guess.out" "$T/guess.err"
fi

G=$(echo "$A" | sed 's/:[0-9a-f]*$/:000000000000000000000000/')
run imp import "$G" --expect-errno ENOENT
run query query "$G"
if [ "$G" != "$A" ] && has imp '^import-failed ENOENT$' && [ $rc -eq 1 ] &&
   grep -q '^hdmabuf: query: ENOENT (' "$T/query.err"; then
	ok "import and query of a live id with a wrong key: ENOENT"
else
	not_ok "import and query of a live id with a wrong key: ENOENT" \
		"$T/imp.out" "$T/imp.err" "$T/query.err"
fi

# --- unexport by SIGUSR1 while an import holds a mapping ----------------------
bg evw wait-event --type withdrawn --id "$A" --timeout 30000
evw=$pid
wait_for evw '^listening$'
bg hold import "$A" --verify 1 --hold-ms 4000
hold=$pid
wait_for hold '^holding 4000$'
kill -USR1 $pa
if wait_for a '^unexported$'; then
	ok "export: SIGUSR1 unexports"
else
	not_ok "export: SIGUSR1 unexports" "$T/a.out" "$T/a.err"
fi
finish $evw
if [ $rc -eq 0 ] && has evw "^event withdrawn $A $MIB"; then
	ok "wait-event --type withdrawn --id: event withdrawn ID SIZE"
else
	not_ok "wait-event --type withdrawn --id: event withdrawn ID SIZE" \
		"$T/evw.out" "$T/evw.err"
fi
finish $hold
if [ $rc -eq 0 ] && has hold '^held ok$'; then
	ok "import --hold-ms: the mapping stays valid across the unexport"
else
	not_ok "import --hold-ms: the mapping stays valid across the unexport" \
		"$T/hold.out" "$T/hold.err"
fi
run list list
if retry 10 gone "$A" && [ $rc -eq 0 ] && ! grep -qx "$A" "$T/list.out"; then
	ok "after unexport: import is ENOENT, list lacks the id"
else
	not_ok "after unexport: import is ENOENT, list lacks the id" \
		"$T/list.out"
fi
kill $pa
finish $pa
if [ $rc -eq 0 ]; then
	ok "export: SIGTERM exits 0"
else
	not_ok "export: SIGTERM exits 0 (status $rc)" "$T/a.err"
fi

# --- SIGTERM unexports; the mapping of a dead exporter stays valid ------------
bg hold import "$B" --verify 8 --hold-ms 3000
hold=$pid
wait_for hold '^holding'
kill $pb
finish $pb
pbrc=$rc
finish $hold
if [ $pbrc -eq 0 ] && [ $rc -eq 0 ] && has hold '^held ok$' &&
   retry 10 gone "$B"; then
	ok "export: SIGTERM withdraws the buffer, held mapping stays valid"
else
	not_ok "export: SIGTERM withdraws the buffer, held mapping stays valid" \
		"$T/b.err" "$T/hold.out" "$T/hold.err"
fi

# --- --wait-released: after SIGUSR1, wait until the importer let go ---------
bg w export --to "$vmid" --size 64k --seed 31 --wait-released 30000
pw=$pid
wait_for w '^exported ' 30
W=$(exported w)
bg whold import "$W" --verify 31 --hold-ms 4000
whold=$pid
wait_for whold '^holding'
kill -USR1 $pw
wait_for w '^unexported$'
sleep 1
early=0
has w '^released$' && early=1
finish $whold
if [ $early = 0 ] && [ $rc -eq 0 ] && wait_for w '^released$' 20; then
	ok "export --wait-released: released once the import is gone, not before"
else
	not_ok "export --wait-released: released once the import is gone, not before" \
		"$T/w.out" "$T/w.err" "$T/whold.out" "$T/whold.err"
fi
kill $pw
finish $pw
if [ $rc -eq 0 ]; then
	ok "export --wait-released: SIGTERM exits 0 afterwards"
else
	not_ok "export --wait-released: SIGTERM exits 0 afterwards (status $rc)" \
		"$T/w.err"
fi

bg wt export --to "$vmid" --size 64k --seed 32 --wait-released 500
pwt=$pid
wait_for wt '^exported ' 30
WT=$(exported wt)
bg wthold import "$WT" --verify 32 --hold-ms 4000
wthold=$pid
wait_for wthold '^holding'
kill -USR1 $pwt
finish $pwt
if [ $rc -eq 1 ] && ! has wt '^released$' &&
   grep -q '^hdmabuf: wait-released: ETIMEDOUT (' "$T/wt.err"; then
	ok "export --wait-released: ETIMEDOUT while the import holds it"
else
	not_ok "export --wait-released: ETIMEDOUT while the import holds it (status $rc)" \
		"$T/wt.out" "$T/wt.err"
fi
finish $wthold

# --- delayed unexport, and a second SIGUSR1 while it is pending ---------------
bg d export --to "$vmid" --size 64k --delay-ms 4000
pd=$pid
wait_for d '^exported ' 30
D=$(exported d)
kill -USR1 $pd
wait_for d '^unexported$'
run query query "$D"
if [ $rc -eq 0 ] && has query '^unexport_pending 1$'; then
	ok "export --delay-ms: SIGUSR1 leaves the unexport pending"
else
	not_ok "export --delay-ms: SIGUSR1 leaves the unexport pending" \
		"$T/d.out" "$T/d.err" "$T/query.out" "$T/query.err"
fi
kill -USR1 $pd
if retry 3 grep -q '^hdmabuf: unexport: EALREADY (' "$T/d.err"; then
	ok "export: a second SIGUSR1 while pending reports EALREADY"
else
	not_ok "export: a second SIGUSR1 while pending reports EALREADY" \
		"$T/d.out" "$T/d.err"
fi
if retry 15 gone "$D"; then
	ok "export --delay-ms: withdrawn after the delay"
else
	not_ok "export --delay-ms: withdrawn after the delay"
fi
kill $pd
finish $pd
if [ $rc -eq 1 ]; then
	ok "export: exit status 1 after a failed unexport"
else
	not_ok "export: exit status 1 after a failed unexport (status $rc)" \
		"$T/d.out" "$T/d.err"
fi

# --- --exit-after-export, --count ---------------------------------------------
bg ev2 wait-event --type new --count 2 --timeout 30000
ev2=$pid
wait_for ev2 '^listening$'
run e1 export --to "$vmid" --size 8k --exit-after-export --priv one
e1=$rc
run e2 export --to "$vmid" --size 8k --exit-after-export --priv two
E1=$(exported e1)
E2=$(exported e2)
if [ $e1 -eq 0 ] && [ $rc -eq 0 ] && [ -n "$E1" ] && [ -n "$E2" ] &&
   retry 10 gone "$E1" && retry 10 gone "$E2"; then
	ok "export --exit-after-export: exits 0, which withdraws the id"
else
	not_ok "export --exit-after-export: exits 0, which withdraws the id" \
		"$T/e1.out" "$T/e1.err" "$T/e2.out" "$T/e2.err"
fi
finish $ev2
if [ $rc -eq 0 ] && [ "$(grep -c '^event new ' "$T/ev2.out")" = 2 ] &&
   has ev2 "^event new $E1 8192 one\$" && has ev2 "^event new $E2 8192 two\$"
then
	ok "wait-event --count 2: both events"
else
	not_ok "wait-event --count 2: both events" "$T/ev2.out" "$T/ev2.err"
fi

run ev wait-event --type overflow --timeout 300
if [ $rc -eq 1 ] && grep -q '^hdmabuf: wait-event: ETIMEDOUT (' "$T/ev.err"
then
	ok "wait-event --timeout: ETIMEDOUT"
else
	not_ok "wait-event --timeout: ETIMEDOUT" "$T/ev.out" "$T/ev.err"
fi

# --- every allocator, and a larger buffer ---------------------------------------
for alloc in heap memfd vgem; do
	run x export --to "$vmid" --size 128k --alloc $alloc --exit-after-export
	if [ $rc -ne 0 ] && grep -q '^hdmabuf: alloc: ' "$T/x.err"; then
		skip "export --alloc $alloc" "$(cat "$T/x.err")"
		continue
	fi
	bg x export --to "$vmid" --size 128k --alloc $alloc --seed 11
	px=$pid
	wait_for x '^exported ' 30
	run imp import "$(exported x)" --rw --verify 11 --write 12 \
		--read-after-ms 0 --verify-after 12
	kill $px
	finish $px
	if [ $rc -eq 0 ] && has x "^alloc $alloc 131072\$" &&
	   has imp '^verify ok 131072$' && has imp '^verify-after ok 131072$'
	then
		ok "export --alloc $alloc: import, verify, write"
	else
		not_ok "export --alloc $alloc: import, verify, write" \
			"$T/x.out" "$T/x.err" "$T/imp.out" "$T/imp.err"
	fi
done

bg big export --to "$vmid" --size 32m --seed 13 --expect-seed 14 \
	--timeout 120000
pbig=$pid
wait_for big '^exported ' 120
run imp import "$(exported big)" --rw --verify 13 --write 14
wait_for big '^peer-wrote ok$' 120
kill $pbig
finish $pbig
if [ $rc -eq 0 ] && has imp '^verify ok 33554432$' &&
   has big '^peer-wrote ok$'; then
	ok "32 MiB: verify and write-back"
else
	not_ok "32 MiB: verify and write-back" \
		"$T/big.out" "$T/big.err" "$T/imp.out" "$T/imp.err"
fi

# --- abuse: every attempt runs and reports one line ------------------------------
# What the kernel allows on a loopback import's mapping is the core's
# business (the Xen rig judges the outcomes on PV): here only the form.
bg ab export --to "$vmid" --size 64k --seed 15
pab=$pid
wait_for ab '^exported ' 30
run abuse abuse "$(exported ab)" --rw
abrc=$rc
run abuse1 abuse "$(exported ab)" --only fork,dontneed
kill $pab
finish $pab
AB_RE='^abuse [a-z-]+ (refused E[A-Z0-9]+(: .*)?|allowed(: .*)?|skipped: .*)$'
if [ $abrc -eq 0 ] && has abuse '^size 65536$' &&
   [ "$(grep -cE "$AB_RE" "$T/abuse.out")" = 8 ] &&
   [ "$(grep -c '^abuse ' "$T/abuse.out")" = 8 ] &&
   [ $rc -eq 0 ] && [ "$(grep -cE "$AB_RE" "$T/abuse1.out")" = 2 ] &&
   has abuse1 '^abuse fork ' && has abuse1 '^abuse dontneed '; then
	ok "abuse: one line per attempt, --only picks them"
else
	not_ok "abuse: one line per attempt, --only picks them" \
		"$T/abuse.out" "$T/abuse.err" "$T/abuse1.out" "$T/abuse1.err"
fi

# --- --help of every subcommand ------------------------------------------------
bad=
for c in info list export import wait-event watch wait-release query guess \
	abuse pattern-write pattern-check; do
	if ! "$HD" "$c" --help >"$T/help.out" 2>"$T/help.err" ||
	   [ -s "$T/help.err" ] ||
	   ! grep -q "^  $c\( \|\$\)" "$T/help.out" ||
	   ! grep -q '^Exit status: ' "$T/help.out"; then
		bad="$bad $c"
	fi
done
if [ -z "$bad" ]; then
	ok "COMMAND --help: its usage on stdout, exit status 0"
else
	not_ok "COMMAND --help: its usage on stdout, exit status 0:$bad"
fi

# --- --json of info, list, export, import; watch; wait-release -----------------
[ -n "$JC" ] || echo "# no json_check: JSON Lines not parsed, fields only"
run ji info --json
if [ $rc -eq 0 ] && json ji && [ "$(wc -l <"$T/ji.out")" = 1 ] &&
   has ji "^{\"vmid\":$vmid,\"version\":[0-9]*,\"peers\":.*{\"vmid\":$vmid,\"backend\":\"loopback\",\"export\":true,\"import\":true}.*}\$"
then
	ok "info --json: one object, vmid and the loopback peer"
else
	not_ok "info --json: one object, vmid and the loopback peer" \
		"$T/ji.out" "$T/ji.err" "$T/ji.jc"
fi

bg jw watch --json
jw=$pid
bg pw watch -n 1 --type new --timeout 60000
pwatch=$pid
wait_for jw '^{"event":"listening"}$'
wait_for pw '^listening$'
bg jx export --json --to "$vmid" --size 64k --seed 41 --priv 'json "q"\ 1'
pjx=$pid
wait_for jx '"event":"exported"' 30
J=$(jexported jx)
if [ -n "$J" ] &&
   has jx '^{"event":"alloc","kind":"[a-z]*","size":65536}$' &&
   has jx "^{\"event\":\"exported\",\"id\":\"$J\",\"size\":65536}\$"; then
	ok "export --json: alloc and exported objects"
else
	not_ok "export --json: alloc and exported objects" "$T/jx.out" "$T/jx.err"
fi

run jl list --json
if [ $rc -eq 0 ] && json jl &&
   has jl "^{\"id\":\"$J\",\"exporter_vmid\":$vmid,\"seq\":[0-9]*,\"size\":65536,\"endpoint\":\"\",\"priv\":\"json \\\\\"q\\\\\"\\\\\\\\ 1\"}\$"
then
	ok "list --json: one object per id, size, escaped priv"
else
	not_ok "list --json: one object per id, size, escaped priv" \
		"$T/jl.out" "$T/jl.err" "$T/jl.jc"
fi

run jimp import "$J" --json --verify 41
if [ $rc -eq 0 ] && json jimp &&
   has jimp '^{"event":"size","size":65536}$' &&
   has jimp '^{"event":"verify","result":"ok","bytes":65536}$'; then
	ok "import --json: size and verify objects"
else
	not_ok "import --json: size and verify objects" \
		"$T/jimp.out" "$T/jimp.err" "$T/jimp.jc"
fi

run jimp import "$J" --json --verify 42
if [ $rc -eq 1 ] && json jimp &&
   has jimp '^{"event":"verify","result":"mismatch","offset":0}$'; then
	ok "import --json: a mismatch, exit status 1"
else
	not_ok "import --json: a mismatch, exit status 1" \
		"$T/jimp.out" "$T/jimp.err" "$T/jimp.jc"
fi

# wait-release: returns once the holding import is gone, not before
bg jhold import "$J" --verify 41 --hold-ms 3000
jhold=$pid
wait_for jhold '^holding'
bg jwr wait-release "$J" --json --timeout 60000
jwr=$pid
wait_for jwr '"event":"waiting"'
kill -USR1 $pjx
wait_for jx '^{"event":"unexported"}$'
early=0
has jwr '"event":"released"' && early=1
finish $jhold
hrc=$rc
finish $jwr
if [ $early = 0 ] && [ $hrc -eq 0 ] && [ $rc -eq 0 ] && json jwr &&
   has jwr "^{\"event\":\"waiting\",\"id\":\"$J\"}\$" &&
   has jwr "^{\"event\":\"released\",\"id\":\"$J\",\"ms\":[0-9]*}\$"; then
	ok "wait-release --json: released once the importer let go, exit 0"
else
	not_ok "wait-release --json: released once the importer let go, exit 0 (status $rc, early $early)" \
		"$T/jwr.out" "$T/jwr.err" "$T/jwr.jc" "$T/jhold.err"
fi
kill $pjx
finish $pjx
if [ $rc -eq 0 ] && json jx; then
	ok "export --json: every line JSON, exit 0"
else
	not_ok "export --json: every line JSON, exit 0 (status $rc)" \
		"$T/jx.out" "$T/jx.err" "$T/jx.jc"
fi

wait_for jw "^{\"event\":\"withdrawn\",\"id\":\"$J\""
kill $jw
finish $jw
if json jw && [ "$(sed -n 1p "$T/jw.out")" = '{"event":"listening"}' ] &&
   has jw "^{\"event\":\"new\",\"id\":\"$J\",\"exporter_vmid\":$vmid,\"size\":65536,\"priv\":\"json \\\\\"q\\\\\"\\\\\\\\ 1\"}\$" &&
   has jw "^{\"event\":\"withdrawn\",\"id\":\"$J\",\"exporter_vmid\":$vmid,\"size\":65536}\$"
then
	ok "watch --json: listening, new and withdrawn of the export"
else
	not_ok "watch --json: listening, new and withdrawn of the export" \
		"$T/jw.out" "$T/jw.err" "$T/jw.jc"
fi
finish $pwatch
if [ $rc -eq 0 ] && [ "$(wc -l <"$T/pw.out")" = 2 ] &&
   has pw "^event new $J 65536 json \"q\"\\\\ 1\$"; then
	ok "watch -n 1 --type new: listening, the export's event line, exit 0"
else
	not_ok "watch -n 1 --type new: listening, the export's event line, exit 0" \
		"$T/pw.out" "$T/pw.err"
fi

run wt watch --type overflow -n 1 --timeout 300
wtrc=$rc
run wt2 watch --timeout 300
if [ $wtrc -eq 3 ] && grep -q '^hdmabuf: watch: ETIMEDOUT (' "$T/wt.err" &&
   [ $rc -eq 0 ] && [ "$(cat "$T/wt2.out")" = listening ]; then
	ok "watch --timeout: 3 before COUNT events, 0 without -n"
else
	not_ok "watch --timeout: 3 before COUNT events, 0 without -n ($wtrc, $rc)" \
		"$T/wt.out" "$T/wt.err" "$T/wt2.out" "$T/wt2.err"
fi

bg k export --to "$vmid" --size 64k --seed 43
pk=$pid
wait_for k '^exported ' 30
K=$(exported k)
bg khold import "$K" --verify 43 --hold-ms 4000
khold=$pid
wait_for khold '^holding'
kill -USR1 $pk
wait_for k '^unexported$'
run kwr wait-release "$K" --timeout 500
if [ $rc -eq 3 ] && has kwr "^waiting $K\$" && has kwr "^timeout $K [0-9]*\$" &&
   ! has kwr '^released' &&
   grep -q '^hdmabuf: wait-release: ETIMEDOUT (' "$T/kwr.err"; then
	ok "wait-release --timeout: exit status 3 while the importer holds it"
else
	not_ok "wait-release --timeout: exit status 3 while the importer holds it (status $rc)" \
		"$T/kwr.out" "$T/kwr.err"
fi
finish $khold
run kwr wait-release "$K" --timeout 20000
if [ $rc -eq 0 ] && { has kwr "^released $K [0-9]*\$" ||
			has kwr "^unknown $K\$"; }; then
	ok "wait-release: 0 once the hold ended"
else
	not_ok "wait-release: 0 once the hold ended (status $rc)" \
		"$T/kwr.out" "$T/kwr.err"
fi
kill $pk
finish $pk
G=$(echo "$K" | sed 's/:[0-9a-f]*$/:000000000000000000000000/')
run kwr wait-release "$G" --json --timeout 500
if [ $rc -eq 0 ] && json kwr &&
   [ "$(cat "$T/kwr.out")" = "{\"event\":\"unknown\",\"id\":\"$G\"}" ]; then
	ok "wait-release of an unknown id: unknown, exit status 0"
else
	not_ok "wait-release of an unknown id: unknown, exit status 0 (status $rc)" \
		"$T/kwr.out" "$T/kwr.err"
fi

# --- the rest: usage errors, pattern files, the read-only export ------------------
run bad import 1:2:3
if [ $rc -eq 2 ] && grep -q '^hdmabuf: import: EINVAL (' "$T/bad.err"; then
	ok "a malformed id: EINVAL, exit status 2"
else
	not_ok "a malformed id: EINVAL, exit status 2" "$T/bad.err"
fi

run bad export --to "$vmid" --size 4k --exit-after-export --wait-released 10
if [ $rc -eq 2 ] && grep -q '^hdmabuf: export: EINVAL (' "$T/bad.err"; then
	ok "export --exit-after-export --wait-released: EINVAL, exit status 2"
else
	not_ok "export --exit-after-export --wait-released: EINVAL, exit status 2" \
		"$T/bad.err"
fi

run pw pattern-write "$T/pattern" 21 100003
run pc pattern-check "$T/pattern" 21
pcrc=$rc
run pc2 pattern-check "$T/pattern" 22
if [ $pcrc -eq 0 ] && has pc '^verify ok 100003$' && [ $rc -eq 1 ] &&
   has pc2 '^verify mismatch 0$'; then
	ok "pattern-write, pattern-check"
else
	not_ok "pattern-write, pattern-check" "$T/pw.err" "$T/pc.out" \
		"$T/pc.err" "$T/pc2.out"
fi

kill $pc
finish $pc
if [ $rc -eq 0 ] && retry 10 gone "$C"; then
	ok "export --ro: SIGTERM exits 0 and withdraws"
else
	not_ok "export --ro: SIGTERM exits 0 and withdraws" "$T/c.err"
fi

echo "1..$n"
[ $failed -eq 0 ] || exit 1
exit 0
