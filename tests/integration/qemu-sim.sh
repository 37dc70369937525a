#!/usr/bin/env bash
# The qemu-sim fixture itself: its USDT notes match shared/PROBES.md (names,
# argument counts and sizes, per generation) and every scenario replays.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
Q=$SWACK_ROOT/tests/fixtures/qemu-sim
F=$SWACK_ROOT/build/fixtures

for gen in 102 111; do
	if out=$("$Q/check-notes.sh" "$F/qemu-system-sim$gen" "$gen" 2>&1); then
		pass "qemu-sim $gen: USDT notes match PROBES.md"
	else
		fail "qemu-sim $gen: USDT notes match PROBES.md" "$(tail -3 <<<"$out")"
	fi
done
# Its own closing line stays out of this run's output: only ours counts.
out=$("$Q/run-scenarios.sh" "$F" 2>&1)
expect_match "qemu-sim: every scenario replays, every malformed input is refused" \
	"^[0-9]+ passed, 0 failed$" "$(tail -1 <<<"$out")"
