// SPDX-License-Identifier: GPL-2.0
/*
 * Postcopy in the model.  After the switch the guest runs on the destination
 * before its memory has arrived: every touch of a page still on the source is
 * a missing fault on the destination's userfaultfd, read by QEMU's fault
 * thread, turned into a page request on the return path, and resolved when a
 * UFFDIO_COPY (or ZEROPAGE, WAKE) places the page; the faulting thread sleeps
 * until then.  Each fault is kept with those times, so the figures (latency
 * percentiles, per-vCPU blocked time, QEMU's blocktime, hot pages) are exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

#define PAGE_MASK (~0xfffULL)
/* Faults still open are recent: matching looks this far back, no further. */
#define MATCH_WINDOW 4096

int pc_vcpu_of_comm(const char *comm)
{
	int idx, n = 0;

	if (sscanf(comm, "CPU %d/%n", &idx, &n) != 1 || !n || idx < 0)
		return -1;
	return idx;
}

/* A listed vCPU thread's index (PC_VCPU events), or -1. */
static int listed_vcpu(const struct postcopy *pc, uint32_t tid)
{
	for (uint32_t i = 0; tid && i < pc->nvcpus; i++)
		if (pc->vcpus[i].tid == tid)
			return pc->vcpus[i].vcpu;
	return -1;
}

static void note_vcpu(struct postcopy *pc, int vcpu, uint32_t tid)
{
	for (uint32_t i = 0; i < pc->nvcpus; i++)
		if (pc->vcpus[i].vcpu == vcpu) {
			pc->vcpus[i].tid = tid;
			return;
		}
	if (vcpu < 0 || pc->nvcpus == PC_MAX_VCPUS)
		return;
	pc->vcpus[pc->nvcpus].vcpu = vcpu;
	pc->vcpus[pc->nvcpus++].tid = tid;
}

static void note_outstanding(struct postcopy *pc, uint64_t ts)
{
	series_add(&pc->outstanding_s, ts, pc->outstanding, pc->nfaults);
}

static struct pc_fault *new_fault(struct postcopy *pc)
{
	struct pc_fault *f;
	uint32_t cap;

	if (pc->nfaults == pc->capfaults) {
		cap = pc->capfaults ? pc->capfaults * 2 : 256;
		f = pc->nfaults < PC_MAX_FAULTS ? realloc(pc->faults, cap * sizeof(*f)) : NULL;
		if (!f) {
			pc->faults_dropped++;
			return NULL;
		}
		pc->faults = f;
		pc->capfaults = cap;
	}
	f = &pc->faults[pc->nfaults++];
	memset(f, 0, sizeof(*f));
	return f;
}

static void add_fault(struct postcopy *pc, const struct swack_event *e, uint64_t addr,
		      uint32_t tid)
{
	struct pc_fault *f = new_fault(pc);

	pc->seen = true;
	pc->outstanding++;
	note_outstanding(pc, e->ts);
	if (!f)
		return;
	f->t_read = e->ts;
	f->reader = e->tid;
	f->page = addr & PAGE_MASK;
	f->tid = tid;
	f->vcpu = listed_vcpu(pc, tid);
	fault_pages_note(&pc->pages, f->page);
}

/* The latest fault still waiting for page, or NULL. */
static struct pc_fault *open_fault(struct postcopy *pc, uint64_t page)
{
	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++)
		if (pc->faults[i].page == page && !pc->faults[i].t_placed)
			return &pc->faults[i];
	return NULL;
}

/* Every fault waiting for page is resolved at ts. */
static void placed(struct postcopy *pc, uint64_t page, uint64_t ts)
{
	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		struct pc_fault *f = &pc->faults[i];

		if (f->page != page || f->t_placed)
			continue;
		f->t_placed = ts;
		if (pc->outstanding > 0)
			pc->outstanding--;
	}
	note_outstanding(pc, ts);
}

/* The fault a request is for: the one at its address, else the last one its
 * thread read (QEMU's fault thread requests each fault as it reads it). */
static struct pc_fault *requested_fault(struct postcopy *pc, const struct swack_event *e)
{
	uint64_t page = e->a[0] & PAGE_MASK;

	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		struct pc_fault *f = &pc->faults[i];

		if (page ? f->page == page && !f->t_request : f->reader == e->tid)
			return f->t_request ? NULL : f;
	}
	return NULL;
}

