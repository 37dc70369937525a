// SPDX-License-Identifier: GPL-2.0
/* swack export: a recording as CTF (babeltrace2), Chrome trace JSON (Perfetto)
 * or JSON lines. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "event/event.h"
#include "source/args.h"
#include "view/export.h"
#include "util/term.h"

enum format { FMT_NONE, FMT_CTF, FMT_CHROME, FMT_JSONL };

struct export_env {
	struct replay_inputs in;
	const char *out;
	enum format format;
};

static const struct argp_option opts[] = {
	{ "format", 'F', "FMT", 0, "ctf (a directory babeltrace2 reads), chrome (trace-event "
	  "JSON for Perfetto and chrome://tracing) or jsonl", 0 },
	{ "output", 'o', "PATH", 0, "Write to PATH (ctf: a directory, created; default: "
	  "swack.ctf, swack.json or standard output for jsonl)", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct export_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->in; break;
	case 'F':
		env->format = !strcmp(arg, "ctf") ? FMT_CTF : !strcmp(arg, "chrome") ? FMT_CHROME :
			      !strcmp(arg, "jsonl") ? FMT_JSONL : FMT_NONE;
		if (env->format == FMT_NONE)
			argp_error(state, "unknown format '%s': give ctf, chrome or jsonl", arg);
		break;
	case 'o': env->out = arg; break;
	case ARGP_KEY_END:
		if (env->format == FMT_NONE)
			argp_error(state, "say which format: --format ctf|chrome|jsonl");
		break;
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
	"Export a recording: CTF 1.8 for babeltrace2 and Trace Compass, Chrome trace-event "
	"JSON for Perfetto (phases as spans, pending ACKs and initial bytes as counters), or "
	"JSON lines.  FILE: swack.data by default.",
	children, NULL, NULL,
};

static void jsonl_event(void *ctx, const struct swack_event *e, int file)
{
	(void)file;
	event_print_json(ctx, e);
}

static int export_jsonl(struct replay *rp, const char *path, char *err, size_t errlen)
{
	FILE *out = path ? fopen(path, "we") : stdout;
	int ret;

	if (!out) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = replay_run(rp, NULL, jsonl_event, NULL, out);
	if ((path ? fclose(out) : fflush(out)) || ret) {
		snprintf(err, errlen, "%s: %s", path ? path : "standard output",
			 ret ? "cannot read the recording" : strerror(errno));
		return -1;
	}
	return 0;
}

static int export_chrome_file(struct replay *rp, const char *path, char *err, size_t errlen)
{
	FILE *out = fopen(path, "we");
	int ret;

	if (!out) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = export_chrome(rp, out, err, errlen);
	if (fclose(out) && !ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return ret;
}

int cmd_export(int argc, char **argv)
{
	struct export_env env = { 0 };
	struct replay rp;
	char err[512];
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	term_filter_stdout(false);
	if (replay_open(&rp, &env.in, false, "swack export"))
		return 1;
	if (env.format == FMT_CTF)
		ret = export_ctf(&rp, env.out ? env.out : "swack.ctf", err, sizeof(err));
	else if (env.format == FMT_CHROME)
		ret = export_chrome_file(&rp, env.out ? env.out : "swack.json", err, sizeof(err));
	else
		ret = export_jsonl(&rp, env.out, err, sizeof(err));
	if (ret)
		fprintf(stderr, "swack export: %s\n", err);
	replay_describe_ends(&rp, stderr);
	ret |= replay_damaged(&rp, "swack export");
	replay_close(&rp);
	return ret ? 1 : 0;
}
