#!/usr/bin/env bash
# Guest-visible downtime against an outside timer, on each real QEMU of
# $SWACK_QEMU_VERSIONS (7.2 and 10.0).
#
# The guest runs `while true; do echo t; done` into its second serial port
# (scripts/mkguest.sh, swack_mode=echo), served by each QEMU on a UNIX socket
# that tests/fixtures/serial-clock reads, stamping every read with
# CLOCK_MONOTONIC, the clock of swack's events.  The source's last output and
# the destination's first bound the pause the guest saw from outside.
#
# What must hold, on one clock:
#   - swack's window ends where a destination vCPU enters guest code
#     (cpu_exec under TCG), after the destination's vm_start;
#   - the guest printed nothing after the source's vCPUs stopped (allowing
#     READ_MS for the reader, at real-time priority, to read it) and nothing
#     on the destination
#     before swack's window ended: swack never claims more than the guest saw;
#   - before the stop, the source's last output is no older than the loop's
#     largest interval over the 2 s before the stop (JITTER, measured), plus
#     READ_MS;
#   - after the window, the destination's first output comes within JITTER
#     plus COLD_MS: TCG starts the destination with an empty translation
#     cache, so the loop's first iteration there translates its code again
#     (2,000 to 3,300 blocks measured, 2 to 430 ms on this loaded 2-core
#     host), where the source ran it translated long ago.
# Two migrations a QEMU (A to B, then B to C); then the stand-in's two
# paths into guest code, cpu_exec and the KVM_RUN ioctl.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"

READ_MS=2
COLD_MS=1000
CLOCK=$SWACK_ROOT/build/fixtures/serial-clock
export SWACK_GUEST_MODE=echo