/* A request for a page: its fault's, and a repeat when another thread's
 * fault on the same page had already asked for it. */
static void on_request(struct postcopy *pc, const struct swack_event *e)
{
	struct pc_fault *mine = requested_fault(pc, e);

	pc->seen = true;
	pc->requests++;
	if (!mine)
		return;
	pc->requests_linked++;
	mine->t_request = e->ts;
	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		const struct pc_fault *f = &pc->faults[i];

		if (f != mine && f->page == mine->page && f->t_request && !f->t_placed) {
			pc->rerequests++;
			return;
		}
	}
}

static struct pc_thread *thread_of(struct postcopy *pc, uint32_t tid, const char *comm)
{
	struct pc_thread *t;

	for (uint32_t i = 0; i < pc->nthreads; i++)
		if (pc->threads[i].tid == tid)
			return &pc->threads[i];
	if (pc->nthreads == PC_MAX_THREADS)
		return NULL;
	t = &pc->threads[pc->nthreads++];
	t->tid = tid;
	snprintf(t->comm, sizeof(t->comm), "%.15s", comm);
	t->vcpu = listed_vcpu(pc, tid);
	if (t->vcpu < 0)
		t->vcpu = pc_vcpu_of_comm(comm);
	return t;
}

static void add_span(struct postcopy *pc, uint64_t from, uint64_t to, int vcpu, bool kernel)
{
	struct pc_span *s;
	uint32_t cap;

	if (pc->nspans == pc->capspans) {
		cap = pc->capspans ? pc->capspans * 2 : 256;
		s = pc->nspans < PC_MAX_FAULTS ? realloc(pc->spans, cap * sizeof(*s)) : NULL;
		if (!s)
			return;
		pc->spans = s;
		pc->capspans = cap;
	}
	pc->spans[pc->nspans++] = (struct pc_span){ .from = from, .to = to, .vcpu = vcpu,
						    .kernel = kernel };
}

/* The fault a woken thread slept on: in the range that woke it, its own
 * where QEMU knew the faulting thread. */
static struct pc_fault *stalled_fault(struct postcopy *pc, uint32_t tid, uint64_t start,
				      uint64_t len)
{
	struct pc_fault *any = NULL;

	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		struct pc_fault *f = &pc->faults[i];

		if (f->stall_ns || f->page < (start & PAGE_MASK) || f->page >= start + (len ? len : 1))
			continue;
		if (f->tid == tid)
			return f;
		if (!f->tid && !any)
			any = f;
	}
	return any;
}

/* A thread that slept in a missing fault was woken by a UFFDIO call. */
static void on_stall(struct postcopy *pc, const struct swack_event *e)
{
	uint32_t tid = (uint32_t)e->a[1];
	struct pc_thread *t = thread_of(pc, tid, e->str);
	struct pc_fault *f = stalled_fault(pc, tid, e->a[3], e->a[4]);
	int vcpu = t ? t->vcpu : pc_vcpu_of_comm(e->str);

	pc->seen = true;
	pc->kernel_stalls = true;
	if (f) {
		f->stall_ns = e->a[0];
		f->tid = tid;
		f->vcpu = vcpu;
	} else {
		/* the page came first: the kernel dropped the fault before QEMU read it */
		pc->unread_stalls++;
	}
	if (t) {
		t->stalls++;
		t->blocked_ns += e->a[0];
		if (e->a[0] > t->max_ns)
			t->max_ns = e->a[0];
	}
	if (vcpu >= 0)
		add_span(pc, e->ts - e->a[0], e->ts, vcpu, true);
}

/* The kernel's view is complete for every build: USDT faults only fill in
 * what it lacks (the faulting thread when QEMU did not ask for it). */
static void on_usdt_fault(struct postcopy *pc, const struct swack_event *e)
{
	struct pc_fault *f;

	if (!pc->kernel_faults) {
		add_fault(pc, e, e->a[0], (uint32_t)e->a[2]);
		return;
	}
	f = open_fault(pc, e->a[0] & PAGE_MASK);
	if (f && !f->tid) {
		f->tid = (uint32_t)e->a[2];
		f->vcpu = listed_vcpu(pc, f->tid);
	}
}

