#!/usr/bin/env bash
# The Debian package: `make deb`, lintian, `dpkg -i` on this machine, the
# exporter's unit verified (systemd-analyze verify, and its exposure with
# systemd-analyze security), the service started with the unit's exact command
# line and capability set (by systemctl where systemd runs; else by hand:
# setpriv for the capabilities and no_new_privs, a private mount namespace for
# ProtectSystem=strict and PrivateTmp), scraped while a VM migrates, then
# `dpkg -r` and nothing of the package left.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"

D=$(mktemp -d)
PIDS=()
ENVFILE=/etc/default/swack-exporter
cleanup() {
	kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	[[ -f $D/envfile.ours ]] && rm -f "$ENVFILE"
	dpkg -s swack >/dev/null 2>&1 && dpkg -r swack >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT
UNIT=/lib/systemd/system/swack-exporter.service

deb=$(make -s -C "$SWACK_ROOT" deb 2>"$D/make.err" | tail -1)
expect_match "make deb builds the package" "build/swack_[0-9.]+_$(dpkg --print-architecture)\.deb$" "$deb"
[[ -f $deb ]] || { fail "make deb" "$(tail -5 "$D/make.err")"; exit 1; }

# lintian: no error, no warning; the two informational tags are the ones the
# README justifies, so a new one fails here.
lintian -EI --pedantic "$deb" >"$D/lintian" 2>/dev/null
expect_eq "lintian: no error or warning" "" "$(grep -E '^[EW]: ' "$D/lintian")"
expect_eq "lintian: only the informational tags the README explains" \
	"I: swack: package-supports-alternative-init-but-no-init.d-script [lib/systemd/system/swack-exporter.service]|I: swack: spelling-error-in-binary prefered preferred [usr/sbin/swack]" \
	"$(grep -vE '^[EW]: ' "$D/lintian" | sort | paste -sd'|')"

if dpkg -s swack >/dev/null 2>&1; then
	fail "swack not installed before the test" "dpkg -s swack: installed already; remove it first"
	exit 1
fi
dpkg -i "$deb" >"$D/dpkg.out" 2>&1
expect_eq "dpkg -i installs it" "install ok installed" "$(dpkg-query -W -f '${Status}' swack 2>/dev/null)"
dpkg -L swack | sort >"$D/files"
expect_eq "the binary runs" "swack 0.1" "$(/usr/sbin/swack --version)"
expect_match "the swackstat link is swack stat" "^Usage: swackstat " "$(/usr/sbin/swackstat --help | head -1)"
for p in swack swack-trace swack-record swack-report swack-diagnose swack-script swack-export \
	swack-gate swack-stat swack-exporter swack-ps; do
	expect_match "man page $p" "/usr/share/man/man8/$p\.8\.gz$" "$(man -w "$p" 2>&1)"
done
expect_match "man swackstat is swack-stat's page" "/usr/share/man/man8/swack-?stat\.8\.gz$" \
	"$(man -w swackstat 2>&1)"
expect_match "man page swack-data(5)" "/usr/share/man/man5/swack-data\.5\.gz$" "$(man -w 5 swack-data 2>&1)"
for f in /usr/share/bash-completion/completions/swack /usr/share/bash-completion/completions/swackstat \
	/usr/share/swack/prometheus/swack.rules.yml /usr/share/swack/prometheus/swack.rules.test.yml \
	/usr/share/swack/grafana/swack.json "$UNIT"; do
	expect_eq "installed: $f" yes "$([[ -e $f ]] && echo yes || echo no)"
done
expect_match "the installed rules pass their own unit tests" "SUCCESS" \
	"$(cd /usr/share/swack/prometheus && promtool test rules swack.rules.test.yml 2>&1)"
expect_eq "not enabled by the package: an operator enables it" "" \
	"$(ls /etc/systemd/system/*.wants/swack-exporter.service 2>/dev/null)"

# The unit.
expect_eq "systemd-analyze verify: no complaint" "" "$(systemd-analyze verify "$UNIT" 2>&1)"
exposure=$(systemd-analyze security --offline=true "$UNIT" 2>&1 | sed -n 's/.*Overall exposure level for swack-exporter.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security: exposure $exposure"
expect_num "systemd-analyze security: exposure below 5 (OK)" "${exposure:-10}" "<" 5
prop() { sed -n "s/^$1=//p" "$UNIT"; }
expect_eq "hardening in the unit" "yes strict yes" "$(prop NoNewPrivileges) $(prop ProtectSystem) $(prop PrivateTmp)"
expect_eq "only the capabilities it needs" "CAP_BPF CAP_PERFMON CAP_SYS_PTRACE" \
	"$(prop CapabilityBoundingSet)"
expect_eq "real-time priority 1 at most, for the reader while the kernel hooks are off" 1 \
	"$(prop LimitRTPRIO)"
expect_eq "loopback by default" "SWACK_EXPORTER_OPTS=--listen=127.0.0.1:9477" "$(prop Environment)"
expect_eq "options from an EnvironmentFile" "-$ENVFILE" "$(prop EnvironmentFile)"

# A VM to watch (the service watches it alone, not the other QEMUs of this
# shared host), and the options an operator would put in the EnvironmentFile.
mkfifo "$D/go.src" "$D/go.dst"
exec {gs}<>"$D/go.src" {gd}<>"$D/go.dst"
mkdir "$D/sync"
for side in src dst; do
	fd=$gs
	[[ $side == dst ]] && fd=$gd
	QEMU_SIM_SYNC=$D/sync "$SWACK_ROOT/build/fixtures/qemu-system-sim102" \
		-name guest=deb-vm,debug-threads=on -uuid 3e1d5c2a-7b9f-4d6e-8c0a-1f2e3d4c5b6a -q -w \
		"$SWACK_ROOT/tests/fixtures/scenarios/precopy-basic.$side" <&$fd >/dev/null 2>&1 &
	PIDS+=($!)
done
port=$((20000 + RANDOM % 40000))
[[ -e $ENVFILE ]] && { fail "no $ENVFILE before the test" "it exists: not ours to overwrite"; exit 1; }
echo "SWACK_EXPORTER_OPTS=\"--listen=127.0.0.1:$port --vm deb-vm\"" >"$ENVFILE"
touch "$D/envfile.ours"

# ExecStart as systemd expands it: $VAR split on blanks, the EnvironmentFile over Environment=.
opts=$(env -i bash -c "$(prop Environment | sed 's/^/export /'); set -a; . $ENVFILE; echo \$SWACK_EXPORTER_OPTS")
read -r -a cmd <<<"$(prop ExecStart | sed "s|\$SWACK_EXPORTER_OPTS|$opts|")"
caps=$(prop CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
if [[ -d /run/systemd/system ]]; then
	echo "# systemd runs: systemctl start swack-exporter"
	systemctl daemon-reload && systemctl start swack-exporter
	svc=$(systemctl show -p MainPID --value swack-exporter)
	journalctl -fu swack-exporter -o cat >"$D/svc.err" 2>&1 &
	PIDS+=($!)
else
	echo "# systemd is not PID 1 here: the unit's command line, capabilities and mounts by hand"
	# LimitRTPRIO=1, where this root may raise RLIMIT_RTPRIO (CAP_SYS_RESOURCE).
	limit="prlimit --rtprio=$(prop LimitRTPRIO):$(prop LimitRTPRIO)"
	$limit true 2>/dev/null || { echo "# LimitRTPRIO not applied: this root cannot raise RLIMIT_RTPRIO"; limit=; }
	unshare --mount --propagation private bash -c '
		mount -o remount,bind,ro / &&                      # ProtectSystem=strict
		mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp &&   # PrivateTmp
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $1 setpriv --reuid=0 --regid=0 \
			--clear-groups --bounding-set="-all,$0" --inh-caps="-all,$0" \
			--ambient-caps="-all,$0" --no-new-privs "${@:2}"' "$caps" "$limit" "${cmd[@]}" \
		>"$D/svc.out" 2>"$D/svc.err" &
	svc=$!
	PIDS+=($svc)
fi
wait_attached "$D/svc.err" 2 || fail "the service attached" "$(cat "$D/svc.err")"
for _ in $(seq 100); do grep -q serving "$D/svc.err" && break; sleep 0.1; done
expect_match "it serves on the address of the EnvironmentFile" "serving http://127.0.0.1:$port/metrics" \
	"$(cat "$D/svc.err")"
pid=$svc   # unshare, env and setpriv each exec the next: the service's pid
expect_eq "no_new_privs" 1 "$(awk '/^NoNewPrivs/ { print $2 }' "/proc/$pid/status")"
# With --vm, once attached it keeps only CAP_SYS_PTRACE (bit 19) and CAP_BPF
# (bit 39); the bounding set stays the unit's three (dropping from it would take
# CAP_SETPCAP).
expect_eq "capabilities once attached: CAP_SYS_PTRACE and CAP_BPF" "0000008000080000 0000008000080000" \
	"$(awk '/^CapEff|^CapPrm/ { printf "%s ", $2 }' "/proc/$pid/status" | sed 's/ $//')"
expect_eq "bounding set: the unit's CapabilityBoundingSet" 000000c000080000 \
	"$(awk '/^CapBnd/ { print $2 }' "/proc/$pid/status")"
expect_eq "listening on loopback only" "127.0.0.1:$port" \
	"$(ss -Htlnp | awk -v p="pid=$pid," 'index($0, p) { print $4 }')"
expect_eq "/ is read-only for it (ProtectSystem=strict)" ro \
	"$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$pid/mountinfo")"
echo go >&"$gs"
echo go >&"$gd"
for _ in $(seq 100); do
	curl -s "http://127.0.0.1:$port/metrics" >"$D/metrics"
	grep -q 'swack_migrations_total{role="src",result="completed"} 1' "$D/metrics" && break
	sleep 0.2
done
expect_match "scraped: the VM's migration, by name and UUID" \
	'swack_migration_iterations\{pid="[0-9]+",vm="deb-vm",uuid="3e1d5c2a-7b9f-4d6e-8c0a-1f2e3d4c5b6a",role="src"\} 3' \
	"$(cat "$D/metrics")"
expect_match "scraped: both ends completed" 'swack_migrations_total\{role="dst",result="completed"\} 1' \
	"$(cat "$D/metrics")"
if [[ -d /run/systemd/system ]]; then
	systemctl stop swack-exporter
else
	kill -TERM "$svc"
	wait "$svc"
	expect_eq "SIGTERM (systemctl stop) ends it cleanly" 0 "$?"
fi

rm -f "$ENVFILE" "$D/envfile.ours"
dpkg -r swack >"$D/dpkg-r.out" 2>&1
expect_eq "dpkg -r removes it: nothing left in dpkg's database" "" "$(dpkg-query -W -f '${Status}' swack 2>/dev/null)"
left=$(while read -r f; do [[ ( -f $f || -L $f ) && ! -d $f ]] && echo "$f"; done <"$D/files")
expect_eq "dpkg -r: no file of the package left" "" "$left"
expect_eq "dpkg -r: its own directories gone" "" \
	"$(ls -d /usr/share/swack /usr/share/doc/swack 2>/dev/null)"
