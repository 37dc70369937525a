// SPDX-License-Identifier: GPL-2.0
/*
 * Migration model.  Each process has at most one migration in progress; a
 * destination's vCPUs may resume after its state turned "completed", so the
 * last finished migration of a process still takes late events until the
 * process starts another.  The latest migration of each process is found
 * through a hash of pids; what the model holds is bounded (model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "event/vfio_uapi.h"

static const struct { const char *name; enum mstate s; } state_names[] = {
	{ "none", MS_NONE }, { "setup", MS_SETUP }, { "active", MS_ACTIVE },
	{ "pre-switchover", MS_PRE_SWITCHOVER }, { "device", MS_DEVICE },
	{ "postcopy-active", MS_POSTCOPY }, { "postcopy-device", MS_POSTCOPY },
	{ "postcopy-paused", MS_POSTCOPY_PAUSED }, { "postcopy-recover", MS_POSTCOPY_RECOVER },
	{ "postcopy-recover-setup", MS_POSTCOPY_RECOVER },
	{ "completed", MS_COMPLETED }, { "failed", MS_FAILED },
	{ "failing", MS_FAILED }, { "cancelling", MS_CANCELLING },
	{ "cancelled", MS_CANCELLED },
};

enum mstate mstate_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(name, state_names[i].name))
			return state_names[i].s;
	return MS_OTHER;
}

const char *mstate_name(enum mstate s)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (state_names[i].s == s)
			return state_names[i].name;
	return "other";
}

bool mstate_terminal(enum mstate s)
{
	return s == MS_COMPLETED || s == MS_FAILED || s == MS_CANCELLED;
}

void model_init(struct model *m, model_done_fn done, void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->done = done;
	m->ctx = ctx;
}

void mig_free(struct mig *g)
{
	if (!g)
		return;
	snap_free(g);
	pc_free(g);
	free(g->devs);
	free(g);
}

void model_free(struct model *m)
{
	struct mig *g = m->head, *n;

	for (; g; g = n) {
		n = g->next;
		mig_free(g);
	}
	m->head = m->tail = m->rhead = m->rtail = m->ohead = m->otail = NULL;
	memset(m->hash, 0, sizeof(m->hash));
	m->nopen = m->nkept = m->nclosing = 0;
	free(m->vms);
	m->vms = NULL;
	m->nvms = m->capvms = 0;
}

static struct mig **bucket(const struct model *m, uint32_t pid)
{
	/* Knuth's multiplicative hash: pids come in runs. */
	return (struct mig **)&m->hash[(pid * 2654435761u) % MODEL_HASH];
}

struct mig *model_latest(const struct model *m, uint32_t pid)
{
	struct mig *g = *bucket(m, pid);

	while (g && g->pid != pid)
		g = g->hnext;
	return g;
}

/* g becomes its process's latest migration, in place of the one before. */
static void hash_set(struct model *m, struct mig *g)
{
	struct mig **p = bucket(m, g->pid);

	for (; *p; p = &(*p)->hnext)
		if ((*p)->pid == g->pid) {
			g->hnext = (*p)->hnext;
			*p = g;
			return;
		}
	g->hnext = NULL;
	*p = g;
}

static void hash_remove(struct model *m, const struct mig *g)
{
	for (struct mig **p = bucket(m, g->pid); *p; p = &(*p)->hnext)
		if (*p == g) {
			*p = g->hnext;
			return;
		}
}

bool model_evicted_note(const struct model *m, char *buf, size_t len)
{
	if (!m->evicted)
		return false;
	snprintf(buf, len, "%u migration%s reported before %s ended: more than %d were in "
		 "progress at once, and the one idle the longest was reported as it stood",
		 m->evicted, m->evicted == 1 ? " was" : "s were", m->evicted == 1 ? "it" : "they",
		 MODEL_MAX_OPEN);
	return true;
}

uint32_t model_ended(const struct model *m, int role, enum mstate s)
{
	return role >= 0 && role < 3 && s <= MS_OTHER ? m->ended[role][s] : 0;
}

static void *dup_mem(const void *p, size_t n, bool *ok)
{
	void *c = n ? malloc(n) : NULL;

	if (n && !c)
		*ok = false;
	else if (n)
		memcpy(c, p, n);
	return c;
}

struct mig *mig_copy(const struct mig *g)
{
	struct mig *c = malloc(sizeof(*c));
	bool ok = true;

