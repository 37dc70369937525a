// SPDX-License-Identifier: GPL-2.0
/*
 * swack diagnose: live (-p PID, or every QEMU) or from recordings, one host
 * or two.  A migration is diagnosed as it ends; one the model reported alone
 * waits (a copy: the model frees its own) for a lone migration of the other side that
 * ran alongside it, so that a source whose destination the model could not
 * pair (a migration cancelled before the source stopped) is diagnosed with it.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "diagnose/diagnose.h"
#include "source/args.h"
#include "source/live.h"
#include "source/replay.h"
#include "util/json.h"
#include "util/term.h"

/* Lone migrations waiting for a partner; beyond, the oldest is diagnosed alone. */
#define MAX_LONE 64

struct diag_env {
	struct replay_inputs in;
	struct live_opts live;
	struct live_loop loop;
	bool json, realtime;
	const char *html;
	struct diag_opts o;
	struct model *model;
	struct mig *lone[MAX_LONE];   /* copies: the model frees its own */
	int nlone;
	int n;                        /* diagnoses written */
	struct jw j;
	struct diag_html *page;
	char html_err[512];
};

enum { OPT_HTML = 256, OPT_LIMIT };

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON instead of text", 0 },
	{ "html", OPT_HTML, "FILE", 0, "Also write a self-contained HTML page with the "
	  "timeline of both sides to FILE", 0 },
	{ "downtime-limit", OPT_LIMIT, "MS", 0, "The downtime limit set in QEMU "
	  "(migrate-set-parameters downtime-limit); default: as QEMU's threshold implies, when "
	  "QEMU traces its bandwidth", 0 },
	{ "realtime", 'r', NULL, 0, "Align recordings through their realtime clocks", 0 },
	{ 0 },
};