static void on_kernel_fault(struct postcopy *pc, const struct swack_event *e)
{
	if (e->a[1] & SWACK_UFFD_PAGEFAULT_FLAG_WP)
		return;
	pc->kernel_faults = true;
	add_fault(pc, e, e->a[0], (uint32_t)e->a[2]);
}

static void on_page_req(struct postcopy *pc, const struct swack_event *e)
{
	if (pc->kernel_faults)
		return;
	if (!e->a[2])
		placed(pc, e->a[0] & PAGE_MASK, e->ts);
	pc->outstanding = (int64_t)e->a[1];
	note_outstanding(pc, e->ts);
}

/* QEMU's own accounting (USDT): its vCPU stalls where the kernel's are not
 * measured, and its total. */
static void on_blocktime(struct postcopy *pc, const struct swack_event *e)
{
	switch (e->a[0]) {
	case SWACK_PC_BT_BEGIN:
		add_span(pc, e->ts, 0, (int)e->a[3], false);
		if (pc->nspans)
			pc->spans[pc->nspans - 1].page = e->a[1] & PAGE_MASK;
		break;
	case SWACK_PC_BT_END:
		for (uint32_t i = 0; i < pc->nspans; i++)
			if (!pc->spans[i].kernel && !pc->spans[i].to &&
			    pc->spans[i].page == (e->a[1] & PAGE_MASK))
				pc->spans[i].to = e->ts;
		break;
	case SWACK_PC_BT_TOTAL:
		pc->qemu_blocktime = e->a[2];
		pc->have_qemu_blocktime = true;
		break;
	}
}

static void on_uffd_ioctl(struct postcopy *pc, const struct swack_event *e)
{
	if ((int64_t)e->a[5] < 0) {
		pc->uffd_errors++;
		pc->last_error = (int64_t)e->a[5];
		return;
	}
	/* QEMU also registers a page at start-up to probe the kernel: only the
	 * registration of the listening destination counts. */
	if ((e->a[0] & 0xff) != SWACK_UFFDIO_REGISTER || !pc->t_dst[PCD_LISTENING] ||
	    !(e->a[4] & SWACK_UFFDIO_REGISTER_MODE_MISSING))
		return;
	if (!pc->t_registered)
		pc->t_registered = e->ts;
	pc->registered_blocks++;
	pc->registered_bytes += e->a[3];
}

static void set_once(uint64_t *t, uint64_t ts)
{
	if (!*t)
		*t = ts;
}

static void on_step(struct postcopy *pc, const struct swack_event *e)
{
	bool end = e->flags & SWACK_F_END;
	uint64_t step = e->a[0];

	/* QEMU advises postcopy whenever the capability is on, even if the
	 * migration then completes in precopy. */
	pc->seen |= step != SWACK_PC_DST_ADVISE;
	switch (step) {
	case SWACK_PC_START_CMD: set_once(&pc->t_cmd, e->ts); break;
	case SWACK_PC_DISCARD_BITMAP: set_once(&pc->t_discard[end], e->ts); break;
	case SWACK_PC_LISTEN_SENT: set_once(&pc->t_listen_sent, e->ts); break;
	case SWACK_PC_RUN_SENT: set_once(&pc->t_run_sent, e->ts); break;
	case SWACK_PC_PACKAGE_SENT: set_once(&pc->t_package[end], e->ts); break;
	case SWACK_PC_COMPLETE: set_once(&pc->t_complete, e->ts); break;
	case SWACK_PC_RECOVER_CMD:
		if (pc->npauses && !pc->pauses[pc->npauses - 1].t_recover)
			pc->pauses[pc->npauses - 1].t_recover = e->ts;
		break;
	default:
		if (step >= SWACK_PC_DST_ADVISE && step <= SWACK_PC_DST_END)
			set_once(&pc->t_dst[step - SWACK_PC_RECOVER_CMD], e->ts);
		break;
	}
}

