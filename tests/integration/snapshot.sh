#!/usr/bin/env bash
# A real background snapshot on each real QEMU (Debian's 7.2 and 10.0) (write tracking with userfaultfd
# write-protect) of the TCG guest dirtying 64 MiB, to a file through exec:,
# watched by `swack trace --json`, `swack record` and swackstat at once:
# faults against the guest's dirtying rate, the stall histogram, and the
# snapshot's duration and size against QMP query-migrate and the file.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

# observers_agree LABEL N: N faults, as another observer (its own BPF
# programs, its own ring buffer) counted, is the trace's $faults exactly.
observers_agree() {
	expect_eq "$1" "$faults" "${2:-none}"
}

one_version() {
	qemu_use "$1" || { fail "QEMU $1" "not installed (run scripts/deps.sh)"; return; }
	Q="QEMU $1"
	gen="QEMU <=7.2"
	[[ $1 != 7.2 ]] && gen="QEMU 8.0-11.0"
	qemu_setup_dir || exit 1
	vm=$(qemu_start_src snap) || exit 1
	qemu_wait_booted snap 120 >/dev/null || exit 1

	# The guest's dirtying rate before the snapshot: passes of 64 MiB a second.
	t0=$(qemu_ticks snap); s0=$(date +%s.%N); sleep 4
	t1=$(qemu_ticks snap); s1=$(date +%s.%N)
	dirty_pps=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v mib="$SWACK_DIRTY_MIB" \
		'BEGIN { printf "%d", (b - a) * mib * 256 / (e - s) }')
	echo "# $Q: guest dirties $dirty_pps pages/s ($((t1 - t0)) passes of $SWACK_DIRTY_MIB MiB in 4 s)"
	expect_num "$Q: the guest dirties memory before the snapshot" "$dirty_pps" -gt 0

	"$SWACK" trace -p "$vm" --json --until-done --duration 120 \
		>"$QDIR/trace.json" 2>"$QDIR/trace.err" &
	trace=$!
	"$SWACK" record -p "$vm" --until-done --duration 120 -o "$QDIR/snap.data" \
		>/dev/null 2>"$QDIR/record.err" &
	record=$!
	"$SWACK" stat -p "$vm" 0.1 >"$QDIR/stat.out" 2>"$QDIR/stat.err" &
	stat=$!
	eport=$(qemu_free_port) || exit 1
	"$SWACK" exporter --listen "127.0.0.1:$eport" -p "$vm" 2>"$QDIR/exporter.err" &
	exporter=$!
	# Not left behind if a step below fails and exits.
	# shellcheck disable=SC2064 # expand now, on purpose
	trap "kill $stat $exporter 2>/dev/null; qemu_cleanup" EXIT
	wait_attached "$QDIR/trace.err" 1
	wait_attached "$QDIR/record.err" 1
	wait_attached "$QDIR/stat.err" 1
	wait_attached "$QDIR/exporter.err" 1
	expect_match "$Q: attached with the write-tracking probes" \
		"swack: pid $vm \(qemu-system-x86\): $gen \(symbols\), .*: [0-9]+ probes attached; missing: none" \
		"$(cat "$QDIR/trace.err")"

	caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[
		{"capability":"background-snapshot","state":true}]}}'
	expect_eq "$Q: QEMU accepts background-snapshot" '{"return": {}}' "$(qmp snap "$caps")"
	tb=$(qemu_ticks snap)
	qmp snap "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > $QDIR/snap.img\"}}" \
		>/dev/null || exit 1
	expect_eq "$Q: snapshot completed (QMP)" completed "$(qemu_wait_migration snap 120)"
	ta=$(qemu_ticks snap)
	q=$(qemu_query_migrate snap)
	wait "$trace"
	expect_eq "$Q: swack trace exits by itself once the snapshot ended" 0 "$?"
	wait "$record"
	expect_eq "$Q: swack record exits by itself once the snapshot ended" 0 "$?"
	sleep 0.3
	kill -INT "$stat"
	wait "$stat"
	T=$QDIR/trace.json

	ev() { jq -c --arg e "$1" "select(.event == \$e)" "$T"; }
	expect_eq "$Q: write tracking started, and returned 0" 0 \
		"$(ev write_tracking_start | jq -r 'select(.flags == 2) | .ret')"
	expect_eq "$Q: write tracking stopped once" 1 "$(ev write_tracking_stop | grep -c .)"
	expect_eq "$Q: memory registered for write-protect (mode WP) and protected (mode WP)" \
		"REGISTER 2 0,WRITEPROTECT 1 0" "$(ev uffd_ioctl | jq -r \
		'select(.cmd == "REGISTER" or .cmd == "WRITEPROTECT") | "\(.cmd) \(.mode) \(.ret)"' |
		tail -2 | paste -sd,)"

	sum=$(jq -c 'select(.event == "summary")' "$T")
	expect_eq "$Q: one summary" 1 "$(grep -c . <<<"$sum")"
	s=$(jq -c .src.snapshot <<<"$sum")
	faults=$(jq -r .faults <<<"$s")
	msgs=$(jq -r .fault_messages <<<"$s")
	track_s=$(jq -r '.tracking_ns / 1e9' <<<"$s")
	echo "# $Q: $faults write faults ($msgs read by QEMU) in $track_s s of write tracking;" \
		"stall p50 $(jq -r '.stall_p50_ns / 1e3' <<<"$s") us, p90 $(jq -r '.stall_p90_ns / 1e3' <<<"$s") us," \
		"p99 $(jq -r '.stall_p99_ns / 1e3' <<<"$s") us, max $(jq -r '.stall_max_ns / 1e6' <<<"$s") ms;" \
		"guest passes during the snapshot: $((ta - tb))"
	expect_num "$Q: write faults counted" "$faults" -gt 0
	# The window both observers count: stalls released up to QEMU's
	# ram_write_tracking_stop, of the events the summary was made from.
	expect_eq "$Q: one stall event per fault, in the window" "$faults" "$(jq -s '
		(map(.event) | index(["summary"])) as $n | .[:$n] as $ev |
		([$ev[] | select(.event == "write_tracking_stop") | .ts][0] // 1e30) as $stop |
		[$ev[] | select(.event == "uffd_stall" and .ts <= $stop)] | length' "$T")"
	# Each page faults at most once per snapshot and the guest writes little
	# besides its 64 MiB: at most those pages, plus 16 MiB of kernel and stacks.
	expect_num "$Q: faults within the pages the guest dirties" "$faults" "<=" \
		$((SWACK_DIRTY_MIB * 256 + 4096))
	expect_num "$Q: fault rate within twice the guest's dirtying rate (+1000/s)" \
		"$(jq -r .fault_rate <<<"$s")" "<=" $((dirty_pps * 2 + 1000))
	expect_num "$Q: QEMU read fault messages" "$msgs" -gt 0
	expect_num "$Q: QEMU read no more messages than there were faults" "$msgs" "<=" "$faults"
	expect_eq "$Q: the histogram holds every stall" "$faults" \
		"$(jq '[.stall_hist_us[].count] | add' <<<"$s")"
	expect_num "$Q: the histogram has buckets" "$(jq '.stall_hist_us | length' <<<"$s")" -ge 1
	expect_eq "$Q: stall percentiles in order" true \
		"$(jq '.stall_p50_ns > 0 and .stall_p50_ns <= .stall_p90_ns and
		.stall_p90_ns <= .stall_p99_ns and .stall_p99_ns <= .stall_max_ns' <<<"$s")"
	expect_eq "$Q: per-thread stalls add up to the faults" "$faults" \
		"$(jq '[.threads[].stalls] | add' <<<"$s")"
	expect_eq "$Q: stalled threads are QEMU's" true \
		"$(jq --argjson p "$vm" '[.threads[].tid] | all(. > $p)' <<<"$s")"
	expect_num "$Q: findings with an advice line" "$(jq '.findings | length' <<<"$s")" -ge 2
	expect_num "$Q: the guest kept running during the snapshot" "$ta" -gt "$tb"

	qmp_ms=$(jq -r '."total-time"' <<<"$q")
	swack_ms=$(jq -r '.duration_ns / 1e6' <<<"$s")
	echo "# $Q: duration: QMP total-time $qmp_ms ms, swack $swack_ms ms"
	expect_num "$Q: duration within 5 ms + 2% of QMP total-time" \
		"$(awk -v a="$swack_ms" -v b="$qmp_ms" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" \
		"<=" "$(awk -v b="$qmp_ms" 'BEGIN { print 5 + b * 0.02 }')"
	bytes=$(jq -r .bytes <<<"$s")
	qmp_bytes=$(jq -r .ram.transferred <<<"$q")
	# QEMU's `cat` may still be writing the tail when QMP says completed (seconds
	# on a loaded host: a page-aligned file size short of swack's count was that).
	for _ in $(seq 300); do
		[[ -z $(find /proc/[0-9]*/fd -lname "$QDIR/snap.img" 2>/dev/null) ]] && break
		sleep 0.1
	done
	file_bytes=$(stat -c %s "$QDIR/snap.img")
	echo "# $Q: size: file $file_bytes B, swack $bytes B, QMP ram.transferred $qmp_bytes B"
	# 10.0 counts 161 to 664 B more than the file holds in some runs (a write
	# to a stream not found yet, 0.001%); 7.2 has matched to the byte.
	expect_num "$Q: bytes written = the snapshot file's size, within 0.01%" \
		"$(awk -v a="$bytes" -v b="$file_bytes" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<=" \
		"$(awk -v b="$file_bytes" 'BEGIN { printf "%d", b / 10000 }')"
	# The file is the truth; QMP's counter is within 1% of it (10.0 counts
	# 0.1% more than the file holds).
	expect_num "$Q: bytes within 1% of QMP ram.transferred" \
		"$(awk -v a="$bytes" -v b="$qmp_bytes" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<=" \
		"$(awk -v b="$qmp_bytes" 'BEGIN { printf "%d", b * 0.01 }')"

	# The recording, through swack report: same figures, histogram and findings.
	rep=$("$SWACK" report -i "$QDIR/snap.data")
	echo "$rep" | sed -n '/^summary/,$p' | sed 's/^/# /'
	expect_match "$Q: report: snapshot summary" "summary: background snapshot pid $vm completed: total [0-9.]+ s, [0-9.]+ MB written" "$rep"
	expect_match "$Q: report: stall histogram" "stall usecs : count +distribution" "$rep"
	expect_match "$Q: report: ranked findings and advice" \
		"findings \(snapshot of pid $vm\):"$'\n'"    1\. \[(info|warning|problem)\] .*"$'\n'".*advice: " "$rep"
	# Each swack's own BPF programs count the stalls: independent observers of
	# one snapshot have been seen one or two faults apart, a race not found yet
	# (README, "Background snapshots").  Within one recording, every view agrees
	# exactly.
	rfaults=$("$SWACK" report --json -i "$QDIR/snap.data" | jq '.migrations[0].src.snapshot.faults')
	observers_agree "$Q: report: the recording's faults are the live ones" "$rfaults"

	expect_match "$Q: swackstat: a snapshot row" \
		"snapshot +[0-9.]+ s written +[0-9.]+[KMG]? faults +[0-9]+ \( *[0-9]+/s\) stall p99 +[0-9.]+ us" \
		"$(cat "$QDIR/stat.out")"
	observers_agree "$Q: swackstat: the final row counts every fault" \
		"$(grep snapshot "$QDIR/stat.out" | tail -1 | sed -n 's/.* faults \+\([0-9]*\) .*/\1/p')"

	# swack diagnose explains the snapshot: stalls, per thread, the worst; no
	# migration downtime rule applies to it.
	D=$("$SWACK" diagnose --json "$QDIR/snap.data" | jq -c '.diagnoses[0]')
	ids=$(jq -r '[.findings[].id] | join(" ")' <<<"$D")
	echo "# $Q: diagnose: $ids"
	expect_match "$Q: diagnose: snapshot findings" "snapshot-stalls" "$ids"
	expect_match "$Q: diagnose: a stalled thread's total" "snapshot-thread-stalls" "$ids"
	expect_eq "$Q: diagnose: no migration downtime rule" "" \
		"$(grep -oE 'downtime-over-limit|downtime-breakdown|no-convergence' <<<"$ids")"
	st=$(jq -c '.findings[] | select(.id == "snapshot-stalls")' <<<"$D")
	expect_eq "$Q: diagnose: the stalls finding counts the recording's faults" "$rfaults" \
		"$(jq '.figures.faults' <<<"$st")"
	expect_eq "$Q: diagnose: its percentiles are the report's" \
		"$("$SWACK" report --json -i "$QDIR/snap.data" |
			jq -c '.migrations[0].src.snapshot | [.stall_p50_ns, .stall_p99_ns, .stall_max_ns]')" \
		"$(jq -c '[.figures.p50_ns, .figures.p99_ns, .figures.max_ns]' <<<"$st")"
	dtext=$("$SWACK" diagnose "$QDIR/snap.data")
	echo "$dtext" | sed 's/^/# /'
	expect_match "$Q: diagnose: text names the snapshot" \
		"^diagnosis: background snapshot pid $vm completed, vCPUs paused [0-9.]+ ms at its start; vm swack-snap"$'\n'".*snapshot-stalls: [0-9]+ write faults in" \
		"$dtext"

	# Prometheus: the exporter's view of the same snapshot.
	m=$(curl -s "http://127.0.0.1:$eport/metrics")
	kill -INT "$exporter"
	wait "$exporter"
	lbl="{pid=\"$vm\",vm=\"swack-snap\",uuid=\"\",role=\"src\"}"
	expect_eq "$Q: exporter: write faults, by pid and VM" "swack_snapshot_write_faults$lbl" \
		"$(grep '^swack_snapshot_write_faults' <<<"$m" | sed 's/ [0-9]*$//')"
	observers_agree "$Q: exporter: write faults" \
		"$(sed -n 's/^swack_snapshot_write_faults{.*} //p' <<<"$m")"
	expect_eq "$Q: exporter: bytes written" "swack_snapshot_written_bytes$lbl $bytes" \
		"$(grep '^swack_snapshot_written_bytes' <<<"$m")"
	# Each swack times the stalls itself: the same faults, percentiles a little apart.
	p99=$(jq -r '.stall_p99_ns / 1e9' <<<"$s")
	expect_num "$Q: exporter: stall p99 within 20% + 2 us of the trace's" \
		"$(awk -v a="$p99" '/^swack_snapshot_stall_p99_seconds/ { d = $2 - a; print (d < 0 ? -d : d) }' <<<"$m")" \
		"<=" "$(awk -v a="$p99" 'BEGIN { print a * 0.2 + 2e-6 }')"

	# Chrome trace JSON: write tracking and the longest stalls as spans.
	"$SWACK" export --format chrome -o "$QDIR/snap.json" "$QDIR/snap.data" 2>/dev/null
	rs=$("$SWACK" report --json -i "$QDIR/snap.data" | jq -c '.migrations[0].src.snapshot')
	expect_eq "$Q: Chrome trace: write tracking as a span of its length" \
		"$(jq '.tracking_ns / 1e3' <<<"$rs")" \
		"$(jq '[.traceEvents[] | select(.name == "write tracking")][0].dur' "$QDIR/snap.json")"
	expect_eq "$Q: Chrome trace: the longest stall as a span" \
		"$(jq '.stall_max_ns / 1e3' <<<"$rs")" \
		"$(jq '[.traceEvents[] | select(.name | startswith("write-fault stall")) | .dur] | max' "$QDIR/snap.json")"
	trap qemu_cleanup EXIT # the observers' pids are gone: never kill them again
	qemu_cleanup
}

for v in $SWACK_QEMU_VERSIONS; do
	one_version "$v"
done
