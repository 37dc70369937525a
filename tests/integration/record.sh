#!/usr/bin/env bash
# swack record on a real QEMU 7.2 migration: report agrees with trace of the
# same run and with QMP; script and the exports carry the same events
# (babeltrace2 reads the CTF); a recorder killed with SIGKILL mid-migration,
# a full disk and a corrupt file all leave something readable, and say so.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

qemu_setup_dir || exit 1
R=$QDIR/run.data
port=$(qemu_free_port) || exit 1
src=$(qemu_start_src src) || exit 1
dst=$(qemu_start_dst dst "$port") || exit 1
qemu_wait_booted src 120 >/dev/null || exit 1

"$SWACK" trace -p "$src" -p "$dst" --json --until-done -d 180 >"$QDIR/trace.json" 2>/dev/null &
tr=$!
"$SWACK" record -o "$R" -p "$src" -p "$dst" --until-done -d 180 2>"$QDIR/record.err" &
rec=$!
wait_attached "$QDIR/record.err" 2
sleep 1 # trace attaches too
qemu_migrate src dst "$port" 40000000 || exit 1
expect_eq "migration completed (QMP)" completed "$(qemu_wait_migration src 180)"
wait "$rec"
expect_eq "record exits 0 once the migration is done" 0 "$?"
wait "$tr"
q=$(qemu_query_migrate src)
expect_match "record says what it wrote" "swack record: [0-9]+ events, 2 migrations, migrations done: $R" \
	"$(tail -1 "$QDIR/record.err")"

rep=$("$SWACK" report --json "$R")
expect_eq "report exits 0" 0 "$?"
live=$(jq -c 'select(.event == "summary")' "$QDIR/trace.json")
from_file=$(jq -c '.migrations[0]' <<<"$rep")
expect_eq "report: source, destination and their pairing" "$src $dst tcp" \
	"$(jq -r '"\(.src.pid) \(.dst.pid) \(.paired_by)"' <<<"$from_file")"
expect_eq "report: iterations = trace's = QMP dirty-sync-count" \
	"$(jq -r '.ram["dirty-sync-count"]' <<<"$q") $(jq -r .src.iterations <<<"$live")" \
	"$(jq -r .src.iterations <<<"$from_file") $(jq -r .src.iterations <<<"$from_file")"
# Two BPF objects see the same calls a few microseconds apart.
close_to() { awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; exit !((d < 0 ? -d : d) <= t) }' &&
	pass "$1" || fail "$1" "$2 and $3 differ by more than $4"; }
close_to "report: guest-visible downtime = trace's (within 0.2 ms)" \
	"$(jq .guest_downtime_ns <<<"$from_file")" "$(jq .guest_downtime_ns <<<"$live")" 200000
close_to "report: QEMU's downtime = trace's (within 0.2 ms)" \
	"$(jq .qemu_downtime_ns <<<"$from_file")" "$(jq .qemu_downtime_ns <<<"$live")" 200000
close_to "report: QEMU's downtime = QMP's (within 2 ms)" \
	"$(jq '.qemu_downtime_ns / 1e6' <<<"$from_file")" "$(jq .downtime <<<"$q")" 2
close_to "report: bytes = trace's (within 0.1%)" "$(jq .src.bytes <<<"$from_file")" \
	"$(jq .src.bytes <<<"$live")" "$(jq '.src.bytes / 1000' <<<"$live")"
expect_match "report: the file ended cleanly" 'clean end \("migrations done"\)' \
	"$(jq -r '.recordings[0].ended' <<<"$rep")"
text=$("$SWACK" report "$R")
expect_match "report (text): header and processes" "# $R: host .*, kernel $(uname -r)" "$text"
expect_match "report (text): phases" "phases \(src\): setup \+0.000 s, active \+[0-9.]+ s, completed \+[0-9.]+ s" "$text"

n_script=$("$SWACK" script --json "$R" 2>/dev/null | wc -l)
expect_eq "script: every recorded event" \
	"$(grep -o 'swack record: [0-9]*' "$QDIR/record.err" | grep -o '[0-9]*$')" "$n_script"
expect_eq "script (text) ends with how the file ended" 1 \
	"$("$SWACK" script "$R" | tail -1 | grep -c 'clean end')"

"$SWACK" export --format ctf -o "$QDIR/ctf" "$R" 2>/dev/null
bt=$(babeltrace2 "$QDIR/ctf")
expect_eq "CTF: babeltrace2 reads every event" "$n_script" "$(grep -vc ' process: ' <<<"$bt")"
expect_eq "CTF: and a process event for each process recorded" 2 "$(grep -c ' process: { pid = ' <<<"$bt")"
expect_eq "CTF: same migration states, same order" \
	"$("$SWACK" script --json "$R" 2>/dev/null | jq -r 'select(.event == "mig_state") | "\(.pid) \(.state)"' | paste -sd,)" \
	"$(sed -n 's/.* mig_state: { pid = \([0-9]*\),.* str = "\([a-z-]*\)" }/\1 \2/p' <<<"$bt" | paste -sd,)"
