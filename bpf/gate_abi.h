/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The switchover gate's maps and messages, shared by bpf/gate.bpf.c and
 * user/gate*.c.  Only the gate object writes user memory or stops threads;
 * the observation ABI (bpf/swack.h) knows nothing of this file.
 *
 * Pinned under /sys/fs/bpf/swack/ by `swack gate run` (mode 0600), written by
 * `swack gate hold` and `swack gate release`:
 *   gate_holds    pid -> struct gate_hold      the holds, one per process
 *   gate_targets  pid -> struct gate_target    processes the running gate watches
 *   gate_stats    pid -> struct gate_stats     what the probes did (BPF writes)
 *   gate_ctl      0   -> struct gate_ctl       the running gate itself
 *   gate_log      seq % GATE_LOG_SLOTS -> struct gate_log_entry
 *                                            every hold and release, for any
 *                                            number of readers (swack trace,
 *                                            record, stat): see user/gate_log.c
 */
#ifndef SWACK_GATE_ABI_H
#define SWACK_GATE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>
#endif
#include "swack.h"

#define GATE_PIN_DIR "/sys/fs/bpf/swack"
#define GATE_MAX_PIDS 1024
#define GATE_REASON_LEN 64

/* glibc's SIGSETXID: no thread can block it, and glibc's handler ignores
 * every instance its own process did not send (si_code SI_TKILL, own pid). */
#define GATE_SIGNAL 33

/* What a held query is made to report where no threshold is known (8.x and
 * 11.1): far above any threshold, far below an overflow when summed. */
#define GATE_HUGE (1ULL << 62)

/* The pending-size query a process offers (shared/PROBES.md section 4). */
enum gate_gen {
	GATE_GEN_NONE = 0,
	GATE_GEN_72 = 1,    /* qemu_savevm_state_pending(f, threshold, *pre, *compat, *post) */
	GATE_GEN_8 = 2,     /* qemu_savevm_state_pending_exact(*must_precopy, *can_postcopy) */
	GATE_GEN_111 = 3,   /* qemu_savevm_query_pending_iter(s, MigPendingData *, exact) */
};

/* How a held query is enforced. */
enum gate_actuator {
	GATE_ACT_PTRACE = 1, /* BPF signals the thread; the gate pokes the value (lockdown) */
	GATE_ACT_WRITE = 2,  /* BPF writes the value itself (bpf_probe_write_user) */
};

enum gate_hold_state {
	GATE_HOLD_ACTIVE = 1,    /* enforced until the deadline */
	GATE_HOLD_RELEASED = 2,  /* released by a command; the gate reports it and deletes it */
};

enum gate_hold_origin {
	GATE_BY_COMMAND = 1,     /* swack gate hold */
	GATE_BY_POLICY = 2,      /* a policy of swack gate run */
};

struct gate_hold {
	__u64 id;                /* CLOCK_MONOTONIC ns when placed: tells holds apart */
	__u64 deadline;          /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns): ignored from then on */
	__u64 value;             /* what the query reports while held; 0: automatic
				  * (7.2: threshold + 1; 8.x, 11.1: GATE_HUGE) */
	__u32 state;             /* enum gate_hold_state */
	__u32 origin;            /* enum gate_hold_origin */
	__u32 by_pid;            /* the process that placed or released it */
	__u32 pad;
	char reason[GATE_REASON_LEN];   /* why it was placed */
	char release[GATE_REASON_LEN];  /* why it was released (GATE_HOLD_RELEASED) */
};

struct gate_target {
	__u32 gen;               /* enum gate_gen */
	__u16 mpd_precopy;       /* 11.1: offsets in MigPendingData of precopy_bytes */
	__u16 mpd_total;         /* and of total_bytes (user/gate/gate.c) */
	__u64 attached_ns;
	__u64 last_pending;      /* QEMU's own answer to the last decision query (BPF) */
	__u64 last_pending_ns;   /* when */
};

/* Per process, for the hold whose id is hold_id (reset when it changes). */
struct gate_stats {
	__u64 hold_id;
	__u64 queries;           /* decision queries while the hold applied */
	__u64 enforced;          /* of which raised (signal sent, or written) */
	__u64 above;             /* of which already above the threshold (7.2): left alone */
	__u64 missed;            /* of which the thread was not seized yet: not held */
	__u64 failed;            /* signal or write refused */
	__u64 expired;           /* queries after the deadline (hold ignored) */
	__u64 first_ns, last_ns; /* first and last raised query */
	__u64 last_query_ns;     /* the latest decision query, held or not */
};

struct gate_ctl {
	__u32 run_pid;           /* swack gate run */
	__u32 actuator;          /* enum gate_actuator */
	__u64 started_ns;        /* CLOCK_MONOTONIC */
	__u64 default_max_ns;    /* the run's --max-hold */
	char lockdown[16];       /* the kernel's lockdown mode, as read at start */
};

/*
 * The gate's events as a broadcast log.  A ring buffer has one consumer; this
 * array is only read, so every swack trace or record of the host can follow
 * it.  The writer (swack gate run, one per host) fills slot seq % SLOTS under
 * the slot's lock; readers take slots in seq order and count what they were
 * too slow to read.
 */
#define GATE_LOG_SLOTS 256

struct gate_log_entry {
	struct bpf_spin_lock lock;
	__u32 writer;            /* pid of the swack gate run that wrote it */
	__u64 seq;               /* from 1; 0: never written */
	struct swack_event e;    /* SWACK_EV_GATE_HOLD or SWACK_EV_GATE_RELEASE */
};

/* The out-parameters of a query, from its entry to its return (per thread). */
struct gate_call {
	__u64 addr[3];           /* the out-parameters (11.1: the MigPendingData) */
	__u64 threshold;         /* 7.2; ~0 where unknown */
	__u64 ts;
	__u32 gen;               /* enum gate_gen */
	__u32 exact;             /* 11.1: the exact query, the one the decision reads */
};

/* What the gate must write when the thread stops on GATE_SIGNAL (per thread). */
struct gate_act {
	__u64 addr[2];
	__u64 value[2];
	__u64 ts;
	__u64 hold_id;
	__u32 n;                 /* addresses used */
	__u32 pid;
};

/* Gate ring buffer: what the probes tell `swack gate run`. */
enum gate_msg_type {
	GATE_MSG_THREAD = 1,     /* a thread queries and is not seized by this gate: a0 gen */
	GATE_MSG_MISSED = 2,     /* a held query went unenforced: the thread was not seized */
	GATE_MSG_FAILED = 3,     /* a0: the error of bpf_send_signal_thread or the write */
};

struct gate_msg {
	__u64 ts;
	__u32 type;              /* enum gate_msg_type */
	__u32 pid;
	__u32 tid;
	__u32 pad;
	__s64 a0;
	__u64 a1;
};

#endif /* SWACK_GATE_ABI_H */
