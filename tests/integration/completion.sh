#!/usr/bin/env bash
# bash completion (contrib/bash-completion/swack), driven as bash drives it: in a
# bash subshell that sourced the script, COMP_WORDS and COMP_CWORD set, the
# function `complete` registered for swack called, COMPREPLY read.  Commands,
# gate's subcommands, every option of every command (against its --help), and
# option arguments: the pids and VM names of a real QEMU 7.2 and a qemu-sim
# running here, formats, actuators, files.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

D=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
# Installed side by side, as the package does.
ln -s "$SWACK" "$D/swack"
ln -s swack "$D/swackstat"

# A real QEMU, paused (no guest needed to be listed), and a qemu-sim, each named.
qemu-system-x86_64 -machine q35,accel=tcg -m 64 -display none -nodefaults -S \
	-name guest=compl-real,debug-threads=on -uuid 6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b \
	</dev/null >"$D/qemu.log" 2>&1 &
real=$!
PIDS+=($real)
mkfifo "$D/go"
exec {go}<>"$D/go"   # never written: the sim waits for its go until the end
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -name compl-sim -q -w \
	"$SWACK_ROOT/tests/fixtures/scenarios/precopy-basic.src" <&$go >/dev/null 2>&1 &
sim=$!
PIDS+=($sim)
for _ in $(seq 100); do "$SWACK" ps | grep -q ' compl-real ' && "$SWACK" ps | grep -q ' compl-sim ' && break; sleep 0.1; done

# comp WORD...: what completing the last word offers, sorted, on one line.
comp() {
	(cd "$D" && bash -c '
		. "$1/contrib/bash-completion/swack"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		fn=$(complete -p "${COMP_WORDS[0]##*/}" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' _ "$SWACK_ROOT" "$@")
}

expect_eq "registered for swack and swackstat" \
	"complete -F _swack swack|complete -F _swack swackstat" \
	"$(bash -c ". $SWACK_ROOT/contrib/bash-completion/swack; complete -p swack; complete -p swackstat" | paste -sd'|')"
expect_eq "commands" "--help --version diagnose export exporter gate ps record report script stat trace" \
	"$(comp "$SWACK" "")"
expect_eq "a command from its start" "trace" "$(comp "$SWACK" tr)"
expect_eq "gate's subcommands" "--help hold release run status" "$(comp "$SWACK" gate "")"
expect_eq "trace's options" "--duration --help --json --pid --until-done --usage --user --verbose --vm -U -d -j -p -u -v" \
	"$(comp "$SWACK" trace -)"
expect_eq "swackstat's options: -d is --devices there" \
	"--devices --full-screen --help --input --json --pid --usage --user --verbose --vm -T -U -d -i -j -p -v" \
	"$(comp "$D/swackstat" -)"
expect_eq "swackstat -d takes no argument: files are not offered" "" "$(comp "$D/swackstat" -d "")"

# Every option of every command and gate subcommand, as its --help lists it.
for cmd in $("$SWACK" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ && $1 != "gate" { print $1 }') \
	"gate run" "gate hold" "gate release" "gate status"; do
	# shellcheck disable=SC2086 # the gate subcommands are two words
	want=$("$SWACK" $cmd --help | grep -oE -- '^ +(-[A-Za-z?], )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort | tr '\n' ' ' | sed 's/ $//')
	# shellcheck disable=SC2086
	expect_eq "swack $cmd: every long option of its --help" "$want" "$(comp "$SWACK" $cmd -- | tr ' ' '\n' | grep -- '^--' | sort | tr '\n' ' ' | sed 's/ $//')"
done

# Option arguments.
expect_match "-p: the pids of running QEMUs (the real one)" "(^| )$real( |$)" "$(comp "$SWACK" trace -p "")"
expect_match "-p: the pids of running QEMUs (the sim)" "(^| )$sim( |$)" "$(comp "$SWACK" trace -p "")"
# Other QEMUs of this host come and go meanwhile: what was listed before and
# after must be offered, and nothing that was in neither.
"$SWACK" ps | awk 'NR > 1 { print $1 }' | sort >"$D/before"
comp "$SWACK" record -p "" | tr ' ' '\n' | grep -E '^[0-9]+$' | sort >"$D/offered"
"$SWACK" ps | awk 'NR > 1 { print $1 }' | sort >"$D/after"
expect_eq "-p: every QEMU that swack ps lists" "" "$(comm -12 "$D/before" "$D/after" | comm -23 - "$D/offered")"
expect_eq "-p: no pid that is not a QEMU" "" "$(sort -u "$D/before" "$D/after" | comm -13 - "$D/offered")"
expect_eq "-p: VM names too" "compl-real compl-sim" "$(comp "$SWACK" exporter -p compl-)"
expect_eq "--vm: the VM names" "compl-real compl-sim" "$(comp "$SWACK" diagnose --vm compl)"
expect_eq "--vm=: in one word" "compl-real" "$(comp "$SWACK" trace --vm=compl-r)"
expect_eq "swackstat -p: the same" "compl-sim" "$(comp "$D/swackstat" -p compl-s)"
expect_eq "gate run -p: the same" "compl-real" "$(comp "$SWACK" gate run -p compl-r)"
expect_eq "export -F: the formats" "chrome ctf jsonl" "$(comp "$SWACK" export -F "")"
expect_eq "export --format=c" "chrome ctf" "$(comp "$SWACK" export --format=c)"
expect_eq "gate run --actuator: its choices" "auto ptrace write" "$(comp "$SWACK" gate run --actuator "")"
touch "$D/mig.data" "$D/mig2.data"
expect_eq "report: recordings" "mig.data mig2.data" "$(comp "$SWACK" report mig)"
expect_eq "diagnose --html: a file" "mig.data mig2.data" "$(comp "$SWACK" diagnose --html mi)"
expect_eq "trace takes no file operand" "" "$(comp "$SWACK" trace mi)"
