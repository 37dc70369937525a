// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "source/attach_plan.h"
#include "source/binfile.h"

static struct plan_prog *plan_prog(struct plan *pl, const char *prog, bool ret)
{
	struct plan_prog *pp;

	for (int i = 0; i < pl->n; i++)
		if (!strcmp(pl->progs[i].prog, prog) && pl->progs[i].ret == ret)
			return &pl->progs[i];
	if (pl->n == PLAN_MAX_PROGS)
		return NULL;
	pp = &pl->progs[pl->n++];
	memset(pp, 0, sizeof(*pp));
	pp->prog = prog;
	pp->ret = ret;
	return pp;
}

int plan_add(struct plan *pl, const char *prog, bool ret, const char *what,
	     const struct uprobe_site *sites, size_t n)
{
	struct plan_prog *pp = plan_prog(pl, prog, ret);
	size_t len;

	if (!pp)
		return -ENOSPC;
	if (pp->n + n > pp->cap) {
		size_t cap = (pp->n + n) * 2;
		struct uprobe_site *s = realloc(pp->sites, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		pp->sites = s;
		pp->cap = cap;
	}
	memcpy(pp->sites + pp->n, sites, n * sizeof(*sites));
	pp->n += n;
	pp->entries++;
	len = strlen(pp->what);
	snprintf(pp->what + len, sizeof(pp->what) - len, "%s%s", len ? ", " : "", what);
	return 0;
}

/* The kernel reads each site's page as it places the probe: ask for all at once. */
static void prefetch(const struct plan *pl, const char *path)
{
	size_t total = 0, k = 0;
	uint64_t *offs;

	for (int i = 0; i < pl->n; i++)
		total += pl->progs[i].n;
	offs = malloc((total ? total : 1) * sizeof(*offs));
	if (!offs)
		return;
	for (int i = 0; i < pl->n; i++)
		for (size_t j = 0; j < pl->progs[i].n; j++)
			offs[k++] = pl->progs[i].sites[j].offset;
	elf_prefetch_pages(path, offs, total);
	free(offs);
}

int plan_attach(struct plan *pl, struct bpf_object *obj, const char *path, struct link_set *ls,
		void (*failed)(void *ctx, const char *what, int err), void *ctx)
{
	int placed = 0;

	prefetch(pl, path);
	for (int i = 0; i < pl->n; i++) {
		struct plan_prog *pp = &pl->progs[i];
		struct bpf_program *p = bpf_object__find_program_by_name(obj, pp->prog);
		int err = p ? uprobe_attach(ls, p, pp->ret, -1, path, pp->sites, pp->n) : -ENOENT;

		if (err)
			failed(ctx, pp->what, err);
		else
			placed += pp->entries;
	}
	return placed;
}

void plan_free(struct plan *pl)
{
	for (int i = 0; i < pl->n; i++)
		free(pl->progs[i].sites);
	pl->n = 0;
}
