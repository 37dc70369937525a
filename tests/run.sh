#!/usr/bin/env bash
# Runs every test: the cmocka unit tests, then each tests/integration/*.sh
# against real QEMU and real BPF.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "tests/run.sh: run as root (BPF, QEMU, mounts)" >&2; exit 1; }

export SWACK_RESULTS
SWACK_RESULTS=$(mktemp)
trap 'rm -f "$SWACK_RESULTS"' EXIT

for unit in build/test_*; do
	unit_out=$("$unit" 2>&1)
	echo "$unit_out"
	unit_pass=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$unit_out")
	unit_fail=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$unit_out")
	for _ in $(seq 1 "${unit_pass:-0}"); do echo "pass $unit" >>"$SWACK_RESULTS"; done
	for _ in $(seq 1 "${unit_fail:-0}"); do echo "fail $unit" >>"$SWACK_RESULTS"; done
	[[ -n $unit_pass || -n $unit_fail ]] || echo "fail $unit did not run" >>"$SWACK_RESULTS"
done

for t in tests/integration/${SWACK_TESTS:-*}.sh; do
	echo "# $t"
	before=$(wc -l <"$SWACK_RESULTS")
	bash "$t"
	rc=$?
	after=$(wc -l <"$SWACK_RESULTS")
	if [[ $rc -ne 0 ]]; then
		echo "fail $t exited with status $rc" >>"$SWACK_RESULTS"
		echo "not ok - $t exited with status $rc"
	elif [[ $after -eq $before ]]; then
		echo "fail $t made no check" >>"$SWACK_RESULTS"
		echo "not ok - $t made no check"
	fi
done

passed=$(grep -c '^pass' "$SWACK_RESULTS")
failed=$(grep -c '^fail' "$SWACK_RESULTS")
if [[ $failed -gt 0 ]]; then
	echo "# failures:"
	grep '^fail' "$SWACK_RESULTS" | sed 's/^fail /#   /'
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