/* The state has already changed (model.c): postcopy begins, pauses, recovers. */
static void on_state(struct mig *g, const struct swack_event *e)
{
	struct postcopy *pc = &g->pc;
	struct pc_pause *last = pc->npauses ? &pc->pauses[pc->npauses - 1] : NULL;

	switch (g->state) {
	case MS_POSTCOPY:
		pc->seen = true;
		if (!pc->t_active) {
			pc->t_active = e->ts;
			pc->tx_active = e->tx_bytes;
			pc->iterations_at_switch = g->iterations;
			pc->pending_at_switch = g->pending;
		}
		if (last && !last->t_resume)
			last->t_resume = e->ts;
		break;
	case MS_POSTCOPY_PAUSED:
		if ((!last || last->t_resume) && pc->npauses < PC_MAX_PAUSES)
			pc->pauses[pc->npauses++] = (struct pc_pause){ .t_pause = e->ts };
		break;
	case MS_POSTCOPY_RECOVER:
		if (last && !last->t_recover)
			last->t_recover = e->ts;
		break;
	default:
		break;
	}
}

static void on_discard(struct postcopy *pc, const struct swack_event *e)
{
	/* QEMU also empties every RAMBlock when postcopy is advised: only the
	 * source's discards at the switch count. */
	if (!pc->t_dst[PCD_DISCARD] || pc->t_dst[PCD_LISTENING])
		return;
	pc->discards++;
	pc->discard_bytes += e->a[1];
}

static void on_progress(struct postcopy *pc, const struct swack_event *e)
{
	pc->copies = e->a[0];
	pc->zeros = e->a[1];
	pc->placed_bytes = e->a[2];
	pc->placed_resolved = e->a[3];
	pc->wakes = e->a[4];
}

void pc_apply(struct mig *g, const struct swack_event *e)
{
	struct postcopy *pc = &g->pc;

	switch (e->kind) {
	case SWACK_EV_MIG_STATE: on_state(g, e); break;
	case SWACK_EV_PENDING:
	case SWACK_EV_QUERY_PENDING:
		if (!pc->pending_first)
			pc->pending_first = g->pending;
		break;
	case SWACK_EV_PC_STEP: on_step(pc, e); break;
	case SWACK_EV_PC_REQUEST: on_request(pc, e); break;
	case SWACK_EV_PC_REQ_RECV:
		pc->seen = true;
		pc->requests_recv++;
		break;
	case SWACK_EV_PC_FAULT: on_usdt_fault(pc, e); break;
	case SWACK_EV_UFFD_FAULT: on_kernel_fault(pc, e); break;
	case SWACK_EV_PC_RESOLVE: placed(pc, e->a[0] & PAGE_MASK, e->ts); break;
	case SWACK_EV_UFFD_STALL: on_stall(pc, e); break;
	case SWACK_EV_PC_PAGE_REQ: on_page_req(pc, e); break;
	case SWACK_EV_PC_PROGRESS: on_progress(pc, e); break;
	case SWACK_EV_PC_VCPU: note_vcpu(pc, (int)e->a[0], (uint32_t)e->a[1]); break;
	case SWACK_EV_PC_BLOCKTIME: on_blocktime(pc, e); break;
	case SWACK_EV_PC_DISCARD: on_discard(pc, e); break;
	case SWACK_EV_UFFD_IOCTL: on_uffd_ioctl(pc, e); break;
	default: break;
	}
}

void pc_free(struct mig *g)
{
	free(g->pc.faults);
	free(g->pc.spans);
	free(g->pc.pages.slot);
	g->pc.faults = NULL;
	g->pc.spans = NULL;
	g->pc.pages.slot = NULL;
}

/* ---- derived figures --------------------------------------------------- */

const char *pc_phase_name(enum pc_phase p)
{
	static const char *const names[PCP_MAX] = {
		[PCP_STOP] = "stop", [PCP_ITERABLE] = "iterable_save",
		[PCP_DISCARD] = "discard_bitmap", [PCP_DEVICES] = "device_state",
		[PCP_PACKAGE] = "package_send", [PCP_DST_START] = "destination_start",
	};
	return p < PCP_MAX ? names[p] : "unknown";
}

static uint64_t either(uint64_t a, uint64_t b)
{
	return a ? a : b;
}

/* Marks in order; a missing one merges its phase into the next, so the known
 * phases still add up to the whole pause. */
