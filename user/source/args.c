// SPDX-License-Identifier: GPL-2.0
/* The argp children of source/args.h. */
#include <stdlib.h>
#include "source/args.h"
#include "source/live.h"
#include "source/proc.h"
#include "source/replay.h"

static const struct argp_option live_opts[] = {
	{ "pid", 'p', "PID", 0, "Watch this QEMU process (repeatable; default: every QEMU, "
	  "including ones started later)", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output and more details", 0 },
	{ 0 },
};

static error_t parse_live(int key, char *arg, struct argp_state *state)
{
	struct live_opts *o = state->input;

	switch (key) {
	case 'v':
		o->verbose = true;
		break;
	case 'p':
		if (o->npids >= LIVE_MAX_PIDS)
			argp_error(state, "at most %d -p options", LIVE_MAX_PIDS);
		if (proc_parse_pid(arg, &o->pids[o->npids++]))
			argp_error(state, "invalid pid '%s': give a positive number", arg);
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

	switch (key) {
	case 'u':
		o->until_done = true;
		break;
	case 'd':
		o->duration = strtod(arg, NULL);
		if (o->duration <= 0)
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
