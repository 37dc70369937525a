// SPDX-License-Identifier: GPL-2.0
/*
 * Background snapshots in the model: write tracking, the faults it causes and
 * how long each one stalled the thread that wrote.  A snapshot is a migration
 * to a file as far as QEMU's states go, so it lives in struct mig and every
 * view that shows migrations shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

#define PAGE_SIZE (1ull << SNAP_PAGE_SHIFT)

int snap_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	int b = 0;

	while (us > 1 && b < SNAP_HIST - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

static uint32_t page_hash(uint64_t page, uint32_t cap)
{
	return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static void pages_put(struct snap_pages *p, uint64_t page, uint32_t faults)
{
	uint32_t i = page_hash(page, p->cap);

	while (p->slot[i].faults && p->slot[i].page != page)
		i = (i + 1) & (p->cap - 1);
	if (!p->slot[i].faults)
		p->used++;
	p->slot[i].page = page;
	p->slot[i].faults += faults;
}

/* Keeps the table under 3/4 full; on failure the page goes uncounted. */
static bool pages_grow(struct snap_pages *p)
{
	struct snap_pages n = { .cap = p->cap ? p->cap * 2 : 1024 };

	if (p->cap && p->used * 4 < p->cap * 3)
		return true;
	n.slot = calloc(n.cap, sizeof(*n.slot));
	if (!n.slot)
		return false;
	for (uint32_t i = 0; i < p->cap; i++)
		if (p->slot[i].faults)
			pages_put(&n, p->slot[i].page, p->slot[i].faults);
	free(p->slot);
	*p = n;
	return true;
}

void fault_pages_note(struct snap_pages *p, uint64_t addr)
{
	if (addr && pages_grow(p))
		pages_put(p, addr >> SNAP_PAGE_SHIFT, 1);
}

static struct snap_thread *thread_of(struct snapshot *s, const struct swack_event *e)
{
	uint32_t tid = (uint32_t)e->a[1];
	struct snap_thread *t;

	for (uint32_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	if (s->nthreads == SNAP_MAX_THREADS)
		return NULL;
	t = &s->threads[s->nthreads++];
	t->tid = tid;
	snprintf(t->comm, sizeof(t->comm), "%.15s", e->str);
	return t;
}

/* Keeps the SNAP_WORST longest stalls, longest first. */
static void note_worst(struct snapshot *s, const struct snap_stall *st)
{
	uint32_t i;

	if (s->nworst == SNAP_WORST) {
		if (s->worst[SNAP_WORST - 1].ns >= st->ns)
			return;
		i = SNAP_WORST - 1;
	} else {
		i = s->nworst++;
	}
	for (; i > 0 && s->worst[i - 1].ns < st->ns; i--)
		s->worst[i] = s->worst[i - 1];
	s->worst[i] = *st;
}

static bool keep_ns(struct snapshot *s, uint64_t ns)
{
	uint64_t *n;

	if (s->nns == s->capns) {
		n = realloc(s->ns, (s->capns * 2 + 256) * sizeof(*n));
		if (!n)
			return false;
		s->ns = n;
		s->capns = s->capns * 2 + 256;
	}
	s->ns[s->nns++] = ns;
	return true;
}

static void on_stall(struct snapshot *s, const struct swack_event *e)
{
	/* A release of one page names the page that faulted; a wider one
	 * (write tracking stopping) does not. */
	struct snap_stall st = { .ts = e->ts, .ns = e->a[0], .tid = (uint32_t)e->a[1],
				 .addr = e->a[4] == PAGE_SIZE ? e->a[3] : 0 };
	struct snap_thread *t = thread_of(s, e);

	if (!keep_ns(s, st.ns))
		return;
	s->stalls++;
	s->stall_ns += st.ns;
	s->hist[snap_bucket(st.ns)]++;
	note_worst(s, &st);
	fault_pages_note(&s->pages, st.addr);
	if (t) {
		t->stalls++;
		t->stall_ns += st.ns;
		if (st.ns > t->max_ns)
			t->max_ns = st.ns;
	}
}

static void on_ioctl(struct snapshot *s, const struct swack_event *e)
{
	if ((int64_t)e->a[5] < 0) {
		s->ioctl_errors++;
		s->last_error = (int64_t)e->a[5];
	}
}

void snap_apply(struct mig *g, const struct swack_event *e)
{
	struct snapshot *s = &g->snap;

	switch (e->kind) {
	case SWACK_EV_WT_START:
		s->seen = true;
		if (e->flags & SWACK_F_END)
			s->start_ret = (int64_t)e->a[0];
		else if (!s->t_start)
			s->t_start = e->ts;
		break;
	case SWACK_EV_WT_STOP:
		if (!s->t_stop)
			s->t_stop = e->ts;
		break;
	case SWACK_EV_SNAP_PROGRESS:
		s->unprotects = e->a[0];
		s->bytes_unprotected = e->a[1];
		break;
	/* The window every observer counts alike: faults released while write
	 * tracking was on, up to QEMU's ram_write_tracking_stop, which comes
	 * after the final state (snap_tracking keeps the snapshot open until
	 * then).  Those its final unprotect releases come after it, where two
	 * observers' ring buffers may order them on either side of its event. */
	case SWACK_EV_UFFD_FAULT:
		if (!s->t_stop || e->ts <= s->t_stop)
			s->msgs++;
		break;
	case SWACK_EV_UFFD_STALL:
		if (!s->t_stop || e->ts <= s->t_stop)
			on_stall(s, e);
		break;
	case SWACK_EV_UFFD_IOCTL: on_ioctl(s, e); break;
	default: break;
	}
}

static bool snap_event(const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_WT_STOP:
	case SWACK_EV_SNAP_PROGRESS:
	case SWACK_EV_UFFD_IOCTL:
	case SWACK_EV_UFFD_FAULT:
	case SWACK_EV_UFFD_STALL:
		return true;
	default:
		return false;
	}
}

