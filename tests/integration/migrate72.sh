#!/usr/bin/env bash
# A real Debian QEMU 7.2 live migration (TCG guest dirtying 64 MiB, 40 MB/s
# cap), watched by `swack trace --json`; swack's figures against QMP's.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

qemu_setup_dir || exit 1
port=$(qemu_free_port) || exit 1
src=$(qemu_start_src src) || exit 1
dst=$(qemu_start_dst dst "$port") || exit 1
qemu_wait_booted src 120 >/dev/null || exit 1

"$SWACK" trace -p "$src" -p "$dst" --json --until-done --duration 180 \
	>"$QDIR/trace.json" 2>"$QDIR/trace.err" &
trace=$!
wait_attached "$QDIR/trace.err" 2
attach=$(cat "$QDIR/trace.err")
expect_match "source attached by symbols" "swack: pid $src \(qemu-system-x86\): QEMU <=7.2 \(symbols\), [0-9]+ functions from .dynsym, 0 USDT probes: 20 probes attached; missing: none; watched in [0-9.]+ ms" "$attach"
expect_match "destination attached by symbols" "swack: pid $dst \(qemu-system-x86\): QEMU <=7.2 \(symbols\).*missing: none" "$attach"

qemu_migrate src dst "$port" 40000000 || exit 1
status=$(qemu_wait_migration src 180)
expect_eq "migration completed (QMP)" completed "$status"
wait "$trace"
expect_eq "swack trace exits by itself once the migration ended" 0 "$?"
q=$(qemu_query_migrate src)
T=$QDIR/trace.json

states() { jq -r --argjson p "$1" 'select(.event == "mig_state" and .pid == $p and
	(.flags / 4 | floor) % 2 == 0) | .state' "$T" | paste -sd' '; }
expect_eq "source states in order" "setup active completed" "$(states "$src")"
expect_eq "destination states in order" "active completed" "$(states "$dst")"

sum=$(jq -c 'select(.event == "summary")' "$T")
expect_eq "one summary" 1 "$(wc -l <<<"$sum")"
expect_eq "summary pairs source and destination" "$src $dst" \
	"$(jq -r '"\(.src.pid) \(.dst.pid)"' <<<"$sum")"
expect_eq "paired through their TCP connection" tcp "$(jq -r .paired_by <<<"$sum")"

syncs=$(jq -r '.ram["dirty-sync-count"]' <<<"$q")
expect_num "several iterations" "$syncs" -ge 3
expect_eq "iterations = QMP dirty-sync-count" "$syncs" "$(jq -r .src.iterations <<<"$sum")"
expect_eq "dirty_sync events = QMP dirty-sync-count" "$syncs" \
	"$(jq -r --argjson p "$src" 'select(.event == "dirty_sync" and .pid == $p) | 1' "$T" | wc -l)"

syncs_json=$(jq -c --argjson p "$src" 'select(.event == "dirty_sync" and .pid == $p)' "$T")
expect_eq "per-iteration bytes add up to the bytes sent between first and last sync" \
	"$(jq -s 'map(.bytes) | add' <<<"$syncs_json")" \
	"$(jq -s '.[-1].tx_bytes - .[0].tx_bytes' <<<"$syncs_json")"
expect_eq "every iteration after the first has a bandwidth" 0 \
	"$(jq -s '.[1:] | map(select(.ns > 0 and .bw_Bps == 0 and .bytes > 0)) | length' <<<"$syncs_json")"

sw=$(jq -c --argjson p "$src" 'select(.event == "switchover" and .pid == $p)' "$T")
expect_eq "one switchover decision" 1 "$(grep -c . <<<"$sw")"
expect_eq "switchover: pending below the threshold" true \
	"$(jq '.pending == 0 or .pending < .threshold' <<<"$sw")"
stop=$(jq -r --argjson p "$src" 'select(.event == "vm_stop" and .pid == $p) | .ts' "$T")
expect_num "switchover decided before the vCPUs stop" "$(jq .ts <<<"$sw")" "<=" "$stop"

qmp_dt=$(jq -r .downtime <<<"$q")
guest_ms=$(jq -r '.guest_downtime_ns / 1e6' <<<"$sum")
qemu_ms=$(jq -r '.qemu_downtime_ns / 1e6' <<<"$sum")
echo "# QMP downtime ${qmp_dt} ms, swack source-side ${qemu_ms} ms, guest-visible ${guest_ms} ms"
expect_num "guest-visible downtime positive" "$guest_ms" -gt 0
# With return-path the source waits for the destination to close it, so its
# COMPLETED (and QMP's clock) can come after the guest already runs on the
# destination: the guest saw QEMU's figure less that tail, never less.
ev_ts() { jq -r --argjson p "$1" --arg e "$2" --arg s "${3:-}" 'select(.pid == $p and
	.event == $e and ($s == "" or .state == $s)) | .ts' "$T" | tail -1; }
tail_ms=$(awk -v c="$(ev_ts "$src" mig_state completed)" -v r="$(ev_ts "$dst" vm_resumed)" \
	'BEGIN { t = (c - r) / 1e6; print (t > 0 ? t : 0) }')
echo "# source completed ${tail_ms} ms after the destination resumed"
expect_num "guest-visible downtime >= QMP downtime less the source's tail after resume" \
	"$guest_ms" ">=" "$(awk -v q="$qmp_dt" -v t="$tail_ms" 'BEGIN { print q - t - 1 }')"
# The destination cannot run before the last state left a stopped source.
expect_num "destination resumes after the source's vCPUs stopped" \
	"$(ev_ts "$dst" vm_resumed)" ">" "$(ev_ts "$src" vm_stopped)"
# QMP counts whole milliseconds and stops its clock a little after the
# COMPLETED state change that ends swack's source-side window.
expect_num "source-side downtime within 2 ms of QMP's" \
	"$(awk -v a="$qemu_ms" -v b="$qmp_dt" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<=" 2

qmp_bytes=$(jq -r .ram.transferred <<<"$q")
bytes=$(jq -r .src.bytes <<<"$sum")
echo "# QMP ram.transferred $qmp_bytes, swack TCP bytes sent $bytes"
# swack counts the whole stream (RAM, device state, framing); QMP counts RAM.
expect_num "bytes >= QMP ram.transferred" "$bytes" ">=" "$qmp_bytes"
expect_num "bytes within 1% + 256 KiB of QMP ram.transferred" "$bytes" "<=" \
	"$(awk -v b="$qmp_bytes" 'BEGIN { printf "%d", b * 1.01 + 262144 }')"

t1=$(qemu_ticks dst); sleep 2; t2=$(qemu_ticks dst)
expect_num "guest keeps running on the destination" "$t2" -gt "$t1"
