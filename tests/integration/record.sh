#!/usr/bin/env bash
# swack record's robustness: a full disk and a corrupt file leave something
# readable, and say so; input that is no recording gets one clear line.
# Recordings of real migrations on each real QEMU (report, script, exports,
# a recorder killed with SIGKILL mid-migration) are checked in migrate.sh.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/sim.sh"
QDIR=$SIM_DIR

# A full disk: the recording stops at the first record that does not fit,
# says so, and what it wrote stays readable.  One page is left free; two
# sources that never switch over fill it (one alone fits in a page since
# events are packed, recording format 2: 96 events, about 3 KB).
mkdir "$QDIR/small"
mount -t tmpfs -o size=64k swacktest "$QDIR/small"
head -c $((60 * 1024)) /dev/zero >"$QDIR/small/filler" 2>/dev/null
sims=()
for i in 1 2; do
	# One pipe each: a sim's stdio buffer could swallow the other's line.
	mkfifo "$QDIR/full$i.go"
	"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/ack-never.src" <>"$QDIR/full$i.go" >/dev/null &
	sims+=(-p "$!")
	SIM_PIDS+=("$!")
done
"$SWACK" record -o "$QDIR/small/full.data" "${sims[@]}" -d 20 2>"$QDIR/full.err" &
rec=$!
wait_attached "$QDIR/full.err" 2
echo go >"$QDIR/full1.go"
echo go >"$QDIR/full2.go"
wait "$rec"
expect_eq "full disk: record exits 1" 1 "$?"
expect_match "full disk: record says so and what it kept" \
	"swack record: $QDIR/small/full.data: .*(No space left on device|disk full).*; the file keeps [0-9]+ events" \
	"$(cat "$QDIR/full.err")"
out=$("$SWACK" report "$QDIR/small/full.data" 2>&1)
rc=$?
expect_match "full disk: the file reads up to its last complete record" \
	"migration src [0-9]+ .*full.data: (cut|clean end)" "$(tr '\n' ' ' <<<"$out")"
# A cut file is reported all the same, and exits 1 like every reader's.
expect_eq "full disk: exit status as the file ended" "$([[ $out == *": cut"* ]] && echo 1 || echo 0)" "$rc"
umount -l "$QDIR/small"

# Corruption mid-file and input that is no recording at all.
R=$QDIR/whole.data
mkfifo "$QDIR/sim.go"
exec 7<>"$QDIR/sim.go"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
	"$SWACK_ROOT/tests/fixtures/scenarios/ack-never.src" <&7 >/dev/null 7<&- &
sim=$!
SIM_PIDS+=("$sim")
"$SWACK" record -o "$R" -p "$sim" --until-done -d 20 2>"$QDIR/whole.err" &
rec=$!
wait_attached "$QDIR/whole.err" 1
echo go >&7
exec 7>&-
wait "$rec"
expect_match "a whole recording to corrupt" "clean end" "$("$SWACK" report "$R" 2>&1)"
cp "$R" "$QDIR/bad.data"
size=$(stat -c %s "$QDIR/bad.data")
printf '\xff\xff\xff\xff' | dd of="$QDIR/bad.data" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$SWACK" report "$QDIR/bad.data" 2>&1)
expect_eq "corrupt recording: report exits 1" 1 "$?"
expect_match "corrupt recording: says where" "bad.data: corrupt at byte [0-9]+" "$out"
out=$("$SWACK" report /etc/hostname 2>&1)
expect_eq "not a recording: exit 1" 1 "$?"
expect_match "not a recording: one clear line" "^swack report: /etc/hostname: not a swack recording" "$out"

# One exit-code convention (swack(8)): every reader exits 1 on a corrupt or
# cut file, with one line naming the file on stderr; usage errors exit 2.
head -c $((size / 2)) "$R" >"$QDIR/cut.data"
readers=("report" "diagnose" "script" "export -F jsonl" "export -F chrome -o $QDIR/x.json"
	"export -F ctf -o $QDIR/x.ctf" "stat -i")
