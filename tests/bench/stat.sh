#!/usr/bin/env bash
# make bench: swackstat's CPU at its 1 s refresh, watching 50 VMs that all
# migrate at once (qemu-sim sources of tests/bench/stat-fleet.src: an
# iteration every 50 ms each, pending queries and bandwidth windows, for 20 s).
#
# A run: the 50 sims wait on their pipes, `swack stat -p ... 1` attaches to
# all of them (one binary: one set of links), the sims are let go, and after
# 2 s of migration (the first refreshes, every row on screen) swackstat's own
# CPU time (the scheduler's, /proc/PID/task/*/schedstat) is read at the start
# and the end of WINDOW (10) s: that, over the window, is its share of one CPU while it
# refreshes.  The last refresh must show all 50 VMs migrating.  RUNS (5) runs,
# the median a row; the load and attach of the 50 is a row of its own.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/lib.sh
B=build
VMS=${BENCH_STAT_VMS:-50}
RUNS=${BENCH_STAT_RUNS:-5}
WINDOW=${BENCH_STAT_WINDOW:-10}
bench_root stat.sh

D=$(mktemp -d)
sims=()
stat_pid=
cleanup() {
	[[ -n $stat_pid ]] && kill "$stat_pid" 2>/dev/null
	((${#sims[@]})) && kill "${sims[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

# cpu_ns PID: CPU time of PID's threads so far, ns (schedstat: the scheduler's
# own count, where /proc/PID/stat's user and system are in 10 ms ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%d\n", t }'; }

# one_run: prints "steady% startup_s rows".
one_run() {
	local i args=() c0 c1 t0 t1 start rows
	sims=()
	for ((i = 0; i < VMS; i++)); do
		# One pipe each: a reader's stdio buffer could swallow another's line.
		mkfifo "$D/go$i"
		"$B/fixtures/qemu-system-sim102" -q -w tests/bench/stat-fleet.src <>"$D/go$i" >/dev/null &
		sims+=("$!")
		args+=(-p "$!")
	done
	"$B/swack" stat "${args[@]}" 1 >"$D/stat.out" 2>"$D/stat.err" &
	stat_pid=$!
	for ((i = 0; i < 600; i++)); do
		[[ $(grep -c 'watched in' "$D/stat.err") -ge $VMS ]] && break
		sleep 0.1
	done
	[[ $(grep -c 'watched in' "$D/stat.err") -ge $VMS ]] ||
		{ echo "stat.sh: swack stat did not attach to $VMS sims: $(tail -n 3 "$D/stat.err")" >&2; return 1; }
	start=$(cpu_ns "$stat_pid")
	for ((i = 0; i < VMS; i++)); do echo go >"$D/go$i"; done
	sleep 2
	c0=$(cpu_ns "$stat_pid") t0=$(date +%s%N)
	sleep "$WINDOW"
	c1=$(cpu_ns "$stat_pid") t1=$(date +%s%N)
	# Its last complete refresh (a line per VM, all with the refresh's TIME):
	# the one before the last, which a buffered write may have cut.
	rows=$(awk '/ src +active / { if (!($1 in n)) t[++k] = $1; n[$1]++ }
		END { print (k > 1 ? n[t[k - 1]] : 0) }' "$D/stat.out")
	[[ -n ${BENCH_STAT_SHOW:-} ]] && cat "$D/stat.out" >&2
	kill -INT "$stat_pid"
	wait "$stat_pid"
	stat_pid=
	kill "${sims[@]}" 2>/dev/null
	wait 2>/dev/null
	sims=()
	rm -f "$D"/go*
	awk -v a="$c0" -v b="$c1" -v s="$start" -v t="$((t1 - t0))" -v r="$rows" \
		'BEGIN { printf "%.3f %.3f %d\n", (b - a) / t * 100, s / 1e9, r }'
}

echo "swackstat: CPU at 1 s refresh, $VMS qemu-sim VMs migrating, $RUNS runs of a ${WINDOW} s window"
: >"$D/runs"
for ((r = 0; r < RUNS; r++)); do
	one_run >>"$D/runs" || exit 1
	echo "  run $((r + 1)): $(tail -n 1 "$D/runs" | awk '{ printf "%s%% of one CPU, %s s to load and attach, %d VM rows", $1, $2, $3 }')"
done
pct=$(cut -d' ' -f1 "$D/runs" | median)
iqr=$(cut -d' ' -f1 "$D/runs" | spread)
att=$(cut -d' ' -f2 "$D/runs" | median)
rows=$(cut -d' ' -f3 "$D/runs" | sort -n | head -n 1)
row "swackstat, $VMS VMs migrating, 1 s refresh (IQR $iqr)" "% CPU" "$pct" "" "" "< 1" "$(met "$pct" "<" 1)"
row "swackstat, load + attach to $VMS VMs (CPU)" s "$att" "" "" "" "-"
row "swackstat: VM rows in its last refresh (fewest of the runs)" rows "$rows" "$VMS" "$(ratio "$rows" "$VMS")" "= $VMS" "$(met "$rows" == "$VMS")"
note "swackstat: its CPU time over a ${WINDOW} s window (/proc schedstat of its threads), 2 s after $VMS qemu-sim sources began migrating (an iteration every 50 ms each); median of $RUNS runs"
