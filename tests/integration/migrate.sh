#!/usr/bin/env bash
# One real live migration on each real QEMU ($SWACK_QEMU_VERSIONS: Debian's
# 7.2 and 10.0; TCG guest dirtying 64 MiB, 40 MB/s cap, return-path, and
# switchover-ack where QEMU has it), watched at once by every observer:
# `swack trace --json`, `swack record` (and a second recorder killed with
# SIGKILL mid-migration), swackstat, a live `swack diagnose` and the exporter.
# Every figure against QMP's, every observer against the others; the
# recording through report, script, diagnose (and its HTML page), CTF and
# Chrome JSON.  One migration serves them all: a migration is what costs.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"
. "$SWACK_ROOT/tests/lib/html.sh"

# Two BPF objects see the same calls a few microseconds apart.
close_to() { awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; exit !((d < 0 ? -d : d) <= t) }' &&
	pass "$1" || fail "$1" "$2 and $3 differ by more than $4"; }

# enum_tables: the QAPI enum names swack reads from a running QEMU of this
# version (test_proc_enum --dump, through the same reader as the attach).
enum_tables() {
	local pid out
	"$QEMU_BIN" -machine none -display none -nodefaults -S "${QEMU_ARGS[@]}" &
	pid=$!
	for _ in $(seq 100); do
		out=$("$SWACK_ROOT/build/test_proc_enum" --dump "$pid" 2>&1)
		# Until it runs QEMU: right after the fork /proc/PID/exe is still bash.
		[[ $(readlink "/proc/$pid/exe") == "$(readlink -f "$QEMU_BIN")" && $out == *"RunState_lookup 0 "* ]] && break
		sleep 0.1
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
	local mig
	mig=$(sed -n 's/^MigrationStatus_lookup \([0-9]*\) \(.*\)/\1=\2/p' <<<"$out" | paste -sd' ')
	if [[ $QEMU_VERSION == 7.2 ]]; then
		expect_match "$Q: MigrationStatus from the process: 14 names, completed is 8" \
			"^0=none .* 8=completed 9=failed .* 13=wait-unplug$" "$mig"
		expect_eq "$Q: no postcopy-recover-setup before 9.0" "" "$(grep -o 'postcopy-recover-setup' <<<"$mig")"
	else
		expect_match "$Q: MigrationStatus from the process: 15 names, completed is 9" \
			"^0=none .* 7=postcopy-recover-setup 8=postcopy-recover 9=completed .* 14=wait-unplug$" "$mig"
	fi
	expect_eq "$Q: RunState from the process: running is 9" "RunState_lookup 9 running" \
		"$(grep '^RunState_lookup 9 ' <<<"$out")"
}

# observe SRC DST: every observer in the background, attached before returning.
observe() {
	local src=$1 dst=$2 o
	"$SWACK" trace -p "$src" -p "$dst" --json --until-done -d 240 \
		>"$QDIR/trace.json" 2>"$QDIR/trace.err" &
	TRACE=$!
	"$SWACK" record -o "$QDIR/run.data" -p "$src" -p "$dst" --until-done -d 240 \
		2>"$QDIR/record.err" &
	REC=$!
	"$SWACK" record -o "$QDIR/killed.data" -p "$src" -p "$dst" 2>"$QDIR/killed.err" &
	KREC=$!
	"$SWACK" diagnose -p "$src" -p "$dst" --json --downtime-limit 1 -d 240 \
		>"$QDIR/live.json" 2>"$QDIR/live.err" &
	DIAG=$!
	"$SWACK" stat -p "$src" -p "$dst" 0.5 >"$QDIR/stat.out" 2>"$QDIR/stat.err" &
	STAT=$!
	EPORT=$(qemu_free_port) || return 1
	"$SWACK" exporter --listen "127.0.0.1:$EPORT" -p "$src" -p "$dst" 2>"$QDIR/exporter.err" &
	EXPORTER=$!
	# shellcheck disable=SC2064 # expand now, on purpose
	trap "kill $KREC $STAT $EXPORTER 2>/dev/null; qemu_cleanup" EXIT
	for o in trace record killed live stat exporter; do
		wait_attached "$QDIR/$o.err" 2 || return 1
	done
}

