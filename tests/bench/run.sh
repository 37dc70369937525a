#!/usr/bin/env bash
# make bench: probe cost per hit against an empty uprobe on the same function,
# measured in the same run; attach and detach times (tests/bench/attach.sh);
# what the kernel hooks cost (hooks.sh); the recorder's limit and its bytes
# per event (record.sh).  Figures with a goal are rows of one table
# (tests/bench/lib.sh), printed at the end and written to build/bench.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build
N=${BENCH_CALLS:-20000}
ROUNDS=${BENCH_ROUNDS:-7}
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

# measure LABEL: ROUNDS rounds of N calls; sets M_set and M_pend (median ns/call).
measure() {
	local r fn ns set=() pend=()
	for ((r = 0; r < ROUNDS; r++)); do
		echo "run $N" >&"${TARGET[1]}"
		for _ in 1 2; do
			read -r fn ns <&"${TARGET[0]}"
			if [[ $fn == migrate_set_state ]]; then set+=("$ns"); else pend+=("$ns"); fi
		done
	done
	M_set=$(printf '%s\n' "${set[@]}" | median)
	M_pend=$(printf '%s\n' "${pend[@]}" | median)
	printf '  %-28s migrate_set_state %9.1f ns   qemu_savevm_state_pending %9.1f ns\n' \
		"$1" "$M_set" "$M_pend"
}

echo "probe cost: median of $ROUNDS rounds x $N calls, ns per call as the caller sees it"
measure "no probe"
base_set=$M_set base_pend=$M_pend

# The baseline: empty uprobes, entry on migrate_set_state, entry+return on
# the pending query (swack probes both ends of it).
exec 7> >(exec "$B/bench/empty_uprobe" "$target" migrate_set_state >/dev/null)
e1=$!
exec 8> >(exec "$B/bench/empty_uprobe" "$target" qemu_savevm_state_pending -r >/dev/null)
e2=$!
pids+=("$e1" "$e2")
sleep 1
measure "empty uprobe"
empty_set=$M_set empty_pend=$M_pend
exec 7>&- 8>&-
wait "$e1" "$e2" 2>/dev/null || true

"$B/swack" trace -p "$target" >/dev/null 2>"$B/bench-trace.err" &
sw=$!
pids+=("$sw")
for _ in $(seq 50); do grep -q 'probes attached' "$B/bench-trace.err" && break; sleep 0.1; done
measure "swack trace"
kill -INT "$sw"; wait "$sw" || true
grep -h 'events lost' "$B/bench-trace.err" || echo "  swack trace lost no event"

awk -v b="$base_set" -v e="$empty_set" -v s="$M_set" -v bp="$base_pend" -v ep="$empty_pend" \
	-v sp="$M_pend" 'BEGIN {
	printf "  state change, migrate_set_state (entry, 1 user read, an event that wakes the reader): %.0f ns a hit, empty uprobe %.0f ns: ratio %.2f\n", s - b, e - b, (s - b) / (e - b)
	printf "  hot path, qemu_savevm_state_pending (entry + return, 3 user reads, a batched event): %.0f ns a hit, empty uprobes %.0f ns: ratio %.2f\n", sp - bp, ep - bp, (sp - bp) / (ep - bp)
}'

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

echo "swackstat: CPU at 1 s refresh with 50 simulated VMs (qemu-sim, ack-stall scenario, 8 s)"
simdir=$(mktemp -d)
sims=()
for i in $(seq 50); do
	# One pipe each: a reader's stdio buffer could swallow another's line.
	mkfifo "$simdir/go$i"
	"$B/fixtures/qemu-system-sim102" -q -w tests/fixtures/scenarios/ack-stall.src \
		<>"$simdir/go$i" >/dev/null &
	sims+=("$!")
	pids+=("$!")
done
args=()
for p in "${sims[@]}"; do args+=(-p "$p"); done
/usr/bin/time -f "%U %S" -o "$simdir/cpu" "$B/swack" stat "${args[@]}" 1 8 >"$simdir/stat.out" 2>"$simdir/stat.err" &
st=$!
for _ in $(seq 100); do [[ $(grep -c 'watched in' "$simdir/stat.err") -ge 50 ]] && break; sleep 0.1; done
for i in $(seq 50); do echo go >"$simdir/go$i"; done
wait "$st"
read -r user sys <"$simdir/cpu"
rows=$(grep -cE ' src +active ' "$simdir/stat.out")
awk -v u="$user" -v s="$sys" -v r="$rows" 'BEGIN {
	printf "  %.2f s user + %.2f s system over 8 intervals: %.1f%% of one CPU; %d VM rows shown\n", u, s, (u + s) / 8 * 100, r
}'
rm -rf "$simdir"

echo "switchover gate: the cost of a held iteration (tight loop standing in for QEMU's"
echo "migration thread) and the downtime a held-then-released QEMU 7.2 migration pays"
gate_log=$(mktemp)
SWACK_GATE_PARTS="2 5" SWACK_GATE_LOOP_KILLS=1 bash tests/integration/gate.sh >"$gate_log" 2>&1 || true
sed -n 's/^# bench: /  /p' "$gate_log"
grep '^not ok' "$gate_log" | sed 's/^/  gate bench: /' || true
rm -f "$gate_log"
bash tests/bench/readers.sh
bash tests/bench/hooks.sh
bash tests/bench/record.sh
tests/bench/table.sh "$BENCH_ROWS" "$B/bench.json"
