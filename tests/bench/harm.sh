#!/usr/bin/env bash
# make bench, "no harm": does swack change the migration it watches or gates?
#
# On each real QEMU (Debian's 7.2 and 10.0, TCG, the test guest of
# scripts/mkguest.sh made small: BENCH_HARM_MEM of RAM rewriting
# BENCH_HARM_DIRTY MiB a pass, migrations capped at BENCH_HARM_BW bytes/s on
# loopback), one guest migrates on and on, each destination becoming the
# next source, and the figures are QMP's own: query-migrate's total-time and
# downtime on the source once it says completed.
#
#  1. observed: BENCH_HARM_RUNS migrations with `swack trace` and `swack record`
#     attached to both ends (attached before the migrate command; they end by
#     themselves with --until-done) and as many with no swack, interleaved as
#     pairs in alternating order (AB BA AB ...), so that a drift of the host's
#     load falls on both alike.
#  2. gated: as many migrations held by `swack gate` and released, and as many
#     unheld, interleaved the same way.  The gate runs for both (its links and
#     its ptrace seizure of the migration thread in place), so the hold alone
#     differs.  A held migration is released BENCH_HARM_HOLD (1) s after the
#     gate first raised QEMU's pending-size answer, i.e. after QEMU would have
#     switched over.
# BENCH_HARM_PARTS="observe gate" (default) runs both or one of them.
#
# Each figure is a row: the medians of the two sets, their ratio, and in the
# figure's text the spread of each set (interquartile range).  "Met" (no harm)
# means swack's median is above the baseline's by no more than the wider of the
# two spreads: less is no harm (see the gate below).
#
# What was found (QEMU 7.2 and 10.0, here): watched by swack trace + record,
# total time and downtime are the unwatched ones within their spread.  A held
# then released migration's median downtime is about half the unheld one (13
# against 26 ms): QEMU's own doing.  While held, QEMU finds its pending size
# under the threshold at every iteration, so every pending query syncs the
# dirty bitmap (100-180 syncs instead of 3); once released it switches over
# right after such a sync with what the guest dirtied in one iteration (QMP's
# downtime-bytes 0.1-1 MB), where the unheld migration switches over at its
# first sync under the threshold with up to the threshold left (2-3.4 MB).
# Held runs are bimodal, though: 9 of 40 took 48-53 ms (unheld: 3 of 40 above
# 40 ms).  Traced (swack trace on both ends, 2 of 6 held runs slow), the
# source's part is the same in both modes (stop 0.1-0.4 ms, final save 3-4.6
# ms, from the same sequence: a rate-limit wait, a new window, the switchover
# with ~6 MB pending); the slow runs lose 43 ms between the source's end of
# save and the destination's load_end (7-11 ms in the fast ones).  The gate
# acts on the source's migration thread only, and does nothing after the
# release (no signal, no stop), so the wait is the destination's: the TCG
# destination on this loaded 2-core host finishing its load late; not
# attributed further.  The integration tests' bigger guest (512 MiB, 64 MiB a
# pass) gives held 32 ms against unheld 50 ms, IQR 27 and 26 ms, 10 runs each.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/lib.sh
. tests/lib/check.sh   # wait_attached
. tests/lib/qemu.sh

bench_root harm.sh
[[ -x $SWACK ]] || { echo "harm.sh: no $SWACK: run make all first" >&2; exit 1; }

RUNS=${BENCH_HARM_RUNS:-10}
# 128 MiB less 8 KiB: an odd size, for the reason in tests/lib/qemu.sh.
export SWACK_QEMU_MEM=${BENCH_HARM_MEM:-131064k}
export SWACK_DIRTY_MIB=${BENCH_HARM_DIRTY:-4}
BW=${BENCH_HARM_BW:-40000000}
HOLD=${BENCH_HARM_HOLD:-1}                     # s held after the first raised answer
PARTS=${BENCH_HARM_PARTS:-observe gate}
export QMP_TIMEOUT=120
W=$(mktemp -d)
OURS=()
harm_cleanup() {
	local p
	for p in "${OURS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [[ -n ${BENCH_HARM_KEEP:-} ]]; then echo "harm.sh: kept $W" >&2; else rm -rf "$W"; fi
}
trap harm_cleanup EXIT

