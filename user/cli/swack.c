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

int live_opt(int key, char *arg, struct argp_state *state, struct live_opts *o)
{
	if (key == 'v') {
		o->verbose = true;
		return 0;
	}
	if (key != 'p')
		return ARGP_ERR_UNKNOWN;
	if (o->npids >= LIVE_MAX_PIDS)
		argp_error(state, "at most %d -p options", LIVE_MAX_PIDS);
	if (parse_pid(arg, &o->pids[o->npids++]))
		argp_error(state, "invalid pid '%s': give a positive number", arg);
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
