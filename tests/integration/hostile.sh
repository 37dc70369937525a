#!/usr/bin/env bash
# Hostile strings in a recording (as a traced QEMU or a crafted file could put
# them: host, kernel, boot id, process names, device names, vmstate ids,
# reasons): escaped for where each goes.  Terminal: no control character
# (C0 but line breaks and tabs, DEL, C1) and no byte that is not UTF-8 reaches
# standard output, they show as \xNN; JSON: valid, the values read back;
# CTF: babeltrace2 reads the trace and its environment; HTML: nothing ends
# the page's <script> elements early.  Crafted with tests/fixtures/mkrec.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MKREC=$SWACK_ROOT/build/fixtures/mkrec

# ESC ] OSC title, ESC [ CSI colours and screen clear, BEL, C1 CSI (UTF-8
# c2 9b), a byte that is no UTF-8 (ff), quotes, backslash, line break, </script>.
HOST='h\x1b]0;pwned\x07"\\q'
KERNEL='6.1"\x0a};\x20trace\x20{'
BOOT='b","k":"v\x1b[2J'
COMM='\x1b[31mevil'
DEV='\x1b[1mDEV</script><script>x=1</script>'
IDSTR='\xc2\x9b31mram\xff'
REASON='stop\x1bc\x0ainjected'
cat >"$W/h.txt" <<EOF
header host=$HOST kernel=$KERNEL boot_id=$BOOT mono=1 real=1
process 100 comm=$COMM exe=/usr/bin/qemu\x1b[2J gen=8.1 attach=ok\x1b]52;c;ZXZpbA==\x07 vm=\x1b[31mweb\x9b
event 1000000000 100 mig_state role=1 str=setup
event 1001000000 100 vfio_pending role=1 dev=$DEV a3=4096
event 1002000000 100 mig_state role=1 str=active
event 1003000000 100 vm_stop role=1 str=$REASON
event 1004000000 100 vmstate_save role=1 str=$IDSTR dev=$IDSTR a0=1
event 1004500000 100 vmstate_save role=1 str=$IDSTR dev=$IDSTR flags=1 a0=1
event 1005000000 100 vm_stopped role=1 str=$REASON
event 1006000000 100 mig_state role=1 str=completed
end done\x1b[2J
EOF
"$MKREC" "$W/h.data" <"$W/h.txt" || { fail "mkrec" "cannot write the hostile recording"; exit 1; }

# Bytes that act on a terminal: C0 but \n and \t, DEL; C1 as UTF-8; no UTF-8.
controls() { LC_ALL=C tr -d '\n\t\040-\176\200-\377' <"$1" | wc -c; }
c1_or_bad() { LC_ALL=C grep -caP '\xc2[\x80-\x9f]|\xff' "$1"; }
for cmd in report script diagnose "stat -i"; do
	# shellcheck disable=SC2086
	"$SWACK" $cmd "$W/h.data" >"$W/out" 2>/dev/null
	expect_eq "$cmd: no control character reaches the terminal" 0 "$(controls "$W/out")"
	expect_eq "$cmd: no C1 control, no byte that is not UTF-8" 0 "$(c1_or_bad "$W/out")"
done
"$SWACK" script "$W/h.data" >"$W/script.out" 2>/dev/null
expect_match "script: the escape shows as \\x1b" 'comm=\\x1b\[31mevil|\(\\x1b\[31mevil\)' "$(cat "$W/script.out")"
expect_match "script: a line break in a reason stays on its line" 'reason=stop\\x1bc\\x0ainjected' \
	"$(cat "$W/script.out")"
expect_match "script: C1 and a stray byte shown" 'type=\\xc2\\x9b31mram\\xff' "$(cat "$W/script.out")"
"$SWACK" report "$W/h.data" >"$W/report.out" 2>/dev/null
expect_match "report: the header, escaped" \
	'host h\\x1b\]0;pwned\\x07"\\q, kernel 6.1"\\x0a\}; trace \{, boot b","k":"v\\x1b\[2J' \
	"$(cat "$W/report.out")"
expect_match "report: the VM name from the file, its controls as '?'" \
	'; vm \?\[31mweb\\x9b \(-name -uuid\)' "$(cat "$W/report.out")"
expect_match "report: the device, escaped" 'device \\x1b\[1mDEV</script>' "$(cat "$W/report.out")"

# JSON: valid, and each value reads back as it was.
out=$("$SWACK" report --json "$W/h.data" 2>/dev/null)
expect_eq "report --json: valid JSON" 0 "$(jq -e . <<<"$out" >/dev/null 2>&1; echo $?)"
expect_eq "report --json: boot_id reads back (no key injected)" \
	"$(printf 'b","k":"v\x1b[2J')" "$(jq -r '[.. | .boot_id? // empty][0]' <<<"$out")"
expect_eq "report --json: host reads back" "$(printf 'h\x1b]0;pwned\x07"\\q')" \
	"$(jq -r '[.. | .host? // empty][0]' <<<"$out")"
for cmd in "diagnose --json" "export -F jsonl" "stat -i --json" "script --json"; do
	# shellcheck disable=SC2086
	"$SWACK" $cmd "$W/h.data" >"$W/j" 2>/dev/null
	expect_eq "$cmd: every line valid JSON" 0 "$(jq -e . "$W/j" >/dev/null 2>&1; echo $?)"
	expect_eq "$cmd: no control character" 0 "$(controls "$W/j")"
done
# (a device name is 31 bytes at most: the rest was cut when the file was written)
expect_eq "script --json: the device name reads back" "$(printf '\x1b[1mDEV</script><script>x=1</sc')" \
	"$(jq -r 'select(.event == "vfio_pending") | .dev' "$W/j" 2>/dev/null | head -1)"

# CTF: the metadata parses; the environment keeps the strings.
"$SWACK" export -F ctf -o "$W/ctf" "$W/h.data" 2>/dev/null
expect_eq "export ctf: written" 0 "$?"
bt=$(babeltrace2 "$W/ctf" -c sink.text.details 2>&1)
expect_eq "babeltrace2 reads the hostile trace" 0 "$?"
expect_match "babeltrace2: the hostname, whole" 'hostname: h.\]0;pwned."\\q' "$bt"
expect_match "babeltrace2: the boot id, whole" 'boot_id: b","k":"v.\[2J' "$bt"
expect_match "babeltrace2: the events" "Event class .vfio_pending" "$bt"

# HTML: the page has exactly its own two <script> elements; the data parses.
"$SWACK" diagnose --html "$W/d.html" "$W/h.data" >/dev/null 2>&1
expect_eq "diagnose --html: two <script> elements, none injected" 2 \
	"$(grep -o '<script' "$W/d.html" | wc -l)"
data=$(sed -n 's:.*<script type="application/json" id="swack-data">\(.*\)</script>.*:\1:p' "$W/d.html" |
	sed 's:</script>.*::')
expect_eq "diagnose --html: its data is valid JSON" 0 "$(jq -e . <<<"$data" >/dev/null 2>&1; echo $?)"
expect_eq "diagnose --html: no raw </script> from the device name" 0 \
	"$(grep -c '<script>x=1' "$W/d.html")"

# Live: a VM name from QEMU's command line (any user who starts a QEMU writes
# it) reaches swack's attach line on stderr with its control characters as '?'
# (the model's VM identity), and a UUID that is not one is not shown.
mkfifo "$W/go"
exec {go}<>"$W/go"
"$SWACK_ROOT/build/fixtures/qemu-system-sim102" -name "guest=$(printf '\e]0;vm\a\e[2J'),debug-threads=on" \
	-uuid "$(printf '\e[31m')" -q -w "$SWACK_ROOT/tests/fixtures/gate-hold.src" <&$go >/dev/null 2>&1 &
sim=$!
"$SWACK" trace -p "$sim" >/dev/null 2>"$W/live.err" &
tr=$!
wait_attached "$W/live.err" 1
kill -INT "$tr"
wait "$tr"
kill "$sim"
wait "$sim" 2>/dev/null
exec {go}>&-
expect_match "live attach line: the VM name's controls shown as '?', no UUID" \
	'; vm \?\]0;vm\?\?\[2J \(-name\)$' "$(grep '^swack: pid' "$W/live.err")"
expect_eq "live attach lines: no control character" 0 "$(controls "$W/live.err")"