void pc_switch_breakdown(const struct mig *src, const struct mig *dst, struct pc_switch *s)
{
	const struct postcopy *pc = &src->pc;
	uint64_t stop = either(src->t_stop, src->t_stopped);
	/* the guest runs again where a vCPU enters guest code, as for precopy */
	uint64_t resumed = dst ? mig_resume_ts(dst) : 0;
	uint64_t m[PCP_MAX + 1] = {
		stop, src->t_stopped, pc->t_discard[0], either(pc->t_discard[1], pc->t_listen_sent),
		either(pc->t_package[0], pc->t_run_sent), pc->t_package[1], resumed,
	};
	uint64_t from = m[0];

	s->request_ns = pc->t_cmd && stop > pc->t_cmd ? (int64_t)(stop - pc->t_cmd) : -1;
	s->pause_ns = stop && resumed > stop ? (int64_t)(resumed - stop) : -1;
	for (int p = 0; p < PCP_MAX; p++) {
		s->ns[p] = -1;
		if (!from || !m[p + 1] || m[p + 1] < from)
			continue;
		s->ns[p] = (int64_t)(m[p + 1] - from);
		from = m[p + 1];
	}
}

uint64_t pc_fault_latency(const struct pc_fault *f)
{
	if (f->stall_ns)
		return f->stall_ns;
	return f->t_placed > f->t_read ? f->t_placed - f->t_read : 0;
}

int pc_vcpu_count(const struct postcopy *pc)
{
	int n = 0;

	for (uint32_t i = 0; i < pc->nvcpus; i++)
		if (pc->vcpus[i].vcpu >= n)
			n = pc->vcpus[i].vcpu + 1;
	for (uint32_t i = 0; i < pc->nthreads; i++)
		if (pc->threads[i].vcpu >= n)
			n = pc->threads[i].vcpu + 1;
	return n < PC_MAX_VCPUS ? n : PC_MAX_VCPUS;
}

struct point {
	uint64_t ts;
	int vcpu;
	int delta;
};

static int by_ts(const void *a, const void *b)
{
	const struct point *x = a, *y = b;

	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return x->delta - y->delta;   /* ends first: touching stalls do not overlap */
}

/* The stalls that count: the threads' sleeps where the kernel measured them,
 * else QEMU's own accounting; still open ones end at now. */
static int span_points(const struct postcopy *pc, uint64_t now, struct point **out)
{
	struct point *p = pc->nspans ? malloc(2 * pc->nspans * sizeof(*p)) : NULL;
	int n = 0;

	for (uint32_t i = 0; p && i < pc->nspans; i++) {
		const struct pc_span *s = &pc->spans[i];
		uint64_t to = s->to ? s->to : now;

		if (s->kernel != pc->kernel_stalls || s->vcpu < 0 || s->vcpu >= PC_MAX_VCPUS ||
		    to <= s->from)
			continue;
		p[n++] = (struct point){ s->from, s->vcpu, 1 };
		p[n++] = (struct point){ to, s->vcpu, -1 };
	}
	*out = p;
	return n;
}

/* One pass over the stalls in time order: each vCPU's blocked time (the union
 * of its stalls) and the time all nv vCPUs were blocked at once. */
static uint64_t sweep(const struct postcopy *pc, uint64_t now, int nv, uint64_t *per_vcpu)
{
	int depth[PC_MAX_VCPUS] = { 0 }, blocked = 0;
	struct point *p;
	int n = span_points(pc, now, &p);
	uint64_t all = 0;

	if (n)
		qsort(p, n, sizeof(*p), by_ts);
	for (int i = 0; i < n; i++) {
		uint64_t dt = i ? p[i].ts - p[i - 1].ts : 0;

		for (int v = 0; per_vcpu && v < PC_MAX_VCPUS; v++)
			per_vcpu[v] += depth[v] > 0 ? dt : 0;
		if (nv > 0 && blocked >= nv)
			all += dt;
		blocked -= depth[p[i].vcpu] > 0;
		depth[p[i].vcpu] += p[i].delta;
		blocked += depth[p[i].vcpu] > 0;
	}
	free(p);
	return all;
}

void pc_vcpus_blocked(const struct postcopy *pc, uint64_t now, uint64_t *per_vcpu)
{
	memset(per_vcpu, 0, PC_MAX_VCPUS * sizeof(*per_vcpu));
	sweep(pc, now, 0, per_vcpu);
}

/* vCPUs waiting for a page at the end of the events: -1 when a waiting
 * fault's thread is unknown. */
