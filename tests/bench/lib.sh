# shellcheck shell=bash
# make bench's shared helpers: figures go to one table, a row each, in the
# tab-separated file $BENCH_ROWS: figure, unit, swack, baseline, ratio, goal,
# met (yes, no, "noise" where timing cannot tell, or "-" for a figure stated
# without a goal); tests/bench/table.sh prints it and writes it as JSON.
: "${BENCH_ROWS:=/dev/null}"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "") }'; }

# spread: the interquartile range of the values on stdin (the middle half's width).
spread() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) exit
		lo = int(NR / 4 + 0.5); hi = int(NR * 3 / 4 + 0.5)
		if (lo < 1) lo = 1; if (hi < 1) hi = 1; if (hi > NR) hi = NR
		print v[hi] - v[lo] }'
}

# ratio A B: A / B with two decimals, "" when either is missing or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b != 0) printf "%.2f", a / b }'; }

# met A OP B: "yes" if the comparison holds, "no" if not, "-" if A is missing.
met() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (a == "") { print "-"; exit }
		if (op == "<") r = a < b; else if (op == "<=") r = a <= b
		else if (op == ">") r = a > b; else if (op == ">=") r = a >= b; else r = a == b
		print r ? "yes" : "no" }'
}

# row FIGURE UNIT SWACK BASELINE RATIO GOAL MET
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_ROWS"
}

# note TEXT: a line said under the table (how a figure was taken, what loaded the host).
note() {
	printf 'note\t%s\n' "$1" >>"$BENCH_ROWS"
}

# bench_root NAME: stop with the reason unless root.
bench_root() {
	[[ $(id -u) -eq 0 ]] || { echo "$1: run as root (it attaches BPF programs)" >&2; exit 1; }
}

# bench_setup NAME: root checked; BENCH_TMP, a scratch directory, and
# BENCH_PIDS, the processes the script starts, are removed and stopped on exit.
bench_setup() {
	bench_root "$1"
	BENCH_TMP=$(mktemp -d)
	BENCH_PIDS=()
	trap bench_cleanup EXIT
}
bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$BENCH_TMP"
}

# bench_target NAME: a qemu-system-bench (tests/fixtures/qemu-bench.c) driven
# through two pipes (bash keeps one coproc only), once it says it is ready;
# sets NAME (its pid), NAME_W and NAME_R (descriptors to write commands to and
# read its figures from).  After bench_setup.
bench_target() {
	local w r
	mkfifo "$BENCH_TMP/$1.in" "$BENCH_TMP/$1.out"
	build/fixtures/qemu-system-bench <>"$BENCH_TMP/$1.in" >"$BENCH_TMP/$1.out" &
	BENCH_PIDS+=("$!")
	printf -v "$1" %s "$!"
	exec {w}>"$BENCH_TMP/$1.in" {r}<"$BENCH_TMP/$1.out"
	printf -v "${1}_W" %s "$w"
	printf -v "${1}_R" %s "$r"
	read -r _ <&"$r"
}