static void parse_limit(struct argp_state *state, const char *arg, struct diag_env *env)
{
	char *end;
	double ms = strtod(arg, &end);

	if (*end || ms <= 0)
		argp_error(state, "invalid downtime limit '%s': give milliseconds > 0", arg);
	env->o.limit_ns = (int64_t)(ms * 1e6);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct diag_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env->in;
		state->child_inputs[1] = &env->live;
		state->child_inputs[2] = &env->loop;
		break;
	case 'j': env->json = true; break;
	case 'r': env->realtime = true; break;
	case OPT_HTML: env->html = arg; break;
	case OPT_LIMIT: parse_limit(state, arg, env); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Recordings, or live (-p, or neither) until the migrations seen end. */
static const struct argp_child children[] = {
	{ &replay_argp, 0, NULL, 0 },
	{ &live_argp, 0, NULL, 0 },
	{ &live_duration_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, "[FILE...]",
	"Explain a migration's downtime: ranked findings, each with its figures, the events "
	"it rests on and what to change where the evidence supports it.\v"
	"With FILEs (or -i), diagnoses recordings; with -p, or neither, watches QEMU live "
	"until the migrations seen end (or Ctrl-C), then diagnoses them. Findings: "
	"migration-failed, ack-underflow, downtime-over-limit, ack-missing, no-convergence, "
	"migration-cancelled, ack-delayed, device-downtime, multifd-starved, ack-rerequested, "
	"switchover-held, downtime-underreported, slow-convergence, downtime-breakdown; for "
	"background snapshots: snapshot-failed, snapshot-thread-stalls, snapshot-worst-stall, "
	"snapshot-stalls, snapshot-hot-region, snapshot-repeat-faults. See swack-diagnose(8).",
	children, NULL, NULL,
};

static void emit(struct diag_env *env, const struct mig *src, const struct mig *dst)
{
	struct diagnosis d;

	diagnose(src, dst, &env->o, &d);
	if (env->json) {
		if (!env->n) {
			jw_init(&env->j, stdout, 0);
			jw_obj(&env->j, NULL);
			jw_arr(&env->j, "diagnoses");
		}
		diag_json(&env->j, &d);
	} else {
		diag_print_text(stdout, &d);
	}
	if (env->html && !env->page && !env->html_err[0])
		env->page = diag_html_open(env->html, env->html_err, sizeof(env->html_err));
	if (env->page)
		diag_html_add(env->page, &d);
	env->n++;
}

static uint64_t end_of(const struct mig *g)
{
	return g->t_end ? g->t_end : g->t_last;
}

/* A lone source and a lone destination of another process that ran at the
 * same time are taken as the two ends of one migration. */
static bool alongside(const struct mig *src, const struct mig *dst)
{
	return src->pid != dst->pid && dst->t_first <= end_of(src) && src->t_first <= end_of(dst);
}

static void emit_lone(struct diag_env *env, int i)
{
	struct mig *g = env->lone[i];

	emit(env, g->role == SWACK_ROLE_DST ? NULL : g, g->role == SWACK_ROLE_DST ? g : NULL);
	mig_free(g);
	memmove(&env->lone[i], &env->lone[i + 1], (env->nlone - i - 1) * sizeof(env->lone[0]));
	env->nlone--;
}

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct diag_env *env = ctx;
	const struct mig *g = src ? src : dst;

	if (src && dst) {
		emit(env, src, dst);
		return;
	}
	for (int i = 0; i < env->nlone; i++) {
		struct mig *o = env->lone[i];
		bool o_src = o->role != SWACK_ROLE_DST;

		if (o_src == (src != NULL) || !alongside(o_src ? o : src, o_src ? dst : o))
			continue;
		emit(env, o_src ? o : src, o_src ? dst : o);
		mig_free(o);
		memmove(&env->lone[i], &env->lone[i + 1], (env->nlone - i - 1) * sizeof(o));
		env->nlone--;
		return;
	}
	if (env->nlone == MAX_LONE)
		emit_lone(env, 0);
	env->lone[env->nlone] = mig_copy(g);
	if (env->lone[env->nlone])
		env->nlone++;
}

/* End of input: the lone ones that found no partner, then the page. */
static int finish(struct diag_env *env)
{
	char err[512];
	int ret = 0;

	if (model_evicted_note(env->model, err, sizeof(err)))
		fprintf(stderr, "swack diagnose: %s\n", err);
	while (env->nlone)
		emit_lone(env, 0);
	if (env->json && env->n) {
		jw_end(&env->j);
		jw_end(&env->j);
	}
	if (env->html && env->html_err[0]) {
		fprintf(stderr, "swack diagnose: %s\n", env->html_err);
		ret = 1;
	}
	if (env->page && diag_html_close(env->page, err, sizeof(err))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		ret = 1;
	}
	return ret;
}

static int no_migration(const char *where)
{
	fprintf(stderr, "swack diagnose: no migration in %s: nothing to diagnose (record one "
		"with 'swack record' while a migration runs)\n", where);
	return 1;
}

static int from_files(struct diag_env *env)
{
	struct replay rp;
	struct model model;
	int ret;

	if (replay_open(&rp, &env->in, env->realtime, "swack diagnose"))
		return 1;
	model_init(&model, on_done, env);
	env->model = &model;
	ret = replay_run(&rp, &model, NULL, NULL, NULL) ? 1 : 0;
	model_flush(&model);
	ret |= finish(env);
	ret |= replay_damaged(&rp, "swack diagnose");
	if (!env->n)
		ret = no_migration(env->in.n > 1 ? "these recordings" : env->in.paths[0]);
	model_free(&model);
	replay_close(&rp);
	return ret;
}

static int live(struct diag_env *env)
{
	struct live_cbs cbs = { .ctx = env };
	struct model model;
	struct live l;
	char err[512];
	int ret;

	/* The page is created while swack may still create files. */
	if (env->html && !(env->page = diag_html_open(env->html, err, sizeof(err)))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		return 1;
	}
	model_init(&model, on_done, env);
	env->model = &model;
	if (live_open(&l, &env->live, &model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		model_free(&model);
		diag_html_discard(env->page);
		return 1;
	}
	if (live_drop_privileges(&l, &env->live, err, sizeof(err))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		live_close(&l);
		model_free(&model);
		diag_html_discard(env->page);
		return 1;
	}
	ret = live_run(&l, &env->loop) ? 1 : 0;
	model_flush(&model);
	if (live_lost(&l))
		fprintf(stderr, "swack diagnose: %llu events lost (ring buffer full): figures may "
			"be short\n", live_lost(&l));
	live_close(&l);
	ret |= finish(env);
	if (!env->n)
		ret = no_migration("what was watched");
	model_free(&model);
	return ret;
}

int cmd_diagnose(int argc, char **argv)
{
	struct diag_env env = { .o.limit_ns = -1, .loop.until_done = true };

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	term_filter_stdout(false);
	if (env.in.n && env.live.npids) {
		fprintf(stderr, "swack diagnose: give recordings or -p PID, not both\n");
		return 2;
	}
	if (env.in.n)
		return from_files(&env);
	live_handle_signals();
	return live(&env);
}
