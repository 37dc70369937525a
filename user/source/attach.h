/* SPDX-License-Identifier: GPL-2.0 */
/* Attach logic: which probes a QEMU process offers, and attaching them. */
#ifndef SWACK_ATTACH_H
#define SWACK_ATTACH_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "source/arm.h"
#include "source/codefacts.h"
#include "source/proc.h"
#include "source/uprobes.h"
#include "source/vfio_fds.h"
#include "source/vmid.h"

struct swack_bpf;
struct swack_event;
struct swack_usdt_spec;

/* What a binary offers, detected from probes and symbols, never a version. */
enum qemu_gen {
	GEN_NONE,
	GEN_SYM_72,      /* qemu_savevm_state_pending: QEMU 7.2 and before */
	GEN_SYM_8,       /* qemu_savevm_state_pending_estimate/exact: 8.0-11.0 */
	GEN_SYM_111,     /* qemu_savevm_query_pending_iter: 11.1+ */
	GEN_USDT,        /* dtrace build without switchover-ack (before 8.1) */
	GEN_USDT_81,     /* legacy one-shot switchover-ack: 8.1-11.0 */
	GEN_USDT_111,    /* per-device reusable switchover-ack: 11.1+ */
};

/* A QEMU executable: probes attach once per binary, for every process
 * running it (pid -1); BPF keeps only the watched processes' events. */
#define NEED_MIG_NAMES 1u
#define NEED_RUN_NAMES 2u

struct binary {
	dev_t dev;
	ino_t ino;
	enum qemu_gen gen;                 /* GEN_NONE: watched on the kernel side only */
	int pie;
	uint64_t mig_lookup, run_lookup;   /* QAPI enum tables (link-time addresses) */
	unsigned names;                    /* NEED_*_NAMES: the tables its events need */
	struct code_facts facts;           /* 8.0-11.0 by symbols: where the threshold is */
	char facts_note[320];              /* what the attach line says of them */
	struct link_set links;
	int nprobes;                       /* entries of the attach tables in place */
	int users;                         /* watched processes running it */
	bool tcg_entry;                    /* cpu_exec attached: TCG vCPUs' entry seen */
	bool announces;                    /* its migration-state probe is in place */
	char report[4096];                 /* the attach line */
	char missing[2048];
};

struct target {
	pid_t pid;
	char comm[16];
	enum qemu_gen gen;
	int bin;                           /* index in attacher.bins */
	uint64_t start;                    /* proc_start_time: a reused pid is another process */
	struct name_table mig_names, run_names;
	char names_note[400];              /* why a name table is 7.2's, for the attach line */
	struct vfio_fds vfio;              /* fd -> VFIO device */
	struct vm_ident vm;                /* its VM name and UUID, where known */
	uint64_t vcpus_ts;                 /* vCPU threads last told (live.c) */
	unsigned needs;                    /* NEED_*: why the kernel hooks must be on */
};

struct attacher {
	struct swack_bpf *skel;
	struct link_set kernel_links;      /* exec and exit hooks, always on */
	struct arm arm;                    /* the others, on while a target needs them */
	struct target *targets;
	int ntargets;
	struct binary *bins;
	int nbins;
	struct swack_usdt_spec *specs;   /* what the usdt_specs map holds, by index */
	int nspecs;
	bool verbose;
	FILE *log;       /* the one-line attach reports */
	/* Told of each process attached: the report line, for recordings. */
	void (*attached)(void *ctx, const struct target *t, const char *exe, const char *line);
	void *ctx;
};

const char *gen_name(enum qemu_gen g);
/* Opens, loads, attaches the exec and exit hooks (the others: source/arm.h). */
int attach_open(struct attacher *a, bool verbose, FILE *log, char *err, size_t errlen);
void attach_close(struct attacher *a);
/* Attaches to one QEMU process (at_exec: caught at its exec), and arms the
 * kernel hooks if it needs them; 0, or -errno with a one-line reason. */
int attach_pid(struct attacher *a, pid_t pid, bool at_exec, char *err, size_t errlen);
void attach_forget(struct attacher *a, pid_t pid);
/* pid exec'd: a target of that pid that is another, earlier process (whose
 * exit went unseen, as when it exits while being attached) is forgotten. */
void attach_exec(struct attacher *a, pid_t pid);
struct target *attach_target(struct attacher *a, pid_t pid);
/* Turns raw enum numbers of uprobe events into names (the events' str). */
void attach_normalize(struct attacher *a, struct swack_event *e);

#endif