# kill_recorder_midway: SIGKILL the second recorder once QEMU has iterated twice.
kill_recorder_midway() {
	for _ in $(seq 600); do
		[[ $(qemu_query_migrate src | jq -r '.ram["dirty-sync-count"] // 0') -ge 2 ]] && break
		sleep 0.1
	done
	kill -9 "$KREC"
	wait "$KREC" 2>/dev/null
}

check_attach() {
	local attach
	attach=$(cat "$QDIR/trace.err")
	if [[ $QEMU_VERSION == 7.2 ]]; then
		expect_match "$Q: source attached by symbols" "swack: pid $src \(qemu-system-x86\): QEMU <=7.2 \(symbols\), [0-9]+ functions from .dynsym, 0 USDT probes: 36 probes attached; missing: none; watched in [0-9.]+ ms" "$attach"
	else
		expect_match "$Q: source attached by symbols, switchover-ack probes and the threshold found" "swack: pid $src \(qemu-system-x86\): QEMU 8.0-11.0 \(symbols\), [0-9]+ functions from .dynsym, 0 USDT probes: 40 probes attached; missing: none; switchover threshold at MigrationState\+0x1e8 \(machine code of 2 call sites\); watched in [0-9.]+ ms" "$attach"
	fi
	expect_match "$Q: destination attached by symbols" "swack: pid $dst \(qemu-system-x86\): QEMU [^ ]+ \(symbols\).*missing: none" "$attach"
	expect_eq "$Q: enum names read from both processes (no 7.2 table standing in)" "" \
		"$(grep -o 'names: 7.2 table.*' <<<"$attach")"
	expect_eq "$Q: attach lines end with the VM each process runs" \
		"$src; vm swack-src (-name)|$dst; vm swack-dst (-name)" \
		"$(sed -n 's/^swack: pid \([0-9]*\) .*\(; vm .*\)$/\1\2/p' <<<"$attach" | sort -n | paste -sd'|')"
}

check_trace() {
	local want_src="setup active completed" sw stop syncs_json
	[[ $QEMU_VERSION != 7.2 ]] && want_src="setup active device completed"
	states() { jq -r --argjson p "$1" 'select(.event == "mig_state" and .pid == $p and
		(.flags / 4 | floor) % 2 == 0) | .state' "$T" | paste -sd' '; }
	expect_eq "$Q: source states in order, ending completed" "$want_src" "$(states "$src")"
	expect_eq "$Q: destination states in order, ending completed" "active completed" "$(states "$dst")"

	SUM=$(jq -c 'select(.event == "summary")' "$T")
	expect_eq "$Q: one summary" 1 "$(wc -l <<<"$SUM")"
	expect_eq "$Q: summary: completed, source and destination paired through TCP" \
		"completed $src $dst tcp" "$(jq -r '"\(.state) \(.src.pid) \(.dst.pid) \(.paired_by)"' <<<"$SUM")"

	SYNCS=$(jq -r '.ram["dirty-sync-count"]' <<<"$QM")
	expect_num "$Q: several iterations" "$SYNCS" -ge 3
	expect_eq "$Q: iterations = QMP dirty-sync-count" "$SYNCS" "$(jq -r .src.iterations <<<"$SUM")"
	expect_eq "$Q: dirty_sync events = QMP dirty-sync-count" "$SYNCS" \
		"$(jq -r --argjson p "$src" 'select(.event == "dirty_sync" and .pid == $p) | 1' "$T" | wc -l)"
	syncs_json=$(jq -c --argjson p "$src" 'select(.event == "dirty_sync" and .pid == $p)' "$T")
	expect_eq "$Q: per-iteration bytes add up to the bytes sent between first and last sync" \
		"$(jq -s 'map(.bytes) | add' <<<"$syncs_json")" \
		"$(jq -s '.[-1].tx_bytes - .[0].tx_bytes' <<<"$syncs_json")"

	sw=$(jq -c --argjson p "$src" 'select(.event == "switchover" and .pid == $p)' "$T")
	expect_eq "$Q: one switchover decision" 1 "$(grep -c . <<<"$sw")"
	expect_eq "$Q: switchover: pending below QEMU's threshold" true \
		"$(jq '.threshold != null and (.pending == 0 or .pending < .threshold)' <<<"$sw")"
	stop=$(jq -r --argjson p "$src" 'select(.event == "vm_stop" and .pid == $p) | .ts' "$T")
	expect_num "$Q: switchover decided before the vCPUs stop" "$(jq .ts <<<"$sw")" "<=" "$stop"
	expect_eq "$Q: the decision's figures are its exact query's" \
		"$(jq -c '[.pending, .threshold]' <<<"$sw")" \
		"$(jq -c --argjson p "$src" --argjson t "$(jq .ts <<<"$sw")" 'select(.event == "pending" and .pid == $p
			and .ts <= $t) | [.precopy + .compat + .postcopy, .threshold]' "$T" | tail -1)"
}

