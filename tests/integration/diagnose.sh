#!/usr/bin/env bash
# swack diagnose: every qemu-sim scenario recorded by swack record, then
# diagnosed from the recording (findings, their order, their figures); the
# HTML page rendered by headless Chromium; errors.  A real migration on each
# real QEMU is diagnosed, live and from its recording, in migrate.sh.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
. "$SWACK_ROOT/tests/lib/html.sh"
HTML_DIR=$SIM_DIR

A=0000:3b:00.1
"$SWACK_ROOT/scripts/deps.sh" || { fail "dependencies" "scripts/deps.sh failed"; exit 1; }

# diag SCENARIO GEN [DIAGNOSE-OPTION...]: records the scenario, diagnoses it;
# D is the one diagnosis (JSON), NAME the scenario.
diag() {
	local scen=$1 gen=$2
	shift 2
	NAME=$scen
	DATA=$SIM_DIR/$scen.data
	SIM_CMD=record sim_play "$scen" "$gen" -o "$DATA"
	D=$("$SWACK" diagnose --json "$@" "$DATA" | jq -c '.diagnoses[]')
	expect_eq "$NAME: one diagnosis, source and destination" "1 $SIM_SRC $SIM_DST" \
		"$(jq -s length <<<"$D") $(jq -r '"\(.src_pid) \(.dst_pid)"' <<<"$D")"
}

# ids EXPECTED: the finding ids, in rank order.
ids() { expect_eq "$NAME: findings in order" "$1" "$(jq -r '[.findings[].id] | join(" ")' <<<"$D")"; }
# fig LABEL EXPECTED JQ: one figure of the diagnosis (ID: the finding whose figures).
fig() { expect_eq "$NAME: $1" "$2" "$(jq -rc "$3" <<<"$D")"; }
f() { echo ".findings[] | select(.id == \"$1\")"; }

# Phases are consecutive: they add up to the downtime they explain.
phases_add_up() {
	fig "$1: phases add up to the window they cover" true \
		"$(f "$1") | .figures | ([to_entries[] | select(.key | test(\"^(stop|iterable|non_iterable|final|source_tail|transfer|destination|vcpu)\")) | .value] | add) == .phases_total_ns"
}

# The guest saw more than QEMU reports by 2 ms and 25% (the rule's bounds):
# sims run in real time, so a loaded host can stretch the destination's side.
underreported() {
	jq -e '.guest_downtime_ns - .qemu_downtime_ns >= 2000000 and
		.guest_downtime_ns >= 1.25 * .qemu_downtime_ns' <<<"$D" >/dev/null
}

diag precopy-basic 102
if underreported; then ids "downtime-underreported downtime-breakdown"; else ids "downtime-breakdown"; fi
fig "limit from QEMU's threshold and bandwidth (30 MB at 100 MB/s)" "300000000 threshold" \
	'"\(.limit_ns) \(.limit_from)"'
fig "breakdown is of the guest-visible downtime" true \
	"$(f downtime-breakdown) | .figures.downtime_ns == $(jq .guest_downtime_ns <<<"$D")"
phases_add_up downtime-breakdown

diag ack-legacy 102
if underreported; then UR=" downtime-underreported"; else UR=; fi
ids "ack-delayed device-downtime$UR downtime-breakdown"
fig "ack-delayed: 3 converged queries, 1 ACK, held >= 8 ms" "3 1 true" \
	"$(f ack-delayed) | .figures | \"\(.held_queries) \(.acks_received) \(.held_ns >= 8000000)\""
fig "ack-delayed: who (no approver names in 10.2): the device with most initial bytes left" \
	"$A 16777216" "$(f ack-delayed) | \"\(.title | capture(\"ACK of (?<d>.*)\").d) \(.figures.initial_left)\""
fig "device-downtime: A's 3.1 ms save (36% of 8.7 ms saved), stop-copy 1 MiB against a 128 MiB estimate" \
	"3100000 36 1048576 134217728" \
	"$(f device-downtime) | .figures | \"\(.device_ns) \(.share_pct) \(.stop_copy_bytes) \(.stop_copy_estimate)\""
fig "device-downtime: over-estimate advice" true "$(f device-downtime) | .advice | test(\"overestimates its stop-copy data 128x\")"
fig "evidence in time order" true '[.findings[].evidence | map(.ts) | . == sort] | all'
phases_add_up downtime-breakdown

diag ack-legacy-111 111
if underreported; then UR=" downtime-underreported"; else UR=; fi
ids "ack-delayed device-downtime$UR downtime-breakdown"
fig "ack-delayed: A approved last (11.1 names approvers)" "$A 3 1" \
	"$(f ack-delayed) | \"\(.title | capture(\"ACK of (?<d>.*)\").d) \(.figures.held_queries) \(.figures.acks_received)\""
fig "device-downtime: A's 1.4 ms save, 41% of what was saved" "1400000 41" \
	"$(f device-downtime) | .figures | \"\(.device_ns) \(.share_pct)\""
