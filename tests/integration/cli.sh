#!/usr/bin/env bash
# Every command has --help and a man page that `make install` installs.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

cmds=$("$SWACK" --help | awk '/^Commands:/ { on = 1; next } on && !NF { exit } on { print $1 }')
expect_num "swack --help lists the commands" "$(wc -w <<<"$cmds")" -ge 5
inst=$(mktemp -d)
trap 'rm -rf "$inst"' EXIT
make -s -C "$SWACK_ROOT" install DESTDIR="$inst" PREFIX=/usr >/dev/null
expect_eq "make install puts swack in sbin" 1 "$([[ -x $inst/usr/sbin/swack ]] && echo 1)"
for c in $cmds; do
	out=$("$SWACK" "$c" --help 2>&1)
	expect_eq "$c --help exits 0" 0 "$?"
	expect_match "$c --help: usage line" "^Usage: swack $c " "$out"
	expect_eq "$c: man page installed" 1 "$([[ -f $inst/usr/share/man/man8/swack-$c.8 ]] && echo 1)"
	expect_match "$c: man page renders" "swack-$c" "$(MANWIDTH=80 man -l "$inst/usr/share/man/man8/swack-$c.8" 2>/dev/null | head -5)"
done
expect_eq "swack.8 and swack-data.5 installed" "1 1" \
	"$([[ -f $inst/usr/share/man/man8/swack.8 ]] && echo 1) $([[ -f $inst/usr/share/man/man5/swack-data.5 ]] && echo 1)"
out=$("$SWACK" frobnicate 2>&1)
expect_eq "unknown command: exit 2" 2 "$?"
expect_match "unknown command: one line" "^swack: unknown command 'frobnicate': see 'swack --help'$" "$out"
