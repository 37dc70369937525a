#!/usr/bin/env bash
# make bench, probe cost: what a hit of swack's program costs the calling
# thread against an empty uprobe on the same function, in the same run
# (ratios: the machine is too noisy for absolute figures).  Each round runs
# the target's calls with no probe, then with swack trace and with the empty
# uprobes attached (in turn first), a few seconds apart, so that the host's
# load weighs alike on both; a hit's cost is the per-call time less the
# no-probe calls'.  The ratio is the median of the rounds' ratios, the costs
# the medians of the rounds' costs; rows go to $BENCH_ROWS (tests/bench/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
B=build
SWACK=${SWACK:-$B/swack}   # another build's, to compare
N=${BENCH_CALLS:-20000}
ROUNDS=${BENCH_ROUNDS:-7}
bench_setup probe.sh
bench_target TARGET
target=$TARGET

# calls: one "run N" of the target; sets SET and PEND (CPU ns a call) and
# SET_W and PEND_W (elapsed ns a call) of migrate_set_state and of the
# pending-size query.
calls() {
	local fn cpu wall
	echo "run $N" >&"$TARGET_W"
	for _ in 1 2; do
		read -r fn cpu wall <&"$TARGET_R"
		if [[ $fn == migrate_set_state ]]; then
			SET=$cpu SET_W=$wall
		else
			PEND=$cpu PEND_W=$wall
		fi
	done
}

# warm_up: a few calls first, so that work done once at a migration's first
# events (the probed code's first page faults, swack's reaction to a
# migration starting) stays out of the figures.
warm_up() {
	echo "run 10" >&"$TARGET_W"
	read -r _ <&"$TARGET_R"
	read -r _ <&"$TARGET_R"
	sleep 0.3
}

# wait_for FILE TEXT WHAT: until FILE says TEXT (10 s), else fail saying so.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	echo "probe.sh: $3 did not come up in 10 s: $(head -c 400 "$1")" >&2
	exit 1
}

MULTI=""
swack_round() {
	"$SWACK" trace -p "$target" >/dev/null 2>"$BENCH_TMP/trace.err" &
	local sw=$!
	BENCH_PIDS+=("$sw")
	wait_for "$BENCH_TMP/trace.err" 'watched in' "swack trace -p $target"
	grep -q 'multi-uprobe links' "$BENCH_TMP/trace.err" && MULTI=-m
	warm_up
	calls
	kill -INT "$sw"
	wait "$sw" || true
	grep -h 'events lost' "$BENCH_TMP/trace.err" >&2 || true
}

# The baseline: empty uprobes in links of the kind swack used, entry on
# migrate_set_state, entry and return on the pending query (swack probes
# both ends of it).
empty_round() {
	local e1 e2
	exec 7> >(exec "$B/bench/empty_uprobe" "$target" migrate_set_state $MULTI >"$BENCH_TMP/e1" 2>&1)
	e1=$!
	exec 8> >(exec "$B/bench/empty_uprobe" "$target" qemu_savevm_state_pending -r $MULTI \
		>"$BENCH_TMP/e2" 2>&1)
	e2=$!
	BENCH_PIDS+=("$e1" "$e2")
	wait_for "$BENCH_TMP/e1" attached "the empty uprobe on migrate_set_state"
	wait_for "$BENCH_TMP/e2" attached "the empty uprobes on qemu_savevm_state_pending"
	warm_up
	calls
	exec 7>&- 8>&-
	wait "$e1" "$e2" 2>/dev/null || true
}

hit() { awk -v s="$1" -v b="$2" 'BEGIN { printf "%.1f", s - b }'; }

# Per round, a hit's cost: swack's (s_*) and the empty uprobes' (e_*), in CPU
# and elapsed (*w) time, and their ratio (r_*).
s_set=() s_pend=() e_set=() e_pend=() s_setw=() e_setw=() s_pendw=() e_pendw=()
r_set=() r_pend=() r_setw=() r_pendw=()
echo "probe cost: $ROUNDS rounds of $N calls each with no probe, swack trace, empty uprobes"
swack_hits() {
	swack_round
	s_set+=("$(hit "$SET" "$b_set")") s_pend+=("$(hit "$PEND" "$b_pend")")
	s_setw+=("$(hit "$SET_W" "$b_setw")") s_pendw+=("$(hit "$PEND_W" "$b_pendw")")
}
empty_hits() {
	empty_round
	e_set+=("$(hit "$SET" "$b_set")") e_pend+=("$(hit "$PEND" "$b_pend")")
	e_setw+=("$(hit "$SET_W" "$b_setw")") e_pendw+=("$(hit "$PEND_W" "$b_pendw")")
}
for ((r = 0; r < ROUNDS; r++)); do
	calls
	b_set=$SET b_pend=$PEND b_setw=$SET_W b_pendw=$PEND_W
	# swack first in the first round: its attach line says the links' kind
	if ((r % 2 == 0)); then swack_hits; empty_hits; else empty_hits; swack_hits; fi
	r_set+=("$(ratio "${s_set[r]}" "${e_set[r]}")") r_pend+=("$(ratio "${s_pend[r]}" "${e_pend[r]}")")
	r_setw+=("$(ratio "${s_setw[r]}" "${e_setw[r]}")")
	r_pendw+=("$(ratio "${s_pendw[r]}" "${e_pendw[r]}")")
	printf '  round %d: state change %s vs %s ns (%sx), hot path %s vs %s ns (%sx); elapsed %sx, %sx\n' \
		$((r + 1)) "${s_set[r]}" "${e_set[r]}" "${r_set[r]}" "${s_pend[r]}" "${e_pend[r]}" \
		"${r_pend[r]}" "${r_setw[r]}" "${r_pendw[r]}"
done

med() { printf '%s\n' "$@" | median; }
links=${MULTI:+multi-uprobe links}
links=${links:-perf-event uprobe links}

# figure NAME WHAT GOAL KEY: one row, CPU time; the elapsed ratio said beside it.
figure() {
	local name=$1 what=$2 goal=$3 s e r rw lo hi
	local -n s_=s_$4 e_=e_$4 r_=r_$4 rw_=r_${4}w
	s=$(med "${s_[@]}") e=$(med "${e_[@]}") r=$(med "${r_[@]}") rw=$(med "${rw_[@]}")
	lo=$(printf '%s\n' "${r_[@]}" | sort -g | head -1)
	hi=$(printf '%s\n' "${r_[@]}" | sort -g | tail -1)
	printf '  %s (%s): %s ns a hit, empty uprobe %s ns: %sx (rounds %s to %sx; goal <= %sx); elapsed time: %sx\n' \
		"$name" "$what" "$s" "$e" "$r" "$lo" "$hi" "$goal" "$rw"
	row "probe: $name, per hit" ns "$s" "$e" "$r" "<= ${goal}x" "$(met "$r" "<=" "$goal")"
}
figure "state change" "migrate_set_state, entry" 1.2 set
figure "hot path" "pending query, entry + return" 1.1 pend
note "probe: baseline = an empty uprobe ($links, as swack's) on the same function of the same process; CPU time of the calling thread less the no-probe calls'; $ROUNDS rounds x $N calls: median cost, median of the rounds' ratios"
