#!/usr/bin/env bash
# Real postcopy migrations on each real QEMU (Debian's 7.2 and 10.0): a TCG
# guest with 2 vCPUs (threads named "CPU n/TCG") dirtying 64 MiB, postcopy-ram
# on both sides, postcopy-blocktime on the destination, max-bandwidth 20 MB/s,
# migrate-start-postcopy 1.5 s after migrate.  Watched by swack trace, record,
# swackstat and the exporter at once; checked against QMP's own figures and
# against QEMU's own trace of its blocktime accounting (the log backend's
# mark_postcopy_blocktime_begin/end, turned on over QMP).  Then a postcopy
# whose connection is cut (ss -K) and recovered with migrate-recover.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

export QEMU_NAME_OPTS=debug-threads=on QEMU_SMP=2
command -v ss >/dev/null || { fail "ss" "missing (apt-get install iproute2)"; exit 1; }

# abs_le A B C: |A - B| <= C
abs_le() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { d = a - b; exit !((d < 0 ? -d : d) <= c) }'; }

# postcopy_setup SRC DST: the capabilities QEMU's postcopy needs, QEMU's own
# blocktime trace on the destination, 20 MB/s of precopy.
postcopy_setup() {
	local caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[
		{"capability":"events","state":true},{"capability":"postcopy-ram","state":true},
		{"capability":"return-path","state":true}]}}' ev
	qmp "$2" "$caps" >/dev/null || return 1
	qmp "$2" '{"execute":"migrate-set-capabilities","arguments":{"capabilities":[
		{"capability":"postcopy-blocktime","state":true}]}}' >/dev/null || return 1
	qmp "$1" "$caps" >/dev/null || return 1
	qmp "$1" '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":20000000}}' \
		>/dev/null || return 1
	for ev in mark_postcopy_blocktime_begin mark_postcopy_blocktime_end; do
		qmp "$2" "{\"execute\":\"trace-event-set-state\",\"arguments\":{\"name\":\"$ev\",\"enable\":true}}" \
			>/dev/null || return 1
	done
}

# postcopy_go SRC PORT: migrate, and switch to postcopy 1.5 s later.
postcopy_go() {
	qmp "$1" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$2\"}}" \
		>/dev/null || return 1
	sleep 1.5
	qmp "$1" '{"execute":"migrate-start-postcopy"}' >/dev/null
}

start_observers() {
	"$SWACK" trace -p "$src" -p "$dst" --json --until-done -d 240 \
		>"$QDIR/trace.json" 2>"$QDIR/trace.err" &
	trace=$!
	"$SWACK" record -p "$src" -p "$dst" --until-done -d 240 -o "$QDIR/pc.data" \
		>/dev/null 2>"$QDIR/record.err" &
	record=$!
	"$SWACK" stat -p "$src" -p "$dst" 0.2 >"$QDIR/stat.out" 2>"$QDIR/stat.err" &
	stat=$!
	eport=$(qemu_free_port) || exit 1
	"$SWACK" exporter --listen "127.0.0.1:$eport" -p "$src" -p "$dst" 2>"$QDIR/exporter.err" &
	exporter=$!
	# shellcheck disable=SC2064 # expand now, on purpose
	trap "kill $stat $exporter 2>/dev/null; qemu_cleanup" EXIT
	for f in trace record stat exporter; do
		wait_attached "$QDIR/$f.err" 2
	done
}

# QEMU's per-vCPU blocktime as its own log shows it: "CPU KEPT LOST LOST_ADDRS"
# per vCPU.  A begin on a vCPU that still has one pending replaces it (QEMU up
# to 10.0 keeps one address per vCPU): the first fault's time is lost.
qemu_log_faults() {
	awk '
	/^mark_postcopy_blocktime_begin/ {
		a = $3; sub(",", "", a); c = $9; sub(",", "", c)
		if ($11 + 0) next                       # already_received: not counted
		if (cur[c] != "") { lost[c]++; addrs[c] = addrs[c] " " cur[c] }
		cur[c] = a; seen[c] = 1 }
	/^mark_postcopy_blocktime_end/ {
		a = $3; sub(",", "", a)
		for (c in cur) if (cur[c] == a) { kept[c]++; cur[c] = "" } }
	END { for (c in seen) print c, kept[c] + 0, lost[c] + 0, addrs[c] }' "$1"
}