/* QEMU stops write tracking after the snapshot's final state (8.0 on, and
 * 7.2's bg_migration_iteration_finish): until then, and for SNAP_GRACE_NS
 * after, the snapshot still takes its own events and is not reported, so
 * that every observer counts the same window whatever order its ring buffer
 * gave the last events. */
bool snap_tracking(const struct mig *g)
{
	return g->snap.t_start && !g->snap.closed && g->snap.start_ret >= 0;
}

bool snap_takes(const struct mig *g, const struct swack_event *e)
{
	return snap_event(e) && snap_tracking(g) && (!g->snap.t_stop || e->ts <= g->snap.t_stop);
}

void snap_free(struct mig *g)
{
	free(g->snap.ns);
	free(g->snap.pages.slot);
	g->snap.ns = NULL;
	g->snap.pages.slot = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank in sorted values. */
static uint64_t rank_of(const uint64_t *sorted, uint32_t n, double q)
{
	uint32_t rank = (uint32_t)(q * n);

	if (rank < q * n)
		rank++;
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	return sorted[rank - 1];
}

/* Exact quantiles, from one sorted copy: cheap next to a snapshot or a
 * postcopy, even at swackstat's refresh. */
void values_quantiles(const uint64_t *vals, uint32_t nv, const double *q, uint64_t *out, int n)
{
	uint64_t *v = nv ? malloc(nv * sizeof(*v)) : NULL;

	for (int i = 0; i < n; i++)
		out[i] = 0;
	if (!v)
		return;
	memcpy(v, vals, nv * sizeof(*v));
	qsort(v, nv, sizeof(*v), cmp_u64);
	for (int i = 0; i < n; i++)
		out[i] = rank_of(v, nv, q[i]);
	free(v);
}

void snap_quantiles(const struct snapshot *s, const double *q, uint64_t *out, int n)
{
	values_quantiles(s->ns, s->nns, q, out, n);
}

/* Inserts r into out[0..*n) (most faults first), keeping at most max. */
static void top_insert(struct snap_region *out, int *n, int max, struct snap_region r)
{
	int i;

	if (*n == max) {
		if (out[max - 1].faults >= r.faults)
			return;
		i = max - 1;
	} else {
		i = (*n)++;
	}
	for (; i > 0 && out[i - 1].faults < r.faults; i--)
		out[i] = out[i - 1];
	out[i] = r;
}

int fault_pages_hot(const struct snap_pages *p, unsigned shift, struct snap_region *out, int n)
{
	struct snap_pages regions = { 0 };
	int k = 0;

	for (uint32_t i = 0; i < p->cap; i++)
		if (p->slot[i].faults && pages_grow(&regions))
			pages_put(&regions, (p->slot[i].page << SNAP_PAGE_SHIFT) >> shift,
				  p->slot[i].faults);
	for (uint32_t i = 0; i < regions.cap; i++)
		if (regions.slot[i].faults)
			top_insert(out, &k, n, (struct snap_region){
				regions.slot[i].page << shift, regions.slot[i].faults });
	free(regions.slot);
	return k;
}

int fault_pages_repeats(const struct snap_pages *p, struct snap_region *out, int n)
{
	int k = 0;

	for (uint32_t i = 0; i < p->cap; i++)
		if (p->slot[i].faults > 1)
			top_insert(out, &k, n, (struct snap_region){
				p->slot[i].page << SNAP_PAGE_SHIFT, p->slot[i].faults });
	return k;
}

int snap_hot_regions(const struct snapshot *s, unsigned shift, struct snap_region *out, int n)
{
	return fault_pages_hot(&s->pages, shift, out, n);
}

int snap_repeat_pages(const struct snapshot *s, struct snap_region *out, int n)
{
	return fault_pages_repeats(&s->pages, out, n);
}