# ---- one migration of the chain ---------------------------------------------

# dst_start: a destination vm$((V+1)) listening on PORT.
dst_start() {
	PORT=$(qemu_free_port) && qemu_start_dst "vm$((V + 1))" "$PORT" >/dev/null
}
# mig_go: migrate vm$V to vm$((V+1)) (started by dst_start) in the background:
# qmp_migrate.py waits for the end and leaves query-migrate's answer in $W/q.json.
mig_go() {
	python3 tests/bench/qmp_migrate.py "$QDIR/vm$V.qmp" "$QDIR/vm$((V + 1)).qmp" \
		"tcp:$SWACK_MIGRATE_HOST:$PORT" "$BW" "$QEMU_SWITCHOVER_ACK" >"$W/q.json" &
	MIG=$!
	OURS+=("$MIG")
}
# mig_end SET: wait for completion, append QMP's figures to $W/SET.total and
# $W/SET.down, and make the destination the current VM.
mig_end() {
	local q
	wait "$MIG"
	q=$(<"$W/q.json")
	[[ $(jq -r .status <<<"$q") == completed ]] ||
		{ echo "harm.sh: QEMU $QEMU_VERSION: migration not completed: $q" >&2; return 1; }
	jq -r '."total-time"' <<<"$q" >>"$W/$1.total"
	jq -r .downtime <<<"$q" >>"$W/$1.down"
	echo "$q" >>"$W/$1.json"
	qemu_stop "vm$V"
	V=$((V + 1))
}

# ---- the four kinds of migration ----------------------------------------------

plain() { dst_start && mig_go && mig_end "$Q.plain"; }

# observed: swack trace and swack record on both ends, from before the
# migrate command to their own end (--until-done).
observed() {
	local src dst tr rec
	dst_start || return 1
	src=$(qemu_pid "vm$V") dst=$(qemu_pid "vm$((V + 1))")
	"$SWACK" trace -p "$src" -p "$dst" --until-done -d 120 >"$W/trace.out" 2>"$W/trace.err" &
	tr=$!
	"$SWACK" record -f -o "$W/run.data" -p "$src" -p "$dst" --until-done -d 120 2>"$W/rec.err" &
	rec=$!
	OURS+=("$tr" "$rec")
	wait_attached "$W/trace.err" 2 && wait_attached "$W/rec.err" 2 || return 1
	mig_go && mig_end "$Q.observed" || return 1
	wait "$tr" || { echo "harm.sh: swack trace failed: $(tail -n 2 "$W/trace.err")" >&2; return 1; }
	wait "$rec" || { echo "harm.sh: swack record failed: $(tail -n 2 "$W/rec.err")" >&2; return 1; }
	# What they saw is the migration QMP measured: its summary, nothing lost.
	grep -q '^summary: migration src [0-9]* -> dst [0-9]* completed' "$W/trace.out" || { echo "harm.sh: swack trace saw no completed migration" >&2; return 1; }
	! grep -h 'lost' "$W/trace.err" "$W/rec.err" >&2 || return 1
}

# gate_up: swack gate run on vm$V (one gate on the host: under its lock).
gate_up() {
	local i
	: >"$W/gate.err"
	"$SWACK" gate run -p "$(qemu_pid "vm$V")" >"$W/gate.out" 2>"$W/gate.err" &
	GATE=$!
	OURS+=("$GATE")
	for ((i = 0; i < 600; i++)); do
		grep -q '^swack gate: pid .* gate on ' "$W/gate.err" && return 0
		kill -0 "$GATE" 2>/dev/null || break
		sleep 0.05
	done
	echo "harm.sh: swack gate run did not attach: $(cat "$W/gate.err")" >&2
	return 1
}
gate_down() { kill -INT "$GATE" 2>/dev/null; wait "$GATE" 2>/dev/null; }

raised() {
	"$SWACK" gate status 2>/dev/null | sed -n "s/^hold: pid $1,.* raised \([0-9]*\) of.*/\1/p"
}

