#!/usr/bin/env bash
# The main job: two local QEMUs, one guest migrated from one to the other
# while `swack trace` watches both, then swack's figures beside QEMU's own.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/lib/qemu.sh"
SWACK=$ROOT/build/swack
PORT=${SWACK_DEMO_PORT:-47001}

[[ $(id -u) -eq 0 ]] || { echo "demo.sh: run as root (BPF and QEMU)" >&2; exit 1; }
[[ -x $SWACK ]] || { echo "demo.sh: build swack first: make" >&2; exit 1; }

qemu_setup_dir
echo "== starting source and destination QEMU (TCG, 512 MiB guest dirtying 64 MiB)"
src=$(qemu_start_src src)
dst=$(qemu_start_dst dst "$PORT")
qemu_wait_booted src 120 >/dev/null
echo "   source pid $src, destination pid $dst, guest running"

echo "== swack trace -p $src -p $dst --until-done  (and swack diagnose, beside it)"
"$SWACK" trace -p "$src" -p "$dst" --until-done --duration 180 >"$QDIR/trace.txt" 2>"$QDIR/trace.err" &
trace=$!
HTML=${SWACK_DEMO_HTML:-$ROOT/build/demo-diagnosis.html}
"$SWACK" diagnose -p "$src" -p "$dst" -d 180 --html "$HTML" >"$QDIR/diag.txt" 2>"$QDIR/diag.err" &
diag=$!
for _ in $(seq 600); do
	[[ $(grep -c '^swack: pid' "$QDIR/trace.err" 2>/dev/null) -ge 2 &&
		$(grep -c '^swack: pid' "$QDIR/diag.err" 2>/dev/null) -ge 2 ]] && break
	sleep 0.1
done
cat "$QDIR/trace.err"

echo "== migrating at 40 MB/s"
qemu_migrate src dst "$PORT" 40000000
qemu_wait_migration src 180 >/dev/null
wait "$trace" || true
cat "$QDIR/trace.txt"
wait "$diag" || true
echo "== swack diagnose -p $src -p $dst --html $HTML"
cat "$QDIR/diag.txt"

echo "== QEMU's own view (query-migrate on the source)"
qemu_query_migrate src | jq -c '{status, "total-time", downtime,
	transferred: .ram.transferred, "dirty-sync-count": .ram["dirty-sync-count"]}'
echo "== the guest keeps running on the destination"
t1=$(qemu_ticks dst); sleep 3; t2=$(qemu_ticks dst)
echo "   destination workload counter: $t1 -> $t2"