for cmd in "${readers[@]}"; do
	for f in bad cut; do
		# shellcheck disable=SC2086
		err=$("$SWACK" $cmd "$QDIR/$f.data" 2>&1 >/dev/null)
		expect_eq "$f recording: $cmd exits 1" 1 "$?"
		expect_match "$f recording: $cmd says how the file ended" \
			"$f.data: (corrupt at byte [0-9]+|cut)" "$err"
	done
done
mkfifo "$QDIR/fifo.data"
for cmd in report script "stat -i"; do
	# shellcheck disable=SC2086
	out=$(timeout 5 "$SWACK" $cmd "$QDIR/fifo.data" 2>&1 >/dev/null)
	expect_eq "a FIFO without a writer: $cmd exits 1 at once" 1 "$?"
	expect_match "a FIFO: $cmd says what is wrong" "fifo.data: is a FIFO, not a recording" "$out"
done
for cmd in report diagnose script export stat record trace exporter; do
	# shellcheck disable=SC2086
	"$SWACK" $cmd --no-such-option >/dev/null 2>&1
	expect_eq "usage error: $cmd exits 2" 2 "$?"
done
"$SWACK" exporter --listen 127.0.0.1:99999 >/dev/null 2>&1
expect_eq "--listen with a port over 65535: usage error" 2 "$?"
"$SWACK" exporter --listen 127.0.0.1:80abc >/dev/null 2>&1
expect_eq "--listen with a port not a number: usage error" 2 "$?"

# Durability: each CLOCK record (every 10 s) is synced, so a power cut loses
# at most the last 10 s.  An 11 s recording syncs its file at the header, at
# the CLOCK record at 10 s, and at its end (at least 3 fsyncs of the file).
exec 7<>"$QDIR/sim.go"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -q -w \
	"$SWACK_ROOT/tests/fixtures/scenarios/ack-never.src" <&7 >/dev/null 7<&- &
sim=$!
SIM_PIDS+=("$sim")
strace -f -qq -y -T -e trace=fsync -o "$QDIR/fsync.log" \
	"$SWACK" record -o "$QDIR/dur.data" -p "$sim" -d 11 2>"$QDIR/dur.err"
expect_eq "11 s recording: exit 0" 0 "$?"
syncs=$(grep -c "fsync([0-9]*<$QDIR/dur.data>)" "$QDIR/fsync.log")
expect_num "11 s recording: its file synced at the header, a CLOCK record and the end" "$syncs" -ge 3
echo "# fsyncs of the recording: $(grep -o "fsync([0-9]*<$QDIR/dur.data>) *= 0 <[0-9.]*>" "$QDIR/fsync.log" | sed 's/.*<//; s/>//' | paste -sd' ')"
expect_match "11 s recording: reads clean" "dur.data: clean end" "$("$SWACK" report "$QDIR/dur.data" 2>&1)"
exec 7>&-

# A failed start leaves no file: attach first, then create.
nopid=4000000
while kill -0 "$nopid" 2>/dev/null; do nopid=$((nopid + 1)); done
"$SWACK" record -o "$QDIR/failed.data" -p "$nopid" -d 1 2>/dev/null
expect_eq "record with a pid that does not exist: exit 1" 1 "$?"
expect_eq "record with a pid that does not exist: no file left" no "$([[ -e $QDIR/failed.data ]] && echo yes || echo no)"
setpriv --reuid=65534 --regid=65534 --clear-groups "$SWACK" record -o "$QDIR/notroot.data" -d 1 2>/dev/null
expect_eq "record not as root: exit 1, no file left" "1 no" \
	"$? $([[ -e $QDIR/notroot.data ]] && echo yes || echo no)"
touch "$QDIR/exists.data"
out=$("$SWACK" record -o "$QDIR/exists.data" -p "$nopid" -d 1 2>&1)
expect_match "an existing file: refused before attaching, says -f" \
	"^swack record: cannot create .*exists.data: File exists \(give -f to overwrite it\)$" "$out"
