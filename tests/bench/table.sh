#!/usr/bin/env bash
# table.sh ROWS JSON: prints make bench's table from the rows file (lib.sh) and
# writes the same as JSON, with when, where and on what load it was taken.
set -euo pipefail
rows=$1 json=$2
cd "$(dirname "$0")/../.."

printf '\n%-74s %14s %14s %8s %14s %5s\n' figure swack baseline ratio goal met
printf '%.0s-' $(seq 134)
echo
awk -F'\t' '$1 != "note" {
	unit = $2 == "" ? "" : " " $2
	sw = $3 == "" ? "-" : $3 unit
	bl = $4 == "" ? "-" : $4 unit
	rt = $5 == "" ? "-" : $5 "x"
	printf "%-74s %14s %14s %8s %14s %5s\n", $1, sw, bl, rt, $6 == "" ? "-" : $6, $7
}' "$rows"
awk -F'\t' '$1 == "note" { print "  " $2 }' "$rows"

jq -R -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(uname -n)" \
	--arg kernel "$(uname -r)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--arg cpus "$(nproc)" '
	def num: if . == "" then null else (tonumber? // .) end;
	split("\n") | map(select(length > 0) | split("\t")) |
	{ date: $date, host: $host, kernel: $kernel, commit: $commit, cpus: ($cpus | tonumber),
	  rows: map(select(.[0] != "note") | { figure: .[0], unit: .[1], swack: (.[2] | num),
		baseline: (.[3] | num), ratio: (.[4] | num), goal: .[5], met: .[6] }),
	  notes: map(select(.[0] == "note") | .[1]) }' "$rows" >"$json"
echo "  (the same as JSON: $json)"
