# shellcheck shell=bash
# make bench's shared helpers: figures go to one table, a row each, in the
# tab-separated file $BENCH_ROWS: figure, unit, swack, baseline, ratio, goal,
# met (yes, no, or "-" for a figure stated without a goal); tests/bench/table.sh
# prints it and writes it as JSON.
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