fig "ack-delayed: the last approval is evidence" true \
	"$(f ack-delayed) | [.evidence[] | select(.side == \"dst\" and .what == \"$A approves (last)\")] | length == 1"

diag ack-regrow 111
if underreported; then UR=" downtime-underreported"; else UR=; fi
# The wait for ACKs outranks the re-request when it lasted as long as the
# downtime did, which a loaded host can stretch past it.
ACKS="ack-delayed ack-rerequested"
jq -e '([.findings[] | select(.id == "ack-delayed")][0].figures.held_ns) >= .guest_downtime_ns' \
	<<<"$D" >/dev/null || ACKS="ack-rerequested ack-delayed"
ids "$ACKS device-downtime$UR downtime-breakdown"
fig "ack-delayed: 4 converged queries, 3 ACKs, held >= 18 ms" "4 3 true" \
	"$(f ack-delayed) | .figures | \"\(.held_queries) \(.acks_received) \(.held_ns >= 18000000)\""
fig "ack-rerequested: 1 of 3 again, A regrew to 8 MiB" "1 3 3 8388608" \
	"$(f ack-rerequested) | .figures | \"\(.rerequests) \(.requested) \(.received) \(.regrown_to)\""
fig "device-downtime: A's 2.6 ms save, 45% of what was saved" "2600000 45" \
	"$(f device-downtime) | .figures | \"\(.device_ns) \(.share_pct)\""
fig "ack-rerequested: regrowth before the re-request" true \
	"$(f ack-rerequested) | .evidence | (.[0].what | test(\"initial bytes grow again\")) and (.[1].what | test(\"requested again\")) and .[0].ts <= .[1].ts"

diag ack-never 102
ids "ack-missing migration-cancelled"
fig "ack-missing: 4 converged queries, 1 needed, 0 approved, A had 4 MiB left" "4 1 0 4194304" \
	"$(f ack-missing) | .figures | \"\(.held_queries) \(.needed) \(.approved) \(.initial_left)\""
fig "ack-missing: advice names the device" true "$(f ack-missing) | .advice | startswith(\"$A never finished\")"
fig "migration-cancelled: 20 iterations" 20 "$(f migration-cancelled) | .figures.iterations"

diag ack-stall 102
ids "ack-missing migration-cancelled"
fig "ack-missing: held 4 queries for >= 8 s" "4 true" \
	"$(f ack-missing) | .figures | \"\(.held_queries) \(.held_ns >= 8000000000)\""

diag ack-underflow 111
ids "migration-failed ack-underflow"
fig "ack-underflow: 2 received for 1 requested" "2 1" \
	"$(f ack-underflow) | .figures | \"\(.received) \(.requested)\""
fig "migration-failed names the underflow" true "$(f migration-failed) | .title | test(\"underflow\")"
fig "ack-underflow: both approvals of A are evidence" 2 \
	"[$(f ack-underflow) | .evidence[] | select(.what == \"$A approves\")] | length"

diag cancel 102
ids "no-convergence migration-cancelled"
fig "no-convergence: 4 iterations, 8 GB -> 2 GB pending, threshold 300 MB, QEMU's 1 GB/s" \
	"4 8000000000 2000000000 300000000 1000000000" \
	"$(f no-convergence) | .figures | \"\(.iterations) \(.pending_first) \(.pending_last) \(.threshold) \(.bandwidth_Bps)\""
fig "no-convergence: the rest needs 2000 ms at that rate" true \
	"$(f no-convergence) | .advice | test(\"need 2000 ms\")"

diag failed 102
ids "migration-failed"
fig "migration-failed: device A, return -5" true \
	"$(f migration-failed) | (.title | endswith(\"device $A\")) and (.detail | test(\"return -5\"))"

diag multifd-starved 102
if underreported; then UR=" downtime-underreported"; else UR=; fi
ids "device-downtime multifd-starved$UR downtime-breakdown"
fig "device-downtime: A's 22 ms load, 82% of what was loaded" "22000000 82 $A/vfio" \
	"$(f device-downtime) | \"\(.figures.device_ns) \(.figures.share_pct) \(.title | capture(\"device (?<d>[^ ]*)\").d)\""
fig "multifd-starved: 2 starvations, 5 buffers, waits >= 13 ms, thread >= 16 ms" "2 5 true true" \
	"$(f multifd-starved) | .figures | \"\(.starved) \(.buffers) \(.starved_ns >= 13000000) \(.load_thread_ns >= 16000000)\""
fig "multifd-starved: buffers 2 and 4" "2 4" \
	"[$(f multifd-starved) | .evidence[].what | capture(\"buffer (?<i>[0-9]+)\").i] | join(\" \")"
[[ -n $UR ]] && fig "downtime-underreported: the guest saw more than QEMU reports" true \
	"$(f downtime-underreported) | .figures | .gap_ns == .guest_downtime_ns - .qemu_downtime_ns and .gap_ns >= 1000000"
