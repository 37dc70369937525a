/* SPDX-License-Identifier: GPL-2.0 */
/* swack gate: hold and release a QEMU's switchover (internal interfaces). */
#ifndef SWACK_GATE_H
#define SWACK_GATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "gate_abi.h"
#include "swack.h"

#define GATE_DEFAULT_MAX_NS (30ULL * 1000000000ULL)
#define GATE_LIMIT_MAX_NS (3600ULL * 1000000000ULL)

/* Release causes (SWACK_EV_GATE_RELEASE a4). */
enum gate_cause {
	GATE_CAUSE_COMMAND = 1,
	GATE_CAUSE_DEADLINE = 2,
	GATE_CAUSE_POLICY = 3,
	GATE_CAUSE_EXIT = 4,
	GATE_CAUSE_GONE = 5,
	GATE_CAUSE_DIED = 6,     /* its gate run ended without releasing it (SIGKILL) */
};

/* ---- gate_pin.c: bpffs, the pinned maps, the run lock -------------------- */

#define GATE_PIN_HOLDS GATE_PIN_DIR "/gate_holds"
#define GATE_PIN_TARGETS GATE_PIN_DIR "/gate_targets"
#define GATE_PIN_STATS GATE_PIN_DIR "/gate_stats"
#define GATE_PIN_CTL GATE_PIN_DIR "/gate_ctl"

/* The pinned maps as the commands see them. */
struct gate_pins {
	int holds, targets, stats, ctl;
	struct gate_ctl c;       /* the running gate */
};

/* bpffs at /sys/fs/bpf (mounted if missing) and GATE_PIN_DIR (0600). */
int gate_bpffs_ready(bool *mounted, char *err, size_t errlen);
/* Takes the run lock (one gate per host); the fd, or -1 with a reason. */
int gate_lock_run(char *err, size_t errlen);
/* Opens the maps of the running gate; 0, or -1 with a reason. */
int gate_pins_open(struct gate_pins *p, char *err, size_t errlen);
void gate_pins_close(struct gate_pins *p);
/* Removes pins left by an earlier gate (call with the lock held). */
void gate_unpin_all(void);
/* A hold a gate run that died left pinned, and the process it was on. */
struct gate_orphan {
	__u32 pid;
	struct gate_hold h;
};
/* The holds an earlier gate run left pinned (call with the lock held, before
 * gate_unpin_all): up to max into out, how many; *run_pid the pid of the run
 * that left them (0 unknown). */
int gate_orphans(struct gate_orphan *out, int max, pid_t *run_pid);

/* ---- gate_check.c: checks and parsing shared by run and the commands ----- */

struct argp_state;
/* --max-hold: a duration from 1 ms to 1 h, or argp_error. */
void gate_parse_max_hold(struct argp_state *state, const char *arg, uint64_t *ns);
const char *gate_gen_name(enum gate_gen g);
/* The pending-size query of a target, as the gate attaches to it. */
struct gate_query {
	enum gate_gen gen;
	const char *sym;
	uint64_t offset;          /* file offset of the query */
	uint64_t setup;           /* file offset of qemu_savevm_state_setup, 0 if absent */
	/* 11.1: where MigPendingData keeps the fields the gate raises */
	long mpd_precopy, mpd_total;
	char mpd_note[320];       /* where those offsets come from, for the attach line */
};

/* The target's query; 0 or -1 with a reason. */
int gate_resolve(pid_t pid, struct gate_query *q, char *err, size_t errlen);
/* The target's C library behaves as the ptrace actuator assumes (glibc:
 * signal 33 is SIGSETXID); 0, or -1 with a reason.  what: the library
 * found, for the attach line. */
int gate_check_libc(pid_t pid, char *what, size_t whatlen, char *err, size_t errlen);
/* glibc's SIGSETXID handler is installed in pid (it is from its first thread on). */
int gate_check_handler(pid_t pid, char *err, size_t errlen);
/* Kernel lockdown mode ("none", "integrity", "confidentiality"), or "unknown". */
void gate_lockdown(char *buf, size_t len);
void gate_fmt_ns(char *buf, size_t len, uint64_t ns);

#endif