# swack's stall of thread TID woken for page ADDR, in ns (0 if none).
stall_of() {
	jq -s --argjson t "$1" --arg a "$2" \
		'[.[] | select(.event == "uffd_stall" and .thread == $t and .start == ($a | ltrimstr("0x") | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))))][0].ns // 0' \
		"$QDIR/trace.json"
}

# How long thread TID slept on its faults before QEMU read them, in ns: its
# sleeps less the read-to-placed time of the same faults (QEMU's blocktime
# starts at its read).  ADDR: that fault only.
read_wait() {
	jq -s --argjson t "$1" --arg a "${2:-}" '
		def num: ltrimstr("0x") | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
		(map(select(.event == "postcopy_resolve" and .thread == $t)) | map({key: (.addr | tostring), value: .ns}) | from_entries) as $r
		| [.[] | select(.event == "uffd_stall" and .thread == $t and ($a == "" or .start == ($a | num)))
		   | (.start | tostring) as $k | select($r[$k] != null) | .ns - $r[$k] | select(. > 0)] | add // 0' \
		"$QDIR/trace.json"
}

check_blocktime() {
	local q=$1 s=$2 qlog=$3 c kept lost addrs qv sv lost_ns tid a n tol rw
	echo "# $Q: QMP postcopy-blocktime $(jq -c '[."postcopy-blocktime", ."postcopy-vcpu-blocktime"]' <<<"$q") ms;" \
		"swack: all at once $(jq '.blocktime_ns / 1e6' <<<"$s") ms, per vCPU" \
		"$(jq -c '[.vcpus[] | .blocked_ns / 1e6 | floor]' <<<"$s") ms"
	expect_eq "$Q: vCPUs listed from their thread names, as many as QEMU counts" \
		"$(jq '."postcopy-vcpu-blocktime" | length' <<<"$q")" "$(jq .vcpus_listed <<<"$s")"
	while read -r c kept lost addrs; do
		[[ -n $c ]] || continue
		qv=$(jq --argjson c "$c" '."postcopy-vcpu-blocktime"[$c]' <<<"$q")
		sv=$(jq --argjson c "$c" '.vcpus[$c].blocked_ns' <<<"$s")
		tid=$(jq -rs --argjson c "$c" '[.[] | select(.event == "postcopy_vcpu" and .vcpu == $c)][0].thread' "$QDIR/trace.json")
		lost_ns=0
		rw=$(read_wait "$tid")
		for a in $addrs; do
			lost_ns=$((lost_ns + $(stall_of "$tid" "$a")))
			rw=$((rw - $(read_wait "$tid" "$a")))
		done
		n=$((kept + lost))
		# QEMU counts in whole milliseconds from its read of the fault to its
		# placing thread's mark, after the UFFDIO_COPY that woke the vCPU; swack
		# from the vCPU's sleep to that wake-up.  Less the wait before QEMU's
		# read (its fault thread scheduled late on a loaded host): 2 ms a
		# fault, and 10%.
		tol=$(awk -v n="$kept" -v q="$qv" 'BEGIN { print 2 * n + 0.1 * q }')
		echo "# $Q: vCPU $c: QEMU $qv ms over $kept faults (it lost $lost, the vCPU faulting again" \
			"before its placing thread marked the first resolved); swack $((sv / 1000000)) ms" \
			"over $n, $((lost_ns / 1000000)) ms of them in the faults QEMU lost," \
			"$((rw / 1000000)) ms of the others before QEMU read them"
		expect_eq "$Q: vCPU $c: swack's faults are QEMU's, lost ones included" "$n" \
			"$(jq --argjson c "$c" '.vcpus[$c].faults' <<<"$s")"
		expect_num "$Q: vCPU $c: swack's blocked time less the faults QEMU lost and the waits before its reads = QEMU's within 2 ms a fault + 10%" \
			"$(awk -v s="$sv" -v l="$lost_ns" -v r="$rw" -v q="$qv" 'BEGIN { d = (s - l - r) / 1e6 - q; print d < 0 ? -d : d }')" \
			"<=" "$tol"
	done < <(qemu_log_faults "$qlog")
	# QEMU's total is its own all-blocked time over the faults it kept: it
	# cannot exceed swack's but by its timing (2 ms a fault, 10%).
	n=$(jq .faults <<<"$s")
	expect_num "$Q: swack's all-vCPUs-blocked time >= QEMU's postcopy-blocktime, less its timing" \
		"$(jq '.blocktime_ns / 1e6' <<<"$s")" ">=" \
		"$(jq --argjson n "$n" '."postcopy-blocktime" * 0.9 - 2 * $n' <<<"$q")"
	# All at once needs every vCPU blocked: none while one never faulted
	# (a guest whose second vCPU stayed idle); some when QEMU counted some.
	if [[ $(jq '[.vcpus[].blocked_ns] | min' <<<"$s") == 0 ]]; then
		expect_eq "$Q: no time all vCPUs blocked at once: one vCPU never blocked" 0 \
			"$(jq '.blocktime_ns' <<<"$s")"
	elif [[ $(jq '."postcopy-blocktime"' <<<"$q") != 0 ]]; then
		expect_num "$Q: some time all vCPUs blocked at once" "$(jq '.blocktime_ns' <<<"$s")" -gt 0
	fi
}