	if (!c)
		return NULL;
	*c = *g;
	c->peer = c->next = c->prev = c->hnext = c->rnext = c->onext = c->oprev = NULL;
	c->devs = dup_mem(g->devs, g->capdevs * sizeof(*g->devs), &ok);
	c->snap.ns = dup_mem(g->snap.ns, g->snap.capns * sizeof(*g->snap.ns), &ok);
	c->snap.pages.slot = dup_mem(g->snap.pages.slot,
				     g->snap.pages.cap * sizeof(*g->snap.pages.slot), &ok);
	c->pc.faults = dup_mem(g->pc.faults, g->pc.capfaults * sizeof(*g->pc.faults), &ok);
	c->pc.spans = dup_mem(g->pc.spans, g->pc.capspans * sizeof(*g->pc.spans), &ok);
	c->pc.pages.slot = dup_mem(g->pc.pages.slot,
				   g->pc.pages.cap * sizeof(*g->pc.pages.slot), &ok);
	if (!ok) {
		mig_free(c);
		return NULL;
	}
	return c;
}

static bool leaving(const struct mig *g)
{
	return g->drop;
}

/* Marks g, and its reported peer, to be freed at the next sweep; how many. */
static uint32_t doom(struct model *m, struct mig *g)
{
	uint32_t n = 1;

	g->drop = true;
	m->sweep = true;
	if (g->peer && g->peer->reported && !leaving(g->peer)) {
		g->peer->drop = true;
		n++;
	}
	return n;
}

/* Out of the list and the hash (and, by the caller, of the reported ones). */
static void remove_mig(struct model *m, struct mig *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		m->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		m->tail = g->prev;
	hash_remove(m, g);
	m->nkept--;
	mig_free(g);
}

/* Frees what is done with (doomed: no longer its process's latest), then the
 * longest reported beyond MODEL_KEEP_FINISHED.  Only reported migrations
 * leave, so the walk is over those, in the order they were reported. */
static void sweep(struct model *m)
{
	struct mig **p;
	uint32_t n = 0;

	if (!m->sweep && m->nkept <= MODEL_KEEP_FINISHED)
		return;
	m->sweep = false;
	for (struct mig *g = m->rhead; g; g = g->rnext)
		n += !leaving(g);
	for (struct mig *g = m->rhead; g && n > MODEL_KEEP_FINISHED; g = g->rnext)
		if (!leaving(g))
			n -= doom(m, g);
	/* A peer that stays loses its link, before anything is freed. */
	for (struct mig *g = m->rhead; g; g = g->rnext)
		if (leaving(g) && g->peer && !leaving(g->peer) && g->peer->peer == g)
			g->peer->peer = NULL;
	m->rtail = NULL;
	for (p = &m->rhead; *p;) {
		struct mig *g = *p;

		if (!leaving(g)) {
			m->rtail = g;
			p = &g->rnext;
			continue;
		}
		*p = g->rnext;
		g->rnext = NULL;
		remove_mig(m, g);
	}
	m->sweep = false;
}

/* The migrations in progress, the one fed least recently first. */
static void open_unlink(struct model *m, struct mig *g)
{
	if (g->oprev)
		g->oprev->onext = g->onext;
	else
		m->ohead = g->onext;
	if (g->onext)
		g->onext->oprev = g->oprev;
	else
		m->otail = g->oprev;
	g->onext = g->oprev = NULL;
}

static void open_append(struct model *m, struct mig *g)
{
	g->oprev = m->otail;
	g->onext = NULL;
	if (m->otail)
		m->otail->onext = g;
	else
		m->ohead = g;
	m->otail = g;
}

static bool take_incoming(struct model *m, uint32_t pid)
{
	for (uint32_t i = 0; i < m->nincoming; i++)
		if (m->incoming[i] == pid) {
			m->incoming[i] = m->incoming[--m->nincoming];
			return true;
		}
	return false;
}

static void note_incoming(struct model *m, const struct swack_event *e)
{
	if (e->kind == SWACK_EV_RUNSTATE && !strcmp(e->str, "inmigrate") &&
	    m->nincoming < MODEL_MAX_HINTS && !take_incoming(m, e->pid))
		m->incoming[m->nincoming++] = e->pid;
}

static void evict_idlest(struct model *m);

static struct mig *mig_new(struct model *m, const struct swack_event *e, uint32_t seq)
{
	struct mig *g;

