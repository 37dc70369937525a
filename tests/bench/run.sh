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
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root" >&2; exit 1; }
export BENCH_ROWS=$B/bench-rows.tsv
: >"$BENCH_ROWS"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

coproc TARGET { exec "$B/fixtures/qemu-system-bench"; }
target=$TARGET_PID
pids+=("$target")
read -r _ <&"${TARGET[0]}"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Probe cost against empty uprobes, its own target and rounds.
bash tests/bench/probe.sh

echo "recording: swack record of the bench target's calls (one event each)"
rm -f "$B/bench.data"
: >"$B/bench-record.err"
"$B/swack" record -f -o "$B/bench.data" -p "$target" 2>"$B/bench-record.err" &
rec=$!
pids+=("$rec")
for _ in $(seq 50); do grep -q 'probes attached' "$B/bench-record.err" && break; sleep 0.1; done
calls=200000
t0=$(date +%s%N)
echo "run $calls" >&"${TARGET[1]}"
read -r _ _ <&"${TARGET[0]}"
read -r _ _ <&"${TARGET[0]}"
t1=$(date +%s%N)
sleep 0.5
kill -INT "$rec"; wait "$rec" || true
lost=$("$B/swack" report --json "$B/bench.data" | jq -r '.recordings[0].ended' | sed -n 's/.*, \([0-9]*\) lost.*/\1/p')
size=$(stat -c %s "$B/bench.data")
total=$("$B/swack" script --json "$B/bench.data" 2>/dev/null | wc -l)
awk -v c="$calls" -v l="$lost" -v sz="$size" -v n="$total" -v t="$(( (t1 - t0) / 1000 ))" 'BEGIN {
	printf "  %d events recorded of %d fired (%d state changes + %d pending-size queries), %s lost, in %.2f s: %.0f events/s, as fast as the target could fire them\n", n, c * 2, c, c, l, t / 1e6, n / (t / 1e6)
	printf "  %.1f bytes per event on disk (%d bytes)\n", sz / n, sz
}'

# What swack trace --json and swack script --json pay per event for JSON (the
# one writer, util/json.c), against text lines: the recording read back.
echo "JSON lines: swack script of the recording above, median of 3 runs, ns per event"
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
printf '  text %s ns, JSON %s ns per event (reading, decoding and writing included)\n' \
	"$text_ns" "$json_ns"

qemu-system-x86_64 -machine none -display none -nodefaults -S &
qpid=$!
pids+=("$qpid")
sleep 0.5
tests/bench/attach.sh

# Every context switch and wake-up of the machine runs swack's sched_switch
# and sched_waking programs (background-snapshot stalls).
echo "scheduler tracepoints: semaphore ping-pong of two threads on one CPU (2 switches + 2 wake-ups a round trip), median of 5 x 100000 round trips"
# five_runs CMD: the target's figure for CMD, median of 5 runs.
five_runs() {
	local v=() ns
	for _ in 1 2 3 4 5; do
		echo "$1" >&"${TARGET[1]}"
		read -r _ ns <&"${TARGET[0]}"
		v+=("$ns")
	done
	printf '%s\n' "${v[@]}" | median
}
pingpong() { five_runs "pingpong 100000"; }
# swack_on PID: swack trace watching PID, once attached.
swack_on() {
	"$B/swack" trace -p "$1" >/dev/null 2>"$B/bench-sched.err" &
	sw=$!
	pids+=("$sw")
	for _ in $(seq 100); do grep -q 'watched in' "$B/bench-sched.err" && break; sleep 0.1; done
}
pp_none=$(pingpong)
swack_on "$qpid"
pp_other=$(pingpong)
kill -INT "$sw"; wait "$sw" || true
swack_on "$target"
pp_watched=$(pingpong)
echo uffd >&"${TARGET[1]}"
read -r uffd <&"${TARGET[0]}"
[[ $uffd == "uffd registered" ]] || echo "  userfaultfd write-protect registration failed: last figure is not under write tracking"
pp_tracking=$(pingpong)
kill -INT "$sw"; wait "$sw" || true
awk -v n="$pp_none" -v o="$pp_other" -v w="$pp_watched" -v t="$pp_tracking" 'BEGIN {
	printf "  no swack %.0f ns; swack watching another process %.0f ns (+%.0f ns a round trip, +%.0f ns a switch and wake-up); this process watched %.0f ns (+%.0f); watched under write tracking (a kernel stack walk at each sleep) %.0f ns (+%.0f)\n", n, o, o - n, (o - n) / 2, w, w - n, t, t - n
}'

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

echo "non-VFIO ioctls (TCGETS on /dev/null, 3 x 2 million, median ns per ioctl):"
busy() { "$B/fixtures/qemu-system-vfio" --busy 2 | sed -n 's/.*"ns_per_ioctl":\([0-9.]*\).*/\1/p'; }
busy_median() { for _ in 1 2 3; do busy; done | median; }
plain=$(busy_median)
"$B/swack" trace >/dev/null 2>&1 &
sw=$!
pids+=("$sw")
sleep 2
unwatched=$(busy_median)
kill -INT "$sw"; wait "$sw" || true
# Watched: the busy process is named like QEMU, so swack attaches to it at exec.
"$B/swack" trace >/dev/null 2>"$B/bench-busy.err" &
sw=$!
pids+=("$sw")
sleep 2
watched=$(busy_median)
kill -INT "$sw"; wait "$sw" || true
grep -q 'qemu-system-vfi' "$B/bench-busy.err" || echo "  (the busy process was not attached: figure below is unwatched)"
awk -v p="$plain" -v u="$unwatched" -v w="$watched" 'BEGIN {
	printf "  no swack %.1f ns, swack running %.1f ns (+%.1f), process watched %.1f ns (+%.1f)\n", p, u, u - p, w, w - p
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