one_version() {
	qemu_use "$1" || { fail "QEMU $1" "not installed (run scripts/deps.sh)"; return; }
	Q="QEMU $1"
	qemu_setup_dir || exit 1
	port=$(qemu_free_port) || exit 1
	src=$(qemu_start_src src) || exit 1
	dst=$(qemu_start_dst dst "$port") || exit 1
	qemu_wait_booted src 120 >/dev/null || exit 1
	start_observers
	expect_match "$Q: both attached with every postcopy probe" \
		"pid $src .*missing: none.*"$'\n'".*pid $dst .*missing: none" "$(cat "$QDIR/trace.err")"
	postcopy_setup src dst || exit 1
	postcopy_go src "$port" || exit 1
	expect_eq "$Q: postcopy migration completed (QMP)" completed "$(qemu_wait_migration src 240)"
	qs=$(qemu_query_migrate src)
	qd=$(qemu_query_migrate dst)
	t0=$(qemu_ticks dst); sleep 3; t1=$(qemu_ticks dst)
	expect_num "$Q: the guest runs on the destination afterwards ($t0 -> $t1)" "$t1" -gt "$t0"
	wait "$trace" "$record"
	sleep 0.3
	kill -INT "$stat"; wait "$stat"
	m=$(curl -s "http://127.0.0.1:$eport/metrics")
	expect_match "$Q: exporter: postcopy series carry the VM's labels and role" \
		"swack_postcopy_faults_total\{pid=\"$dst\",vm=\"[^\"]*\",uuid=\"[^\"]*\",role=\"dst\"\} [0-9]+" "$m"
	# The checks below compare figures: labels down to pid (and role, vcpu).
	m=$(sed -E 's/,vm="[^"]*",uuid="[^"]*"//; s/^(swack_postcopy_[a-z_]+\{pid="[0-9]+"),role="dst"/\1/' <<<"$m")
	kill -INT "$exporter"; wait "$exporter"
	trap qemu_cleanup EXIT

	sum=$(jq -c 'select(.event == "summary")' "$QDIR/trace.json")
	sp=$(jq -c .src.postcopy <<<"$sum")
	dp=$(jq -c .dst.postcopy <<<"$sum")
	sw=$(jq -c .postcopy_switch <<<"$sum")
	reqs=$(jq '.ram."postcopy-requests"' <<<"$qs")
	echo "# $Q: QMP: $(jq -c '{downtime, "total-time", r: .ram | {"postcopy-requests", "postcopy-bytes"}}' <<<"$qs")"
	echo "# $Q: swack: $(jq -c '{faults, requests, requests_taken: 0, unrequested_faults, latency_p50_ns, latency_p99_ns, background_pages, discards}' <<<"$dp"), taken by the source $(jq .requests_taken <<<"$sp"), bytes $(jq .bytes <<<"$sp")"
	expect_eq "$Q: one summary, both sides completed, paired" "completed completed" \
		"$(jq -r '"\(.src.state) \(.dst.state)"' <<<"$sum")"
	expect_num "$Q: missing faults seen" "$(jq .faults <<<"$dp")" -gt 0
	expect_eq "$Q: page requests the source took = QMP postcopy-requests" "$reqs" \
		"$(jq .requests_taken <<<"$sp")"
	expect_eq "$Q: page requests the destination sent = QMP postcopy-requests" "$reqs" \
		"$(jq .requests <<<"$dp")"
	expect_eq "$Q: every fault resolved" "$(jq .faults <<<"$dp")" "$(jq .resolved <<<"$dp")"
	expect_eq "$Q: a request per fault, but for pages already arrived" "$(jq .requests <<<"$dp")" \
		"$(jq '.faults - .unrequested_faults' <<<"$dp")"
	expect_num "$Q: postcopy bytes within 1% of QMP postcopy-bytes" \
		"$(jq --argjson q "$(jq '.ram."postcopy-bytes"' <<<"$qs")" '.bytes - $q | fabs' <<<"$sp")" \
		"<=" "$(jq '.ram."postcopy-bytes" / 100' <<<"$qs")"
	expect_num "$Q: QEMU's downtime (stop to device state sent) = QMP downtime, within 1 ms + 1%" \
		"$(jq --argjson q "$(jq .downtime <<<"$qs")" '.qemu_downtime_ns / 1e6 - $q | fabs' <<<"$sum")" \
		"<=" "$(jq '1 + .downtime / 100' <<<"$qs")"
	expect_eq "$Q: the switch's phases add up to the guest's pause" true \
		"$(jq '([.stop_ns, .iterable_save_ns, .discard_bitmap_ns, .device_state_ns, .package_send_ns, .destination_start_ns] | map(select(. >= 0)) | add) == .guest_pause_ns' <<<"$sw")"
	expect_eq "$Q: the switch's pause is the guest-visible downtime" true \
		"$(jq '.postcopy_switch.guest_pause_ns == .guest_downtime_ns' <<<"$sum")"
	expect_num "$Q: migrate-start-postcopy seen before the stop" "$(jq .request_to_stop_ns <<<"$sw")" -gt 0
	expect_num "$Q: pages placed in the background, with no fault waiting" \
		"$(jq .background_pages <<<"$dp")" -gt 1000
	expect_eq "$Q: RAM registered for missing faults: 6 RAMBlocks, all of guest RAM" "6 true" \
		"$(jq '"\(.registered_blocks) \(.registered_bytes >= 536862720)"' -r <<<"$dp")"
	expect_eq "$Q: latency histogram holds every resolved fault" "$(jq .resolved <<<"$dp")" \
		"$(jq '[.latency_hist_us[].count] | add' <<<"$dp")"
	for p in "$src" "$dst"; do
		expect_eq "$Q: phases of $p: postcopy-active, then completed" "postcopy-active completed" \
			"$(jq -r --argjson p "$p" 'select(.event == "mig_state" and .pid == $p) | .state' \
				"$QDIR/trace.json" | grep -E 'postcopy|completed' | paste -sd' ')"
	done
	check_blocktime "$qd" "$dp" "$QDIR/dst.log"

	# The recording, read back: the same faults and requests; its own BPF
	# object timed each sleep, a few microseconds from trace's.
	r=$("$SWACK" report --json "$QDIR/pc.data" | jq -c '.migrations[0]')
	expect_eq "$Q: report: the recording's faults and requests are the live ones" \
		"$(jq -c '[.faults, .requests, .resolved, [.vcpus[].faults]]' <<<"$dp")" \
		"$(jq -c '.dst.postcopy | [.faults, .requests, .resolved, [.vcpus[].faults]]' <<<"$r")"
	expect_num "$Q: report: its blocked times within 50 us a fault of the live ones" \
		"$(jq -n --argjson a "$dp" --argjson b "$(jq .dst.postcopy <<<"$r")" \
			'[$a.blocktime_ns - $b.blocktime_ns, (range($a.vcpus | length) as $i | $a.vcpus[$i].blocked_ns - $b.vcpus[$i].blocked_ns)] | map(fabs) | max')" \
		"<=" "$(jq '.faults * 50000' <<<"$dp")"
	rep=$("$SWACK" report "$QDIR/pc.data")
	echo "$rep" | sed -n '/^summary/,/^  acks/p' | grep -v ' -> ' | sed 's/^/# /'
	expect_match "$Q: report: the postcopy section" "postcopy switch: .* guest paused [0-9.]+ ms: .*"$'\n'"  postcopy \(src\): .*"$'\n'"  postcopy \(dst\): .* missing faults" "$rep"
	expect_match "$Q: report: per-vCPU blocked time" "vCPUs \(2 listed\): all blocked at once [0-9.]+ ms, vCPU 0 [0-9.]+ ms, vCPU 1 [0-9.]+ ms" "$rep"

	expect_match "$Q: swackstat: a postcopy row under the destination" \
		"postcopy +[0-9.]+ s requests +$reqs faults +$(jq .faults <<<"$dp") \( *[0-9.]+/s\) p99 stall +[0-9.]+ ms blocked vCPUs [0-9]/2" \
		"$(grep postcopy "$QDIR/stat.out" | tail -2)"
	expect_eq "$Q: exporter: faults and requests" \
		"swack_postcopy_faults_total{pid=\"$dst\"} $(jq .faults <<<"$dp") swack_postcopy_page_requests_total{pid=\"$src\",role=\"src\"} $reqs" \
		"$(grep -E "^swack_postcopy_faults_total|^swack_postcopy_page_requests_total\{pid=\"$src\"" <<<"$m" | sort | paste -sd' ')"
	# Its own BPF object timed each sleep, microseconds from trace's.
	expect_num "$Q: exporter: the longest stall (an alert's gauge) is trace's longest, within 1 ms" \
		"$(sed -n "s/^swack_postcopy_stall_max_seconds{pid=\"$dst\"} //p" <<<"$m" |
			awk -v t="$(jq .latency_max_ns <<<"$dp")" '{ d = $1 * 1e9 - t; print (d < 0 ? -d : d) / 1e6 } END { if (!NR) print "absent" }')" \
		"<=" 1
	expect_eq "$Q: exporter: one blocked-time gauge per vCPU" 2 \
		"$(grep -c "^swack_postcopy_vcpu_blocked_seconds{pid=\"$dst\"" <<<"$m")"

	"$SWACK" export --format chrome -o "$QDIR/pc.json" "$QDIR/pc.data" 2>/dev/null
	expect_eq "$Q: Chrome trace: a span per vCPU stall, on its vCPU's track" \
		"$(jq -s '[.[] | select(.event == "uffd_stall" and (.comm | startswith("CPU")))] | length' "$QDIR/trace.json")" \
		"$(jq '[.traceEvents[] | select(.name == "missing page" and .tid >= 100)] | length' "$QDIR/pc.json")"
	expect_eq "$Q: Chrome trace: the switch as a span of the guest's pause" \
		"$(jq '.postcopy_switch.guest_pause_ns / 1e3' <<<"$r")" \
		"$(jq '[.traceEvents[] | select(.name == "postcopy switch (guest paused)")][0].dur' "$QDIR/pc.json")"

	D=$("$SWACK" diagnose --json "$QDIR/pc.data" | jq -c '.diagnoses[0]')
	ids=$(jq -r '[.findings[].id] | join(" ")' <<<"$D")
	echo "# $Q: diagnose: $ids"
	expect_match "$Q: diagnose: postcopy findings" "postcopy-vcpu-blocked" "$ids"
	expect_match "$Q: diagnose: the switch" "postcopy-switch" "$ids"
	expect_match "$Q: diagnose: the faults" "postcopy-faults" "$ids"
	expect_eq "$Q: diagnose: no precopy rule" "" \
		"$(grep -oE 'downtime-breakdown|no-convergence|downtime-over-limit' <<<"$ids")"
	expect_eq "$Q: diagnose: the faults finding counts the recording's faults" \
		"$(jq .faults <<<"$dp")" \
		"$(jq '.findings[] | select(.id == "postcopy-faults") | .figures.faults' <<<"$D")"
	qemu_cleanup
}

