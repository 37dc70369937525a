#!/usr/bin/env bash
# Bytes sent and bandwidth on every build, against what QEMU itself counts.
#
# Real QEMU (each of $SWACK_QEMU_VERSIONS, 7.2 and 10.0): a guest dirtying
# 64 MiB migrated three times: over TCP at a 40 MB/s max-bandwidth, then
# without a limit, then over a UNIX socket.
# swack's bytes are what the migration socket carried; QMP's "transferred" is
# QEMU's count of the same stream (7.2 counts RAM pages only, so device state
# is the difference there).  QEMU's own bandwidth for a completed migration
# (QMP "mbps") is its bytes over total less setup time: swack's figure is the
# same quantity, taken from its own clock.
#
# The stand-in of a dtrace build (qemu-sim 10.2) sends its stream over a real
# TCP connection and traces migrate_transferred as QEMU does, so the traced
# windows miss the end of the stream (the 1-13% a dtrace build lost).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"

LIMIT=40000000

# within NAME A B PCT: |A/B - 1| <= PCT%.
within() {
	expect_num "$1" "$(awk -v a="$2" -v b="$3" 'BEGIN { d = a / b - 1; print (d < 0 ? -d : d) * 100 }')" \
		"<=" "$4"
}

# unix_migrate FROM TO: qemu_migrate's steps, over a UNIX socket (no limit).
# The guest is freshly booted: in the suite, 10.0's third migration of one
# guest, over the socket, moved 4-6 MB/s and never converged in 240 s (6 runs of
# 6, one with a 5 s downtime limit; its exact pending size stayed near 6.6 MB),
# while a freshly booted 10.0 guest migrated over one in 7-10 s, watched or not.
# Not swack's doing as far as we know; left to investigate.
unix_migrate() {
	local caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[
		{"capability":"events","state":true},{"capability":"return-path","state":true}]}}'
	qmp "$2" "$caps" >/dev/null && qmp "$1" "$caps" >/dev/null &&
		qmp "$1" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$QDIR/$2.mig\"}}" \
			>/dev/null
}

# migrate_once FROM TO LIMIT|unix: migrate VM FROM to a new VM TO under one
# `swack trace`, then check its figures against QMP's.
migrate_once() {
	local from=$1 to=$2 limit=$3 port= dst fpid T q sum t bytes bw label st
	label="QEMU $QEMU_VERSION, no limit"
	[[ -n $limit ]] && label="QEMU $QEMU_VERSION, max-bandwidth $limit"
	if [[ $limit == unix ]]; then
		label="QEMU $QEMU_VERSION, over a UNIX socket" limit=
		dst=$(_qemu_start "$to" "$SWACK_DIRTY_MIB" -incoming "unix:$QDIR/$to.mig") || return 1
	else
		port=$(qemu_free_port) || return 1
		dst=$(qemu_start_dst "$to" "$port") || return 1
	fi
	fpid=$(qemu_pid "$from")
	T=$QDIR/$to.json
	"$SWACK" trace -p "$fpid" -p "$dst" --json --until-done --duration 240 \
		>"$T" 2>"$QDIR/$to.err" &
	local tr=$!
	wait_attached "$QDIR/$to.err" 2 || return 1
	if [[ -n $port ]]; then
		qemu_migrate "$from" "$to" "$port" "$limit" || return 1
	else
		unix_migrate "$from" "$to" || return 1
	fi
	st=$(qemu_wait_migration "$from" 240)
	if [[ $st != completed ]]; then
		# The figures of a migration still under way compare with nothing.
		fail "$label: migration completed" "QMP status '$st' within 240 s ('' when QMP did not answer; a loaded host)"
		qmp "$from" '{"execute":"migrate_cancel"}' >/dev/null
		wait "$tr"
		return 1
	fi
	wait "$tr"
	q=$(qemu_query_migrate "$from")
	sum=$(jq -c --argjson p "$fpid" 'select(.event == "summary" and .src.pid == $p)' "$T")
	t=$(jq .ram.transferred <<<"$q")
	bytes=$(jq .src.bytes <<<"$sum")
	bw=$(jq .src.bandwidth_Bps <<<"$sum")
	echo "# $label: QMP transferred $t, mbps $(jq .ram.mbps <<<"$q"); swack $bytes B," \
		"$bw B/s over the transfer, last $(jq -r '"\(.src.last_bandwidth_Bps) B/s (\(.src.last_bandwidth_from))"' <<<"$sum")"
	expect_eq "$label: bytes are what the migration channel carried" channels \
		"$(jq -r .src.bytes_from <<<"$sum")"
	within "$label: bytes within 1% of QMP transferred" "$bytes" "$t" 1
	expect_num "$label: a bandwidth for a migration that moved data" "$bw" -gt 0
	# QMP mbps: megabits per second; QEMU's clock counts whole milliseconds.
	within "$label: bandwidth within 5% of QEMU's own (bytes over total less setup time)" \
		"$bw" "$(jq '.ram.mbps * 1e6 / 8' <<<"$q")" 5
	expect_eq "$label: the last window's figure is QEMU's (its rate-limit reset)" qemu \
		"$(jq -r .src.last_bandwidth_from <<<"$sum")"
	if [[ -n $limit ]]; then
		# QEMU holds each 100 ms window to the limit; one buffer may go over.
		expect_num "$label: QEMU's last window within the limit (+25%)" \
			"$(jq .src.last_bandwidth_Bps <<<"$sum")" "<=" "$((limit * 5 / 4))"
	fi
}

