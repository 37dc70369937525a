// SPDX-License-Identifier: GPL-2.0
/*
 * swack report: the summary of one recording, or of a source and a
 * destination recorded on two hosts, read through the same model as live.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "util/term.h"
#include "cli/commands.h"
#include "event/event.h"
#include "source/args.h"
#include "source/replay.h"
#include "util/json.h"
#include "view/snapshot_view.h"
#include "view/summary.h"

struct report_env {
	struct replay_inputs in;
	bool json;
	bool realtime;
	struct replay rp;
	struct jw j;         /* --json: the one object, written as input is read */
};

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON instead of text", 0 },
	{ "realtime", 'r', NULL, 0, "Align recordings through their realtime clocks even when "
	  "they come from one boot (as recordings of two hosts always are)", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_env *env = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->in; break;
	case 'j': env->json = true; break;
	case 'r': env->realtime = true; break;
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
	"Summarize recorded migrations: phases, iterations, bandwidth, switchover-ack, "
	"devices, and both downtimes with their breakdown.\v"
	"Given a source's and a destination's recording made on two hosts, it aligns their "
	"clocks through the realtime clock sampled in each header, computes the guest-visible "
	"downtime across them and states the alignment's uncertainty.  FILE: swack.data by "
	"default.",
	children, NULL, NULL,
};

static void phases_text(FILE *out, const char *side, const struct mig *g)
{
	if (!g || !g->nstates)
		return;
	fprintf(out, "  phases (%s):", side);
	for (int i = 0; i < g->nstates; i++)
		fprintf(out, " %s +%.3f s%s", g->states[i].name,
			(g->states[i].ts - g->t_first) / 1e9, i + 1 < g->nstates ? "," : "");
	fputc('\n', out);
}

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct report_env *env = ctx;

	if (env->json) {
		summary_json(&env->j, src, dst);
	} else {
		summary_print_text(stdout, src, dst);
		phases_text(stdout, "src", src);
		phases_text(stdout, "dst", dst);
		if (src)
			snap_print_findings(stdout, src);
	}
}

static void on_record(void *ctx, const struct rec_record *rec, int file)
{
	struct report_env *env = ctx;
	struct rec_process p;

	if (env->json || rec->type != REC_PROCESS || rec_decode_process(rec, &p))
		return;
	process_print_text(stdout, env->rp.files[file].path, &p, true);
}

static void header_text(struct report_env *env)
{
	for (int i = 0; i < env->rp.nfiles; i++) {
		const struct rec_header *h = recr_header(env->rp.files[i].r);
		char host[4 * sizeof(h->host)], kernel[4 * sizeof(h->kernel)];
		char boot[4 * sizeof(h->boot_id)];

		printf("# %s: host %s, kernel %s, boot %s\n", env->rp.files[i].path,
		       term_escape(host, sizeof(host), h->host, sizeof(h->host)),
		       term_escape(kernel, sizeof(kernel), h->kernel, sizeof(h->kernel)),
		       term_escape(boot, sizeof(boot), h->boot_id, sizeof(h->boot_id)));
	}
	if (env->rp.cross_host)
		printf("# clocks aligned across hosts through their realtime clocks: uncertainty "
		       "+-%.3f ms (assumes the hosts' realtime clocks agree, e.g. NTP or PTP)\n",
		       env->rp.uncertainty_ns / 1e6);
}

/* The migrations array is open: close it, then how each recording ended. */
static void ends_json(struct report_env *env)
{
	struct jw *j = &env->j;
	char line[512];

	jw_end(j);
	jw_arr(j, "recordings");
	for (int i = 0; i < env->rp.nfiles; i++) {
		const struct rec_header *h = recr_header(env->rp.files[i].r);

		rec_status_describe(recr_status(env->rp.files[i].r), line, sizeof(line));
		jw_obj(j, NULL);
		jw_str(j, "path", env->rp.files[i].path);
		jw_strn(j, "host", h->host, sizeof(h->host));
		jw_strn(j, "boot_id", h->boot_id, 40);
		jw_s64(j, "shift_ns", env->rp.files[i].shift_ns);
		jw_str(j, "ended", line);
		jw_end(j);
	}
	jw_end(j);
	jw_bool(j, "cross_host", env->rp.cross_host);
	jw_u64(j, "alignment_uncertainty_ns", env->rp.uncertainty_ns);
	jw_end(j);
}

int cmd_report(int argc, char **argv)
{
	struct report_env env = { 0 };
	struct model model;
	char note[256];
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	term_filter_stdout(false);
	if (replay_open(&env.rp, &env.in, env.realtime, "swack report"))
		return 1;
	jw_init(&env.j, stdout, 0);
	if (env.json) {
		jw_obj(&env.j, NULL);
		jw_arr(&env.j, "migrations");
	} else {
		header_text(&env);
	}
	model_init(&model, on_done, &env);
	ret = replay_run(&env.rp, &model, NULL, on_record, &env);
	model_flush(&model);
	if (model_evicted_note(&model, note, sizeof(note)))
		fprintf(stderr, "swack report: %s\n", note);
	if (env.json)
		ends_json(&env);
	else
		replay_describe_ends(&env.rp, stdout);
	ret |= replay_damaged(&env.rp, "swack report");
	model_free(&model);
	replay_close(&env.rp);
	return ret ? 1 : 0;
}