	if (m->nopen >= MODEL_MAX_OPEN)
		evict_idlest(m);
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->pid = e->pid;
	g->model = m;
	g->role = take_incoming(m, e->pid) ? SWACK_ROLE_DST : e->role;
	g->t_first = e->ts;
	g->tx_first = g->tx_last = e->tx_bytes;
	rate_sample(&g->rate, e->ts, e->tx_bytes);
	g->prev = m->tail;
	if (m->tail)
		m->tail->next = g;
	else
		m->head = g;
	m->tail = g;
	g->seq = seq;
	m->nmigs++;
	m->nopen++;
	open_append(m, g);
	hash_set(m, g);
	return g;
}

/* A device entering PRE_COPY, STOP_COPY or RESUMING is migrating. */
static bool starts_device_migration(const struct swack_event *e)
{
	uint32_t to = vfio_target_state(e);

	return !(int64_t)e->a[5] &&
	       vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_DEVICE_STATE) &&
	       (to == VFIO_STOP_COPY || to == VFIO_RESUMING || to == VFIO_PRE_COPY ||
		to == VFIO_PRE_COPY_P2P);
}

/* Events that open a migration when none is in progress. */
static bool starts_migration(const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_MIG_STATE:
		return mstate_from_name(e->str) == MS_SETUP ||
		       mstate_from_name(e->str) == MS_ACTIVE;
	case SWACK_EV_VFIO_IOCTL:
		return starts_device_migration(e);
	case SWACK_EV_SAVE_SETUP:
	case SWACK_EV_LOAD_BEGIN:
	case SWACK_EV_PENDING:
	case SWACK_EV_QUERY_PENDING:
	case SWACK_EV_ACK_NEEDED:
		return true;
	default:
		return false;
	}
}

/* Late events of a destination that finished loading. */
static bool late_event(const struct swack_event *e)
{
	return e->kind == SWACK_EV_VM_START || e->kind == SWACK_EV_VM_RESUMED ||
	       e->kind == SWACK_EV_LOAD_END || e->kind == SWACK_EV_RUNSTATE ||
	       e->kind == SWACK_EV_CHECKPOINT || e->kind == SWACK_EV_EXIT ||
	       e->kind == SWACK_EV_VCPU_RUN;
}

/* Until the destination's vCPUs ran, when that was announced. */
static bool awaits_run(const struct mig *g)
{
	return g->run_expected && !g->t_run;
}

static struct mig *mig_for(struct model *m, const struct swack_event *e)
{
	struct mig *g = model_latest(m, e->pid), *n;
	bool open = g && !mstate_terminal(g->state);

	if (open)
		return g;
	if (g && late_event(e) && (!g->t_resumed || awaits_run(g)))
		return g;
	if (g && snap_takes(g, e))
		return g;
	if (!starts_migration(e))
		return NULL;
	n = mig_new(m, e, g ? g->seq + 1 : 1);
	/* Superseded: the process's finished migration takes no more events. */
	if (n && g && g->reported && !leaving(g))
		doom(m, g);
	return n;
}

static void set_state(struct mig *g, const struct swack_event *e)
{
	struct mig_state_change *c;

	if (e->flags & SWACK_F_NOOP)
		return;
	g->state = mstate_from_name(e->str);
	if (g->state == MS_ACTIVE && !g->t_active)
		g->t_active = e->ts;
	if (g->nstates < MIG_MAX_STATES) {
		c = &g->states[g->nstates++];
		c->ts = e->ts;
		c->state = g->state;
		snprintf(c->name, sizeof(c->name), "%.23s", e->str);
	}
	if (mstate_terminal(g->state))
		g->t_end = e->ts;
}

/* Bytes sent so far, as the pending samples' companion figure. */
static int64_t sent_so_far(const struct mig *g, const struct swack_event *e)
{
	if (e->tx_bytes > g->tx_first)
		return (int64_t)(e->tx_bytes - g->tx_first);
	return (int64_t)g->qemu_bytes;
}

/* An iteration's own rate (its event's bw_Bps) is no bandwidth figure: the
 * last sync of a migration comes milliseconds after the one before, with a
 * few bytes between them. */
static void on_dirty_sync(struct mig *g, const struct swack_event *e)
{
	g->iterations++;
	g->after_sync = true;
	series_add(&g->iter_s, e->ts, (int64_t)e->a[0], 0);
}

/* QEMU's bandwidth update: its figure, when its window carried data. */
static void on_transferred(struct mig *g, const struct swack_event *e)
{
	if (e->origin == SWACK_ORIGIN_USDT && e->a[0]) {
		g->qemu_bytes += e->a[0];
		g->t_qemu_last = e->ts;
	}
	if (e->a[4] != ~0ULL)
		g->threshold = e->a[4];
	if (e->a[2]) {
		g->bw = e->a[2] * 1000;
		g->bw_from = BW_QEMU;
	}
}