# The connection cut in postcopy: both sides pause; migrate-recover on the
# destination, migrate with resume=true on the source; it completes.
one_pause() {
	local end
	qemu_use "$1" || { fail "QEMU $1" "not installed (run scripts/deps.sh)"; return; }
	Q="QEMU $1 (cut and recovered)"
	qemu_setup_dir || exit 1
	port=$(qemu_free_port) || exit 1
	port2=$(qemu_free_port) || exit 1
	src=$(qemu_start_src src) || exit 1
	dst=$(qemu_start_dst dst "$port") || exit 1
	qemu_wait_booted src 120 >/dev/null || exit 1
	"$SWACK" record -p "$src" -p "$dst" --until-done -d 240 -o "$QDIR/pause.data" \
		>/dev/null 2>"$QDIR/record.err" &
	record=$!
	wait_attached "$QDIR/record.err" 2
	postcopy_setup src dst || exit 1
	# Slow postcopy down, so that the cut falls in the middle of it.
	qmp src '{"execute":"migrate-set-parameters","arguments":{"max-postcopy-bandwidth":10000000}}' \
		>/dev/null || exit 1
	postcopy_go src "$port" || exit 1
	# Deadlines in seconds, not rounds: a QEMU whose QMP stops answering costs
	# 30 s a query (qmp.sh), and the test must fail, not wait an hour.
	end=$((SECONDS + 60))
	while [[ $SECONDS -lt $end ]]; do
		[[ $(qemu_query_migrate src | jq -r .status) == postcopy-active ]] && break
		sleep 0.2
	done
	sleep 2
	ss -K dst 127.0.0.1 dport = ":$port" >/dev/null 2>&1
	end=$((SECONDS + 60))
	while [[ $SECONDS -lt $end ]]; do
		st="$(qemu_query_migrate src | jq -r .status) $(qemu_query_migrate dst | jq -r .status)"
		[[ $st == "postcopy-paused postcopy-paused" ]] && break
		sleep 0.2
	done
	expect_eq "$Q: cutting the connection pauses both sides (QMP)" "postcopy-paused postcopy-paused" "$st"
	sleep 2
	expect_eq "$Q: migrate-recover accepted" '{"return": {}}' \
		"$(qmp dst "{\"execute\":\"migrate-recover\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port2\"}}")"
	qmp src "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port2\",\"resume\":true}}" >/dev/null
	expect_eq "$Q: completed after the recovery (QMP)" completed "$(qemu_wait_migration src 240)"
	qs=$(qemu_query_migrate src)
	t0=$(qemu_ticks dst); sleep 3; t1=$(qemu_ticks dst)
	expect_num "$Q: the guest runs on the destination afterwards ($t0 -> $t1)" "$t1" -gt "$t0"
	wait "$record"
	r=$("$SWACK" report --json "$QDIR/pause.data" | jq -c '.migrations[0]')
	reqs=$(jq '.ram."postcopy-requests"' <<<"$qs")
	echo "# $Q: QMP postcopy-requests $reqs; swack: sent $(jq .dst.postcopy.requests <<<"$r"), taken $(jq .src.postcopy.requests_taken <<<"$r"), paused $(jq '[.src.postcopy.paused_ns, .dst.postcopy.paused_ns] | map(. / 1e6)' -c <<<"$r") ms"
	expect_eq "$Q: one pause each side, resumed" "1 1 true true" \
		"$(jq -r '"\(.src.postcopy.pauses | length) \(.dst.postcopy.pauses | length) \(.src.postcopy.pauses[0].resume_ts > 0) \(.dst.postcopy.pauses[0].resume_ts > 0)"' <<<"$r")"
	expect_num "$Q: paused about 2 s or more" "$(jq .dst.postcopy.paused_ns <<<"$r")" -ge 1500000000
	expect_eq "$Q: the destination's migrate-recover inside its pause" true \
		"$(jq '.dst.postcopy.pauses[0] | .recover_ts > .pause_ts and .recover_ts <= .resume_ts' <<<"$r")"
	expect_eq "$Q: requests the source took = QMP postcopy-requests" "$reqs" \
		"$(jq .src.postcopy.requests_taken <<<"$r")"
	# Requests in flight when the connection broke are lost, and QEMU sends
	# those still wanted again after the recovery: the destination counts both.
	expect_num "$Q: requests the destination sent >= QMP postcopy-requests" \
		"$(jq .dst.postcopy.requests <<<"$r")" -ge "$reqs"
	rep=$("$SWACK" report "$QDIR/pause.data")
	expect_match "$Q: report: the pause is a phase of its own, on both sides" \
		"phases \(src\): .*postcopy-active .*, postcopy-paused .*, postcopy-recover .*, postcopy-active .*, completed" "$rep"
	expect_match "$Q: report: the pause, the recovery and the resume" \
		"postcopy paused \(dst\) at \+[0-9.]+ s, recovery at \+[0-9.]+ s, resumed at \+[0-9.]+ s: paused [0-9.]+ s" "$rep"
	expect_match "$Q: diagnose: the pause is a finding" "postcopy-paused" \
		"$("$SWACK" diagnose --json "$QDIR/pause.data" | jq -r '[.diagnoses[0].findings[].id] | join(" ")')"
	qemu_cleanup
}

for v in $SWACK_QEMU_VERSIONS; do
	one_version "$v"
	one_pause "$v"
done
