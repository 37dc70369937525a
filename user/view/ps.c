// SPDX-License-Identifier: GPL-2.0
/* swack ps: the QEMU processes of this host and the VMs they run. */
#include <argp.h>
#include <limits.h>
#include <stdio.h>
#include "cli/commands.h"
#include "source/proc.h"
#include "source/vmid.h"
#include "util/json.h"
#include "util/term.h"

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON lines instead of a table", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	bool *json = state->input;

	(void)arg;
	if (key == 'j')
		*json = true;
	else if (key == ARGP_KEY_ARG)
		argp_usage(state);
	else
		return ARGP_ERR_UNKNOWN;
	return 0;
}

static const struct argp argp = {
	opts, parse_opt, NULL,
	"List the QEMU system emulators running here, with the VM each one runs: its name "
	"(QEMU's -name, the libvirt domain, or a KubeVirt VM's namespace/name), its UUID, "
	"where they came from, whether it waits for an incoming migration, and its "
	"executable.  The names and UUIDs are what -p and --vm of the live commands take.",
	NULL, NULL, NULL,
};

static void one(pid_t pid, void *ctx)
{
	bool json = *(bool *)ctx;
	char exe[PATH_MAX];
	struct vm_ident id;

	vmid_read(pid, &id);
	if (proc_exe_path(pid, exe, sizeof(exe)))
		snprintf(exe, sizeof(exe), "-");
	if (json) {
		struct jw j;

		jw_init(&j, stdout, 0);
		jw_obj(&j, NULL);
		jw_u64(&j, "pid", pid);
		jw_str(&j, "vm", id.name);
		jw_str(&j, "uuid", id.uuid);
		jw_str(&j, "via", id.via);
		jw_bool(&j, "incoming", proc_incoming(pid));
		jw_str(&j, "exe", exe);
		jw_end(&j);
		return;
	}
	printf("%7d %-20s %-36s %-8s %-13s %s\n", pid, id.name[0] ? id.name : "-",
	       id.uuid[0] ? id.uuid : "-", proc_incoming(pid) ? "yes" : "no",
	       id.via[0] ? id.via : "-", exe);
}

int cmd_ps(int argc, char **argv)
{
	bool json = false;

	if (argp_parse(&argp, argc, argv, 0, NULL, &json))
		return 2;
	term_filter_stdout(false);
	if (!json)
		printf("%7s %-20s %-36s %-8s %-13s %s\n", "PID", "VM", "UUID", "INCOMING", "VIA",
		       "EXE");
	return proc_scan_qemu(one, &json) < 0 ? 1 : 0;
}
