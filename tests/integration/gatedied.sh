#!/usr/bin/env bash
# Holds end for everyone: a `swack gate run` killed with SIGKILL mid-hold logs
# no release.  Observers that saw the hold (a trace, the exporter) find the
# gate gone and end it at once with cause gate-died; the next gate run logs a
# release of it, with the same cause, first in its new log.  (A hold that
# only runs past its max-hold is ended there by the model: test_model.)
# qemu-sim plays gate-hold.src (it waits, held, until told it was released);
# the gates run under /tmp/swack-gate.lock.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
D=$SIM_DIR
port=$((25000 + $$ % 2000))

mkfifo "$D/go"
mkdir "$D/sync"
exec {go}<>"$D/go"
QEMU_SIM_SYNC=$D/sync "$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
	"$SWACK_ROOT/tests/fixtures/gate-hold.src" <&$go >/dev/null &
sim=$!
SIM_PIDS+=("$sim")
"$SWACK" trace -p "$sim" >"$D/trace.out" 2>"$D/trace.err" &
SIM_PIDS+=("$!")
"$SWACK" exporter --listen "127.0.0.1:$port" -p "$sim" 2>"$D/exporter.err" &
SIM_PIDS+=("$!")
wait_attached "$D/trace.err" 1
wait_attached "$D/exporter.err" 1
active() {
	curl -s "http://127.0.0.1:$port/metrics" | awk '/^swack_gate_hold_active/ { print $2 }'
}
# until SECONDS_MAX: waits for "$@" to succeed.
until_ok() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

exec {lock}>/tmp/swack-gate.lock
flock -w 3600 "$lock" || { fail "gate lock" "/tmp/swack-gate.lock held for an hour"; exit 1; }
# The pin directory is the host's: leave its mode as it was found.
pinmode=$(stat -c %a /sys/fs/bpf/swack 2>/dev/null)
"$SWACK" gate run -p "$sim" >"$D/gate1.out" 2>"$D/gate1.err" {lock}>&- &
gate=$!
SIM_PIDS+=("$gate")
until_ok 120 grep -qs '^swack gate: pid .* gate on ' "$D/gate1.err" ||
	fail "the first gate run watches the sim" "$(cat "$D/gate1.err")"
"$SWACK" gate hold -p "$sim" --max-hold 60s >/dev/null 2>"$D/hold.err" ||
	fail "gate hold" "$(cat "$D/hold.err" "$D/gate1.err")"
echo go >&$go
until_ok 10 grep -q 'gate_hold ' "$D/trace.out"
expect_match "the trace saw the hold" "gate_hold " "$(cat "$D/trace.out")"
until_ok 10 test "$(active)" = 1
expect_eq "the exporter shows the hold active" 1 "$(active)"

kill -KILL "$gate"
wait "$gate" 2>/dev/null
# (A release of another pid may come first: a hold an earlier gate died with.)
expect_eq "the gate logged no release before it died" 0 "$(grep -c " $sim/$sim .*gate_release" "$D/gate1.out")"
until_ok 5 grep -q 'gate_release .*cause=gate-died' "$D/trace.out"
expect_match "the trace ends the hold: the gate died" \
	"gate_release +reason=\"swack gate run $gate died holding it\" cause=gate-died held=[0-9.]+" \
	"$(grep gate_release "$D/trace.out")"
until_ok 5 test "$(active)" = 0
expect_eq "the exporter shows the hold ended" 0 "$(active)"

"$SWACK" gate run -p "$sim" >"$D/gate2.out" 2>"$D/gate2.err" {lock}>&- &
gate2=$!
SIM_PIDS+=("$gate2")
until_ok 120 grep -qs '^swack gate: pid .* gate on ' "$D/gate2.err" ||
	fail "the second gate run watches the sim" "$(cat "$D/gate2.err")"
expect_match "the next gate run logs the release" \
	"gate_release +reason=\"swack gate run $gate died holding it\" cause=gate-died held=[0-9.]+" \
	"$(grep " $sim/$sim .*gate_release" "$D/gate2.out")"
until_ok 5 test "$(grep -c 'gate_release' "$D/trace.out")" -ge 2
expect_eq "the trace shows the logged release too, of a hold it had ended" \
	"gate-died gate-died" "$(grep -o 'cause=[a-z-]*' "$D/trace.out" | cut -d= -f2 | xargs)"
expect_eq "the exporter: still no hold active" 0 "$(active)"
kill -INT "$gate2"
wait "$gate2"
touch "$D/sync/released"
[[ -n $pinmode ]] && chmod "$pinmode" /sys/fs/bpf/swack
flock -u "$lock"
exec {lock}>&-
