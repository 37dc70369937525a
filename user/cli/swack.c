// SPDX-License-Identifier: GPL-2.0
/* swack: one binary, perf-style subcommands. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/commands.h"
#include "source/live.h"
#include "source/replay.h"
#include "source/vmid.h"

#ifndef SWACK_VERSION
#define SWACK_VERSION "0.1"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "trace", cmd_trace, "print migration events live, one line each" },
	{ "record", cmd_record, "record migration events to a file" },
	{ "report", cmd_report, "summarize recorded migrations (one host or two)" },
	{ "diagnose", cmd_diagnose, "explain a migration's downtime: ranked findings" },
	{ "script", cmd_script, "print every event of a recording" },
	{ "export", cmd_export, "export a recording: CTF, Chrome trace JSON, JSON lines" },
	{ "gate", cmd_gate, "hold or release a switchover, by hand or by policy" },
	{ "stat", cmd_stat, "live dashboard of migrating VMs (also: swackstat)" },
	{ "exporter", cmd_exporter, "serve the model to Prometheus" },
	{ "ps", cmd_ps, "list the QEMU processes here and the VMs they run" },
};

int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* A VM's name or UUID names every QEMU process it runs as on this host: the
 * source and the destination of a local migration both. */
void target_opt(int key, const char *arg, struct argp_state *state, pid_t *pids, int *n)
{
	pid_t found[LIVE_MAX_PIDS];
	char err[512];
	int k;

	if (*n >= LIVE_MAX_PIDS)
		argp_error(state, "at most %d processes (-p, --vm)", LIVE_MAX_PIDS);
	if (key == 'p' && !parse_pid(arg, &pids[*n])) {
		(*n)++;
		return;
	}
	k = vmid_find(arg, found, LIVE_MAX_PIDS, err, sizeof(err));
	if (k < 0)
		argp_failure(state, 1, 0, "%s", err);
	for (int i = 0; i < k; i++) {
		if (*n >= LIVE_MAX_PIDS)
			argp_error(state, "at most %d processes (-p, --vm)", LIVE_MAX_PIDS);
		pids[(*n)++] = found[i];
	}
}

int live_opt(int key, char *arg, struct argp_state *state, struct live_opts *o)
{
	if (key == 'v') {
		o->verbose = true;
		return 0;
	}
	if (key != 'p' && key != OPT_VM)
		return ARGP_ERR_UNKNOWN;
	target_opt(key, arg, state, o->pids, &o->npids);
	return 0;
}

int input_opt(int key, char *arg, struct argp_state *state, const char **inputs, int *n)
{
	if (key != 'i' && key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	if (*n >= REPLAY_MAX_FILES)
		argp_error(state, "at most %d recordings", REPLAY_MAX_FILES);
	inputs[(*n)++] = arg;
	return 0;
}

unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

double now_sec(void)
{
	return now_ns() / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: swack COMMAND [OPTION...]\n"
		"Observe QEMU live migration with eBPF.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'swack COMMAND --help' describes a command; man swack.\n");
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	/* Installed as swackstat too, like vmstat. */
	if (!strcmp(base ? base + 1 : argv[0], "swackstat")) {
		argv[0] = "swackstat";
		return cmd_stat(argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("swack %s\n", SWACK_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char prog[32];

		if (strcmp(argv[1], commands[i].name))
			continue;
		/* argp names the program after argv[0] in --help and errors. */
		snprintf(prog, sizeof(prog), "swack %s", commands[i].name);
		argv[1] = prog;
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "swack: unknown command '%s': see 'swack --help'\n", argv[1]);
	return 2;
}
