#!/usr/bin/env bash
# A QEMU with neither USDT probes nor function symbols (a stripped build) is
# watched on the kernel side: one warning line says what is missing and how to
# get it, and the bytes of its migration stream over TCP (known by QEMU's
# stream magic, which needs nothing from the binary) are still counted, to
# the byte.  (The VFIO ioctls of such a binary: tests/integration/vfio.sh.)
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
BIN=$SWACK_ROOT/build/fixtures/qemu-system-nosyms
BYTES=3000000

expect_eq "fixture: no symbol table, no USDT note" "0 0" \
	"$(readelf -S "$BIN" | grep -c ' \.symtab ') $(readelf -n "$BIN" | grep -c stapsdt)"

mkfifo "$work/go"
exec 7<>"$work/go"
"$BIN" --send "$BYTES" <&7 >"$work/sent" &
pid=$!
pids+=("$pid")
"$SWACK" trace -p "$pid" --json -d 30 >"$work/trace.json" 2>"$work/trace.err" &
tr=$!
pids+=("$tr")
wait_attached "$work/trace.err" 1
echo go >&7
exec 7>&-
wait "$pid"
expect_eq "the process sent its bytes" "sent $BYTES" "$(cat "$work/sent")"
sleep 0.5
kill -INT "$tr"
wait "$tr"
expect_eq "swack trace: exit status" 0 "$?"
expect_eq "one line on stderr: the warning" 1 "$(grep -c . "$work/trace.err")"
expect_match "the warning: what is missing, what is watched, how to get the rest" \
	"^swack: pid $pid \(qemu-system-nos\): warning: $BIN has neither QEMU USDT probes nor QEMU function symbols: watched on the kernel side only \(VFIO ioctls, userfaultfd, bytes sent\), without migration states, iterations or downtime; install its debuginfo \(the distribution's debug symbols package; or set DEBUGINFOD_URLS for swack to fetch it\), or use a build with symbols; watched in [0-9.]+ ms; vm unnamed \(no -name, -uuid or libvirt domain\)$" \
	"$(cat "$work/trace.err")"
expect_eq "migration stream's bytes over TCP counted (the exit event's tx_bytes)" "$BYTES" \
	"$(jq -r --argjson p "$pid" 'select(.pid == $p and .event == "exit") | .tx_bytes' "$work/trace.json")"
