// SPDX-License-Identifier: GPL-2.0
/*
 * swack report: the summary of one recording, or of a source and a
 * destination recorded on two hosts, read through the same model as live.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "event/event.h"
#include "source/replay.h"
#include "view/snapshot_view.h"
#include "view/summary.h"

struct report_env {
	const char *inputs[REPLAY_MAX_FILES];
	int ninputs;
	bool json;
	bool realtime;
	bool first;
	struct replay rp;
};

static const struct argp_option opts[] = {
	{ "input", 'i', "FILE", 0, "Read FILE (repeatable; default swack.data)", 0 },
	{ "json", 'j', NULL, 0, "JSON instead of text", 0 },
	{ "realtime", 'r', NULL, 0, "Align recordings through their realtime clocks even when "
	  "they come from one boot (as recordings of two hosts always are)", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_env *env = state->input;

	switch (key) {
	case 'j': env->json = true; break;
	case 'r': env->realtime = true; break;
	default: return input_opt(key, arg, state, env->inputs, &env->ninputs);
	}
	return 0;
}

static const struct argp argp = {
	opts, parse_opt, "[FILE...]",
	"Summarize recorded migrations: phases, iterations, bandwidth, switchover-ack, "
	"devices, and both downtimes with their breakdown.\v"
	"Given a source's and a destination's recording made on two hosts, it aligns their "
	"clocks through the realtime clock sampled in each header, computes the guest-visible "
	"downtime across them and states the alignment's uncertainty.",
	NULL, NULL, NULL,
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
		fputs(env->first ? "" : ",", stdout);
		summary_print_json(stdout, src, dst);
	} else {
		summary_print_text(stdout, src, dst);
		phases_text(stdout, "src", src);
		phases_text(stdout, "dst", dst);
		if (src)
			snap_print_findings(stdout, src);
	}
	env->first = false;
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

		printf("# %s: host %s, kernel %s, boot %s\n", env->rp.files[i].path, h->host,
		       h->kernel, h->boot_id);
	}
	if (env->rp.cross_host)
		printf("# clocks aligned across hosts through their realtime clocks: uncertainty "
		       "+-%.3f ms (assumes the hosts' realtime clocks agree, e.g. NTP or PTP)\n",
		       env->rp.uncertainty_ns / 1e6);
}

static void ends_json(struct report_env *env)
{
	char line[512];

	printf("],\"recordings\":[");
	for (int i = 0; i < env->rp.nfiles; i++) {
		const struct rec_header *h = recr_header(env->rp.files[i].r);

		rec_status_describe(recr_status(env->rp.files[i].r), line, sizeof(line));
		printf("%s{\"path\":\"", i ? "," : "");
		json_escape(stdout, env->rp.files[i].path, 4096);
		printf("\",\"host\":\"");
		json_escape(stdout, h->host, sizeof(h->host));
		printf("\",\"boot_id\":\"%.40s\",\"shift_ns\":%lld,\"ended\":\"", h->boot_id,
		       (long long)env->rp.files[i].shift_ns);
		json_escape(stdout, line, sizeof(line));
		printf("\"}");
	}
	printf("],\"cross_host\":%s,\"alignment_uncertainty_ns\":%llu}\n",
	       env->rp.cross_host ? "true" : "false",
	       (unsigned long long)env->rp.uncertainty_ns);
}

int cmd_report(int argc, char **argv)
{
	struct report_env env = { .first = true };
	struct model model;
	char err[512];
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	if (!env.ninputs)
		env.inputs[env.ninputs++] = "swack.data";
	if (replay_open(&env.rp, env.inputs, env.ninputs, env.realtime, err, sizeof(err))) {
		fprintf(stderr, "swack report: %s\n", err);
		return 1;
	}
	if (env.json)
		printf("{\"migrations\":[");
	else
		header_text(&env);
	model_init(&model, on_done, &env);
	ret = replay_run(&env.rp, &model, NULL, on_record, &env);
	model_flush(&model);
	if (env.json)
		ends_json(&env);
	else
		replay_describe_ends(&env.rp, stdout);
	for (int i = 0; i < env.rp.nfiles; i++)
		ret |= recr_status(env.rp.files[i].r)->kind == REC_ENDED_CORRUPT;
	model_free(&model);
	replay_close(&env.rp);
	return ret ? 1 : 0;
}