void rate_sample(struct rate_ring *r, uint64_t ts, uint64_t tx)
{
	uint32_t last = (r->next + RATE_SAMPLES - 1) % RATE_SAMPLES;

	if (r->n && ts < r->ts[last] + RATE_SAMPLE_NS)
		return;
	r->ts[r->next] = ts;
	r->tx[r->next] = tx;
	r->next = (r->next + 1) % RATE_SAMPLES;
	if (r->n < RATE_SAMPLES)
		r->n++;
}

/* Bytes over the last second up to `now` (at least that, where the samples
 * allow; the whole span before when it is shorter); 0 when unknown. */
uint64_t rate_over_window(const struct rate_ring *r, uint64_t now, uint64_t tx_now)
{
	int back = -1, oldest = -1, pick;

	/* The newest sample a window back, else the oldest one after it. */
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->ts[i] >= now)
			continue;
		if (r->ts[i] + RATE_WINDOW_NS <= now) {
			if (back < 0 || r->ts[i] > r->ts[back])
				back = (int)i;
		} else if (oldest < 0 || r->ts[i] < r->ts[oldest]) {
			oldest = (int)i;
		}
	}
	pick = back >= 0 ? back : oldest;
	if (pick < 0 || tx_now < r->tx[pick])
		return 0;
	return (uint64_t)((double)(tx_now - r->tx[pick]) * 1e9 / (double)(now - r->ts[pick]));
}

/* The stream grew: where QEMU gives no figure, bandwidth is bytes over time. */
static void note_tx(struct mig *g, const struct swack_event *e)
{
	if (e->tx_bytes <= g->tx_last)
		return;
	g->tx_last = e->tx_bytes;
	g->t_tx_last = e->ts;
	if (g->bw_from != BW_QEMU) {
		g->bw = rate_over_window(&g->rate, e->ts, e->tx_bytes);
		g->bw_from = g->bw ? BW_BYTES : BW_NONE;
	}
}

/* The first pending size after a dirty sync is what the last pass left to
 * send: a migration that converges leaves less after each pass. */
static void note_pass(struct mig *g)
{
	if (!g->after_sync)
		return;
	g->after_sync = false;
	if (g->iterations > 1 && g->pending >= g->pass_low) {
		g->passes_without_progress++;
		return;
	}
	g->pass_low = g->pending;
	g->passes_without_progress = 0;
}

static void on_pending(struct mig *g, const struct swack_event *e)
{
	g->queries++;
	g->pending = e->a[0] + e->a[1] + e->a[2];
	if (!(e->flags & SWACK_F_NOTHRESH))
		g->threshold = e->a[3];
	note_pass(g);
	if (e->flags & SWACK_F_EXACT)
		series_add(&g->pending_s, e->ts, (int64_t)g->pending, sent_so_far(g, e));
}

static void on_query_pending(struct mig *g, const struct swack_event *e)
{
	g->queries++;
	g->pending = e->a[3];
	note_pass(g);
	if (e->flags & SWACK_F_EXACT)
		series_add(&g->pending_s, e->ts, (int64_t)g->pending, sent_so_far(g, e));
}

/* Only a destination enters "inmigrate"; only a source "finish-migrate". */
static void on_runstate(struct mig *g, const struct swack_event *e)
{
	if (!strcmp(e->str, "inmigrate"))
		g->role = SWACK_ROLE_DST;
	else if (!strcmp(e->str, "finish-migrate"))
		g->role = SWACK_ROLE_SRC;
	/* A snapshot restarts its vCPUs through vm_resume, into which QEMU 10.0
	 * inlines vm_start (no vm_start probe fires): the run state marks it. */
	else if (!strcmp(e->str, "running") && g->snap.seen && !g->t_start && !g->t_resumed)
		g->t_resumed = e->ts;
}

static void on_checkpoint(struct mig *g, const struct swack_event *e)
{
	if (!strcmp(e->str, "src-downtime-start"))
		g->t_dt_start = e->ts;
	else if (!strcmp(e->str, "src-downtime-end"))
		g->t_dt_end = e->ts;
}

static void set_once(uint64_t *t, uint64_t ts)
{
	if (!*t)
		*t = ts;
}

