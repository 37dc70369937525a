# shellcheck shell=bash
# Assertions for the integration tests.  Each check prints "ok" or "not ok"
# with what was expected, and appends to $SWACK_RESULTS, which tests/run.sh
# counts for its closing line.
: "${SWACK_RESULTS:=/dev/null}"
SWACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SWACK=$SWACK_ROOT/build/swack

_record() {
	echo "$1 $2" >>"$SWACK_RESULTS"
	if [[ $1 == pass ]]; then echo "ok - $2"; else echo "not ok - $2"; fi
}

pass() { _record pass "$1"; }
fail() { _record fail "$1: $2"; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# expect_match NAME REGEX TEXT
expect_match() {
	if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "'$3' does not match /$2/"; fi
}

# expect_num NAME A OP B   (numbers; OP: < <= == != >= >, or -lt -le -eq -ne -ge -gt)
# awk would read "a -gt b" as a minus the string "gt b": any two different
# numbers passed.  The test(1) forms are mapped to awk's operators.
expect_num() {
	local op=$3
	case $op in
	-lt) op='<' ;; -le) op='<=' ;; -eq) op='==' ;; -ne) op='!=' ;; -ge) op='>=' ;; -gt) op='>' ;;
	'<' | '<=' | '==' | '!=' | '>=' | '>') ;;
	*) fail "$1" "expect_num: unknown operator '$3'"; return ;;
	esac
	local num='^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
	if ! [[ $2 =~ $num && $4 =~ $num ]]; then
		fail "$1" "expected $2 $3 $4 (not numbers)"
		return
	fi
	if awk -v a="$2" -v b="$4" "BEGIN { exit !(a + 0 $op b + 0) }"; then
		pass "$1"
	else
		fail "$1" "expected $2 $3 $4"
	fi
}

# wait_attached FILE N: until swack's stderr FILE reports N processes watched.
# Attaching takes tens of milliseconds and waits for no other swack; loading
# the BPF programs first can take seconds on a loaded host: allow 30 s.
wait_attached() {
	for _ in $(seq 300); do
		[[ $(grep -c '^swack: pid .* watched in' "$1" 2>/dev/null) -ge $2 ]] && return 0
		sleep 0.1
	done
	echo "# $1: $2 processes not watched after 30 s" >&2
	return 1
}

# run_err NAME REGEX CMD...: CMD exits with status 1 and says one line on
# stderr, matching REGEX.
run_err() {
	local name=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "$name: exit status" 1 "$rc"
	expect_eq "$name: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	expect_match "$name: message" "$re" "$out"
}
