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
#include "gate/gate.h"
#include "gate/gate_trace.h"
#include "util/clock.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static struct gate_thr *find(const struct gate_tracer *tr, pid_t tid)
{
	for (int i = 0; i < tr->nthr; i++)
		if (tr->thr[i].tid == tid)
			return &tr->thr[i];
	return NULL;
}

bool trace_seized(const struct gate_tracer *tr, pid_t tid)
{
	return find(tr, tid) != NULL;
}

static void forget(struct gate_tracer *tr, pid_t tid)
{
	struct gate_thr *t = find(tr, tid);

	if (t)
		*t = tr->thr[--tr->nthr];
}

int trace_seize(struct gate_tracer *tr, pid_t pid, pid_t tid, char *err, size_t errlen)
{
	struct gate_thr *t;
	char path[64];

	if (find(tr, tid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	if (access(path, F_OK)) {
		snprintf(err, errlen, "thread %d of pid %d is gone", tid, pid);
		return -1;
	}
	if (gate_check_handler(pid, err, errlen))
		return -1;
	t = realloc(tr->thr, (tr->nthr + 1) * sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tr->thr = t;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		snprintf(err, errlen, "cannot seize thread %d of pid %d: %s%s", tid, pid,
			 strerror(errno), errno == EPERM ? " (is another tracer, such as gdb or "
			 "strace, attached to it?)" : "");
		return -1;
	}
	tr->thr[tr->nthr++] = (struct gate_thr){ .tid = tid, .pid = pid };
	return 0;
}

static struct trace_stops *stops_of(struct gate_tracer *tr, pid_t pid, bool add)
{
	struct trace_stops *s;

	for (int i = 0; i < tr->nstops; i++)
		if (tr->stops[i].pid == pid)
			return &tr->stops[i];
	if (!add)
		return NULL;
	s = realloc(tr->stops, (tr->nstops + 1) * sizeof(*s));
	if (!s)
		return NULL;
	tr->stops = s;
	s = &tr->stops[tr->nstops++];
	*s = (struct trace_stops){ .pid = pid };
	return s;
}

static void note_stop(struct gate_tracer *tr, pid_t pid, uint64_t ns)
{
	struct trace_stops *t = stops_of(tr, pid, true);
	uint32_t *s;

	if (!t)
		return;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;

		if (cap > (1u << 20))
			return;
		s = realloc(t->v, cap * sizeof(*s));
		if (!s)
			return;
		t->v = s;
		t->cap = cap;
	}
	t->v[t->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

void trace_drop(struct gate_tracer *tr, pid_t pid)
{
	struct trace_stops *t = stops_of(tr, pid, false);

	if (!t)
		return;
	free(t->v);
	*t = tr->stops[--tr->nstops];
}

void trace_free(struct gate_tracer *tr)
{
	while (tr->nstops)
		trace_drop(tr, tr->stops[0].pid);
	free(tr->stops);
	free(tr->thr);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t trace_take_median(struct gate_tracer *tr, pid_t pid, uint32_t *n)
{
	struct trace_stops *t = stops_of(tr, pid, false);
	uint64_t med = 0;

	*n = t ? t->n : 0;
	if (!*n)
		return 0;
	qsort(t->v, t->n, sizeof(*t->v), cmp_u32);
	med = t->v[t->n / 2];
	t->n = 0;
	return med;
}

/* Our signal: write what BPF planned and resume without the signal. */
static bool raise_held(struct gate_tracer *tr, pid_t tid)
{
	struct gate_thr *thr = find(tr, tid);
	struct gate_act act;
	siginfo_t si;
	__u32 key = tid;

	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) || si.si_code != SI_KERNEL)
		return false;
	if (bpf_map_lookup_and_delete_elem(tr->acts_fd, &key, &act))
		return false;
	for (__u32 i = 0; i < act.n && i < 2; i++)
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)act.addr[i],
			   (void *)(uintptr_t)act.value[i])) {
			if (!tr->poke_errors++) {
				tr->err_new = true;
				tr->err_pid = act.pid;
				tr->err_tid = tid;
				snprintf(tr->err, sizeof(tr->err), "PTRACE_POKEDATA at 0x%llx: %s",
					 (unsigned long long)act.addr[i], strerror(errno));
			}
			break;
		}
	ptrace(PTRACE_CONT, tid, 0, 0);
	tr->raised++;
	note_stop(tr, thr ? thr->pid : (pid_t)act.pid, now_ns() - act.ts);
	return true;
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void trace_reap(struct gate_tracer *tr)
{
	for (;;) {
		int st, sig, ev;
		pid_t tid = waitpid(-1, &st, __WALL | WNOHANG);

		if (tid <= 0)
			return;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			forget(tr, tid);
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
		if (sig == GATE_SIGNAL && raise_held(tr, tid))
			continue;
		ptrace(PTRACE_CONT, tid, 0, sig);   /* not ours: deliver it */
	}
}