static void on_start(struct mig *g, const struct swack_event *e)
{
	set_once(e->kind == SWACK_EV_VM_START ? &g->t_start : &g->t_resumed, e->ts);
	if (e->flags & SWACK_F_RUN_NEXT)
		g->run_expected = true;
}

/* The first entry after this migration's start, not one of an earlier start. */
static void on_vcpu_run(struct mig *g, const struct swack_event *e)
{
	uint64_t start = g->t_start ? g->t_start : g->t_resumed;

	if (g->t_run || !start || e->ts < start)
		return;
	g->t_run = e->ts;
	g->run_via = (unsigned)e->a[0];
}

static void apply(struct mig *g, const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_MIG_STATE: set_state(g, e); break;
	case SWACK_EV_PENDING: on_pending(g, e); break;
	case SWACK_EV_QUERY_PENDING: on_query_pending(g, e); break;
	case SWACK_EV_DIRTY_SYNC: on_dirty_sync(g, e); break;
	case SWACK_EV_SWITCHOVER: set_once(&g->t_switchover, e->ts); break;
	case SWACK_EV_TRANSFERRED: on_transferred(g, e); break;
	case SWACK_EV_VM_STOP: set_once(&g->t_stop, e->ts); break;
	case SWACK_EV_VM_STOPPED: set_once(&g->t_stopped, e->ts); break;
	case SWACK_EV_VM_START:
	case SWACK_EV_VM_RESUMED:
		on_start(g, e);
		break;
	case SWACK_EV_VCPU_RUN: on_vcpu_run(g, e); break;
	case SWACK_EV_EXIT: g->run_expected = false; break;
	case SWACK_EV_SAVE_SETUP: g->role = SWACK_ROLE_SRC; break;
	case SWACK_EV_SAVE_COMPLETE:
		set_once(e->flags & SWACK_F_END ? &g->t_save_end : &g->t_save_begin, e->ts);
		break;
	case SWACK_EV_LOAD_BEGIN:
		g->role = SWACK_ROLE_DST;
		set_once(&g->t_load_begin, e->ts);
		break;
	case SWACK_EV_LOAD_END: set_once(&g->t_load_end, e->ts); break;
	case SWACK_EV_CHECKPOINT: on_checkpoint(g, e); break;
	case SWACK_EV_ACK_NEEDED:
	case SWACK_EV_ACK_APPROVE:
	case SWACK_EV_ACK_SENT:
		g->role = SWACK_ROLE_DST;
		break;
	case SWACK_EV_ACK_RECEIVED: g->role = SWACK_ROLE_SRC; break;
	case SWACK_EV_RUNSTATE: on_runstate(g, e); break;
	case SWACK_EV_VFIO_PENDING:
	case SWACK_EV_VFIO_ITERATE:
	case SWACK_EV_VFIO_STATE:
	case SWACK_EV_VFIO_OP:
		vfio_apply(g, e);
		break;
	case SWACK_EV_VFIO_IOCTL:
	case SWACK_EV_VFIO_DATA:
		kdev_apply(g, e);
		break;
	case SWACK_EV_WT_START:
	case SWACK_EV_WT_STOP:
	case SWACK_EV_SNAP_PROGRESS:
		snap_apply(g, e);
		break;
	/* userfaultfd: a background snapshot's write faults, else postcopy's
	 * missing ones */
	case SWACK_EV_UFFD_IOCTL:
	case SWACK_EV_UFFD_FAULT:
	case SWACK_EV_UFFD_STALL:
		if (g->snap.seen)
			snap_apply(g, e);
		else
			pc_apply(g, e);
		break;
	default:
		if (e->kind >= SWACK_EV_PC_STEP && e->kind <= SWACK_EV_PC_PAGE_REQ)
			pc_apply(g, e);
		break;
	}
	if (e->kind == SWACK_EV_MIG_STATE || e->kind == SWACK_EV_PENDING ||
	    e->kind == SWACK_EV_QUERY_PENDING)
		pc_apply(g, e);
	downtime_apply(g, e);
	ack_apply(g, e);
	g->t_last = e->ts;
	if (!g->role && e->role)
		g->role = e->role;
	if (e->kind == SWACK_EV_CHECKPOINT && !g->role)
		g->role = e->str[0] == 'd' ? SWACK_ROLE_DST : SWACK_ROLE_SRC;
	note_tx(g, e);
	rate_sample(&g->rate, e->ts, g->tx_last);
}

/* A source's vCPUs stopped while this destination was loading (from its
 * first event where the binary has no load probe, as with USDT). */
