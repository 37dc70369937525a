#!/usr/bin/env bash
# contrib/: the alerting rules pass promtool's checks and their own unit tests
# (which fail when a threshold or a resolution clause is changed: they can
# fail), and the Grafana dashboard is well formed: every panel on the
# Prometheus data source variable, unique ids, every variable it uses defined,
# every query valid PromQL for promtool.  fleet.sh runs both against a real
# Prometheus.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

P=$SWACK_ROOT/contrib/prometheus
G=$SWACK_ROOT/contrib/grafana/swack.json
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

expect_match "promtool check rules" "SUCCESS: 10 rules found" "$(promtool check rules "$P/swack.rules.yml" 2>&1)"
out=$(cd "$P" && promtool test rules swack.rules.test.yml 2>&1)
expect_match "promtool test rules: every test passes" "SUCCESS" "$out"
expect_eq "every alert has tests" \
	"$(grep -o 'alert: Swack[A-Za-z]*' "$P/swack.rules.yml" | sed 's/alert: //' | sort -u | paste -sd' ')" \
	"$(grep -o 'alertname: Swack[A-Za-z]*' "$P/swack.rules.test.yml" | sed 's/alertname: //' | sort -u | paste -sd' ')"

# The tests can fail: each change of a rule below must make them fail.
cp "$P/swack.rules.test.yml" "$D/"
while IFS='|' read -r what from to; do
	sed "s/$from/$to/" "$P/swack.rules.yml" >"$D/swack.rules.yml"
	cmp -s "$D/swack.rules.yml" "$P/swack.rules.yml" && { fail "mutant: $what" "sed changed nothing"; continue; }
	(cd "$D" && promtool test rules swack.rules.test.yml >/dev/null 2>&1)
	expect_eq "the unit tests catch: $what" 1 "$?"
done <<'MUTANTS'
held threshold|held_seconds > 60|held_seconds > 100
downtime limit|seconds) > 1$|seconds) > 2
the hour after the end|end_timestamp_seconds > 3600)|end_timestamp_seconds > 36000)
passes without progress|progress >= 5|progress >= 10
not converging's minute|for: 1m|for: 5m
gate window|\[15m\]|[1m]
hold past deadline margin|max_seconds + 10|max_seconds + 100
snapshot stall threshold|snapshot_stall_max_seconds > 0.1|snapshot_stall_max_seconds > 1
postcopy fault wait threshold|latency_p99_seconds > 0.1|latency_p99_seconds > 1
postcopy ended per host|unless on(instance, pid) (time()|unless on(pid) (time()
severity|severity: critical|severity: page
gate holds excepted|unless on(instance, pid) swack_gate_hold_active == 1|unless on(instance, pid) swack_gate_hold_active == 2
MUTANTS

# The dashboard.
expect_eq "dashboard: valid JSON" 0 "$(jq empty "$G" >/dev/null 2>&1; echo $?)"
expect_eq "dashboard: panel ids unique" \
	"$(jq '[.. | objects | select(has("gridPos")) | .id] | length' "$G")" \
	"$(jq '[.. | objects | select(has("gridPos")) | .id] | unique | length' "$G")"
expect_eq "dashboard: every panel with queries on the Prometheus variable" "" \
	"$(jq -r '.. | objects | select(has("targets")) | select(.datasource.uid != "${datasource}" or ([.targets[].datasource.uid] | unique) != ["${datasource}"]) | .title' "$G")"
expect_eq "dashboard: its variables" "datasource instance vm" "$(jq -r '[.templating.list[].name] | join(" ")' "$G")"
expect_eq "dashboard: every variable a query uses is defined" "" \
	"$(jq -r '.. | objects | select(has("targets")) | .targets[].expr' "$G" | grep -o '\$[a-z_]*' | sort -u |
		grep -vxE '\$(instance|vm)')"
expect_eq "dashboard: a row repeated per VM" "vm" "$(jq -r '.panels[] | select(.type == "row" and .repeat) | .repeat' "$G")"
# promtool parses each query (with every VM and hypervisor selected) as a rule.
{
	echo "groups:"
	echo "  - name: dashboard"
	echo "    rules:"
	i=0
	while read -r expr; do
		i=$((i + 1))
		printf '      - record: dashboard:query%d\n        expr: %s\n' "$i" "$(jq -n --arg e "$expr" '$e')"
	done < <(jq -r '.. | objects | select(has("targets")) | .targets[].expr' "$G" | sed 's/\$instance/.*/g; s/\$vm/.*/g')
} >"$D/queries.yml"
expect_match "dashboard: every query is valid PromQL" "SUCCESS: [0-9]+ rules found" \
	"$(promtool check rules "$D/queries.yml" 2>&1)"
