// SPDX-License-Identifier: GPL-2.0
/* swack stat, also installed as swackstat: live or from a recording. */
#include <argp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "event/event.h"
#include "source/args.h"
#include "source/live.h"
#include "source/replay.h"
#include "util/clock.h"
#include "util/json.h"
#include "view/stat.h"
#include "util/term.h"

struct stat_env {
	struct live_opts live;
	struct stat_view view;
	struct replay_inputs input;
	double interval;
	long count, done;
	bool tui;
	struct stat_tui *t;
	struct model model;
	uint64_t next;        /* replay: the next interval boundary, event time */
};

static const struct argp_option opts[] = {
	{ "devices", 'd', NULL, 0, "A line per VFIO device too", 0 },
	{ "json", 'j', NULL, 0, "JSON lines", 0 },
	{ "full-screen", 'T', NULL, 0, "Full-screen view (keys: s sort, h help, q quit)", 0 },
	{ "input", 'i', "FILE", 0, "Replay a recording instead of watching live", 0 },
	{ 0 },
};

/* From a millisecond to a day: a step of whole nanoseconds, never 0. */
static void parse_interval(struct argp_state *state, const char *arg, struct stat_env *env)
{
	char *end;

	env->interval = strtod(arg, &end);
	if (end == arg || *end || !(env->interval >= 0.001 && env->interval <= 86400))
		argp_error(state, "invalid interval '%s': give seconds from 0.001 to 86400", arg);
}

static void parse_count(struct argp_state *state, const char *arg, struct stat_env *env)
{
	char *end;

	errno = 0;
	env->count = strtol(arg, &end, 10);
	if (errno || end == arg || *end || env->count <= 0)
		argp_error(state, "invalid count '%s': give a number > 0", arg);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct stat_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->live; break;
	case 'd': env->view.devices = true; break;
	case 'j': env->view.json = true; break;
	case 'T': env->tui = true; break;
	case 'i': env->input.paths[0] = arg; env->input.n = 1; break;
	case ARGP_KEY_ARG:
		if (state->arg_num == 0)
			parse_interval(state, arg, env);
		else if (state->arg_num == 1)
			parse_count(state, arg, env);
		else
			argp_usage(state);
		break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &live_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, "[INTERVAL [COUNT]]",
	"Live dashboard of QEMU live migrations, like vmstat: every INTERVAL seconds "
	"(default 1), a line per migrating VM: role, phase, iteration, remaining bytes, "
	"bandwidth, pending switchover ACKs, VFIO initial and dirty bytes, regrowths, "
	"expected downtime (remaining / bandwidth) against QEMU's downtime limit, and the "
	"real downtime once it ended.  With -T, a full-screen view.\v"
	"Lines end with 'converged, waiting' when the source converged but did not switch "
	"over (a switchover ACK pending), or 'over budget' when the expected downtime is "
	"above the limit.",
	children, NULL, NULL,
};

static void on_event(void *ctx, const struct swack_event *e)
{
	struct stat_env *env = ctx;
	char line[256];
	FILE *f;

	if (!env->t)
		return;
	f = fmemopen(line, sizeof(line), "w");
	if (!f)
		return;
	event_print_text(f, e, env->view.t0);
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	stat_tui_log(env->t, line);
}

static void interval(struct stat_env *env, uint64_t now)
{
	stat_print_interval(&env->view, &env->model, now);
	if (env->count && ++env->done >= env->count)
		live_request_stop();
}

static void tick(void *ctx)
{
	struct stat_env *env = ctx;
	static double last;
	double t = now_sec();
	bool due = t - last >= env->interval;

	if (due)
		last = t;
	if (env->t) {
		if (!stat_tui_update(env->t, &env->model, due))
			live_request_stop();
	} else if (due) {
		interval(env, now_ns());
	}
}