static bool time_match(const struct mig *src, const struct mig *dst)
{
	uint64_t stop = src->t_stop ? src->t_stop : src->t_stopped;
	uint64_t begin = dst->t_load_begin ? dst->t_load_begin : dst->t_first;

	return stop && stop >= begin && (!dst->t_resumed || stop <= dst->t_resumed);
}

/* Two processes can be one VM's source and destination unless both have a
 * UUID and they differ: several VMs migrating at once on a host overlap in
 * time.  Names are no proof: a test, or a rename on the way, may differ. */
static bool same_vm(const struct model *m, uint32_t a, uint32_t b)
{
	const struct vm_ident *x = model_vm(m, a), *y = model_vm(m, b);

	return !x || !y || !x->uuid[0] || !y->uuid[0] || !strcmp(x->uuid, y->uuid);
}

static void pair_by_time(struct model *m, struct mig *dst)
{
	for (struct mig *g = m->head; g && !dst->peer; g = g->next)
		if (g->role == SWACK_ROLE_SRC && !g->peer && !g->reported && !g->snap.seen &&
		    g->pid != dst->pid && time_match(g, dst) && same_vm(m, g->pid, dst->pid)) {
			g->peer = dst;
			dst->peer = g;
			g->paired_by = dst->paired_by = PAIR_TIME;
		}
}

static bool src_done(const struct mig *g)
{
	return mstate_terminal(g->state) && !snap_tracking(g);
}

/* A start that announced a vCPU entry waits for it, whatever the state says. */
static bool dst_done(const struct mig *g)
{
	return !awaits_run(g) && ((g->state == MS_COMPLETED && g->t_resumed) ||
				  g->state == MS_FAILED || g->state == MS_CANCELLED);
}

/* A destination that may still turn out to be this source's peer. */
static bool dst_in_flight(const struct model *m, const struct mig *src)
{
	for (const struct mig *g = m->head; g; g = g->next)
		if (g->role != SWACK_ROLE_SRC && g->pid != src->pid && !g->peer &&
		    !g->reported && !dst_done(g))
			return true;
	return false;
}

static void mark_reported(struct model *m, struct mig *g)
{
	g->reported = true;
	m->nopen--;
	open_unlink(m, g);
	m->nkept++;
	if (g->role >= 0 && g->role < 3)
		m->ended[g->role][g->state]++;
	if (m->rtail)
		m->rtail->rnext = g;
	else
		m->rhead = g;
	m->rtail = g;
}

static void report(struct model *m, struct mig *src, struct mig *dst)
{
	if (src)
		mark_reported(m, src);
	if (dst)
		mark_reported(m, dst);
	if (m->done)
		m->done(m->ctx, src, dst);
	/* Superseded while in progress: no later event can reach it. */
	if (src && model_latest(m, src->pid) != src)
		doom(m, src);
	if (dst && model_latest(m, dst->pid) != dst)
		doom(m, dst);
}

static void maybe_report(struct model *m, struct mig *g)
{
	struct mig *src = g->role == SWACK_ROLE_DST ? g->peer : g;
	struct mig *dst = g->role == SWACK_ROLE_DST ? g : g->peer;

	if (g->reported)
		return;
	if (dst && !dst->peer && dst_done(dst))
		pair_by_time(m, dst), src = dst->peer;
	if (src && dst) {
		if (src_done(src) && dst_done(dst))
			report(m, src, dst);
		return;
	}
	if (src && src_done(src) && !dst_in_flight(m, src))
		report(m, src, NULL);
	else if (dst && dst_done(dst))
		report(m, NULL, dst);
}

static void note_gate_hold(struct model *m, const struct swack_event *e)
{
	struct gate_note *n;

	if (m->ngate == MODEL_MAX_GATE) {
		memmove(m->gate, m->gate + 1, sizeof(m->gate) - sizeof(m->gate[0]));
		m->ngate--;
	}
	n = &m->gate[m->ngate++];
	memset(n, 0, sizeof(*n));
	n->pid = e->pid;
	n->t_hold = e->ts;
	n->max_ns = e->a[0];
	n->origin = e->a[1];
	memcpy(n->reason, e->str, sizeof(n->reason));
}

/* A release ends the latest hold of its process still in force, or one this
 * model ended at its max-hold for want of a release (its own figures win). */