ev_ts() { jq -r --argjson p "$1" --arg e "$2" --arg s "${3:-}" 'select(.pid == $p and
	.event == $e and ($s == "" or .state == $s)) | .ts' "$T" | tail -1; }

check_downtime() {
	local qmp_dt guest_ms qemu_ms tail_ms
	qmp_dt=$(jq -r .downtime <<<"$QM")
	guest_ms=$(jq -r '.guest_downtime_ns / 1e6' <<<"$SUM")
	qemu_ms=$(jq -r '.qemu_downtime_ns / 1e6' <<<"$SUM")
	echo "# $Q: QMP downtime ${qmp_dt} ms, swack source-side ${qemu_ms} ms, guest-visible ${guest_ms} ms"
	# QMP's figure is the difference of two whole-millisecond readings of
	# QEMU's realtime clock: equal means within that 1 ms.
	expect_num "$Q: QEMU's downtime = QMP downtime (ms, to its 1 ms resolution)" \
		"$(awk -v a="$qemu_ms" -v b="$qmp_dt" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<=" 1
	expect_num "$Q: guest-visible downtime positive" "$guest_ms" -gt 0
	# With return-path the source waits for the destination to close it, so its
	# COMPLETED (and QMP's clock) can come after the guest already runs on the
	# destination: the guest saw QEMU's figure less that tail, never less.
	tail_ms=$(awk -v c="$(ev_ts "$src" mig_state completed)" -v r="$(ev_ts "$dst" vm_resumed)" \
		'BEGIN { t = (c - r) / 1e6; print (t > 0 ? t : 0) }')
	echo "# $Q: source completed ${tail_ms} ms after the destination resumed"
	expect_num "$Q: guest-visible downtime >= QMP downtime less the source's tail after resume" \
		"$guest_ms" ">=" "$(awk -v q="$qmp_dt" -v t="$tail_ms" 'BEGIN { print q - t - 1 }')"
	expect_num "$Q: destination resumes after the source's vCPUs stopped" \
		"$(ev_ts "$dst" vm_resumed)" ">" "$(ev_ts "$src" vm_stopped)"
}

check_bytes() {
	local qmp_bytes bytes
	qmp_bytes=$(jq -r .ram.transferred <<<"$QM")
	bytes=$(jq -r .src.bytes <<<"$SUM")
	echo "# $Q: QMP ram.transferred $qmp_bytes, swack bytes sent $bytes"
	expect_num "$Q: bytes within 1% of QMP transferred" \
		"$(awk -v a="$bytes" -v b="$qmp_bytes" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<=" \
		"$(awk -v b="$qmp_bytes" 'BEGIN { printf "%d", b * 0.01 }')"
}

