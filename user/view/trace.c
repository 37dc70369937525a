// SPDX-License-Identifier: GPL-2.0
/* swack trace: one line per event, a summary line per migration. */
#include <argp.h>
#include <signal.h>
#include <stdio.h>
#include "cli/commands.h"
#include "event/event.h"
#include "source/args.h"
#include "source/live.h"
#include "util/clock.h"
#include "util/json.h"
#include "view/summary.h"
#include "util/term.h"

struct trace_env {
	struct live_opts live;
	struct live_loop loop;
	bool json;
	unsigned long long t0;
	unsigned reported;
};

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON lines instead of text", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct trace_env *env = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env->live;
		state->child_inputs[1] = &env->loop;
		break;
	case 'j': env->json = true; break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &live_argp, 0, NULL, 0 },
	{ &live_until_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, NULL,
	"Print QEMU live-migration events as they happen, one line each.\v"
	"Columns: seconds since start, pid/tid, role (src, dst), event, fields. "
	"A summary line follows each migration: total time, iterations, bytes, the "
	"downtime QEMU reports (source side) and the guest-visible downtime (source "
	"vCPU stop to destination vCPU resume).",
	children, NULL, NULL,
};

static void on_event(void *ctx, const struct swack_event *e)
{
	struct trace_env *env = ctx;

	if (env->json)
		event_print_json(stdout, e);
	else
		event_print_text(stdout, e, env->t0);
}

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct trace_env *env = ctx;

	env->reported++;
	if (env->json) {
		struct jw j;

		jw_init(&j, stdout, 0);
		summary_json(&j, src, dst);
	} else
		summary_print_text(stdout, src, dst);
}

static int run(struct trace_env *env)
{
	struct live_cbs cbs = { .event = on_event, .ctx = env };
	struct model model;
	struct live live;
	char err[512];
	int ret;

	model_init(&model, on_done, env);
	if (live_open(&live, &env->live, &model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack trace: %s\n", err);
		model_free(&model);
		return 1;
	}
	if (live_drop_privileges(&live, &env->live, err, sizeof(err))) {
		fprintf(stderr, "swack trace: %s\n", err);
		live_close(&live);
		model_free(&model);
		return 1;
	}
	env->t0 = now_ns();
	ret = live_run(&live, &env->loop);
	model_flush(&model);
	if (model_evicted_note(&model, err, sizeof(err)))
		fprintf(stderr, "swack trace: %s\n", err);
	if (live_lost(&live))
		fprintf(stderr, "swack trace: %llu events lost (ring buffer full)\n",
			live_lost(&live));
	live_close(&live);
	model_free(&model);
	return ret ? 1 : 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_env env = { 0 };

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	live_handle_signals();
	term_filter_stdout(true);
	return run(&env);
}