static void note_gate_release(struct model *m, const struct swack_event *e)
{
	for (int i = (int)m->ngate - 1; i >= 0; i--) {
		struct gate_note *n = &m->gate[i];

		if (n->pid != e->pid || (n->t_release && !n->assumed))
			continue;
		n->assumed = false;
		n->t_release = e->ts;
		n->raised = e->a[1];
		n->queries = e->a[2];
		n->cause = e->a[4];
		memcpy(n->release_reason, e->str, sizeof(n->release_reason));
		return;
	}
}

int mig_gate_holds(const struct mig *g, const struct gate_note **out, int max)
{
	const struct model *m = g->model;
	int n = 0;

	for (uint32_t i = 0; m && i < m->ngate && n < max; i++) {
		const struct gate_note *h = &m->gate[i];

		if (h->pid == g->pid && (!g->t_end || h->t_hold < g->t_end) &&
		    (!h->t_release || h->t_release > g->t_first))
			out[n++] = h;
	}
	return n;
}

/* Source and destination, as the live source found them (one TCP connection). */
static void model_pair(struct model *m, uint32_t src_pid, uint32_t dst_pid)
{
	struct mig *src = model_latest(m, src_pid), *dst = model_latest(m, dst_pid);

	if (!src || !dst || src->peer || dst->peer || src->reported || dst->reported)
		return;
	src->role = SWACK_ROLE_SRC;
	dst->role = SWACK_ROLE_DST;
	src->peer = dst;
	dst->peer = src;
	src->paired_by = dst->paired_by = PAIR_TCP;
}

/* Snapshots whose grace after write tracking's stop ended by now. */
static void close_snapshots(struct model *m, uint64_t now, bool all)
{
	for (struct mig *g = m->head; g && m->nclosing; g = g->next) {
		if (!g->snap.t_stop || g->snap.closed)
			continue;
		if (!all && now <= g->snap.t_stop + SNAP_GRACE_NS)
			continue;
		g->snap.closed = true;
		m->nclosing--;
		maybe_report(m, g);
	}
}

#define GATE_CAUSE_DEADLINE 2   /* SWACK_EV_GATE_RELEASE a4 */

/* Holds past their max-hold with no release: whatever happened to the gate,
 * nothing enforces them since (the gate ignores a hold from its deadline on). */
static void expire_holds(struct model *m, uint64_t now)
{
	for (uint32_t i = 0; i < m->ngate; i++) {
		struct gate_note *n = &m->gate[i];

		if (n->t_release || !n->max_ns || n->max_ns > UINT64_MAX - n->t_hold ||
		    now < n->t_hold + n->max_ns)
			continue;
		n->t_release = n->t_hold + n->max_ns;
		n->cause = GATE_CAUSE_DEADLINE;
		n->assumed = true;
		snprintf(n->release_reason, sizeof(n->release_reason),
			 "max-hold passed, no release logged");
	}
}

void model_advance(struct model *m, uint64_t now_ns)
{
	if (m->nclosing)
		close_snapshots(m, now_ns, false);
	expire_holds(m, now_ns);
}

/* What is still open of g is reported as it stands (end of input, or evicted). */
static void flush_one(struct model *m, struct mig *g)
{
	if (g->reported)
		return;
	/* A snapshot in its grace after the stop: the grace ends here. */
	if (g->snap.t_stop && !g->snap.closed) {
		g->snap.closed = true;
		m->nclosing--;
	}
	if (g->role == SWACK_ROLE_DST && !g->peer)
		pair_by_time(m, g);
	if (g->role == SWACK_ROLE_DST && g->peer)
		report(m, g->peer->reported ? NULL : g->peer, g);
	else if (g->role == SWACK_ROLE_DST)
		report(m, NULL, g);
	else
		report(m, g, g->peer && !g->peer->reported ? g->peer : NULL);
}

/* Too many migrations in progress: the one idle the longest is reported as it
 * stands and forgotten (later events of its process begin anew). */
static void evict_idlest(struct model *m)
{
	struct mig *idlest = m->ohead;

	if (!idlest)
		return;
	m->evicted++;
	flush_one(m, idlest);
	hash_remove(m, idlest);
	doom(m, idlest);
}

