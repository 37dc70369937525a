#!/usr/bin/env bash
# Fleet-ready, end to end.  A real Prometheus loads contrib/prometheus/swack.rules.yml
# and scrapes `swack exporter --vm ...` while qemu-sim plays seven VMs at once, each
# started as management tools do (-name guest=NAME,debug-threads=on -uuid UUID):
# tests/fixtures/fleet (a switchover held by an ACK, a migration that does not
# converge, a 1.5 s downtime, a snapshot stall that is a real userfaultfd fault),
# ack-underflow, and gate-deadline held by `swack gate` past its max-hold.  Checks:
# the series carry vm and uuid; every expected alert fires for its VM and no other
# (read from /api/v1/alerts, with the time it took); the alerts with nothing to
# report stay quiet; every query of contrib/grafana/swack.json returns data during
# the scenarios; the dashboard, rendered from that Prometheus, is screenshot by
# headless Chromium (build/fleet-dashboard.png).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/prom.sh"

D=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
FLEET=$SWACK_ROOT/tests/fixtures/fleet
SIM=$SWACK_ROOT/build/fixtures/qemu-system-sim

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Htln "sport = :$p") ]] && { echo "$p"; return; }
	done
}
port=$(free_port) pport=$(free_port)

# sim NAME GEN SCENARIO UUID [SYNC]: a qemu-sim waiting on its own pipe; its pid in SIMPID.
declare -A SIMPID=()
FIFOS=()
sim() {
	local tag=$1 gen=$2 file=$3 uuid=$4 sync=${5:-} vm=${1%.*}
	mkfifo "$D/$tag.go"
	exec {fd}<>"$D/$tag.go"
	QEMU_SIM_SYNC=${sync:+$D/$sync} "$SIM$gen" -name "guest=fleet-$vm,debug-threads=on" \
		-uuid "$uuid" -q -w "$file" <&$fd >"$D/$tag.out" 2>"$D/$tag.err" &
	SIMPID[$tag]=$!
	PIDS+=($!)
	FIFOS+=("$fd")
}
mkdir "$D/downtime"
sim held.src 102 "$FLEET/held.src" 00000000-0000-4000-8000-00000000f001
sim held.dst 102 "$FLEET/held.dst" 00000000-0000-4000-8000-00000000f001
sim stuck.src 102 "$FLEET/stuck.src" 00000000-0000-4000-8000-00000000f002
sim downtime.src 102 "$FLEET/downtime.src" 00000000-0000-4000-8000-00000000f003 downtime
sim downtime.dst 102 "$FLEET/downtime.dst" 00000000-0000-4000-8000-00000000f003 downtime
sim snapshot.src 102 "$FLEET/snapshot.src" 00000000-0000-4000-8000-00000000f004
sim underflow.src 111 "$SWACK_ROOT/tests/fixtures/scenarios/ack-underflow.src" \
	00000000-0000-4000-8000-00000000f005
sim gate.src 102 "$SWACK_ROOT/tests/fixtures/gate-deadline.src" 00000000-0000-4000-8000-00000000f006

prom_start "$D/prometheus" "$pport" "127.0.0.1:$port" "$SWACK_ROOT/contrib/prometheus/swack.rules.yml"
PIDS+=("$PROM_PID")
api() { curl -s --get "http://127.0.0.1:$pport/api/v1/$1" "${@:2}"; }
q() { api query --data-urlencode "query=$1"; }

# Every VM by name (both sides of a local migration for two of them), one by -p NAME.
"$SWACK" exporter --listen "127.0.0.1:$port" --vm fleet-held --vm fleet-stuck \
	--vm 00000000-0000-4000-8000-00000000f003 --vm fleet-snapshot --vm fleet-underflow \
	-p fleet-gate 2>"$D/exporter.err" &
PIDS+=($!)
wait_attached "$D/exporter.err" 8 || exit 1
expect_match "attach lines name the VM, its UUID and where they came from" \
	"; vm fleet-held uuid 00000000-0000-4000-8000-00000000f001 \(-name -uuid\)$" \
	"$(grep "^swack: pid ${SIMPID[held.src]} " "$D/exporter.err")"

for _ in $(seq 150); do [[ $(q 'up{job="swack"}' | jq -r '.data.result[0].value[1]') == 1 ]] && break; sleep 0.2; done

