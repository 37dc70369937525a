#!/usr/bin/env bash
# The architecture of user/, read from the objects `make all` built: a file
# calls another when it uses a symbol the other defines (nm).  Checks that
#  - no two files call each other, directly or around a loop;
#  - no file calls one in a higher layer (folders, bottom to top, in LAYERS);
#  - every symbol a file exports is used by another file, or by a test.
# SWACK_LAYERS_OBJ points it at another build's objects.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

# Bottom to top.  util, event: no migration logic, used by all; the model is
# pure and only reads events; sources feed the model; diagnose reads the
# model; the gate acts beside it; views show all of them; cli dispatches.
LAYERS=(util event model source diagnose gate view cli)
OBJ=${SWACK_LAYERS_OBJ:-$SWACK_ROOT/build/user}

layer_of() {
	local i
	for i in "${!LAYERS[@]}"; do [[ ${LAYERS[$i]} == "$1" ]] && { echo "$i"; return; }; done
	echo -1
}

# "FILE D SYMBOL" and "FILE U SYMBOL" for every object, FILE as folder/name.
symbols() {
	local o f
	for o in "$OBJ"/*/*.o; do
		f=${o#"$OBJ"/}
		f=${f%.o}
		nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print f, "D", $3 }'
		nm -u "$o" | awk -v f="$f" '{ print f, "U", $2 }'
	done
}

SYMS=$(symbols)
nobj=$(ls "$OBJ"/*/*.o 2>/dev/null | wc -l)
expect_num "objects of user/ read (make all first)" "$nobj" -ge 40

# "CALLER CALLEE SYMBOL", one line per symbol used across files.
EDGES=$(awk '$2 == "D" { def[$3] = $1; next }
	{ use[NR] = $1 " " $3 }
	END { for (i in use) { split(use[i], u, " ")
		if ((u[2] in def) && def[u[2]] != u[1]) print u[1], def[u[2]], u[2] } }' \
	<<<"$SYMS" | sort -u)
expect_num "calls between files found" "$(wc -l <<<"$EDGES")" -ge 100

# Every folder has its place in the order.
unplaced=$(for d in "$OBJ"/*/; do
	d=$(basename "$d")
	[[ $(layer_of "$d") -ge 0 ]] || echo "user/$d is in no layer of tests/integration/layers.sh"
done)
expect_eq "every folder of user/ has a layer" "" "$(paste -sd';' <<<"$unplaced")"

up=$(while read -r from to sym; do
	[[ -n $from ]] || continue
	lf=$(layer_of "${from%%/*}") lt=$(layer_of "${to%%/*}")
	[[ $lt -gt $lf ]] && echo "$from calls $to ($sym): ${from%%/*} is below ${to%%/*}"
done <<<"$EDGES")
expect_eq "no call from a lower layer into a higher one" "" "$(paste -sd';' <<<"$up")"

# tsort names the files of each loop it finds, one loop at a time.
loops=$(awk '{ print $1, $2 }' <<<"$EDGES" | sort -u | tsort 2>&1 >/dev/null |
	awk '/input contains a loop:$/ { if (l) print l; l = "loop:"; next }
		{ sub(/^tsort: /, ""); l = l " " $0 } END { if (l) print l }')
if [[ -n $loops ]]; then
	# The calls between files of a loop, with their symbols, to untangle it.
	awk 'NR == FNR { for (i = 2; i <= NF; i++) in_loop[$i] = 1; next }
		($1 in in_loop) && ($2 in in_loop) { print "# " $1 " -> " $2 ": " $3 }' \
		<(echo "$loops") <(echo "$EDGES")
fi
expect_eq "no circular calls between files" "" "$(paste -sd';' <<<"$loops")"

# Exported yet used by no other file: static, or a test's only (tests/).
lonely=$(awk '$2 == "D" { def[$3] = $1; next } { used[$3] = 1 }
	END { for (s in def) if (!(s in used) && s != "main") print def[s], s }' <<<"$SYMS" |
	sort | while read -r file sym; do
		grep -rqw -- "$sym" "$SWACK_ROOT"/tests/unit "$SWACK_ROOT"/tests/fuzz ||
			echo "$file exports $sym, which no other file uses: make it static"
	done)
expect_eq "every exported symbol is used by another file or a test" "" \
	"$(paste -sd';' <<<"$lonely")"
