// SPDX-License-Identifier: GPL-2.0
/* The argp children of source/args.h. */
#include <pwd.h>
#include <stdlib.h>
#include "source/args.h"
#include "source/live.h"
#include "source/proc.h"
#include "source/replay.h"
#include "source/vmid.h"

/* --vm has no short option. */
#define OPT_VM 0x7600

static const struct argp_option live_opts[] = {
	{ "pid", 'p', "PID|VM", 0, "Watch this QEMU process, or those of a VM by name or UUID "
	  "(repeatable; default: every QEMU, including ones started later)", 0 },
	{ "vm", OPT_VM, "NAME", 0, "Watch VM NAME: the QEMU processes started with that -name "
	  "or -uuid, or run for that libvirt domain or KubeVirt VM (repeatable)", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output and more details", 0 },
	{ "user", 'U', "USER", 0, "Once attached, run as USER (default: nobody), with only the "
	  "capabilities still needed", 0 },
	{ 0 },
};

static void add_pid(struct argp_state *state, struct live_opts *o, pid_t pid)
{
	if (o->npids >= LIVE_MAX_PIDS)
		argp_error(state, "at most %d processes (-p, --vm)", LIVE_MAX_PIDS);
	o->pids[o->npids++] = pid;
}

/* A VM's name or UUID names every QEMU process it runs as on this host: the
 * source and the destination of a local migration both. */
static void add_target(struct argp_state *state, struct live_opts *o, int key,
		       const char *arg)
{
	pid_t found[LIVE_MAX_PIDS], pid;
	char err[512];
	int k;

	if (key == 'p' && !proc_parse_pid(arg, &pid)) {
		add_pid(state, o, pid);
		return;
	}
	k = vmid_find(arg, found, LIVE_MAX_PIDS, err, sizeof(err));
	if (k < 0)
		argp_failure(state, 1, 0, "%s", err);
	for (int i = 0; i < k; i++)
		add_pid(state, o, found[i]);
}

static error_t parse_live(int key, char *arg, struct argp_state *state)
{
	struct live_opts *o = state->input;

	switch (key) {
	case 'v':
		o->verbose = true;
		break;
	case 'U':
		if (!getpwnam(arg))
			argp_error(state, "no user '%s' to run as once attached: give an existing "
				   "user to --user", arg);
		o->user = arg;
		break;
	case 'p':
	case OPT_VM:
		add_target(state, o, key, arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp live_argp = { live_opts, parse_live, NULL, NULL, NULL, NULL, NULL };

/* -d alone is the tail of this list. */
static const struct argp_option until_opts[] = {
	{ "until-done", 'u', NULL, 0, "Stop once every migration seen has ended", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds", 0 },
	{ 0 },
};

static error_t parse_until(int key, char *arg, struct argp_state *state)
{
	struct live_loop *o = state->input;
	char *end;

	switch (key) {
	case 'u':
		o->until_done = true;
		break;
	case 'd':
		o->duration = strtod(arg, &end);
		if (end == arg || *end || !(o->duration > 0 && o->duration <= 1e9))
			argp_error(state, "invalid duration '%s': give seconds > 0", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp live_until_argp = { until_opts, parse_until, NULL, NULL, NULL, NULL, NULL };
const struct argp live_duration_argp = { until_opts + 1, parse_until, NULL, NULL, NULL, NULL,
					 NULL };

static const struct argp_option replay_opts[] = {
	{ "input", 'i', "FILE", 0, "Read recording FILE (repeatable: a source's and a "
	  "destination's recorded on two hosts)", 0 },
	{ 0 },
};

static error_t parse_inputs(int key, char *arg, struct argp_state *state)
{
	struct replay_inputs *in = state->input;

	if (key != 'i' && key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	if (in->n >= REPLAY_MAX_FILES)
		argp_error(state, "at most %d recordings", REPLAY_MAX_FILES);
	in->paths[in->n++] = arg;
	return 0;
}

const struct argp replay_argp = { replay_opts, parse_inputs, NULL, NULL, NULL, NULL, NULL };
