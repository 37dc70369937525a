#!/usr/bin/env bash
# make bench: probe cost per hit against an empty uprobe on the same function,
# measured in the same run (tests/bench/probe.sh); attach and detach times
# (tests/bench/attach.sh); what the kernel hooks cost (hooks.sh); the
# recorder's limit and its bytes per event (record.sh); no harm to real
# migrations (harm.sh); swackstat with 50 VMs (stat.sh).  Figures with a goal
# are rows of one table (tests/bench/lib.sh), printed at the end and written
# to build/bench.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build
. tests/bench/lib.sh
bench_setup bench
export BENCH_ROWS=$B/bench-rows.tsv
: >"$BENCH_ROWS"
bench_target TARGET
target=$TARGET

# Probe cost against empty uprobes, its own target and rounds.
bash tests/bench/probe.sh
tests/bench/attach.sh

# What swack trace --json and swack script --json pay per event for JSON (the
# one writer, util/json.c), against text lines: a recording of the bench
# target's calls read back.  (The recorder's own limit: record.sh.)
calls=200000
echo "JSON lines: swack script of a recording of $calls state changes and $calls pending-size queries, median of 3 runs, ns per event"
rm -f "$B/bench.data"
: >"$B/bench-record.err"
"$B/swack" record -f -o "$B/bench.data" -p "$target" 2>"$B/bench-record.err" &
rec=$!
BENCH_PIDS+=("$rec")
for _ in $(seq 50); do grep -q 'watched in' "$B/bench-record.err" && break; sleep 0.1; done
echo "run $calls" >&"$TARGET_W"
read -r _ _ <&"$TARGET_R"
read -r _ _ <&"$TARGET_R"
sleep 0.5
kill -INT "$rec"; wait "$rec" || true
total=$("$B/swack" script --json "$B/bench.data" 2>/dev/null | wc -l)
script_ns() {
	local v=() t0 t1
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		"$B/swack" script "$@" "$B/bench.data" >/dev/null 2>&1
		t1=$(date +%s%N)
		v+=("$(( (t1 - t0) / total ))")
	done
	printf '%s\n' "${v[@]}" | median
}
text_ns=$(script_ns)
json_ns=$(script_ns --json)
printf '  %d events; text %s ns, JSON %s ns per event (reading, decoding and writing included)\n' \
	"$total" "$text_ns" "$json_ns"

# five_runs CMD: the target's figure for CMD, median of 5 runs.
five_runs() {
	local v=() ns
	for _ in 1 2 3 4 5; do
		echo "$1" >&"$TARGET_W"
		read -r _ ns <&"$TARGET_R"
		v+=("$ns")
	done
	printf '%s\n' "${v[@]}" | median
}
# swack_on PID: swack trace watching PID, once attached.
swack_on() {
	"$B/swack" trace -p "$1" >/dev/null 2>"$B/bench-sched.err" &
	sw=$!
	BENCH_PIDS+=("$sw")
	for _ in $(seq 100); do grep -q 'watched in' "$B/bench-sched.err" && break; sleep 0.1; done
}

# Postcopy's fault path with and without swack: the kernel side (the fault
# read, the UFFDIO_COPY, the sleep's stack walk and its wake-up) and the two
# request uprobes (the destination's request, the source's queueing), per fault.
echo "postcopy: one missing fault's stall, touch to UFFDIO_COPY, median of 5 x 2000 faults"
pc_fault() { five_runs "postcopy 2000"; }
pc_none=$(pc_fault)
swack_on "$target"
pc_swack=$(pc_fault)
kill -INT "$sw"; wait "$sw" || true
awk -v n="$pc_none" -v s="$pc_swack" 'BEGIN {
	printf "  no swack %.1f us a fault; watched by swack %.1f us (+%.1f us, %.2fx)\n", n / 1e3, s / 1e3, (s - n) / 1e3, s / n
}'

bash tests/bench/stat.sh

echo "switchover gate: the cost of a held iteration (tight loop standing in for QEMU's"
echo "migration thread)"
gate_log=$(mktemp)
SWACK_GATE_PARTS=2 SWACK_GATE_LOOP_KILLS=1 bash tests/integration/gate.sh >"$gate_log" 2>&1 || true
sed -n 's/^# bench: /  /p' "$gate_log"
grep '^not ok' "$gate_log" | sed 's/^/  gate bench: /' || true
rm -f "$gate_log"
# Real migrations with and without swack watching, held by the gate or not.
bash tests/bench/harm.sh
bash tests/bench/readers.sh
bash tests/bench/hooks.sh
bash tests/bench/record.sh
tests/bench/table.sh "$BENCH_ROWS" "$B/bench.json"
