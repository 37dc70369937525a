// SPDX-License-Identifier: GPL-2.0
/*
 * The ptrace actuator.  The gate seizes (PTRACE_SEIZE, no options, so no
 * stop at attach and no kill on exit) each thread that calls the pending-size
 * query, and only those.  At a held query's return BPF records what to write
 * in gate_acts and sends the thread signal 33 with bpf_send_signal_thread;
 * the thread enters a signal-delivery stop before it runs another instruction
 * of QEMU, the gate writes the out-parameters with PTRACE_POKEDATA and
 * resumes it with the signal suppressed.
 *
 * Every other stop is passed through untouched: other signals are delivered
 * (glibc's own signal 33 too: it comes with si_code SI_TKILL, BPF's with
 * SI_KERNEL), group stops are kept with PTRACE_LISTEN.
 *
 * If the gate dies, the kernel detaches the threads; a signal 33 still
 * queued then reaches glibc's SIGSETXID handler, which ignores it (not sent
 * by its own process), so QEMU runs on with its own figures.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "util/clock.h"
#include "gate.skel.h"
#include "gate/gate_run.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static struct gate_thr *find(struct gate_run *g, pid_t tid)
{
	for (int i = 0; i < g->nthr; i++)
		if (g->thr[i].tid == tid)
			return &g->thr[i];
	return NULL;
}

bool trace_seized(struct gate_run *g, pid_t tid)
{
	return find(g, tid) != NULL;
}

static void forget(struct gate_run *g, pid_t tid)
{
	struct gate_thr *t = find(g, tid);

	if (t)
		*t = g->thr[--g->nthr];
}

int trace_seize(struct gate_run *g, pid_t pid, pid_t tid, char *err, size_t errlen)
{
	struct gate_thr *t;
	char path[64];

	if (find(g, tid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	if (access(path, F_OK)) {
		snprintf(err, errlen, "thread %d of pid %d is gone", tid, pid);
		return -1;
	}
	if (gate_check_handler(pid, err, errlen))
		return -1;
	t = realloc(g->thr, (g->nthr + 1) * sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->thr = t;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		snprintf(err, errlen, "cannot seize thread %d of pid %d: %s%s", tid, pid,
			 strerror(errno), errno == EPERM ? " (is another tracer, such as gdb or "
			 "strace, attached to it?)" : "");
		return -1;
	}
	g->thr[g->nthr++] = (struct gate_thr){ .tid = tid, .pid = pid };
	return 0;
}

static void note_stop(struct gate_run *g, pid_t pid, uint64_t ns)
{
	struct gate_tgt *t = run_tgt(g, pid);
	uint32_t *s;

	if (!t)
		return;
	if (t->nstops == t->capstops) {
		uint32_t cap = t->capstops ? t->capstops * 2 : 1024;

		if (cap > (1u << 20))
			return;
		s = realloc(t->stops, cap * sizeof(*s));
		if (!s)
			return;
		t->stops = s;
		t->capstops = cap;
	}
	t->stops[t->nstops++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t trace_take_median(struct gate_tgt *t, uint32_t *n)
{
	uint64_t med = 0;

	*n = t->nstops;
	if (t->nstops) {
		qsort(t->stops, t->nstops, sizeof(*t->stops), cmp_u32);
		med = t->stops[t->nstops / 2];
	}
	t->nstops = 0;
	return med;
}

/* Our signal: write what BPF planned and resume without the signal. */
static bool raise_held(struct gate_run *g, pid_t tid)
{
	int acts = bpf_map__fd(g->skel->maps.gate_acts);
	struct gate_thr *thr = find(g, tid);
	struct gate_act act;
	siginfo_t si;
	__u32 key = tid;

	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) || si.si_code != SI_KERNEL)
		return false;
	if (bpf_map_lookup_and_delete_elem(acts, &key, &act))
		return false;
	for (__u32 i = 0; i < act.n && i < 2; i++)
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)act.addr[i],
			   (void *)(uintptr_t)act.value[i])) {
			if (!g->poke_errors++)
				run_line(g, act.pid, tid, "gate_error", "what=\"PTRACE_POKEDATA at "
					 "0x%llx: %s\"", (unsigned long long)act.addr[i],
					 strerror(errno));
			break;
		}
	ptrace(PTRACE_CONT, tid, 0, 0);
	g->raised++;
	note_stop(g, thr ? thr->pid : (pid_t)act.pid, now_ns() - act.ts);
	return true;
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void trace_reap(struct gate_run *g)
{
	for (;;) {
		int st, sig, ev;
		pid_t tid = waitpid(-1, &st, __WALL | WNOHANG);

		if (tid <= 0)
			return;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			forget(g, tid);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = (unsigned)st >> 16;
		if (ev == PTRACE_EVENT_STOP) {
			/* A group stop (someone stopped QEMU): keep it stopped, as
			 * without us; anything else of this kind: go on. */
			if (group_stop_sig(sig))
				ptrace(PTRACE_LISTEN, tid, 0, 0);
			else
				ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		if (ev) {
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		if (sig == GATE_SIGNAL && raise_held(g, tid))
			continue;
		ptrace(PTRACE_CONT, tid, 0, sig);   /* not ours: deliver it */
	}
}