# firing_since T0 SECONDS ALERT...: polls /api/v1/alerts until every ALERT fires
# or SECONDS pass; appends every firing alert's labels to $D/fired, with the
# seconds since T0 for the ALERTs awaited (null for the others, whose cause
# came earlier).
firing_since() {
	local t0=$1 limit=$2 now
	shift 2
	local want
	want=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	for ((k = 0; k < limit; k++)); do
		now=$(date +%s.%N)
		api alerts | jq -c --argjson t "$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.0f", a - b }')" \
			--argjson want "$want" '.data.alerts[] | select(.state == "firing") |
			.labels + {after: (if (.labels.alertname | IN($want[])) then $t else null end)}' >>"$D/fired"
		local missing=0 a
		for a in "$@"; do
			grep -q "\"alertname\":\"$a\"" "$D/fired" 2>/dev/null || missing=1
		done
		((missing)) || return 0
		sleep 1
	done
}
# when ALERT: seconds after its scenario's start it was first seen firing.
when() { jq -rs --arg a "$1" '[.[] | select(.alertname == $a and .after != null) | .after] | min // "never"' "$D/fired"; }
# vms ALERT: the VMs it fired for.
vms() { jq -rs --arg a "$1" '[.[] | select(.alertname == $a) | .vm] | unique | join(",")' "$D/fired"; }
: >"$D/fired"

# swack gate first, under the gate lock (one gate on the host at a time): a hold
# on fleet-gate (named by -p NAME) reaches its 3 s max-hold; the deadline releases it.
exec {lock}>/tmp/swack-gate.lock
flock -w 3600 "$lock" || { fail "gate lock" "/tmp/swack-gate.lock held for an hour"; exit 1; }
# The pin directory is the host's: leave its mode as it was found.
pinmode=$(stat -c %a /sys/fs/bpf/swack 2>/dev/null)
"$SWACK" gate run -p fleet-gate >"$D/gate.out" 2>"$D/gate.err" {lock}>&- &
gate=$!
PIDS+=($gate)
for _ in $(seq 1200); do grep -qs '^swack gate: pid .* gate on ' "$D/gate.err" && break; sleep 0.1; done
hold_t=$(date +%s.%N)
"$SWACK" gate hold -p "${SIMPID[gate.src]}" --max-hold 3s >/dev/null 2>"$D/hold.err" ||
	fail "gate hold" "$(cat "$D/hold.err" "$D/gate.err")"
echo go >&"${FIFOS[-1]}"
firing_since "$hold_t" 60 SwackGateHoldExpired
kill -INT "$gate"
wait "$gate"
[[ -n $pinmode ]] && chmod "$pinmode" /sys/fs/bpf/swack
flock -u "$lock"
exec {lock}>&-
expect_match "the gate released fleet-gate by its deadline" 'gate_release +reason="3.000s max-hold reached" cause=deadline' \
	"$(cat "$D/gate.out")"

# Then every other VM at once.
go=$(date +%s.%N)
for fd in "${FIFOS[@]:0:${#FIFOS[@]}-1}"; do echo go >&"$fd"; done
declare -A WANT=([SwackSwitchoverHeld]=fleet-held [SwackMigrationNotConverging]=fleet-stuck
	[SwackDowntimeOverLimit]=fleet-downtime [SwackDowntimeOverQemuLimit]=fleet-downtime
	[SwackSwitchoverAckUnderflow]=fleet-underflow [SwackSnapshotStall]=fleet-snapshot)
firing_since "$go" 150 "${!WANT[@]}"
WANT[SwackGateHoldExpired]=fleet-gate
for a in "${!WANT[@]}"; do
	expect_eq "$a fired, for ${WANT[$a]} only" "${WANT[$a]}" "$(vms "$a")"
	echo "# $a: firing $(when "$a") s after its scenario began"
done
expect_eq "alerts carry the VM's uuid and a pid" "00000000-0000-4000-8000-00000000f003 ${SIMPID[downtime.src]}" \
	"$(jq -rs '[.[] | select(.alertname == "SwackDowntimeOverLimit") | "\(.uuid) \(.pid)"] | unique | join(",")' "$D/fired")"
expect_num "switchover held: not before its 60 s" "$(when SwackSwitchoverHeld)" -ge 60
expect_num "not converging: not before its minute" "$(when SwackMigrationNotConverging)" -ge 60
for a in SwackDowntimeOverLimit SwackSwitchoverAckUnderflow SwackSnapshotStall SwackGateHoldExpired; do
	expect_num "$a: within 30 s of its cause" "$(when "$a" | sed 's/never/999/')" -le 30
