#!/usr/bin/env bash
# make bench, the recorder's own limit: a source not bound by uprobe traps
# (tests/bench/storm: BPF_PROG_TEST_RUN writing a migration's commonest events
# into the running swack record's ring buffer, as a watched process's) at
# BENCH_STORM_RATE events a second for BENCH_STORM_SECONDS, every event
# accounted for; then as fast as the kernel takes them, past the recorder's
# limit (sharing a CPU with the storm at nice 19): what it could not take is
# counted lost, exactly.  Then a real QEMU migration of each version recorded.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
B=build
RATE=${BENCH_STORM_RATE:-1200000}
SECS=${BENCH_STORM_SECONDS:-10}

bench_setup record.sh
bench_target TARGET
target=$TARGET

# storm RATE SECONDS [PIN]: one swack record under a storm; sets S (the storm's
# JSON line), ENDED (how the recording ended), CPU (the recorder's CPU
# seconds).  PIN: recorder and storm share CPU 0, the recorder at nice 19
# (1.5% of the CPU against the storm's): driven past its limit.
storm() {
	local err=$B/bench-storm.err out=$B/bench-storm.data rec pin=() niced=()
	[[ ${3:-} ]] && pin=(taskset -c 0) niced=(nice -n 19)
	rm -f "$out"
	: >"$err"
	/usr/bin/time -f "%U %S" -o "$B/bench-storm.cpu" "${pin[@]}" "${niced[@]}" "$B/swack" \
		record -f -o "$out" -p "$target" 2>"$err" &
	BENCH_PIDS+=("$!")
	for _ in $(seq 100); do grep -q 'watched in' "$err" && break; sleep 0.1; done
	rec=$(pgrep -n -f "^$B/swack record -f -o $out")
	S=$("${pin[@]}" "$B/bench/storm" "$rec" "$target" "$1" "$2")
	sleep 0.5
	kill -INT "$rec"
	wait "${BENCH_PIDS[-1]}" || true
	ENDED=$("$B/swack" report --json "$out" | jq -r '.recordings[0].ended')
	CPU=$(awk '{ print $1 + $2 }' "$B/bench-storm.cpu")
	echo "  storm $(jq -c . <<<"$S"); recording: $ENDED; recorder CPU $CPU s"
}
field() { jq -r ".$1" <<<"$S"; }
recorded() { sed -n 's/^clean end ([^)]*): \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' <<<"$ENDED"; }

echo "recorder: $((RATE * SECS)) events at $RATE events/s, then past its limit"
storm "$RATE" "$SECS"
read -r got lost < <(recorded)
rate=$(awk -v n="$got" -v s="$(field seconds)" 'BEGIN { printf "%.0f", n / s }')
offered=$(awk -v n="$(field fired)" -v s="$(field seconds)" 'BEGIN { printf "%.0f", n / s }')
row "record: events/s recorded (baseline: offered), $(field seconds) s" "ev/s" \
	"$rate" "$offered" "$(ratio "$rate" "$offered")" ">= 1000000, 0 lost" \
	"$([[ $(met "$rate" ">=" 1000000) == yes && $lost == 0 && $got == "$(field made)" ]] && echo yes || echo no)"
row "record: events lost at that rate" events "$lost" 0 "" "0" "$(met "$lost" == 0)"
per=$(awk -v c="$CPU" -v n="$got" 'BEGIN { if (n) printf "%.0f", c * 1e9 / n }')
row "record: recorder CPU per event (with load, attach)" ns "$per" "" "" "" "-"
bpe=$(awk -v s="$(stat -c %s "$B/bench-storm.data")" -v n="$got" 'BEGIN { if (n) printf "%.1f", s / n }')
row "record: storm events on disk (v2, packed)" "B/event" "$bpe" 172 "$(ratio "$bpe" 172)" "<= 40" \
	"$(met "$bpe" "<=" 40)"

storm 0 3 pinned
read -r got lost < <(recorded)
exact=$([[ $got == "$(field made)" && $lost == "$(field failed)" ]] && echo yes || echo no)
row "record: past its limit, recorded + lost = fired" events "$((got + lost))" "$(field fired)" \
	"$(ratio "$((got + lost))" "$(field fired)")" "exact" "$exact"
row "record: past its limit, lost = the source's failures" events "$lost" "$(field failed)" \
	"" "exact" "$exact"
note "record: the storm fires from BPF (BPF_PROG_TEST_RUN, up to 1,000 events a run) into swack record's own ring buffer; past its limit, the recorder shares CPU 0 with the storm at nice 19"

# A real QEMU migration recorded, both ends, by each of the suite's QEMUs (a
# guest dirtying 64 MiB, 40 MB/s max-bandwidth, tests/lib/qemu.sh): the
# recording's bytes on disk per event, header and process records included.
. tests/lib/check.sh
. tests/lib/qemu.sh
for v in $SWACK_QEMU_VERSIONS; do
	what="record: real QEMU $v migration on disk"
	if ! qemu_use "$v" || ! qemu_setup_dir || ! qemu_start_src a >/dev/null ||
		! qemu_wait_booted a 180 >/dev/null; then
		row "$what" "B/event" "" 172 "" "<= 40" no
		note "record: QEMU $v did not start here (scripts/deps.sh installs it)"
		continue
	fi
	port=$(qemu_free_port) dst=$(qemu_start_dst b "$port") src=$(qemu_pid a)
	out=$B/bench-qemu$v.data err=$B/bench-qemu$v.err
	"$B/swack" record -f -o "$out" -p "$src" -p "$dst" --until-done -d 240 2>"$err" &
	rec=$!
	BENCH_PIDS+=("$rec")
	wait_attached "$err" 2 || true
	qemu_migrate a b "$port"
	st=$(qemu_wait_migration a 240)
	wait "$rec" || true
	ended=$("$B/swack" report --json "$out" | jq -r '.recordings[0].ended')
	n=$(sed -n 's/^clean end ([^)]*): \([0-9]*\) events.*/\1/p' <<<"$ended")
	bpe=$(awk -v s="$(stat -c %s "$out")" -v n="$n" 'BEGIN { if (n) printf "%.1f", s / n }')
	row "$what ($n events, $st)" "B/event" "$bpe" 172 "$(ratio "$bpe" 172)" "<= 40" \
		"$(met "$bpe" "<=" 40)"
	echo "  QEMU $v: $(stat -c %s "$out") bytes, recording: $ended"
	qemu_cleanup
done
note "record: baseline 172 B/event, the version 1 format (a whole struct a record) as the issue measured it"
