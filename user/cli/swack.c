// SPDX-License-Identifier: GPL-2.0
/*
 * swack: one binary, perf-style commands.  One table of commands, one of
 * them (gate) with its own table of subcommands, and one dispatcher for
 * both levels.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

#ifndef SWACK_VERSION
#define SWACK_VERSION "0.1"
#endif

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct cmd_table *sub;   /* a command made of subcommands */
	const char *help;
};

struct cmd_table {
	const char *prog;       /* "swack", "swack gate" */
	const char *what;       /* "command", "subcommand" */
	const char *word;       /* the same, in the usage line: "COMMAND" */
	const char *heading;    /* above the list: "Commands" */
	const char *about;
	const char *man;
	const struct cmd *cmds;
	size_t n;
};

static const struct cmd gate_cmds[] = {
	{ "run", gate_cmd_run, NULL,
	  "own the gate's probes; print holds and releases; apply policies" },
	{ "hold", gate_cmd_hold, NULL, "hold a process's switchover (needs gate run)" },
	{ "release", gate_cmd_release, NULL, "release a hold" },
	{ "status", gate_cmd_status, NULL, "the running gate and its holds, with time left" },
};

static const struct cmd_table gate_table = {
	"swack gate", "subcommand", "SUBCOMMAND", "Subcommands",
	"Hold and release a QEMU's live-migration switchover.",
	"swack-gate", gate_cmds, sizeof(gate_cmds) / sizeof(gate_cmds[0]),
};

static const struct cmd swack_cmds[] = {
	{ "trace", cmd_trace, NULL, "print migration events live, one line each" },
	{ "record", cmd_record, NULL, "record migration events to a file" },
	{ "report", cmd_report, NULL, "summarize recorded migrations (one host or two)" },
	{ "diagnose", cmd_diagnose, NULL, "explain a migration's downtime: ranked findings" },
	{ "script", cmd_script, NULL, "print every event of a recording" },
	{ "export", cmd_export, NULL, "export a recording: CTF, Chrome trace JSON, JSON lines" },
	{ "gate", NULL, &gate_table, "hold or release a switchover, by hand or by policy" },
	{ "stat", cmd_stat, NULL, "live dashboard of migrating VMs (also: swackstat)" },
	{ "exporter", cmd_exporter, NULL, "serve the model to Prometheus" },
	{ "ps", cmd_ps, NULL, "list the QEMU processes here and the VMs they run" },
};

static const struct cmd_table swack_table = {
	"swack", "command", "COMMAND", "Commands", "Observe QEMU live migration with eBPF.", "swack",
	swack_cmds, sizeof(swack_cmds) / sizeof(swack_cmds[0]),
};

static void usage(const struct cmd_table *t, FILE *out)
{
	int width = 0;

	for (size_t i = 0; i < t->n; i++)
		if ((int)strlen(t->cmds[i].name) > width)
			width = strlen(t->cmds[i].name);
	fprintf(out, "Usage: %s %s [OPTION...]\n%s\n\n%s:\n", t->prog, t->word, t->about,
		t->heading);
	for (size_t i = 0; i < t->n; i++)
		fprintf(out, "  %-*s %s\n", width + 2, t->cmds[i].name, t->cmds[i].help);
	fprintf(out, "\n'%s %s --help' describes one; man %s.\n", t->prog, t->word, t->man);
}

/* argv[0] is the table's program, argv[1] the name of one of its commands
 * (as bpftool's cmd_select). */
static int cmd_select(const struct cmd_table *t, int argc, char **argv)
{
	static char prog[64];

	if (argc < 2) {
		usage(t, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(t, stdout);
		return 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct cmd *c = &t->cmds[i];

		if (strcmp(argv[1], c->name))
			continue;
		if (c->sub)
			return cmd_select(c->sub, argc - 1, argv + 1);
		/* argp names the program after argv[0] in --help and errors. */
		snprintf(prog, sizeof(prog), "%s %s", t->prog, c->name);
		argv[1] = prog;
		return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown %s '%s': see '%s --help'\n", t->prog, t->what, argv[1],
		t->prog);
	return 2;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	/* One convention for every command (swack(8)): 2 for a usage error (argp's
	 * own default is 64), 1 when the work failed. */
	argp_err_exit_status = 2;
	/* Installed as swackstat too, like vmstat. */
	if (!strcmp(base ? base + 1 : argv[0], "swackstat")) {
		argv[0] = "swackstat";
		return cmd_stat(argc, argv);
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("swack %s\n", SWACK_VERSION);
		return 0;
	}
	return cmd_select(&swack_table, argc, argv);
}
