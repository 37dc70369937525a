#!/usr/bin/env bash
# VM identity, on both real QEMUs (Debian's 7.2 and 10.0): guests started as
# management tools start them (-name guest=NAME,debug-threads=on -uuid UUID)
# migrate while `swack record --vm NAME` watches both ends, and every view names
# the VM: attach lines, trace's summary, report (text, JSON), script, swackstat
# on the recording, diagnose (text, JSON, the HTML page's title), the Chrome and
# CTF exports (read back by babeltrace2).  Then the other sources of a name: a
# libvirt run directory (SWACK_LIBVIRT_RUN_DIR) with a domain's pid and status
# XML, a KubeVirt virt-launcher (a kubepods cgroup, -name guest=NAMESPACE_NAME),
# -name NAME alone, a name with a control character, and bad input.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
. "$SWACK_ROOT/tests/lib/qemu.sh"

qemu_setup_dir || exit 1
CG=
extra_cleanup() {
	[[ -n $CG ]] && rmdir "$CG" "${CG%/*}" "${CG%/*/*}" "${CG%/*/*/*}" 2>/dev/null
}
trap 'extra_cleanup; qemu_cleanup' EXIT

# paused NAME QEMU-ARG...: a real QEMU 7.2 with no guest, paused (-S), that
# qemu_cleanup kills; its pid in PAUSED once swack ps lists it.
paused() {
	local name=$1
	shift
	/usr/bin/qemu-system-x86_64 -machine q35,accel=tcg -m 64 -display none -nodefaults -S "$@" \
		</dev/null >"$QDIR/$name.log" 2>&1 &
	PAUSED=$!
	QEMU_PIDS[$name]=$PAUSED
	echo "$PAUSED" >"$QDIR/$name.pid"
	for _ in $(seq 50); do "$SWACK" ps | grep -q "^ *$PAUSED " && return; sleep 0.1; done
}

