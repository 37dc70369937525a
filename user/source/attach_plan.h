/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An attach plan: the sites of every attach-table entry of one binary,
 * gathered per BPF program, then attached with one call per program (one
 * multi-uprobe link each, where the kernel has them).
 */
#ifndef SWACK_ATTACH_PLAN_H
#define SWACK_ATTACH_PLAN_H
#include <stdbool.h>
#include <stddef.h>
#include "source/uprobes.h"

#define PLAN_MAX_PROGS 64

struct plan_prog {
	const char *prog;
	bool ret;
	struct uprobe_site *sites;
	size_t n, cap;
	int entries;            /* attach-table entries it serves */
	char what[1024];        /* their names, for the missing list */
};

struct plan {
	struct plan_prog progs[PLAN_MAX_PROGS];
	int n;
};

/* Entry `what` goes on program prog at these sites; 0 or -ENOMEM/-ENOSPC. */
int plan_add(struct plan *pl, const char *prog, bool ret, const char *what,
	     const struct uprobe_site *sites, size_t n);
/* Attaches every program of the plan, from obj, to path (all processes);
 * failed(ctx, what, -errno) for each one that does not attach.  Returns the
 * number of entries in place. */
int plan_attach(struct plan *pl, struct bpf_object *obj, const char *path, struct link_set *ls,
		void (*failed)(void *ctx, const char *what, int err), void *ctx);
void plan_free(struct plan *pl);

#endif