static void feed_mig(struct model *m, const struct swack_event *e)
{
	struct mig *g;

	model_advance(m, e->ts);
	g = mig_for(m, e);

	kdev_note_facts(m, e);
	if (!g) {
		note_incoming(m, e);
		return;
	}
	if (e->kind == SWACK_EV_WT_STOP && g->snap.t_start && !g->snap.t_stop)
		m->nclosing++;
	apply(g, e);
	if (!g->reported && g != m->otail) {
		open_unlink(m, g);
		open_append(m, g);
	}
	maybe_report(m, g);
	if (g->peer)
		maybe_report(m, g->peer);
	/* A destination resuming may complete a source that waited for it. */
	if (g->role == SWACK_ROLE_DST && g->peer == NULL && dst_done(g))
		for (struct mig *s = m->head; s; s = s->next)
			if (s->role == SWACK_ROLE_SRC && !s->reported)
				maybe_report(m, s);
	/* A process that exits mid-migration sends nothing more. */
	if (e->kind == SWACK_EV_EXIT && !mstate_terminal(g->state))
		flush_one(m, g);
}

void model_feed(struct model *m, const struct swack_event *e)
{
	expire_holds(m, e->ts);
	/* A hold is not a migration event: it may come long before one. */
	if (e->kind == SWACK_EV_GATE_HOLD)
		note_gate_hold(m, e);
	else if (e->kind == SWACK_EV_GATE_RELEASE)
		note_gate_release(m, e);
	else if (e->kind == SWACK_EV_PAIR)
		model_pair(m, (uint32_t)e->a[0], (uint32_t)e->a[1]);
	else
		feed_mig(m, e);
	sweep(m);
}

bool model_all_reported(const struct model *m)
{
	for (const struct mig *g = m->head; g; g = g->next)
		if (!g->reported)
			return false;
	return m->nmigs > 0;
}

void model_flush(struct model *m)
{
	close_snapshots(m, 0, true);
	for (struct mig *g = m->head; g; g = g->next)
		flush_one(m, g);
	sweep(m);
}

int64_t mig_total_ns(const struct mig *g)
{
	uint64_t end = g->t_end ? g->t_end : g->t_resumed;

	return end > g->t_first ? (int64_t)(end - g->t_first) : -1;
}

/* What the channels carried from the first event on; QEMU's own count only
 * where no channel was seen (it stops at QEMU's last bandwidth update). */
int64_t mig_bytes(const struct mig *g)
{
	if (mig_bytes_from_qemu(g))
		return (int64_t)g->qemu_bytes;
	return g->tx_last >= g->tx_first ? (int64_t)(g->tx_last - g->tx_first) : -1;
}

bool mig_bytes_from_qemu(const struct mig *g)
{
	return g->tx_last <= g->tx_first && g->qemu_bytes;
}

/* QEMU's own count ends at its last bandwidth update: over the time to it. */
uint64_t mig_avg_bw(const struct mig *g)
{
	uint64_t start = g->t_active ? g->t_active : g->t_first;
	uint64_t end = mig_bytes_from_qemu(g) ? g->t_qemu_last : g->t_tx_last;
	int64_t bytes = mig_bytes(g);

	if (bytes <= 0 || end <= start)
		return 0;
	return (uint64_t)((double)bytes * 1e9 / (double)(end - start));
}

const char *bw_source_name(enum bw_source s)
{
	return s == BW_QEMU ? "qemu" : s == BW_BYTES ? "bytes" : "none";
}

static uint64_t stop_ts(const struct mig *src)
{
	return src->t_stop ? src->t_stop : src->t_stopped;
}

int64_t mig_qemu_downtime_ns(const struct mig *src)
{
	/* A snapshot stops the vCPUs only to start write tracking. */
	if (src->snap.seen)
		return src->t_resumed > stop_ts(src) && stop_ts(src) ?
		       (int64_t)(src->t_resumed - stop_ts(src)) : -1;
	if (src->t_dt_start && src->t_dt_end > src->t_dt_start)
		return (int64_t)(src->t_dt_end - src->t_dt_start);
	/* Postcopy: QEMU's downtime ends once the device state has gone; it
	 * begins at the stop, or (7.2) as postcopy begins, just before it. */
	if (src->pc.t_package[1] && stop_ts(src) && src->pc.t_package[1] > stop_ts(src))
		return (int64_t)(src->pc.t_package[1] - (src->pc.t_active &&
			src->pc.t_active < stop_ts(src) ? src->pc.t_active : stop_ts(src)));
	if (src->state == MS_COMPLETED && stop_ts(src) && src->t_end > stop_ts(src))
		return (int64_t)(src->t_end - stop_ts(src));
	return -1;
}

int64_t mig_guest_downtime_ns(const struct mig *src, const struct mig *dst)
{
	uint64_t end = dst ? mig_resume_ts(dst) : 0;

	if (!src || !stop_ts(src) || !end || end < stop_ts(src))
		return -1;
	return (int64_t)(end - stop_ts(src));
}