# timed_migration FROM TO: migrate under swack and the outside timer.
timed_migration() {
	local from=$1 to=$2 port dst fpid T clk sum stop run start label out
	label="QEMU $QEMU_VERSION, $from to $to"
	port=$(qemu_free_port) || return 1
	dst=$(qemu_start_dst "$to" "$port") || return 1
	fpid=$(qemu_pid "$from")
	# Real-time priority: a read stamped late on this loaded host would look
	# like guest output after the stop.
	chrt -f 20 "$CLOCK" -o "$QDIR/$to.clock" src="$QDIR/$from.ttyS1" dst="$QDIR/$to.ttyS1" &
	clk=$!
	T=$QDIR/$to.json
	"$SWACK" trace -p "$fpid" -p "$dst" --json --until-done --duration 240 \
		>"$T" 2>"$QDIR/$to.err" &
	local tr=$!
	wait_attached "$QDIR/$to.err" 2 || return 1
	# Two seconds of the loop before the migration, for its jitter.
	sleep 2
	qemu_migrate "$from" "$to" "$port" "" || return 1
	qemu_wait_migration "$from" 240 >/dev/null
	wait "$tr"
	sleep 1
	kill -TERM "$clk"
	wait "$clk"
	sum=$(jq -c --argjson p "$fpid" 'select(.event == "summary" and .src.pid == $p)' "$T")
	stop=$(jq .src.stop_ts <<<"$sum")
	run=$(jq .dst.run_ts <<<"$sum")
	start=$(jq --argjson p "$dst" 'select(.pid == $p and .event == "vm_start") | .ts' "$T" | head -1)
	expect_eq "$label: the window ends at a vCPU's entry into guest code" cpu_exec \
		"$(jq -r .dst.run_via <<<"$sum")"
	expect_num "$label: that entry follows the destination's vm_start" "$run" ">" "${start:-0}"
	expect_eq "$label: guest-visible downtime = source stop to that entry" "$((run - stop))" \
		"$(jq .guest_downtime_ns <<<"$sum")"
	# src_last: the source's last read up to the stop (and the reader's delay);
	# jitter: its largest interval over the 2 s before; dst_first: the
	# destination's first read.
	out=$(awk -v stop="$stop" -v slack=$((READ_MS * 1000000)) '
		$1 == "src" && $2 <= stop + slack { if (p && $2 > stop - 2e9 && $2 - p > j) j = $2 - p; p = $2 }
		$1 == "src" && $2 > stop + slack { late++; if (!lt) lt = $2 - stop }
		$1 == "dst" && !first { first = $2 }
		END { printf "%.0f %.0f %.0f %d %.0f", p, j, first, late, lt }' "$QDIR/$to.clock")
	local src_last jitter dst_first late late_ns
	read -r src_last jitter dst_first late late_ns <<<"$out"
	echo "# $label: QMP downtime $(qemu_query_migrate "$from" | jq .downtime) ms;" \
		"outside gap $(((dst_first - src_last) / 1000)) us, swack window $(((run - stop) / 1000)) us;" \
		"source's last output $(((stop - src_last) / 1000)) us before the stop, destination's first" \
		"$(((dst_first - run) / 1000)) us after the window; loop jitter $((jitter / 1000)) us"
	expect_eq "$label: no source output after its vCPUs stopped (+${READ_MS} ms)" 0 \
		"$late$( ((late)) && echo " (the first $((late_ns / 1000)) us after the stop)")"
	expect_num "$label: destination output arrived" "$dst_first" -gt 0
	expect_num "$label: no destination output before the window ended" "$dst_first" ">=" "$run"
	# +25%: the last dirty-bitmap sync before the stop holds the main loop's
	# lock, which a TCG vCPU needs for each serial write (a fresh-clone run:
	# 20.1 ms before the stop against 17.2 ms of jitter in the 2 s before).
	expect_num "$label: source's last output within the loop's jitter (+25%) of the stop" \
		"$((stop - src_last))" "<=" "$((jitter * 5 / 4 + READ_MS * 1000000))"
	expect_num "$label: destination's first output within jitter + ${COLD_MS} ms (cold TCG cache)" \
		"$((dst_first - run))" "<=" "$((jitter + COLD_MS * 1000000))"
}

for v in $SWACK_QEMU_VERSIONS; do
	qemu_use "$v" || { fail "QEMU $v" "not available"; continue; }
	qemu_setup_dir || exit 1
	qemu_start_src a >/dev/null || exit 1
	qemu_wait_booted a 180 >/dev/null || exit 1
	timed_migration a b
	timed_migration b c
	qemu_cleanup
done

# The stand-in: a vCPU enters guest code 4 ms after vm_state_notify(1), by
# cpu_exec (stream-limited) or by the KVM_RUN ioctl (stream-unlimited), on the
# USDT path.
for scen in stream-limited:cpu_exec stream-unlimited:KVM_RUN; do
	via=${scen#*:} scen=${scen%%:*}
	sim_play "$scen" 102 --json
	sum=$(jq -c 'select(.event == "summary")' "$SIM_TRACE")
	ev=$(jq -c --argjson p "$SIM_DST" 'select(.pid == $p and .event == "vcpu_run")' "$SIM_TRACE")
	expect_eq "$scen: one vCPU entry, by $via" "1 $via" "$(jq -rs '"\(length) \(.[0].via)"' <<<"$ev")"
	expect_num "$scen: 4 ms or more after the start" "$(jq .after_start <<<"$ev")" ">=" 4000000
	expect_eq "$scen: the window ends there" true \
		"$(jq '.guest_downtime_ns == .dst.run_ts - .src.stop_ts and .dst.run_ts > .dst.resume_ts' <<<"$sum")"
	expect_eq "$scen: the breakdown ends with the vCPU start and adds up" true \
		"$(jq '.breakdown | .vcpu_start_ns >= 4000000 and
			([to_entries[] | select(.key != "total_ns" and .key != "both_sides") | .value | select(. >= 0)] | add) == .total_ns' <<<"$sum")"
done