for v in $SWACK_QEMU_VERSIONS; do
	qemu_use "$v" || exit 1
	n=${v//./}
	vm=web-$n
	uuid=5f0c3b1e-8a2d-4c6f-9e1b-2d3c4b5a6f${n:0:2}
	qemu_identity "src$n" "$vm" "$uuid"
	qemu_identity "dst$n" "$vm" "$uuid"
	port=$(qemu_free_port) || exit 1
	src=$(qemu_start_src "src$n") || exit 1
	dst=$(qemu_start_dst "dst$n" "$port") || exit 1
	qemu_wait_booted "src$n" 120 >/dev/null || exit 1
	rec=$QDIR/$vm.data
	# By name: both ends of the local migration.
	"$SWACK" record -o "$rec" --vm "$vm" --until-done -d 120 2>"$QDIR/rec$v.err" &
	recorder=$!
	"$SWACK" trace -p "$uuid" --until-done -d 120 >"$QDIR/trace$v.out" 2>"$QDIR/trace$v.err" &
	tracer=$!
	wait_attached "$QDIR/rec$v.err" 2 && wait_attached "$QDIR/trace$v.err" 2 || exit 1
	qemu_migrate "src$n" "dst$n" "$port" 40000000 || exit 1
	qemu_wait_migration "src$n" 180 >/dev/null
	wait "$recorder" "$tracer"
	tag="QEMU $v"

	for pid in "$src" "$dst"; do
		expect_match "$tag: record's attach line for $pid names the VM" \
			"^swack: pid $pid \(qemu-system-x86\): .*; vm $vm uuid $uuid \(-name -uuid\)$" \
			"$(grep "^swack: pid $pid " "$QDIR/rec$v.err")"
	done
	expect_eq "$tag: trace -p UUID watched both ends" 2 "$(grep -c '^swack: pid ' "$QDIR/trace$v.err")"
	expect_match "$tag: trace's summary names the VM" \
		"^summary: migration src $src -> dst $dst [a-z-]+: .*; vm $vm$" "$(grep '^summary:' "$QDIR/trace$v.out")"

	rep=$("$SWACK" report "$rec" 2>&1)
	expect_match "$tag: report: the process records keep the VM" \
		"# $rec: pid $src \(qemu-system-x86\) [^ ]*: .*; vm $vm uuid $uuid \(-name -uuid\)" "$rep"
	expect_match "$tag: report: the summary names the VM" "summary: migration src $src -> dst $dst [a-z-]+: .*; vm $vm" "$rep"
	expect_eq "$tag: report --json: vm and uuid on both sides" "$vm $uuid $vm $uuid" \
		"$("$SWACK" report --json "$rec" | jq -r '.migrations[0] | "\(.src.vm) \(.src.uuid) \(.dst.vm) \(.dst.uuid)"')"
	expect_match "$tag: script: the process lines" "# $rec: pid $dst \(qemu-system-x86\): .*; vm $vm uuid $uuid" \
		"$("$SWACK" script "$rec" | grep '^# ')"
	expect_match "$tag: swackstat on the recording: the VM column" \
		" $src src +[a-z-]+ .* $vm$" "$("$SWACK" stat -i "$rec" 0.5 | grep -E " $src src " | tail -1)"
	expect_eq "$tag: swackstat --json: vm and uuid" "$vm $uuid" \
		"$("$SWACK" stat -j -i "$rec" 0.5 | jq -r "select(.pid == $src) | \"\(.vm) \(.uuid)\"" | tail -1)"
	expect_match "$tag: diagnose: the header names the VM" "^diagnosis: migration src $src -> dst $dst [a-z-]+,.*; vm $vm$" \
		"$("$SWACK" diagnose "$rec" | head -1)"
	expect_eq "$tag: diagnose --json: vm and uuid" "$vm $uuid" \
		"$("$SWACK" diagnose --json "$rec" | jq -r '.diagnoses[0] | "\(.vm) \(.uuid)"')"
	"$SWACK" diagnose --html "$QDIR/d$v.html" "$rec" >/dev/null
	expect_eq "$tag: diagnose --html: the page's title" "swack diagnose: vm $vm" \
		"$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$QDIR/d$v.html")"
	"$SWACK" export --format chrome -o "$QDIR/c$v.json" "$rec" 2>/dev/null
	expect_eq "$tag: Chrome export: process names and labels" \
		"vm $vm: qemu $src (src)|vm $vm: qemu $dst (dst)|uuid $uuid|uuid $uuid" \
		"$(jq -r '[.traceEvents[] | select(.name == "process_name") | .args.name] + [.traceEvents[] | select(.name == "process_labels") | .args.labels] | join("|")' "$QDIR/c$v.json")"
	"$SWACK" export --format ctf -o "$QDIR/ctf$v" "$rec" 2>/dev/null
	expect_eq "$tag: CTF export: a process event per process, read by babeltrace2" 2 \
		"$(babeltrace2 "$QDIR/ctf$v" 2>&1 | grep -c "process: { pid = [0-9]*, comm = \"qemu-system-x86\", vm = \"$vm\", uuid = \"$uuid\", vm_via = \"-name -uuid\" }")"
	qemu_stop "src$n"
	qemu_stop "dst$n"
done

# libvirt: the domain whose pid file holds the pid names it, its status XML
# gives the UUID (over QEMU's own -uuid), whatever QEMU's -name says.
qemu_use 7.2 || exit 1
LV=$QDIR/libvirt
mkdir "$LV"
paused lv -name guest=not-the-domain -uuid 11111111-1111-4111-8111-111111111111
lvpid=$PAUSED
echo "$lvpid" >"$LV/db-7.pid"
cat >"$LV/db-7.xml" <<XML
<!-- libvirt's status XML: the domain inside domstatus -->
<domstatus state='running' reason='booted' pid='$lvpid'>
  <monitor path='/var/lib/libvirt/qemu/domain-1-db-7/monitor.sock' type='unix'/>
  <domain type='kvm' id='1'>
    <name>db-7</name>
    <uuid>0BD2B2C4-5E6F-4A7B-8C9D-0E1F2A3B4C5D</uuid>
  </domain>
