#!/usr/bin/env bash
# A real Prometheus server on loopback scrapes `swack exporter` while qemu-sim
# plays ack-regrow (QEMU 11.1, a device whose initial bytes grow again); its
# HTTP API must then hold the series and the values the scenario implies.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
. "$SWACK_ROOT/tests/lib/prom.sh"
port=$((21000 + $$ % 2000)) pport=$((23000 + $$ % 2000))
prom_start "$SIM_DIR/prom" "$pport" "127.0.0.1:$port"
SIM_PIDS+=("$PROM_PID")

q() { curl -s --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
	jq -r '.data.result[0].value[1] // "none"'; }

# Exporter first, then the scenario: sim_play waits for two attach lines.
mkfifo "$SIM_DIR/p.src" "$SIM_DIR/p.dst"
mkdir "$SIM_DIR/p.sync"
export QEMU_SIM_SYNC=$SIM_DIR/p.sync
exec 7<>"$SIM_DIR/p.src" 8<>"$SIM_DIR/p.dst"
"$SWACK_ROOT/build/fixtures/qemu-system-sim111" -q -w "$SWACK_ROOT/tests/fixtures/scenarios/ack-regrow.src" <&7 >/dev/null 7<&- 8<&- &
src=$!
"$SWACK_ROOT/build/fixtures/qemu-system-sim111" -q -w "$SWACK_ROOT/tests/fixtures/scenarios/ack-regrow.dst" <&8 >/dev/null 7<&- 8<&- &
dst=$!
SIM_PIDS+=("$src" "$dst")
"$SWACK" exporter --listen "127.0.0.1:$port" -p "$src" -p "$dst" -v 2>"$SIM_DIR/exporter.err" &
exporter=$!
SIM_PIDS+=("$exporter")
wait_attached "$SIM_DIR/exporter.err" 2
for _ in $(seq 100); do grep -q 'serving' "$SIM_DIR/exporter.err" && break; sleep 0.1; done
# Attached to given pids, it keeps only CAP_SYS_PTRACE (bit 19) and CAP_BPF
# (bit 39, to open the log of a swack gate run started later), CAP_SYS_NICE
# where needed (tests/lib/sim.sh), and says so.
expect_eq "capabilities dropped once attached" "$OBS_MASK $OBS_MASK" \
	"$(awk '/^CapEff|^CapBnd/ { printf "%s ", $2 }' "/proc/$exporter/status" | sed 's/ $//')"
expect_eq "runs as nobody once attached" "$(id -u nobody)" "$(awk '/^Uid/ { print $3 }' "/proc/$exporter/status")"
expect_match "-v says which capabilities it keeps" "runs as uid $(id -u nobody) with $OBS_KEPT only, no_new_privs" \
	"$(cat "$SIM_DIR/exporter.err")"
for _ in $(seq 100); do [[ $(q 'up{job="swack"}') == 1 ]] && break; sleep 0.2; done
expect_eq "Prometheus scrapes the exporter" 1 "$(q 'up{job="swack"}')"
echo go >&7
echo go >&8
exec 7>&- 8>&-
for _ in $(seq 100); do [[ $(q 'swack_guest_downtime_seconds_count') == 1 ]] && break; sleep 0.2; done

expect_eq "migrations by role and result" "1 1 0" \
	"$(q 'swack_migrations_total{role="src",result="completed"}') $(q 'swack_migrations_total{role="dst",result="completed"}') $(q 'sum(swack_migrations_total{result="failed"})')"
expect_eq "guest-visible downtime histogram: one observation" 1 "$(q 'swack_guest_downtime_seconds_count')"
expect_num "guest-visible downtime sum in seconds, plausible" "$(q 'swack_guest_downtime_seconds_sum')" "<" 1
expect_eq "histogram buckets cumulate to +Inf" 1 "$(q 'swack_guest_downtime_seconds_bucket{le="+Inf"}')"
expect_eq "regrowth counter of the device that grew again" 1 \
	"$(q 'swack_vfio_regrowths_total{device="0000:3b:00.1",role="src"}')"
expect_eq "initial bytes gauge per device" "8388608 0" \
	"$(q 'swack_vfio_initial_bytes{device="0000:3b:00.1",role="src"}') $(q 'swack_vfio_initial_bytes{device="0000:3b:00.2",role="src"}')"
expect_eq "pending switchover ACKs gauge at the end" 0 "$(q "swack_switchover_acks_pending{pid=\"$src\"}")"
expect_eq "iterations gauge" 7 "$(q "swack_migration_iterations{pid=\"$src\"}")"
expect_eq "no event lost" 0 "$(q 'swack_events_lost_total')"
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
expect_match "conventions: units in names, _total counters, HELP and TYPE" \
	"# TYPE swack_guest_downtime_seconds histogram" "$metrics"
expect_eq "every metric has HELP and TYPE" \
	"$(grep -c '^# HELP' <<<"$metrics")" "$(grep -c '^# TYPE' <<<"$metrics")"