# The same recording against a 5 ms limit: over it, and ranked first.
D=$("$SWACK" diagnose --json --downtime-limit 5 "$DATA" | jq -c '.diagnoses[0]')
ids "downtime-over-limit device-downtime multifd-starved$UR"
fig "over-limit: 5 ms given, over by downtime - 5 ms" "5000000 option true" \
	"\"\(.limit_ns) \(.limit_from) \($(f downtime-over-limit) | .figures | .over_ns == .downtime_ns - 5000000)\""
phases_add_up downtime-over-limit

# Text output: ranks, severities, evidence and advice lines.
text=$("$SWACK" diagnose --downtime-limit 5 "$DATA")
expect_match "text: header" "^diagnosis: migration src $SIM_SRC -> dst $SIM_DST completed, guest-visible downtime [0-9.]+ ms, QEMU's [0-9.]+ ms, limit 5.0 ms" "$text"
expect_match "text: first finding ranked and rated" $'\n 1\\. \\[critical\\] downtime-over-limit: guest-visible downtime [0-9.]+ ms exceeds the 5.0 ms limit by' "$text"
expect_match "text: evidence with times" $'\n      evidence: +[+][0-9]+\\.[0-9]{3} ms dst destination vCPUs resume' "$text"
expect_match "text: advice" $'\n      advice: ' "$text"

"$SWACK" diagnose --html "$SIM_DIR/ack-regrow.html" "$SIM_DIR/ack-regrow.data" >/dev/null
html_checks "$SIM_DIR/ack-regrow.html" ack-regrow-html "lane-src lane-dst phases iterations pending acks initial downtime zoom"
expect_match "ack-regrow-html: findings on the page" "data-id=\"${ACKS% *}\".*data-id=\"${ACKS#* }\"" \
	"$(tr -d '\n' <"$SIM_DIR/ack-regrow-html.dom")"

# Errors: one line, what and what to do, non-zero exit.
echo "not a recording" >"$SIM_DIR/junk.data"
out=$("$SWACK" diagnose "$SIM_DIR/junk.data" 2>&1); rc=$?
expect_eq "junk file: exit 1, one line" "1 1" "$rc $(wc -l <<<"$out")"
expect_match "junk file: says what is wrong" "^swack diagnose: .*junk.data" "$out"
# Offsets at three quarters of the file, among its events (1.7 KB: header
# and process records first, then 26 events that format 2 packs to about 30
# bytes each, the migration's end last).
cp "$SIM_DIR/cancel.data" "$SIM_DIR/bad.data"
at=$(($(stat -c %s "$SIM_DIR/cancel.data") * 3 / 4))
printf '%032d' 0 | dd of="$SIM_DIR/bad.data" bs=1 seek="$at" conv=notrunc 2>/dev/null
out=$("$SWACK" diagnose "$SIM_DIR/bad.data" 2>&1 >/dev/null); rc=$?
expect_eq "corrupt recording: exit 1" 1 "$rc"
expect_match "corrupt recording: says where, and what the diagnosis covers" \
	"^swack diagnose: .*bad.data: corrupt at byte [0-9]+ .*; what came before it was read$" "$out"
# A recording cut short (a recorder killed): what it holds, said to be partial,
# and exit 1 as every reader does on a file that did not end cleanly (swack(8)).
head -c "$at" "$SIM_DIR/cancel.data" >"$SIM_DIR/cut.data"
out=$("$SWACK" diagnose --json "$SIM_DIR/cut.data" 2>"$SIM_DIR/cut.err"); rc=$?
expect_eq "cut recording: exit 1, an unfinished migration" "1 migration-unfinished" \
	"$rc $(jq -r '[.diagnoses[].findings[].id] | unique | join(" ")' <<<"$out")"
expect_match "cut recording: says so" "^swack diagnose: .*cut.data: cut: no END record" "$(cat "$SIM_DIR/cut.err")"
# A recording of a QEMU that never migrated.
mkfifo "$SIM_DIR/idle.in"
exec 9<>"$SIM_DIR/idle.in"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w "$SWACK_ROOT/tests/fixtures/scenarios/precopy-basic.src" <&9 >/dev/null 9<&- &
idle=$!
SIM_PIDS+=("$idle")
"$SWACK" record -p "$idle" -d 2 -o "$SIM_DIR/idle.data" 2>"$SIM_DIR/idle.err"
kill "$idle"
exec 9>&-
out=$("$SWACK" diagnose "$SIM_DIR/idle.data" 2>&1); rc=$?
expect_eq "no migration: exit 1" 1 "$rc"
expect_match "no migration: what and what to do" "^swack diagnose: no migration in .*idle.data: nothing to diagnose \(record one with 'swack record' while a migration runs\)$" "$out"
out=$("$SWACK" diagnose --downtime-limit abc "$DATA" 2>&1); rc=$?
expect_eq "bad --downtime-limit: exit 2" 2 "$rc"
expect_match "bad --downtime-limit: says what to give" "invalid downtime limit 'abc': give milliseconds > 0" "$out"
