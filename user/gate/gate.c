// SPDX-License-Identifier: GPL-2.0
/*
 * swack gate hold, release and status: they only read and write the maps
 * that `swack gate run` (gate/gate_run.c) pinned; gate run owns the probes
 * and the ptrace attachment.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli/commands.h"
#include "gate/gate.h"
#include "source/env.h"
#include "source/proc.h"
#include "source/vmid.h"
#include "util/clock.h"

/* ---- hold, release, status ----------------------------------------------- */

/* A VM's name names its source and, during a local migration, its
 * destination too. */
#define GATE_VM_PIDS 16

struct hold_env {
	pid_t pid;
	bool have_pid;
	const char *vm;               /* -p gave a VM's name or UUID */
	pid_t vm_pids[GATE_VM_PIDS];  /* its QEMU processes here */
	int nvm;
	uint64_t max_ns;
	const char *reason;
	const char *cmd;
};

static const struct argp_option hold_opts[] = {
	{ "pid", 'p', "PID|VM", 0, "The QEMU process (source of a migration) to hold, or "
	  "the VM's by name or UUID", 0 },
	{ "max-hold", 'm', "DURATION", 0, "Release by itself after DURATION (30s, 500ms, 2m; "
	  "default: the gate's --max-hold, 30s)", 0 },
	{ "reason", 'r', "TEXT", 0, "Why: shown by gate run and gate status", 0 },
	{ 0 },
};

static const struct argp_option release_opts[] = {
	{ "pid", 'p', "PID|VM", 0, "The QEMU process to release, or the VM's by name or UUID",
	  0 },
	{ "reason", 'r', "TEXT", 0, "Why: shown by gate run", 0 },
	{ 0 },
};

