/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Uprobe links for swack's BPF objects: one multi-uprobe link per program
 * and binary where the kernel has them (Linux 6.6+), one link per probe
 * otherwise; and link removal that does not make anyone wait.
 */
#ifndef SWACK_UPROBES_H
#define SWACK_UPROBES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_object;
struct bpf_program;
struct bpf_link;

struct uprobe_site {
	uint64_t offset;    /* file offset of the probed instruction */
	uint64_t ref_ctr;   /* file offset of a USDT semaphore, 0 if none */
	uint64_t cookie;    /* what bpf_get_attach_cookie returns there */
};

struct link_set {
	struct bpf_link **links;
	int n, cap;
};

/* How uprobes are attached, for attach lines, after a count of links. */
const char *uprobe_mode(void);
/* Whether uprobes go in multi-uprobe links (else one perf-event link each). */
bool uprobe_multi(void);
/* Before loading obj: its uprobe programs take the multi-uprobe attach type. */
void uprobe_prepare(struct bpf_object *obj);
/* Program p (a return probe if ret) at every site of path, for process pid
 * (-1: every process running path), added to ls.  0, or -errno with nothing
 * added. */
int uprobe_attach(struct link_set *ls, struct bpf_program *p, bool ret, pid_t pid,
		  const char *path, const struct uprobe_site *sites, size_t n);
/* Adds a link made elsewhere (NULL is refused); 0 or -ENOMEM. */
int link_set_add(struct link_set *ls, struct bpf_link *l);
/* Removes every link of the sets, all at once, and empties them. */
void link_sets_destroy(struct link_set *const *sets, int nsets);

#endif