# The switchover ACK (QEMU 8.1+, switchover-ack on): no device needs to
# approve, so the destination sends it as soon as its return path opens.
check_ack() {
	local text rep d m
	if [[ $QEMU_SWITCHOVER_ACK != 1 ]]; then
		expect_eq "$Q: no switchover-ack before 8.1: no ACK event" 0 \
			"$(jq -r 'select(.event | startswith("ack_")) | 1' "$T" | wc -l)"
		return
	fi
	expect_eq "$Q: trace: the destination sent one switchover ACK" "$dst" \
		"$(jq -r 'select(.event == "ack_sent") | .pid' "$T" | paste -sd' ')"
	expect_num "$Q: trace: the ACK before the switchover decision" "$(ev_ts "$dst" ack_sent)" "<" \
		"$(jq -r --argjson p "$src" 'select(.event == "switchover" and .pid == $p) | .ts' "$T")"
	expect_eq "$Q: trace summary: legacy ACK, 0 devices to approve, sent" "legacy 0 1" \
		"$(jq -r '.dst.acks | "\(.scheme) \(.needed) \(.sent)"' <<<"$SUM")"
	rep=$("$SWACK" report --json "$QDIR/run.data" | jq -c '.migrations[0].dst.acks')
	expect_eq "$Q: report: the recorded ACK" "legacy 0 1" "$(jq -r '"\(.scheme) \(.needed) \(.sent)"' <<<"$rep")"
	text=$("$SWACK" report "$QDIR/run.data")
	expect_match "$Q: report (text): the ACK line" \
		"acks \(dst, legacy\): needed 0, ACK sent [0-9.]+ ms after the load began" "$text"
	d=$(jq -c '.diagnoses[0].findings[] | select(.id == "ack-sent")' "$QDIR/live.json")
	expect_eq "$Q: diagnose: the ack-sent finding, 0 devices, not holding the switchover" "0 true" \
		"$(jq -r '"\(.figures.needed) \(.title | test("did not hold the switchover back"))"' <<<"$d")"
	expect_match "$Q: swackstat: the destination's last row, no ACK pending" \
		" $dst dst +completed +[0-9]+ +[0-9.]+[KMG]?B? +[0-9.]+[KMG]?B? +0 " \
		"$(grep -E " $dst dst " "$QDIR/stat.out" | tail -1)"
	m=$(curl -s "http://127.0.0.1:$EPORT/metrics")
	expect_eq "$Q: exporter: the destination's ACK" \
		"swack_switchover_acks_sent_total{pid=\"$dst\",vm=\"swack-dst\",uuid=\"\",role=\"dst\"} 1" \
		"$(grep '^swack_switchover_acks_sent_total' <<<"$m")"
}