done
expect_num "gate hold expired: not before its 3 s max-hold" "$(when SwackGateHoldExpired | sed 's/never/0/')" -ge 3
expect_eq "quiet: no lost events, no hold past its deadline, no postcopy stall" "" \
	"$(jq -rs '[.[] | select(.alertname | test("EventsLost|PastDeadline|Postcopy")) | .alertname] | unique | join(",")' "$D/fired")"
dt=$(q 'swack_migration_guest_downtime_seconds{vm="fleet-downtime"}' | jq -r '.data.result[0].value[1]')
expect_num "the downtime behind the alert: at least the sim's 1.5 s final save" "$dt" ">=" 1.5
expect_num "the downtime behind the alert: not much more" "$dt" "<" 2.5
expect_eq "QEMU's limit: its 30 MB threshold at 100 MB/s" 0.3 \
	"$(q 'swack_migration_downtime_limit_seconds{vm="fleet-downtime"}' | jq -r '.data.result[0].value[1]')"
st=$(q 'swack_snapshot_stall_max_seconds{vm="fleet-snapshot"}' | jq -r '.data.result[0].value[1]')
# Timed from the writer's sleep in the fault; the sim releases it 300 ms after
# reading the fault's message, which the writer queued just before sleeping
# (microseconds before: 10 ms of slack).
expect_num "the snapshot stall: the sim's 300 ms from the fault to its release" "$st" ">=" 0.29
expect_num "the snapshot stall: not much more" "$st" "<" 1
expect_eq "both sides of fleet-held carry its name and uuid" "dst src" \
	"$(q 'swack_migration_active{vm="fleet-held",uuid="00000000-0000-4000-8000-00000000f001"}' | jq -r '[.data.result[].metric.role] | sort | join(" ")')"

# The dashboard: every panel's query, with every VM and hypervisor selected.
dash=$SWACK_ROOT/contrib/grafana/swack.json
expect_eq "dashboard: its VM variable lists the fleet's VMs" \
	"fleet-downtime fleet-gate fleet-held fleet-snapshot fleet-stuck fleet-underflow" \
	"$(api label/vm/values | jq -r '.data | map(select(startswith("fleet-"))) | join(" ")')"
jq -r '.. | objects | select(has("targets")) | .title as $t | .targets[] | "\($t)\t\(.expr)"' "$dash" |
	sed 's/\$instance/.*/g; s/\$vm/.*/g' >"$D/queries"
expect_num "dashboard: a query per panel at least" "$(wc -l <"$D/queries")" -ge 13
while IFS=$'\t' read -r title expr; do
	n=$(q "$expr" | jq '.data.result | length')
	expect_num "dashboard: \"$title\": $expr returns data" "${n:-0}" -gt 0
done <"$D/queries"

# The dashboard itself, rendered (Debian has no Grafana): its panels in their
# grid, each query run over the scenarios' minutes against this Prometheus,
# then screenshot by headless Chromium.
page=$D/dashboard.html
png=$SWACK_ROOT/build/fleet-dashboard.png
python3 "$SWACK_ROOT/tests/lib/render_dashboard.py" "$dash" "http://127.0.0.1:$pport" "$page" 2 \
	2>"$D/render.err"
expect_eq "rendered: every query of the dashboard ran" "0 " "$? $(cat "$D/render.err")"
rm -f "$png"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--no-first-run --user-data-dir="$D/chromium" --hide-scrollbars --window-size=1400,$(jq '[.panels[].gridPos | .y + .h] | max * 40 + 60' "$dash") \
	--screenshot="$png" "file://$page" 2>"$D/chromium.err"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--no-first-run --user-data-dir="$D/chromium" --dump-dom "file://$page" >"$D/dom.html" 2>>"$D/chromium.err"
npanels=$(jq '[.panels[] | select(.type != "row")] | length' "$dash")
expect_eq "rendered: every panel drawn, none empty" "$npanels 0" \
	"$(grep -o 'class="panel" data-series="[0-9]*"' "$D/dom.html" | wc -l) $(grep -c 'data-series="0"' "$D/dom.html")"
expect_num "rendered: a screenshot" "$(stat -c %s "$png" 2>/dev/null || echo 0)" -gt 50000
