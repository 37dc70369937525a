/* SPDX-License-Identifier: GPL-2.0 */
/* The gate's broadcast log (see gate_abi.h): written by swack gate run, read
 * by every live command, so that holds and releases reach traces and
 * recordings like any other event. */
#ifndef SWACK_GATE_LOG_H
#define SWACK_GATE_LOG_H
#include <stdbool.h>
#include <linux/types.h>
#include "gate_abi.h"

#define GATE_PIN_LOG GATE_PIN_DIR "/gate_log"
/* Searchable by all, listable by root: the holds' maps in it are 0600, only
 * the log, which every observer reads, is 0644 (and useless without CAP_BPF). */
#define GATE_PIN_DIR_MODE 0711
#define GATE_PIN_LOG_MODE 0644

/* Writer: appends e as entry seq (from 1); 0 or -errno. */
int gate_log_append(int fd, __u64 seq, const struct swack_event *e);

/* Holds handed out and not released yet, that a dead writer's would end. */
#define GATE_LOG_OPEN 64

struct gate_log_reader {
	int fd;
	int dirfd;               /* GATE_PIN_DIR, opened while privileged (-1: none) */
	__u32 map_id;            /* the log followed (a new gate run pins a new one) */
	__u64 next;              /* seq expected next */
	bool started;            /* a first look was taken */
	unsigned long long lost; /* entries overwritten before they were read */
	__u32 writer;            /* the gate run that wrote the entries read */
	struct { __u32 pid; __u64 ts; } open[GATE_LOG_OPEN];   /* holds in force */
	int nopen;
};

typedef void (*gate_log_fn)(void *ctx, const struct swack_event *e);

/* Opens GATE_PIN_DIR (bpffs mounted and the directory created, mode 0711,
 * where they are not) for later lookups of the log: a command that then runs
 * as nobody can still reach the log (0644) through it, though not
 * /sys/fs/bpf (0700). */
void gate_log_reader_init(struct gate_log_reader *r);
/* Hands each new entry to fn, in order; entries present at the first look
 * are history and are passed over; a log that appears later is read from
 * its start.  Entries written by this process are not handed out.  When the
 * gate run that wrote the holds handed out is gone without releasing them
 * (SIGKILL), fn gets a release of each, cause 6 (gate died), at now_ns. */
void gate_log_poll(struct gate_log_reader *r, gate_log_fn fn, void *ctx, __u64 now_ns);
/* Stops following the log, and closes the directory. */
void gate_log_reader_free(struct gate_log_reader *r);

#endif