static error_t parse_hold(int key, char *arg, struct argp_state *state)
{
	struct hold_env *env = state->input;
	char err[512];

	switch (key) {
	case 'p':
		env->have_pid = true;
		if (!proc_parse_pid(arg, &env->pid))
			break;
		env->nvm = vmid_find(arg, env->vm_pids, GATE_VM_PIDS, err, sizeof(err));
		if (env->nvm < 0)
			argp_failure(state, 1, 0, "%s", err);
		env->vm = arg;
		env->pid = env->vm_pids[0];
		break;
	case 'm':
		gate_parse_max_hold(state, arg, &env->max_ns);
		break;
	case 'r':
		env->reason = arg;
		break;
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	case ARGP_KEY_END:
		if (!env->have_pid)
			argp_error(state, "give the process with -p PID, or its VM with -p NAME");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int open_for(const char *cmd, struct gate_pins *p)
{
	char err[512];

	if (env_check_caps(err, sizeof(err)) || gate_pins_open(p, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}

/* The pid must be one the running gate probes. */
static int check_target(const char *cmd, struct gate_pins *p, pid_t pid)
{
	struct gate_target t;
	__u32 key = pid;
	char comm[32] = "";

	if (!bpf_map_lookup_elem(p->targets, &key, &t))
		return 0;
	if (!proc_exists(pid))
		fprintf(stderr, "%s: no process with pid %d\n", cmd, pid);
	else if (!proc_is_qemu(pid))
		proc_comm(pid, comm, sizeof(comm)),
		fprintf(stderr, "%s: pid %d (%s) is not a QEMU system emulator: give the pid of "
			"a qemu-system-* process\n", cmd, pid, comm);
	else
		fprintf(stderr, "%s: pid %d is not watched by swack gate run (pid %u): start it "
			"with -p %d (see its output for why a process was refused)\n", cmd, pid,
			p->c.run_pid, pid);
	return -1;
}

/* The oldest of the VM's processes (those the gate watches only, if
 * watched), and how many there were to choose from. */
static int oldest(const struct hold_env *env, struct gate_pins *p, bool watched, int *n)
{
	struct gate_target t;
	int pick = -1;

	*n = 0;
	for (int i = 0; i < env->nvm; i++) {
		__u32 key = env->vm_pids[i];

		if (watched && bpf_map_lookup_elem(p->targets, &key, &t))
			continue;
		(*n)++;
		if (pick < 0 || proc_start_time(env->vm_pids[i]) < proc_start_time(env->vm_pids[pick]))
			pick = i;
	}
	return pick;
}

/* Of a VM's processes, the one to hold: the one the gate watches, else the
 * oldest (a migration's source starts before its destination), said so. */
static void pick_source(struct hold_env *env, struct gate_pins *p)
{
	int watched, n, pick = oldest(env, p, true, &watched);

	if (!watched)
		pick = oldest(env, p, false, &n);
	env->pid = env->vm_pids[pick];
	if (watched != 1 && env->nvm > 1)
		fprintf(stderr, "%s: VM '%s' runs as %d processes here, %d of them watched by the "
			"gate: holding pid %d, the oldest (a migration's source starts before its "
			"destination); give -p PID to choose\n", env->cmd, env->vm, env->nvm, watched,
			env->pid);
}

int gate_cmd_hold(int argc, char **argv)
{
	struct hold_env env = { .cmd = "swack gate hold" };
	const struct argp argp = { hold_opts, parse_hold, NULL,
		"Hold a QEMU's switchover: while held, its pending-size query reports more than "
		"the threshold, so QEMU keeps iterating (the guest keeps running).  Needs a "
		"running 'swack gate run' watching the process.  A hold always ends by itself "
		"after --max-hold.", NULL, NULL, NULL };
	struct gate_hold h = { 0 };
	struct gate_pins p;
	__u32 key;
	char a[32];

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	if (open_for(env.cmd, &p))
		return 1;
	if (env.vm)
		pick_source(&env, &p);
	if (check_target(env.cmd, &p, env.pid)) {
		gate_pins_close(&p);
		return 1;
	}
	if (!env.max_ns)
		env.max_ns = p.c.default_max_ns ? p.c.default_max_ns : GATE_DEFAULT_MAX_NS;
	key = env.pid;
	h.id = now_ns();
	h.deadline = h.id + env.max_ns;
	h.state = GATE_HOLD_ACTIVE;
	h.origin = GATE_BY_COMMAND;
	h.by_pid = getpid();
	snprintf(h.reason, sizeof(h.reason), "%s", env.reason ? env.reason : "swack gate hold");
	if (bpf_map_update_elem(p.holds, &key, &h, BPF_ANY)) {
		fprintf(stderr, "%s: cannot write the hold: %s\n", env.cmd, strerror(errno));
		gate_pins_close(&p);
		return 1;
	}
	gate_fmt_ns(a, sizeof(a), env.max_ns);
	printf("swack gate: pid %d%s%s held (swack gate run pid %u) until released or for %s\n",
	       env.pid, env.vm ? " of VM " : "", env.vm ? env.vm : "", p.c.run_pid, a);
	gate_pins_close(&p);
	return 0;
}

/* 0 released, 1 no hold in force on pid. */
static int release_one(const struct hold_env *env, struct gate_pins *p, pid_t pid)
{
	__u32 key = pid;
	struct gate_hold h;

	if (bpf_map_lookup_elem(p->holds, &key, &h) || h.state != GATE_HOLD_ACTIVE ||
	    now_ns() >= h.deadline)
		return 1;
	h.state = GATE_HOLD_RELEASED;
	h.by_pid = getpid();
	snprintf(h.release, sizeof(h.release), "%s",
		 env->reason ? env->reason : "swack gate release");
	if (bpf_map_update_elem(p->holds, &key, &h, BPF_EXIST))
		return 1;   /* ended by its deadline meanwhile */
	printf("swack gate: pid %d%s%s released\n", pid, env->vm ? " of VM " : "",
	       env->vm ? env->vm : "");
	return 0;
}

int gate_cmd_release(int argc, char **argv)
{
	struct hold_env env = { .cmd = "swack gate release" };
	const struct argp argp = { release_opts, parse_hold, NULL,
		"Release a hold placed with 'swack gate hold' (or by a policy): the next "
		"pending-size query reports QEMU's own figures again.  Given a VM, every hold "
		"in force on its processes.", NULL, NULL, NULL };
	struct gate_pins p;
	int released = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	if (open_for(env.cmd, &p))
		return 1;
	if (!env.vm) {
		env.vm_pids[0] = env.pid;
		env.nvm = 1;
	}
	for (int i = 0; i < env.nvm; i++)
		released += !release_one(&env, &p, env.vm_pids[i]);
	gate_pins_close(&p);
	if (released)
		return 0;
	if (env.vm)
		fprintf(stderr, "%s: VM '%s' (%d process%s here) has no hold in force\n", env.cmd,
			env.vm, env.nvm, env.nvm > 1 ? "es" : "");
	else
		fprintf(stderr, "%s: pid %d has no hold in force\n", env.cmd, env.pid);
	return 1;
}

static const char *actuator_name(__u32 a)
{
	return a == GATE_ACT_WRITE ? "write (bpf_probe_write_user)" :
	       a == GATE_ACT_PTRACE ? "ptrace (signal 33 + PTRACE_POKEDATA)" : "unknown";
}

static error_t parse_none(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key == ARGP_KEY_ARG)
		argp_usage(state);
	return key == ARGP_KEY_ARG ? 0 : ARGP_ERR_UNKNOWN;
}

int gate_cmd_status(int argc, char **argv)
{
	const struct argp argp = { NULL, parse_none, NULL,
		"Show the running gate, the processes it watches and the holds in force, "
		"with the time each has left.", NULL, NULL, NULL };
	uint64_t now = now_ns();
	struct gate_pins p;
	__u32 key, next, *prev = NULL;
	int nholds = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (open_for("swack gate status", &p))
		return 1;
	printf("gate: swack gate run pid %u, up %.1f s, actuator %s, kernel lockdown %s\n",
	       p.c.run_pid, (now - p.c.started_ns) / 1e9, actuator_name(p.c.actuator),
	       p.c.lockdown);
	for (prev = NULL; !bpf_map_get_next_key(p.targets, prev, &next); prev = &key) {
		struct gate_target t;
		char comm[32] = "?";

		key = next;
		if (bpf_map_lookup_elem(p.targets, &key, &t))
			continue;
		proc_comm(key, comm, sizeof(comm));
		printf("watch: pid %u (%s) %s\n", key, comm, gate_gen_name(t.gen));
	}
	for (prev = NULL; !bpf_map_get_next_key(p.holds, prev, &next); prev = &key) {
		struct gate_stats s = { 0 };
		struct gate_hold h;

		key = next;
		if (bpf_map_lookup_elem(p.holds, &key, &h) || h.state != GATE_HOLD_ACTIVE)
			continue;
		if (bpf_map_lookup_elem(p.stats, &key, &s) || s.hold_id != h.id)
			memset(&s, 0, sizeof(s));
		nholds++;
		if (now >= h.deadline)
			printf("hold: pid %u, deadline passed %.3f s ago (no longer enforced), "
			       "reason \"%s\"\n", key, (now - h.deadline) / 1e9, h.reason);
		else
			printf("hold: pid %u, %s, placed %.3f s ago, %.3f s left, raised %llu of %llu "
			       "queries (missed %llu), reason \"%s\"\n", key,
			       h.origin == GATE_BY_POLICY ? "policy" : "command",
			       (now - h.id) / 1e9, (h.deadline - now) / 1e9,
			       (unsigned long long)s.enforced, (unsigned long long)s.queries,
			       (unsigned long long)s.missed, h.reason);
	}
	if (!nholds)
		printf("holds: none\n");
	gate_pins_close(&p);
	return 0;
}
