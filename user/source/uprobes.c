// SPDX-License-Identifier: GPL-2.0
/*
 * Uprobe links.  A perf-event uprobe link, when it goes, takes the kernel's
 * trace event mutex and waits out grace periods: 60 to 100 ms a link here,
 * one link after another for the whole host, and a swack that attaches
 * meanwhile waits its turn.  A multi-uprobe link (Linux 6.6+) holds every
 * site of one program in one binary and goes with one wait, and links that
 * go together share their waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "source/uprobes.h"

enum multi_state { MULTI_UNKNOWN, MULTI_YES, MULTI_NO_KERNEL, MULTI_NO_FORCED };

static enum multi_state multi_state;

/* The kernel knows multi-uprobe links if it loads a program for them and then
 * refuses "/" as the binary for not being a regular file (EBADF). */
static bool kernel_has_multi(void)
{
	struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, popts, .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
	unsigned long offset = 0;
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .uprobe_multi.path = "/",
		    .uprobe_multi.offsets = &offset, .uprobe_multi.cnt = 1);
	int prog, link;
	bool ok;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", ret0, 2, &popts);
	if (prog < 0)
		return false;
	link = bpf_link_create(prog, 0, BPF_TRACE_UPROBE_MULTI, &lopts);
	ok = link >= 0 || errno == EBADF;
	if (link >= 0)
		close(link);
	close(prog);
	return ok;
}

/* Whether uprobes go in multi-uprobe links: asked of the kernel once, unless
 * SWACK_UPROBE_MULTI=0 forces the per-probe links (for the tests). */
bool uprobe_multi(void)
{
	const char *force = getenv("SWACK_UPROBE_MULTI");

	if (multi_state == MULTI_UNKNOWN) {
		if (force && !strcmp(force, "0"))
			multi_state = MULTI_NO_FORCED;
		else
			multi_state = kernel_has_multi() ? MULTI_YES : MULTI_NO_KERNEL;
	}
	return multi_state == MULTI_YES;
}

const char *uprobe_mode(void)
{
	uprobe_multi();
	switch (multi_state) {
	case MULTI_YES:
		return "multi-uprobe links, one per program";
	case MULTI_NO_FORCED:
		return "uprobe links, one per probe site (SWACK_UPROBE_MULTI=0)";
	default:
		return "uprobe links, one per probe site (this kernel has no multi-uprobe links, "
		       "Linux 6.6+: removing them takes about 0.1 s each)";
	}
}

void uprobe_prepare(struct bpf_object *obj)
{
	struct bpf_program *p;

	if (!uprobe_multi())
		return;
	bpf_object__for_each_program(p, obj) {
		const char *sec = bpf_program__section_name(p);

		if (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9))
			bpf_program__set_expected_attach_type(p, BPF_TRACE_UPROBE_MULTI);
	}
}

int link_set_add(struct link_set *ls, struct bpf_link *l)
{
	struct bpf_link **n;

	if (!l)
		return -EINVAL;
	if (ls->n == ls->cap) {
		n = realloc(ls->links, (ls->cap ? ls->cap * 2 : 16) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ls->links = n;
		ls->cap = ls->cap ? ls->cap * 2 : 16;
	}
	ls->links[ls->n++] = l;
	return 0;
}

static struct bpf_link *attach_multi(struct bpf_program *p, bool ret, pid_t pid,
				     const char *path, const struct uprobe_site *sites, size_t n)
{
	unsigned long *offs = calloc(n, sizeof(*offs)), *refs = calloc(n, sizeof(*refs));
	__u64 *cookies = calloc(n, sizeof(*cookies));
	struct bpf_link *l = NULL;
	bool any_ref = false;

	if (offs && refs && cookies) {
		for (size_t i = 0; i < n; i++) {
			offs[i] = sites[i].offset;
			refs[i] = sites[i].ref_ctr;
			cookies[i] = sites[i].cookie;
			any_ref |= sites[i].ref_ctr != 0;
		}
		LIBBPF_OPTS(bpf_uprobe_multi_opts, o, .offsets = offs,
			    .ref_ctr_offsets = any_ref ? refs : NULL, .cookies = cookies, .cnt = n,
			    .retprobe = ret);
		l = bpf_program__attach_uprobe_multi(p, pid, path, NULL, &o);
	} else {
		errno = ENOMEM;
	}
	free(offs);
	free(refs);
	free(cookies);
	return l;
}

int uprobe_attach(struct link_set *ls, struct bpf_program *p, bool ret, pid_t pid,
		  const char *path, const struct uprobe_site *sites, size_t n)
{
	int first = ls->n, err;

	if (uprobe_multi()) {
		struct bpf_link *l = attach_multi(p, ret, pid, path, sites, n);

		err = l ? link_set_add(ls, l) : -errno;
		if (err)
			bpf_link__destroy(l);
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .ref_ctr_offset = sites[i].ref_ctr,
			    .bpf_cookie = sites[i].cookie, .retprobe = ret);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(p, pid, path, sites[i].offset,
								     &o);

		err = l ? link_set_add(ls, l) : -errno;
		if (err) {
			bpf_link__destroy(l);
			while (ls->n > first)
				bpf_link__destroy(ls->links[--ls->n]);
			return err;
		}
	}
	return 0;
}

struct reaper {
	struct bpf_link **links;
	int n;
	int next;
};

static void *reap(void *arg)
{
	struct reaper *r = arg;
	int i;

	while ((i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) < r->n)
		bpf_link__destroy(r->links[i]);
	return NULL;
}

#define MAX_REAPERS 64

/*
 * Each closing thread waits for its own link's grace periods, so links closed
 * one after the other add their waits up (and so does process exit); closed
 * from threads of their own, they share them.  Perf-event links (the
 * fallback) queue on a kernel mutex however they are closed: this thread.
 */
void link_sets_destroy(struct link_set *const *sets, int nsets)
{
	struct reaper r = { 0 };
	pthread_t th[MAX_REAPERS];
	int nth, started = 0;

	for (int i = 0; i < nsets; i++)
		r.n += sets[i]->n;
	r.links = calloc(r.n ? r.n : 1, sizeof(*r.links));
	for (int i = 0; i < nsets; i++) {
		if (r.links)
			memcpy(r.links + r.next, sets[i]->links, sets[i]->n * sizeof(*r.links));
		else
			for (int k = 0; k < sets[i]->n; k++)
				bpf_link__destroy(sets[i]->links[k]);
		r.next += sets[i]->n;
		free(sets[i]->links);
		memset(sets[i], 0, sizeof(*sets[i]));
	}
	if (!r.links)
		return;
	r.next = 0;
	/* This thread reaps too. */
	nth = uprobe_multi() && r.n > 1 ? (r.n < MAX_REAPERS ? r.n : MAX_REAPERS) - 1 : 0;
	while (started < nth && !pthread_create(&th[started], NULL, reap, &r))
		started++;
	reap(&r);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(r.links);
}
