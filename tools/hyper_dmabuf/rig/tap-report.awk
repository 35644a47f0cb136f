# SPDX-License-Identifier: GPL-2.0
#
# Read the rig's results stream (a "# suite: NAME" line, then that suite's
# TAP, then optionally "# exit: RC") and print one line per test plus
# totals.  Missing results (fewer than the plan) and suites that exited
# non-zero without a failing test count as failures, so a crashed test
# binary can never pass vacuously.
#
# Output ends with "TOTALS <passed> <failed> <skipped>".

function close_suite() {
	if (suite == "")
		return
	if (plan > seen) {
		printf "not ok   %s: %d of %d results missing\n", suite, plan - seen, plan
		failed++
	}
	if (rc != "" && rc != 0 && rc != 4 && !suite_failed) {
		printf "not ok   %s: exited with status %s\n", suite, rc
		failed++
	}
	suite = ""
}

{ sub(/\r$/, "") }

/^# suite: / {
	close_suite()
	suite = substr($0, 10); plan = 0; seen = 0; rc = ""; suite_failed = 0
	next
}
/^# exit: / { rc = substr($0, 9) + 0; next }
/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
/^(not )?ok [0-9]+/ {
	if (suite == "")
		suite = "?"
	seen++
	line = $0
	notok = sub(/^not ok [0-9]+ (- )?/, "", line)
	if (!notok)
		sub(/^ok [0-9]+ (- )?/, "", line)
	if (line ~ /# [Ss][Kk][Ii][Pp]/) {
		printf "skip     %s: %s\n", suite, line
		skipped++
	} else if (notok) {
		printf "not ok   %s: %s\n", suite, line
		failed++
		suite_failed = 1
	} else {
		printf "ok       %s: %s\n", suite, line
		passed++
	}
	next
}
/^# .*(:Expected|Assertion|FAIL|EXPECTATION FAILED|ASSERTION FAILED)/ { print "         " $0 }

END {
	close_suite()
	printf "TOTALS %d %d %d\n", passed, failed, skipped
}
