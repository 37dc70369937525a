/* SPDX-License-Identifier: GPL-2.0 */
/* swack gate run: the process that owns the gate (internal). */
#ifndef SWACK_GATE_RUN_H
#define SWACK_GATE_RUN_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "gate/gate.h"
#include "source/live.h"
#include "model/model.h"

struct gate_bpf;
struct ring_buffer;
struct bpf_link;

/* A process the gate probes. */
struct gate_tgt {
	pid_t pid;
	char comm[16];
	enum gate_gen gen;
	const char *sym;
	struct bpf_link *links[3];     /* query entry, return; setup hint */
	/* ptrace actuator: how long held threads stayed stopped, per query (ns) */
	uint32_t *stops;
	uint32_t nstops, capstops;
	/* policies: the migration a policy hold was placed for, and its facts */
	uint32_t policy_seq;
	bool policy_held;
	int64_t ack_count;          /* per-device ACKs pending (11.1), -1 unknown */
	bool acked;                 /* legacy: the one ACK arrived */
	uint64_t zero_since;        /* --until-settled: initial bytes 0 since */
	uint32_t zero_regrowths;
};

/* A seized thread (ptrace actuator). */
struct gate_thr {
	pid_t tid, pid;
};

/* A hold the run has reported as placed. */
struct gate_seen_hold {
	pid_t pid;
	uint64_t id;
};

struct gate_run {
	struct gate_bpf *skel;
	enum gate_actuator act;
	char lockdown[32];
	char act_why[256];
	int lockfd, epfd, sigfd;
	struct ring_buffer *rb;
	struct gate_tgt *tgts;
	int ntgts;
	pid_t *refused;             /* follow mode: processes refused once */
	int nrefused;
	struct gate_thr *thr;
	int nthr;
	pid_t *unseizable;          /* threads that could not be seized: said once */
	int nunseizable;
	struct gate_seen_hold *holds;
	int nholds;
	bool follow_all, verbose;
	uint64_t max_ns;            /* --max-hold */
	uint64_t t0;
	uint64_t raised;            /* queries raised by this process (ptrace) */
	uint64_t poke_errors;
	uint64_t log_seq;           /* entries written to gate_log */
	/* policies */
	bool until_acked;
	char settle_dev[SWACK_DEV_LEN];
	uint64_t settle_ns;
	bool settle;
	uint64_t budget_ns;
	bool budget;
	bool live_on;
	struct live live;
	struct model model;
};

/* gate_run.c */
struct gate_tgt *run_tgt(struct gate_run *g, pid_t pid);
/* A hold placed by the run itself (policies). */
int run_place_hold(struct gate_run *g, pid_t pid, const char *reason);
/* Ends the hold on pid, reports it with its cause; no-op without one. */
void run_release(struct gate_run *g, pid_t pid, enum gate_cause cause, const char *reason);
/* The hold in force on pid, or false. */
bool run_hold_of(struct gate_run *g, pid_t pid, struct gate_hold *h);
void run_line(struct gate_run *g, pid_t pid, pid_t tid, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* gate_trace.c: the ptrace actuator */
int trace_seize(struct gate_run *g, pid_t pid, pid_t tid, char *err, size_t errlen);
bool trace_seized(struct gate_run *g, pid_t tid);
/* Handles every ptrace stop and exit that is waiting. */
void trace_reap(struct gate_run *g);
/* Median of a target's stop times since the last call (ns), and resets them. */
uint64_t trace_take_median(struct gate_tgt *t, uint32_t *n);

/* gate_policy.c */
bool policy_any(const struct gate_run *g);
void policy_event(struct gate_run *g, const struct swack_event *e);
void policy_tick(struct gate_run *g);

#endif
