/* Attach logic: which probes a QEMU process offers, and attaching them. */
#ifndef SWACK_ATTACH_H
#define SWACK_ATTACH_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "source/proc.h"
#include "source/vfio_fds.h"
#include "source/vmid.h"

struct swack_bpf;
struct bpf_link;
struct swack_event;

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

#define TARGET_MAX_LINKS 64
#define ATTACH_KERNEL_PROGS 15

/* A QEMU executable: probes attach once per binary, for every process
 * running it (pid -1); BPF keeps only the watched processes' events. */
struct binary {
	dev_t dev;
	ino_t ino;
	enum qemu_gen gen;
	int pie;
	uint64_t mig_lookup, run_lookup;   /* QAPI enum tables (link-time addresses) */
	struct bpf_link *links[TARGET_MAX_LINKS];
	int nlinks;
	int users;                         /* watched processes running it */
	char report[4096];                 /* the attach line */
	char missing[2048];
	char decoded[128];                 /* probes attached through swack's own decoder */
};

struct target {
	pid_t pid;
	char comm[16];
	enum qemu_gen gen;
	int bin;                           /* index in attacher.bins */
	struct name_table mig_names, run_names;
	struct vfio_fds vfio;              /* fd -> VFIO device */
	struct vm_ident vm;                /* its VM name and UUID, where known */
};

struct attacher {
	struct swack_bpf *skel;
	struct bpf_link *kernel_links[ATTACH_KERNEL_PROGS];
	struct target *targets;
	int ntargets;
	struct binary *bins;
	int nbins;
	bool verbose;
	unsigned long long cookies;  /* last attach cookie handed out */
	FILE *log;       /* the one-line attach reports */
	/* Told of each process attached: the report line, for recordings. */
	void (*attached)(void *ctx, const struct target *t, const char *exe, const char *line);
	void *ctx;
};

const char *gen_name(enum qemu_gen g);
/* Opens, loads and attaches the kernel-side programs. */
int attach_open(struct attacher *a, bool verbose, FILE *log, char *err, size_t errlen);
void attach_close(struct attacher *a);
/* Attaches to one QEMU process; 0, or -errno with a one-line reason. */
int attach_pid(struct attacher *a, pid_t pid, char *err, size_t errlen);
void attach_forget(struct attacher *a, pid_t pid);
struct target *attach_target(struct attacher *a, pid_t pid);
/* Turns raw enum numbers of uprobe events into names (the events' str). */
void attach_normalize(struct attacher *a, struct swack_event *e);

#endif
