/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arming the kernel-side programs.  Those on the raw sys_enter/sys_exit and
 * scheduler tracepoints run at every syscall and context switch of the host
 * while they are attached, whatever process makes it, and attaching any
 * program to sys_enter sends every syscall of the host through the kernel's
 * slow path.  So they are attached only while a watched process needs them,
 * and their raw tracepoint links come and go at once.  exec and exit hooks
 * (a few calls a second) stay attached.
 */
#ifndef SWACK_ARM_H
#define SWACK_ARM_H
#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "source/uprobes.h"

/* Why a watched process needs the kernel-side programs (target.needs). */
#define NEED_MIGRATION 1u   /* a migration or snapshot of it runs, by its events */
#define NEED_ALWAYS 2u      /* no probe announces its migrations: watched on the kernel
			     * side only, or its migration-state probe is missing */
#define NEED_VFIO 4u        /* it holds a VFIO device: its setup calls come any time */
#define NEED_STARTING 8u    /* caught at its exec, not yet started: it may open VFIO
			     * devices and make their setup calls */

/* After the last need ends, the hooks stay this long: a destination's vCPUs
 * enter guest code after its migration completed, and back-to-back
 * migrations do not re-arm. */
#define ARM_GRACE_MS 2000

#define ARM_MAX_PROGS 16

struct arm {
	struct bpf_program *progs[ARM_MAX_PROGS];
	int nprogs;
	struct link_set links;
	bool on;
	__u64 on_ns;                 /* CLOCK_MONOTONIC when last armed */
	__u64 idle_ns;               /* since when nothing needs them; 0 while something does */
	unsigned long long times;    /* times armed */
	pid_t why_pid;               /* the process that needed them last time, */
	unsigned why;                /* its NEED_*, */
	__u64 why_ts;                /* and the time of its event (0: at its attach) */
};

struct attacher;
struct swack_event;
struct target;

/* The object's programs that arm (every kernel program but exec and exit). */
void arm_init(struct arm *m, struct bpf_object *obj);
/* A process just watched (at_exec: caught at its exec): what it needs from
 * the start. */
void arm_watched(struct attacher *a, struct target *t, bool at_exec);
/* What an event says of its process's needs (after attach_normalize). */
void arm_note(struct attacher *a, const struct swack_event *e);
/* Arms if a watched process needs it: 0, or -errno with a one-line reason. */
int arm_sync(struct attacher *a, char *err, size_t errlen);
/* Armed, nothing has needed it for ARM_GRACE_MS: time to disarm. */
bool arm_idle(struct attacher *a);
/* Disarming, first step: events wake the reader again (then drain it). */
void arm_quiet(struct attacher *a);
/* Disarming, last step: detaches, unless a need came meanwhile. */
void arm_off(struct attacher *a);

#endif
