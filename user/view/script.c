// SPDX-License-Identifier: GPL-2.0
/* swack script: every event of a recording, in time order, as swack trace prints it. */
#include <argp.h>
#include <stdio.h>
#include "cli/commands.h"
#include "event/event.h"
#include "source/args.h"
#include "source/replay.h"
#include "view/summary.h"
#include "util/term.h"

struct script_env {
	struct replay_inputs in;
	bool json;
	__u64 t0;
	struct replay rp;
};

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON lines", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct script_env *env = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->in; break;
	case 'j': env->json = true; break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &replay_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, "[FILE...]",
	"Print every event of a recording in time order, one line each (as swack trace does; "
	"times are seconds since the recording began), then how the file ended.  FILE: "
	"swack.data by default.",
	children, NULL, NULL,
};

static void on_event(void *ctx, const struct swack_event *e, int file)
{
	struct script_env *env = ctx;

	(void)file;
	if (env->json)
		event_print_json(stdout, e);
	else
		event_print_text(stdout, e, env->t0);
}

static void on_record(void *ctx, const struct rec_record *rec, int file)
{
	struct script_env *env = ctx;
	struct rec_process p;
	struct rec_loss l;

	if (env->json)
		return;
	if (rec->type == REC_PROCESS && !rec_decode_process(rec, &p))
		process_print_text(stdout, env->rp.files[file].path, &p, false);
	else if (rec->type == REC_LOSS && !rec_decode_loss(rec, &l))
		printf("# %s: %llu events lost here\n", env->rp.files[file].path,
		       (unsigned long long)l.lost);
}

int cmd_script(int argc, char **argv)
{
	struct script_env env = { 0 };
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	term_filter_stdout(false);
	if (replay_open(&env.rp, &env.in, false, "swack script"))
		return 1;
	env.t0 = recr_header(env.rp.files[0].r)->clock.mono_ns;
	ret = replay_run(&env.rp, NULL, on_event, on_record, &env);
	replay_describe_ends(&env.rp, env.json ? stderr : stdout);
	ret |= replay_damaged(&env.rp, "swack script");
	replay_close(&env.rp);
	return ret ? 1 : 0;
}