for v in $SWACK_QEMU_VERSIONS; do
	qemu_use "$v" || { fail "QEMU $v" "not available"; continue; }
	qemu_setup_dir || exit 1
	qemu_start_src a >/dev/null || exit 1
	qemu_wait_booted a 180 >/dev/null || exit 1
	migrate_once a b "$LIMIT"
	migrate_once b c ""
	# Over a UNIX socket, a freshly booted guest: 10.0's third migration of
	# one guest, over a socket, never converged (see unix_migrate).
	qemu_stop c
	qemu_start_src e >/dev/null || exit 1
	qemu_wait_booted e 180 >/dev/null || exit 1
	migrate_once e f unix
	qemu_cleanup
done

# sim_stream SCENARIO: the stand-in, its stream against swack's figures.
sim_stream() {
	local scen=$1 sum sent ms traced bot
	sim_play "$scen" 102 --json
	sum=$(jq -c 'select(.event == "summary")' "$SIM_TRACE")
	read -r sent ms < <(sed -n 's/^stream sent=\([0-9]*\) ms=\([0-9.]*\)$/\1 \2/p' "$SIM_SRC_OUT")
	expect_eq "$scen: the destination read what the source sent" "stream received=$sent" \
		"$(cat "$SIM_DST_OUT")"
	traced=$(jq -s --argjson p "$SIM_SRC" 'map(select(.pid == $p and .event == "transferred") | .bytes) | add' \
		"$SIM_TRACE")
	echo "# $scen: stream $sent B in $ms ms, migrate_transferred traced $traced B," \
		"swack $(jq -r '"\(.src.bytes) B, \(.src.bandwidth_Bps) B/s, last \(.src.last_bandwidth_Bps) B/s"' <<<"$sum")"
	expect_num "$scen: QEMU's traced windows miss the end of the stream" "$traced" "<" "$sent"
	expect_eq "$scen: bytes = what the socket carried, to the byte" "$sent channels" \
		"$(jq -r '"\(.src.bytes) \(.src.bytes_from)"' <<<"$sum")"
	bot=$(awk -v b="$sent" -v ms="$ms" 'BEGIN { printf "%.0f", b / ms * 1000 }')
	# swack's time runs from "active", the stream's from its first byte: the
	# migration thread's start and first queries lie between (3% of a 250 ms
	# transfer on a loaded host).
	within "$scen: bandwidth within 5% of the stream's bytes over its time" \
		"$(jq .src.bandwidth_Bps <<<"$sum")" "$bot" 5
	expect_eq "$scen: the last window's figure is QEMU's (migrate_transferred)" qemu \
		"$(jq -r .src.last_bandwidth_from <<<"$sum")"
}

sim_stream stream-limited
expect_num "stream-limited: QEMU's last window within its 40 MB/s limit (+10%)" \
	"$(jq 'select(.event == "summary") | .src.last_bandwidth_Bps' "$SIM_TRACE")" "<=" 44000000
sim_stream stream-unlimited

# Every stand-in scenario, on the generations it plays: a summary of a
# migration that moved data has a bandwidth, and that bandwidth (bytes over
# the time they were sent) is never below its bytes over the whole duration,
# the issue's "12,135 B/s for 100,000,288 B in 120 ms".  Where the stand-in
# has no stream, its bytes are QEMU's traced count over the time it covers.
# (A rate limit bounds QEMU's window, checked on stream-limited above.)
bw_invariant() {
	local gen=$1 scen sums bad n=0
	shift
	for scen in "$@"; do
		sim_play "$scen" "$gen" --json
		sums=$(jq -c 'select(.event == "summary" and .src != null and .src.bytes > 0) | .src' "$SIM_TRACE")
		[[ -n $sums ]] || continue
		n=$((n + $(grep -c . <<<"$sums")))
		bad=$(jq -r --arg s "$scen" 'select(.bandwidth_Bps <= 0 or
			.bandwidth_Bps * .total_ns / 1e9 < .bytes * 0.99) |
			"\($s): \(.bytes) B in \(.total_ns) ns, bandwidth \(.bandwidth_Bps) B/s"' <<<"$sums")
		expect_eq "$scen ($gen): bandwidth > 0 and >= bytes over the duration" "" "$bad"
		# 11.1's migration thread prints to stdout, a file here: a log, no channel.
		[[ $scen == stream-* ]] || expect_eq "$scen ($gen): no stream, so QEMU's count" qemu \
			"$(jq -r .bytes_from <<<"$sums" | sort -u | paste -sd,)"
		echo "# $scen ($gen): $(jq -r '"\(.bytes) B (\(.bytes_from)) in \(.total_ns / 1e6) ms: \(.bandwidth_Bps) B/s over the transfer, last \(.last_bandwidth_Bps) B/s (\(.last_bandwidth_from))"' <<<"$sums" | paste -sd' ')"
	done
	expect_num "$gen: summaries that moved data checked" "$n" -ge $(($# - 1))
}

bw_invariant 102 ack-legacy ack-never ack-stall cancel failed multifd-starved precopy-basic \
	snapshot stream-limited stream-unlimited
bw_invariant 111 ack-legacy-111 ack-never ack-regrow ack-stall ack-underflow cancel failed \
	multifd-starved precopy-basic snapshot stream-limited stream-unlimited