expect_eq "CTF: same pending-size values" \
	"$("$SWACK" script --json "$R" 2>/dev/null | jq -r 'select(.event == "pending") | .precopy' | paste -sd,)" \
	"$(sed -n 's/.* pending: {.* a0 = \([0-9]*\),.*/\1/p' <<<"$bt" | paste -sd,)"

"$SWACK" export --format chrome -o "$QDIR/trace.chrome.json" "$R" 2>/dev/null
C=$QDIR/trace.chrome.json
expect_eq "Chrome JSON: valid, with every event as an instant" "$n_script" \
	"$(jq '[.traceEvents[] | select(.ph == "i")] | length' "$C")"
expect_eq "Chrome JSON: phases as spans" "setup active completed" \
	"$(jq -r --argjson p "$src" '[.traceEvents[] | select(.ph == "X" and .pid == $p and .tid == 0) | .name] | join(" ")' "$C")"
expect_eq "Chrome JSON: the guest-visible downtime span" \
	"$(jq '.guest_downtime_ns / 1e3 | . * 1000 | round / 1000' <<<"$from_file")" \
	"$(jq --argjson p "$src" '.traceEvents[] | select(.name == "guest-visible downtime" and .pid == $p) | .dur' "$C")"
expect_eq "Chrome JSON: pending bytes as a counter" true \
	"$(jq '[.traceEvents[] | select(.ph == "C" and .name == "pending bytes")] | length > 3' "$C")"

# Killed with SIGKILL mid-migration: readable, and said to be cut.
qemu_stop src; qemu_stop dst
port=$(qemu_free_port) || exit 1
src=$(qemu_start_src src2) || exit 1
dst=$(qemu_start_dst dst2 "$port") || exit 1
qemu_wait_booted src2 120 >/dev/null || exit 1
K=$QDIR/killed.data
"$SWACK" record -o "$K" -p "$src" -p "$dst" 2>"$QDIR/killed.err" &
rec=$!
wait_attached "$QDIR/killed.err" 2
qemu_migrate src2 dst2 "$port" 40000000 || exit 1
for _ in $(seq 100); do
	[[ $(qemu_query_migrate src2 | jq -r '.ram["dirty-sync-count"] // 0') -ge 2 ]] && break
	sleep 0.1
done
sleep 0.3
kill -9 "$rec"
wait "$rec" 2>/dev/null
qemu_wait_migration src2 180 >/dev/null
out=$("$SWACK" report "$K")
expect_eq "killed recorder: report exits 0" 0 "$?"
expect_match "killed recorder: report says the file was cut" "$K: cut: " "$out"
expect_match "killed recorder: the migration up to the kill is there" "summary: migration src $src" "$out"

# A full disk: the recording stops at the first record that does not fit,
# says so, and what it wrote stays readable.
. "$SWACK_ROOT/tests/lib/sim.sh"
mkdir "$QDIR/small"
mount -t tmpfs -o size=64k swacktest "$QDIR/small"
head -c $((60 * 1024)) /dev/zero >"$QDIR/small/filler" 2>/dev/null
mkfifo "$QDIR/sim.go"
exec 7<>"$QDIR/sim.go"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
	"$SWACK_ROOT/tests/fixtures/scenarios/ack-never.src" <&7 >/dev/null 7<&- &
sim=$!
SIM_PIDS+=("$sim")
"$SWACK" record -o "$QDIR/small/full.data" -p "$sim" -d 20 2>"$QDIR/full.err" &
rec=$!
wait_attached "$QDIR/full.err" 1
echo go >&7
exec 7>&-
wait "$rec"
expect_eq "full disk: record exits 1" 1 "$?"
expect_match "full disk: record says so and what it kept" \
	"swack record: $QDIR/small/full.data: .*(No space left on device|disk full).*; the file keeps [0-9]+ events" \
	"$(cat "$QDIR/full.err")"
out=$("$SWACK" report "$QDIR/small/full.data" 2>&1)
expect_eq "full disk: the file reads" 0 "$?"
expect_match "full disk: up to its last complete record" "full.data: (cut|clean end)" "$out"
umount -l "$QDIR/small"

# Corruption mid-file and input that is no recording at all.
cp "$R" "$QDIR/bad.data"
size=$(stat -c %s "$QDIR/bad.data")
printf '\xff\xff\xff\xff' | dd of="$QDIR/bad.data" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$SWACK" report "$QDIR/bad.data" 2>&1)
expect_eq "corrupt recording: report exits 1" 1 "$?"
expect_match "corrupt recording: says where" "bad.data: corrupt at byte [0-9]+" "$out"
out=$("$SWACK" report /etc/hostname 2>&1)
expect_eq "not a recording: exit 1" 1 "$?"
expect_match "not a recording: one clear line" "^swack report: /etc/hostname: not a swack recording" "$out"