# The recording against the trace of the same run and against QMP.
check_record() {
	local rep live from_file text n_script bt C out
	expect_match "$Q: record says what it wrote" \
		"swack record: [0-9]+ events, 2 migrations, migrations done: $QDIR/run.data" \
		"$(tail -1 "$QDIR/record.err")"
	rep=$("$SWACK" report --json "$QDIR/run.data")
	from_file=$(jq -c '.migrations[0]' <<<"$rep")
	expect_eq "$Q: report: source, destination and their pairing" "$src $dst tcp" \
		"$(jq -r '"\(.src.pid) \(.dst.pid) \(.paired_by)"' <<<"$from_file")"
	expect_eq "$Q: report: iterations = QMP dirty-sync-count" "$SYNCS" \
		"$(jq -r .src.iterations <<<"$from_file")"
	close_to "$Q: report: guest-visible downtime = trace's (within 0.2 ms)" \
		"$(jq .guest_downtime_ns <<<"$from_file")" "$(jq .guest_downtime_ns <<<"$SUM")" 200000
	close_to "$Q: report: QEMU's downtime = trace's (within 0.2 ms)" \
		"$(jq .qemu_downtime_ns <<<"$from_file")" "$(jq .qemu_downtime_ns <<<"$SUM")" 200000
	close_to "$Q: report: bytes = trace's (within 0.1%)" "$(jq .src.bytes <<<"$from_file")" \
		"$(jq .src.bytes <<<"$SUM")" "$(jq '.src.bytes / 1000' <<<"$SUM")"
	expect_match "$Q: report: the file ended cleanly" 'clean end \("migrations done"\)' \
		"$(jq -r '.recordings[0].ended' <<<"$rep")"
	text=$("$SWACK" report "$QDIR/run.data")
	expect_match "$Q: report (text): header and processes" "# $QDIR/run.data: host .*, kernel $(uname -r)" "$text"
	expect_match "$Q: report (text): phases" \
		"phases \(src\): setup \+0.000 s, active \+[0-9.]+ s, .*completed \+[0-9.]+ s" "$text"

	n_script=$("$SWACK" script --json "$QDIR/run.data" 2>/dev/null | wc -l)
	expect_eq "$Q: script: every recorded event" \
		"$(grep -o 'swack record: [0-9]*' "$QDIR/record.err" | grep -o '[0-9]*$')" "$n_script"
	expect_eq "$Q: script (text) ends with how the file ended" 1 \
		"$("$SWACK" script "$QDIR/run.data" | tail -1 | grep -c 'clean end')"

	"$SWACK" export --format ctf -o "$QDIR/ctf" "$QDIR/run.data" 2>/dev/null
	bt=$(babeltrace2 "$QDIR/ctf")
	expect_eq "$Q: CTF: babeltrace2 reads every event" "$n_script" "$(grep -vc ' process: ' <<<"$bt")"
	expect_eq "$Q: CTF: and a process event for each process recorded, with its VM" \
		"$src swack-src|$dst swack-dst" \
		"$(sed -n 's/.* process: { pid = \([0-9]*\), .* vm = "\([^"]*\)".*/\1 \2/p' <<<"$bt" | sort -n | paste -sd'|')"
	expect_eq "$Q: CTF: same migration states, same order" \
		"$("$SWACK" script --json "$QDIR/run.data" 2>/dev/null | jq -r 'select(.event == "mig_state") | "\(.pid) \(.state)"' | paste -sd,)" \
		"$(sed -n 's/.* mig_state: { pid = \([0-9]*\),.* str = "\([a-z-]*\)" }/\1 \2/p' <<<"$bt" | paste -sd,)"
	expect_eq "$Q: CTF: same pending-size values" \
		"$("$SWACK" script --json "$QDIR/run.data" 2>/dev/null | jq -r 'select(.event == "pending") | .precopy' | paste -sd,)" \
		"$(sed -n 's/.* pending: {.* a0 = \([0-9]*\),.*/\1/p' <<<"$bt" | paste -sd,)"

	"$SWACK" export --format chrome -o "$QDIR/trace.chrome.json" "$QDIR/run.data" 2>/dev/null
	C=$QDIR/trace.chrome.json
	expect_eq "$Q: Chrome JSON: valid, with every event as an instant" "$n_script" \
		"$(jq '[.traceEvents[] | select(.ph == "i")] | length' "$C")"
	expect_match "$Q: Chrome JSON: phases as spans" "^setup active( device)? completed$" \
		"$(jq -r --argjson p "$src" '[.traceEvents[] | select(.ph == "X" and .pid == $p and .tid == 0) | .name] | join(" ")' "$C")"
	expect_eq "$Q: Chrome JSON: the guest-visible downtime span" \
		"$(jq '.guest_downtime_ns / 1e3 | . * 1000 | round / 1000' <<<"$from_file")" \
		"$(jq --argjson p "$src" '.traceEvents[] | select(.name == "guest-visible downtime" and .pid == $p) | .dur' "$C")"
	expect_eq "$Q: Chrome JSON: pending bytes as a counter" true \
		"$(jq '[.traceEvents[] | select(.ph == "C" and .name == "pending bytes")] | length > 3' "$C")"

	out=$("$SWACK" report "$QDIR/killed.data")
	expect_eq "$Q: killed recorder: report exits 1 (a cut file, read to its last record)" 1 "$?"
	expect_match "$Q: killed recorder: report says the file was cut" "$QDIR/killed.data: cut: " "$out"
	expect_match "$Q: killed recorder: the migration up to the kill is there" "summary: migration src $src" "$out"
}

# swack diagnose, live beside the migration and from its recording, with a
# 1 ms limit of swack's own (QEMU keeps its default).
check_diagnose() {
	local D L want
	D=$("$SWACK" diagnose --json --downtime-limit 1 "$QDIR/run.data" | jq -c '.diagnoses[]')
	L=$(jq -c '.diagnoses[]' "$QDIR/live.json")
	"$SWACK" diagnose --downtime-limit 1 "$QDIR/run.data" | sed "s/^/# $Q: /"
	# Two BPF objects see each call microseconds apart: the same findings, the
	# same titles but for a last digit (the figures are compared to 0.2 ms above).
	local same='[.findings[] | [.id, (.title | gsub("[0-9]+(\\.[0-9]+)?"; "N"))]]'
	expect_eq "$Q: diagnose: live and recorded diagnoses agree on the findings" \
		"$(jq -c "$same" <<<"$L")" "$(jq -c "$same" <<<"$D")"
	expect_eq "$Q: diagnose: one diagnosis, source and destination" "$src $dst" \
		"$(jq -r '"\(.src_pid) \(.dst_pid)"' <<<"$D")"
	expect_eq "$Q: diagnose: first finding over the 1 ms limit, of the guest-visible downtime" \
		"downtime-over-limit 1000000 true" "$(jq -r --argjson g "$(jq .guest_downtime_ns <<<"$D")" \
		'.findings[0] | "\(.id) \(.figures.limit_ns) \(.figures.downtime_ns == $g and .figures.over_ns == .figures.downtime_ns - 1000000)"' <<<"$D")"
	expect_eq "$Q: diagnose: over-limit phases add up, from function probes" true \
		"$(jq '.findings[] | select(.id == "downtime-over-limit") | .figures |
		has("final_save_ns") and has("transfer_and_load_ns") and
		([to_entries[] | select(.key | test("^(stop|final|transfer|destination|vcpu)")) | .value] | add) == .phases_total_ns' <<<"$D")"
	expect_num "$Q: diagnose: QEMU's downtime = QMP's (ms, to its 1 ms resolution)" \
		"$(jq -n --argjson a "$(jq .qemu_downtime_ns <<<"$D")" --argjson b "$(jq .downtime <<<"$QM")" '$a / 1e6 - $b | fabs')" "<=" 1
	# The rule's threshold: 8 iterations (diagnose_mig.c); the guest's pace decides.
	if [[ $SYNCS -ge 8 ]]; then
		expect_eq "$Q: diagnose: slow-convergence: iterations = QMP dirty-sync-count" "$SYNCS" \
			"$(jq '.findings[] | select(.id == "slow-convergence") | .figures.iterations' <<<"$D")"
	else
		expect_eq "$Q: diagnose: slow-convergence: none under 8 QMP dirty syncs" "" \
			"$(jq -r '.findings[] | select(.id == "slow-convergence") | .id' <<<"$D")"
	fi
	"$SWACK" diagnose --downtime-limit 1 --html "$QDIR/run.html" "$QDIR/run.data" >/dev/null
	want="lane-src lane-dst phases iterations pending"
	[[ $QEMU_SWITCHOVER_ACK == 1 ]] && want+=" acks"
	html_checks "$QDIR/run.html" "qemu${QEMU_VERSION/./}-html" "$want downtime zoom"
}

check_stat() {
	local last
	last=$(grep -E " $src src +completed" "$QDIR/stat.out" | tail -1)
	expect_match "$Q: swackstat: iterations at the end = QMP dirty-sync-count" \
		"$src src +completed +$SYNCS " "$last"
	expect_match "$Q: swackstat: the real downtime at the end, then the VM" " [0-9]+\.[0-9] swack-src$" "$last"
	expect_eq "$Q: swackstat: active rows while it ran, with bandwidth" 1 \
		"$(grep -E " $src src +active " "$QDIR/stat.out" | grep -cvE ' 0B +- ' | awk '{ print ($1 > 0) }')"
}

one_version() {
	local t1 t2
	qemu_use "$1" || { fail "QEMU $1" "not installed (run scripts/deps.sh)"; return; }
	Q="QEMU $QEMU_VERSION"
	HTML_DIR=
	qemu_setup_dir || exit 1
	HTML_DIR=$QDIR
	T=$QDIR/trace.json
	enum_tables
	port=$(qemu_free_port) || exit 1
	src=$(qemu_start_src src) || exit 1
	dst=$(qemu_start_dst dst "$port") || exit 1
	qemu_wait_booted src 120 >/dev/null || exit 1
	observe "$src" "$dst" || { fail "$Q: observers attached" "$(tail -n 2 "$QDIR"/*.err)"; return; }
	check_attach
	qemu_migrate src dst "$port" 40000000 || exit 1
	kill_recorder_midway
	expect_eq "$Q: migration completed (QMP)" completed "$(qemu_wait_migration src 240)"
	wait "$TRACE"
	expect_eq "$Q: swack trace exits by itself once the migration ended" 0 "$?"
	wait "$REC"
	expect_eq "$Q: record exits 0 once the migration is done" 0 "$?"
	wait "$DIAG"
	expect_eq "$Q: live diagnose exits by itself once the migration ended" 0 "$?"
	sleep 1 # swackstat's last interval
	QM=$(qemu_query_migrate src)
	check_trace
	check_downtime
	check_bytes
	check_ack
	kill -INT "$STAT" "$EXPORTER" 2>/dev/null
	wait "$STAT" "$EXPORTER" 2>/dev/null
	trap qemu_cleanup EXIT # the observers' pids are gone: never kill them again
	check_record
	check_diagnose
	check_stat
	t1=$(qemu_ticks dst); sleep 2; t2=$(qemu_ticks dst)
	expect_num "$Q: guest keeps running on the destination" "$t2" -gt "$t1"
	qemu_cleanup
}

for v in $SWACK_QEMU_VERSIONS; do
	one_version "$v"
done