static int blocked_now(const struct postcopy *pc)
{
	uint64_t seen = 0;
	int n = 0;

	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		const struct pc_fault *f = &pc->faults[i];

		if (f->t_placed)
			continue;
		if (!f->tid)
			return -1;
		if (f->vcpu >= 0 && f->vcpu < 64 && !(seen & (1ull << f->vcpu))) {
			seen |= 1ull << f->vcpu;
			n++;
		}
	}
	return n;
}

static void latencies(const struct postcopy *pc, struct pc_stats *st)
{
	uint64_t *v = pc->nfaults ? malloc(pc->nfaults * sizeof(*v)) : NULL, q[4];
	uint32_t n = 0;

	st->unrequested = pc->requests_linked ? 0 : -1;
	for (uint32_t i = 0; v && i < pc->nfaults; i++)
		if (pc->faults[i].t_placed || pc->faults[i].stall_ns) {
			v[n] = pc_fault_latency(&pc->faults[i]);
			st->latency_total += v[n++];
			st->unrequested += pc->requests_linked && !pc->faults[i].t_request;
		}
	st->resolved = n;
	values_quantiles(v, n, (const double[]){ 0.5, 0.9, 0.99, 1 }, q, 4);
	st->p50 = q[0];
	st->p90 = q[1];
	st->p99 = q[2];
	st->max = q[3];
	free(v);
}

void pc_latency_hist(const struct postcopy *pc, uint32_t *hist)
{
	memset(hist, 0, SNAP_HIST * sizeof(*hist));
	for (uint32_t i = 0; i < pc->nfaults; i++)
		if (pc->faults[i].t_placed || pc->faults[i].stall_ns)
			hist[snap_bucket(pc_fault_latency(&pc->faults[i]))]++;
}

/* The longest wait so far of a fault no page has filled yet, counted from
 * QEMU's read of it (its thread slept a little longer): a stuck vCPU shows
 * before its page comes, if it ever does. */
static uint64_t longest_open(const struct postcopy *pc, uint64_t now)
{
	uint64_t m = 0;

	for (uint32_t i = pc->nfaults, k = 0; i-- > 0 && k < MATCH_WINDOW; k++) {
		const struct pc_fault *f = &pc->faults[i];

		if (!f->t_placed && !f->stall_ns && now > f->t_read && now - f->t_read > m)
			m = now - f->t_read;
	}
	return m;
}

static int64_t paused_ns(const struct postcopy *pc, uint64_t now)
{
	int64_t sum = 0;

	for (uint32_t i = 0; i < pc->npauses; i++) {
		uint64_t end = pc->pauses[i].t_resume ? pc->pauses[i].t_resume : now;

		sum += end > pc->pauses[i].t_pause ? (int64_t)(end - pc->pauses[i].t_pause) : 0;
	}
	return sum;
}

void pc_stats(const struct mig *g, uint64_t now, struct pc_stats *st)
{
	const struct postcopy *pc = &g->pc;
	uint64_t end = g->t_end ? g->t_end : now;

	memset(st, 0, sizeof(*st));
	st->duration_ns = pc->t_active && end > pc->t_active ? (int64_t)(end - pc->t_active) : -1;
	st->bytes = g->role != SWACK_ROLE_DST && pc->t_active && g->tx_last >= pc->tx_active ?
		    (int64_t)(g->tx_last - pc->tx_active) : -1;
	st->paused_ns = paused_ns(pc, end);
	st->faults = pc->nfaults + pc->faults_dropped;
	st->requests = pc->requests;
	st->requests_recv = pc->requests_recv;
	for (uint32_t i = 0; i < pc->pages.cap; i++)
		st->repeat_pages += pc->pages.slot[i].faults > 1;
	if (st->duration_ns > 0)
		st->fault_rate = st->faults * 1e9 / st->duration_ns;
	latencies(pc, st);
	st->stall_max = st->max;
	if (!g->t_end && longest_open(pc, now) > st->stall_max)
		st->stall_max = longest_open(pc, now);
	st->nvcpus = (int)pc->nvcpus;
	st->blocktime_ns = pc->nvcpus ? (int64_t)sweep(pc, end, (int)pc->nvcpus, NULL) : -1;
	st->blocked_now = g->t_end ? 0 : blocked_now(pc);
	if (pc->copies + pc->zeros >= pc->placed_resolved)
		st->background_pages = pc->copies + pc->zeros - pc->placed_resolved;
}
