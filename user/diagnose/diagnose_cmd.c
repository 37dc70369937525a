// SPDX-License-Identifier: GPL-2.0
/*
 * swack diagnose: live (-p PID, or every QEMU) or from recordings, one host
 * or two.  Diagnoses are printed once input ends, so that a source whose
 * destination the model could not pair (a migration cancelled before the
 * source stopped) is diagnosed with the destination that ran alongside it.
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

#define MAX_PAIRS 64

struct pair {
	const struct mig *src, *dst;
	bool merged;
};

struct diag_env {
	struct replay_inputs in;
	struct live_opts live;
	struct live_loop loop;
	bool json, realtime;
	const char *html;
	struct diag_opts o;
	struct pair pairs[MAX_PAIRS];
	int npairs;
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

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct diag_env *env = ctx;

	if (env->npairs < MAX_PAIRS)
		env->pairs[env->npairs++] = (struct pair){ src, dst, false };
}

static uint64_t end_of(const struct mig *g)
{
	return g->t_end ? g->t_end : g->t_last;
}

/* A lone source and a lone destination of another process that ran at the
 * same time are taken as the two ends of one migration. */
static void merge_lone(struct diag_env *env)
{
	for (int i = 0; i < env->npairs; i++) {
		struct pair *s = &env->pairs[i];

		for (int j = 0; s->src && !s->dst && j < env->npairs; j++) {
			struct pair *t = &env->pairs[j];

			if (t->merged || t->src || !t->dst || t->dst->pid == s->src->pid ||
			    t->dst->t_first > end_of(s->src) || s->src->t_first > end_of(t->dst))
				continue;
			s->dst = t->dst;
			t->merged = true;
		}
	}
}

static int emit(struct diag_env *env)
{
	struct diagnosis *ds = calloc(env->npairs ? env->npairs : 1, sizeof(*ds));
	char err[512];
	int n = 0, ret = 0;
	struct jw j;

	if (!ds) {
		fprintf(stderr, "swack diagnose: out of memory\n");
		return 1;
	}
	merge_lone(env);
	for (int i = 0; i < env->npairs; i++)
		if (!env->pairs[i].merged)
			diagnose(env->pairs[i].src, env->pairs[i].dst, &env->o, &ds[n++]);
	jw_init(&j, stdout, 0);
	if (env->json) {
		jw_obj(&j, NULL);
		jw_arr(&j, "diagnoses");
	}
	for (int i = 0; i < n; i++) {
		if (env->json)
			diag_json(&j, &ds[i]);
		else
			diag_print_text(stdout, &ds[i]);
	}
	if (env->json) {
		jw_end(&j);
		jw_end(&j);
	}
	if (env->html && diag_write_html(env->html, ds, n, err, sizeof(err))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		ret = 1;
	}
	free(ds);
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
	ret = replay_run(&rp, &model, NULL, NULL, NULL) ? 1 : 0;
	model_flush(&model);
	ret |= replay_damaged(&rp, "swack diagnose");
	if (!env->npairs)
		ret = no_migration(env->in.n > 1 ? "these recordings" : env->in.paths[0]);
	else
		ret |= emit(env);
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

	model_init(&model, on_done, env);
	if (live_open(&l, &env->live, &model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack diagnose: %s\n", err);
		model_free(&model);
		return 1;
	}
	ret = live_run(&l, &env->loop) ? 1 : 0;
	model_flush(&model);
	if (live_lost(&l))
		fprintf(stderr, "swack diagnose: %llu events lost (ring buffer full): figures may "
			"be short\n", live_lost(&l));
	live_close(&l);
	ret |= env->npairs ? emit(env) : no_migration("what was watched");
	model_free(&model);
	return ret;
}

int cmd_diagnose(int argc, char **argv)
{
	struct diag_env env = { .o.limit_ns = -1, .loop.until_done = true };

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	if (env.in.n && env.live.npids) {
		fprintf(stderr, "swack diagnose: give recordings or -p PID, not both\n");
		return 2;
	}
	if (env.in.n)
		return from_files(&env);
	live_handle_signals();
	return live(&env);
}