</domstatus>
XML
echo 4242 >"$LV/other.pid"
expect_eq "libvirt: name from the pid file, UUID from the status XML" \
	"db-7 0bd2b2c4-5e6f-4a7b-8c9d-0e1f2a3b4c5d libvirt" \
	"$(SWACK_LIBVIRT_RUN_DIR=$LV "$SWACK" ps --json | jq -r "select(.pid == $lvpid) | \"\(.vm) \(.uuid) \(.via)\"")"
expect_eq "without the run directory: QEMU's own -name and -uuid" \
	"not-the-domain 11111111-1111-4111-8111-111111111111 -name -uuid" \
	"$(SWACK_LIBVIRT_RUN_DIR=$QDIR/none "$SWACK" ps --json | jq -r "select(.pid == $lvpid) | \"\(.vm) \(.uuid) \(.via)\"")"
SWACK_LIBVIRT_RUN_DIR=$LV "$SWACK" trace --vm db-7 -d 1 >/dev/null 2>"$QDIR/lv.err"
expect_match "libvirt: trace --vm DOMAIN attaches to it and says so" \
	"^swack: pid $lvpid .*; vm db-7 uuid 0bd2b2c4-5e6f-4a7b-8c9d-0e1f2a3b4c5d \(libvirt\)$" "$(cat "$QDIR/lv.err")"
qemu_stop lv

# KubeVirt: virt-launcher runs QEMU in the pod's cgroup, with the pod's libvirt
# naming the domain NAMESPACE_NAME.
paused kv -name guest=prod_vm-7,debug-threads=on
kvpid=$PAUSED
expect_eq "outside a pod, guest=NAMESPACE_NAME is just a name" "prod_vm-7 -name" \
	"$("$SWACK" ps --json | jq -r "select(.pid == $kvpid) | \"\(.vm) \(.via)\"")"
# The cgroup v1 pids hierarchy where there is one (the path is what counts),
# else the unified one.
hier=/sys/fs/cgroup/pids
[[ -f $hier/cgroup.procs ]] || hier=/sys/fs/cgroup
CG=$hier/kubepods/burstable/pod9d1c7e52-0b1a-4c55-9f0e-$$/swacktest
if mkdir -p "$CG" && echo "$kvpid" >"$CG/cgroup.procs"; then
	expect_eq "in a kubepods cgroup: the KubeVirt VM as namespace/name" "prod/vm-7 kubevirt (pod cgroup, -name)" \
		"$("$SWACK" ps --json | jq -r "select(.pid == $kvpid) | \"\(.vm) \(.via)\"")"
	expect_match "--vm NAME finds it without its namespace" "^swack: pid $kvpid .*; vm prod/vm-7 \(kubevirt" \
		"$("$SWACK" trace --vm vm-7 -d 1 2>&1 >/dev/null)"
	expect_match "-p NAMESPACE/NAME finds it too" "^swack: pid $kvpid " \
		"$("$SWACK" trace -p prod/vm-7 -d 1 2>&1 >/dev/null)"
else
	fail "a kubepods cgroup for the test" "cannot create $CG or move pid $kvpid into it"
fi
qemu_stop kv
extra_cleanup
CG=

# -name NAME alone, and a control character in a name: never reaches a terminal.
paused ev -name $'evil\e[2Jvm'
evpid=$PAUSED
expect_eq "-name NAME: the name, control characters as '?'" "evil?[2Jvm -name" \
	"$("$SWACK" ps --json | jq -r "select(.pid == $evpid) | \"\(.vm) \(.via)\"")"
expect_eq "no escape character in the table" 0 "$("$SWACK" ps | grep -c $'\e')"
qemu_stop ev

run_err "--vm with no such VM" "^swack trace: no QEMU process is VM 'no-such-vm' \(by -name, -uuid, libvirt or KubeVirt\): give a running VM's name or UUID, or a pid$" \
	"$SWACK" trace --vm no-such-vm -d 1
run_err "-p with a name no QEMU has" "^swack stat: no QEMU process is VM 'nope'" "$SWACK" stat -p nope 1 1