unheld() { gate_up && dst_start && mig_go && mig_end "$Q.unheld"; local r=$?; gate_down; return $r; }

# held: held from before the migrate command; released HOLD s after the gate
# first raised QEMU's answer (QEMU wanted to switch over and was kept from it).
held() {
	local src i r
	gate_up || return 1
	src=$(qemu_pid "vm$V")
	if ! dst_start || ! "$SWACK" gate hold -p "$src" --max-hold 300s --reason bench >/dev/null; then
		gate_down
		return 1
	fi
	mig_go
	for ((i = 0; i < 1200; i++)); do [[ $(raised "$src") -gt 0 ]] && break; sleep 0.1; done
	sleep "$HOLD"
	"$SWACK" gate release -p "$src" >/dev/null
	mig_end "$Q.held"
	r=$?
	gate_down
	grep -q 'gate_release .*raised=[1-9]' "$W/gate.out" ||
		{ echo "harm.sh: QEMU $QEMU_VERSION: the hold raised nothing: $(cat "$W/gate.out")" >&2; return 1; }
	return $r
}

# pairs A B: RUNS of each, interleaved AB BA AB ...
pairs() {
	local i
	for ((i = 0; i < RUNS; i++)); do
		if ((i % 2)); then "$2" && "$1"; else "$1" && "$2"; fi || return 1
	done
}

# ---- the rows -----------------------------------------------------------------

# compare WHAT SWACKSET BASESET LABEL [TOTAL_GOAL]: a row each for total time
# and downtime; TOTAL_GOAL "-": the total time is stated, not judged (a held
# migration's includes its hold).
compare() {
	local k name s b si bi goal verdict
	for k in total down; do
		name=$([[ $k == total ]] && echo "total time" || echo "downtime (QMP)")
		s=$(median <"$W/$2.$k") b=$(median <"$W/$3.$k")
		si=$(spread <"$W/$2.$k") bi=$(spread <"$W/$3.$k")
		goal="<= base+IQR"
		verdict=$(awk -v s="$s" -v b="$b" -v x="$si" -v y="$bi" 'BEGIN {
			w = x > y ? x : y; print (s - b <= w ? "yes" : "no") }')
		[[ $k == total && ${5:-} == - ]] && goal="" verdict=-
		row "QEMU $QEMU_VERSION $name, $4 (IQR $si / $bi)" ms "$s" "$b" "$(ratio "$s" "$b")" \
			"$goal" "$verdict"
		echo "  QEMU $QEMU_VERSION $name, ms: $1 $(paste -sd' ' "$W/$2.$k"); baseline $(paste -sd' ' "$W/$3.$k")"
	done
}

t0=$SECONDS
for v in $SWACK_QEMU_VERSIONS; do
	qemu_use "$v" || exit 1
	Q=$v V=0
	qemu_setup_dir || exit 1
	qemu_start_src vm0 >/dev/null && qemu_wait_booted vm0 300 || exit 1
	echo "no harm: QEMU $v, $RUNS migrations each way, interleaved ($SWACK_QEMU_MEM guest, $SWACK_DIRTY_MIB MiB dirtied a pass, $BW B/s cap)"
	if [[ $PARTS == *observe* ]]; then
		pairs observed plain || exit 1
		compare "trace+record" "$v.observed" "$v.plain" "swack trace + record vs none"
	fi
	if [[ $PARTS == *gate* ]]; then
		exec {glock}>/tmp/swack-gate.lock
		flock "$glock"
		pairs held unheld || exit 1
		exec {glock}>&-
		compare "held, released" "$v.held" "$v.unheld" "gate held+released vs unheld" -
	fi
	qemu_cleanup
done
note "no harm: QMP's total-time and downtime, medians of $RUNS migrations a set, interleaved; IQR: swack's / baseline's; $SWACK_QEMU_MEM TCG guest dirtying $SWACK_DIRTY_MIB MiB a pass, $BW B/s; $((SECONDS - t0)) s"
[[ $PARTS == *gate* ]] && note "no harm: the gate runs for unheld migrations too; a held one is released ${HOLD} s after the gate first raised QEMU's answer, and its total time includes that"