static int run_live(struct stat_env *env)
{
	struct live_cbs cbs = { .event = on_event, .ctx = env };
	struct live_loop loop = { .tick_ms = env->tui ? 100 : (int)(env->interval * 1000),
				  .tick = tick, .ctx = env };
	struct live live;
	char err[512];

	if (live_open(&live, &env->live, &env->model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack stat: %s\n", err);
		return 1;
	}
	if (live_drop_privileges(&live, &env->live, err, sizeof(err))) {
		fprintf(stderr, "swack stat: %s\n", err);
		live_close(&live);
		return 1;
	}
	env->view.t0 = now_ns();
	if (env->tui && !(env->t = stat_tui_open())) {
		fprintf(stderr, "swack stat: cannot start the full-screen view (TERM=%s)\n",
			getenv("TERM") ?: "unset");
		live_close(&live);
		return 1;
	}
	if (!env->tui)
		stat_print_header(&env->view);
	live_run(&live, &loop);
	if (env->t)
		stat_tui_close(env->t);
	live_close(&live);
	return 0;
}

#define GAP_LINES 60

/* The first interval boundary after ts, saturated at the clock's end. */
static uint64_t boundary_after(uint64_t from, uint64_t ts, uint64_t step)
{
	uint64_t k = (ts - from) / step + 1;

	return k > (UINT64_MAX - from) / step ? UINT64_MAX : from + k * step;
}

/* Intervals without events beyond GAP_LINES are not printed: said in a line. */
static void skipped(struct stat_env *env, uint64_t n, uint64_t now)
{
	struct jw j;

	if (!env->view.json) {
		fprintf(env->view.out, "# %llu intervals without events skipped (%.3f s)\n",
			(unsigned long long)n, n * env->interval);
		return;
	}
	jw_init(&j, env->view.out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "ts", now);
	jw_u64(&j, "skipped_intervals", n);
	jw_end(&j);
}

/* Replay: the same lines, at the same intervals of the recording's time, as
 * live would print them; a gap of more than GAP_LINES intervals without events
 * (a recording's clock may jump by years) is jumped over. */
static void replay_event(void *ctx, const struct swack_event *e, int file)
{
	struct stat_env *env = ctx;
	uint64_t step = (uint64_t)(env->interval * 1e9);

	(void)file;
	if (!env->next)
		env->next = boundary_after(e->ts, e->ts, step);
	for (int k = 0; k < GAP_LINES && e->ts >= env->next && !live_stopped(); k++) {
		interval(env, env->next);
		env->next = boundary_after(env->next, env->next, step);
	}
	if (e->ts < env->next || live_stopped())
		return;
	skipped(env, (e->ts - env->next) / step + 1, env->next);
	env->next = boundary_after(env->next, e->ts, step);
}

static int run_replay(struct stat_env *env)
{
	struct replay rp;
	char note[256];
	int ret;

	if (replay_open(&rp, &env->input, false, "swack stat"))
		return 1;
	env->view.t0 = recr_header(rp.files[0].r)->clock.mono_ns;
	stat_print_header(&env->view);
	ret = replay_run(&rp, &env->model, replay_event, NULL, env) ? 1 : 0;
	if (!live_stopped())
		interval(env, env->next);
	if (!env->view.json)
		replay_describe_ends(&rp, env->view.out);
	if (model_evicted_note(&env->model, note, sizeof(note)))
		fprintf(stderr, "swack stat: %s\n", note);
	ret |= replay_damaged(&rp, "swack stat");
	replay_close(&rp);
	return ret;
}

int cmd_stat(int argc, char **argv)
{
	struct stat_env env = { .interval = 1 };
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	/* Lines carry VM and device names: escaped (the full-screen view draws
	 * them through curses, which shows control characters as ^X). */
	if (env.tui)
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		term_filter_stdout(true);
	env.view.out = stdout;
	live_handle_signals();
	model_init(&env.model, NULL, NULL);
	ret = env.input.n ? run_replay(&env) : run_live(&env);
	model_free(&env.model);
	free(env.view.shown);
	return ret;
}
