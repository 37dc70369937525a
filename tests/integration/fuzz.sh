#!/usr/bin/env bash
# The inputs the fuzzer found (tests/fuzz/corpus) stay regression tests: the
# reader under ASan and UBSan, and swack report and script on each of them:
# an answer and an exit status, never a crash.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
C=$SWACK_ROOT/tests/fuzz/corpus
n=$(ls "$C" | wc -l)
expect_num "corpus kept" "$n" -ge 50
out=$("$SWACK_ROOT/build/fuzz_recfile_replay" "$C"/* 2>&1 >/dev/null)
expect_eq "reader under sanitizers: every corpus input, no report" "0:" "$?:$(grep -c 'ERROR: \|runtime error' <<<"$out" | sed 's/^0$//')"
crashed=0
for f in "$C"/*; do
	for cmd in report script; do
		"$SWACK" "$cmd" "$f" >/dev/null 2>&1
		rc=$?
		[[ $rc -le 2 ]] || { crashed=$((crashed + 1)); echo "# swack $cmd $f: status $rc"; }
	done
done
expect_eq "swack report and script on every corpus input: no crash" 0 "$crashed"
# Every view under sanitizers (tests/fuzz/fuzz_views.c, replay build): the
# model and report, diagnose (text, JSON, HTML), the exports and stat -i on the
# views' corpus (recordings of every scenario, postcopy and snapshots crafted)
# and the reader's.
V=$SWACK_ROOT/tests/fuzz/views-corpus
out=$("$SWACK_ROOT/build/fuzz_views_replay" "$V"/* "$C"/* 2>&1 >/dev/null)
expect_eq "views under sanitizers: every corpus input, no report" "0:" "$?:$(grep -c 'ERROR: \|runtime error' <<<"$out" | sed 's/^0$//')"
expect_eq "views under sanitizers: every input replayed" "$(($(ls "$V" | wc -l) + $(ls "$C" | wc -l)))" "$(grep -c ': replayed$' <<<"$out")"
