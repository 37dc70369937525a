/* SPDX-License-Identifier: GPL-2.0 */
/* The ptrace actuator of swack gate run (gate_trace.c). */
#ifndef SWACK_GATE_TRACE_H
#define SWACK_GATE_TRACE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A seized thread. */
struct gate_thr {
	pid_t tid, pid;
};

/* How long held threads of one process stayed stopped, per query (ns). */
struct trace_stops {
	pid_t pid;
	uint32_t *v;
	uint32_t n, cap;
};

struct gate_tracer {
	int acts_fd;                 /* gate_acts: what BPF planned to write, per thread */
	struct gate_thr *thr;
	int nthr;
	struct trace_stops *stops;
	int nstops;
	uint64_t raised;             /* queries raised */
	uint64_t poke_errors;
	/* The first write that failed, for the run to report once. */
	bool err_new;
	pid_t err_pid, err_tid;
	char err[160];
};

int trace_seize(struct gate_tracer *tr, pid_t pid, pid_t tid, char *err, size_t errlen);
bool trace_seized(const struct gate_tracer *tr, pid_t tid);
/* Handles every ptrace stop and exit that is waiting. */
void trace_reap(struct gate_tracer *tr);
/* Median of pid's stop times since the last call (ns, n of them), and
 * forgets them. */
uint64_t trace_take_median(struct gate_tracer *tr, pid_t pid, uint32_t *n);
/* Forgets pid's stop times (a process gone). */
void trace_drop(struct gate_tracer *tr, pid_t pid);
void trace_free(struct gate_tracer *tr);

#endif
