// SPDX-License-Identifier: GPL-2.0
/*
 * swack record: the live event stream into a file (docs/swack-data.5), with
 * the processes attached, ring-buffer losses and clock samples, until Ctrl-C,
 * a duration, or the watched migrations' end.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "source/args.h"
#include "source/live.h"
#include "source/recfile.h"
#include "util/clock.h"

struct record_env {
	struct live_opts live;
	struct live_loop loop;
	const char *out;
	bool force;
	struct recw *w;
	struct live *l;
	bool failed;
	/* Attached before the file exists: their PROCESS records wait here. */
	struct rec_process *early;
	int nearly;
};

static const struct argp_option opts[] = {
	{ "output", 'o', "FILE", 0, "Write to FILE (default swack.data)", 0 },
	{ "force", 'f', NULL, 0, "Overwrite FILE if it exists", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct record_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &env->live;
		state->child_inputs[1] = &env->loop;
		break;
	case 'o': env->out = arg; break;
	case 'f': env->force = true; break;
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
	"Record QEMU live-migration events to a file for swack report, script and export.\v"
	"The file survives any end: after Ctrl-C, SIGTERM, SIGKILL or a full disk it reads "
	"up to its last complete record, and the reader says how it ended.",
	children, NULL, NULL,
};

/* After a write failure the recording stops: what is in the file stays. */
static void check(struct record_env *env, int ret)
{
	if (ret && !env->failed) {
		env->failed = true;
		live_request_stop();
	}
}

/* Events are read once the file exists (the loop runs after it is made);
 * the gate log's first look hands out none. */
static void on_event(void *ctx, const struct swack_event *e)
{
	struct record_env *env = ctx;

	if (env->w && !env->failed)
		check(env, recw_event(env->w, e));
}

static void free_process(struct rec_process *p)
{
	free((char *)p->comm);
	free((char *)p->exe);
	free((char *)p->attach);
	free((char *)p->vm);
	free((char *)p->uuid);
	free((char *)p->vm_via);
}

static void keep_early(struct record_env *env, const struct rec_process *p)
{
	struct rec_process *e = realloc(env->early, (env->nearly + 1) * sizeof(*e));

	if (!e)
		return;
	env->early = e;
	e[env->nearly++] = (struct rec_process){ .ts = p->ts, .pid = p->pid,
		.comm = strdup(p->comm), .exe = strdup(p->exe), .generation = p->generation,
		.attach = strdup(p->attach), .vm = strdup(p->vm), .uuid = strdup(p->uuid),
		.vm_via = strdup(p->vm_via) };
}

static void on_attached(void *ctx, const struct target *t, const char *exe, const char *line)
{
	struct record_env *env = ctx;
	struct rec_process p = { .ts = now_ns(), .pid = (__u32)t->pid, .comm = t->comm,
				 .exe = exe, .generation = gen_name(t->gen), .attach = line,
				 .vm = t->vm.name, .uuid = t->vm.uuid, .vm_via = t->vm.via };

	if (!env->w)
		keep_early(env, &p);
	else if (!env->failed)
		check(env, recw_process(env->w, &p));
}

/* The processes attached before the file existed, first in it (when it was
 * made: else only freed). */
static void write_early(struct record_env *env)
{
	for (int i = 0; i < env->nearly; i++) {
		struct rec_process *p = &env->early[i];

		if (env->w && !env->failed && p->comm && p->exe && p->attach && p->vm &&
		    p->uuid && p->vm_via)
			check(env, recw_process(env->w, p));
		free_process(p);
	}
	free(env->early);
	env->early = NULL;
	env->nearly = 0;
}

static void tick(void *ctx)
{
	struct record_env *env = ctx;

	if (env->failed)
		return;
	check(env, recw_loss_total(env->w, live_lost(env->l)));
	if (!env->failed)
		check(env, recw_tick(env->w));
}

static const char *end_reason(const struct record_env *env)
{
	if (env->failed)
		return recw_errno(env->w) == ENOSPC ? "disk full" : "write error";
	if (live_stopped())
		return "interrupted";
	return env->loop.until_done ? "migrations done" : "duration reached";
}

static int finish(struct record_env *env, struct model *m)
{
	const char *reason = end_reason(env);
	char err[256];
	__u64 events = recw_events(env->w);
	int ret = 0;

	if (env->failed)
		fprintf(stderr, "swack record: %s: %s; the file keeps %llu events up to the "
			"failure\n", env->out, recw_error(env->w), (unsigned long long)events);
	else
		tick(env);
	if (recw_close(env->w, reason, err, sizeof(err)) || env->failed) {
		if (!env->failed)
			fprintf(stderr, "swack record: %s\n", err);
		ret = 1;
	}
	if (!ret)
		fprintf(stderr, "swack record: %llu events, %u migrations, %s: %s\n",
			(unsigned long long)events, m->nmigs, reason, env->out);
	return ret;
}

/* Said before attaching: a file that is there already. */
static int check_output(const struct record_env *env, char *err, size_t errlen)
{
	struct stat st;

	if (env->force || lstat(env->out, &st))
		return 0;
	snprintf(err, errlen, "cannot create %s: %s (give -f to overwrite it)", env->out,
		 strerror(EEXIST));
	return -1;
}

/* Attached first, then the file is created (a failed attach leaves none),
 * then the privileges go: the file is written through its descriptor. */
static int start(struct record_env *env, struct live *live, struct model *model,
		 const struct live_cbs *cbs, char *err, size_t errlen)
{
	if (check_output(env, err, errlen) ||
	    live_open(live, &env->live, model, cbs, err, errlen))
		return -1;
	env->w = recw_open(env->out, env->force ? RECW_FORCE : 0, NULL, err, errlen);
	if (env->w)
		write_early(env);
	if (!env->w || live_drop_privileges(live, &env->live, err, errlen)) {
		if (env->w)
			recw_abandon(env->w);
		env->w = NULL;
		live_close(live);
		return -1;
	}
	return 0;
}

static int run(struct record_env *env)
{
	struct live_cbs cbs = { .event = on_event, .attached = on_attached, .ctx = env };
	struct live_loop loop = { .duration = env->loop.duration,
				  .until_done = env->loop.until_done, .tick_ms = 100, .tick = tick,
				  .ctx = env };
	struct model model;
	struct live live;
	char err[512];
	int ret;

	model_init(&model, NULL, NULL);
	env->l = &live;
	if (start(env, &live, &model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack record: %s\n", err);
		write_early(env);
		model_free(&model);
		return 1;
	}
	ret = live_run(&live, &loop);
	ret |= finish(env, &model);
	live_close(&live);
	model_free(&model);
	return ret ? 1 : 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_env env = { .out = "swack.data" };

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	live_handle_signals();
	return run(&env);
}
