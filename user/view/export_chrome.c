// SPDX-License-Identifier: GPL-2.0
/*
 * Chrome trace-event JSON (the format Perfetto and chrome://tracing open):
 * every event as an instant, migration phases and the downtime windows as
 * spans, pending bytes, pending ACKs and device initial bytes as counters.
 * One process per QEMU; times in microseconds from the first event.
 */
#include <stdio.h>
#include <string.h>
#include "event/event.h"
#include "event/vfio_uapi.h"
#include "util/json.h"
#include "view/export.h"

struct chrome {
	struct jw j;         /* inside traceEvents */
	uint64_t t0;
	bool have_t0;
};

static double us(const struct chrome *c, uint64_t ts)
{
	return ts >= c->t0 ? (ts - c->t0) / 1e3 : 0;
}

/* {"name":NAME,"ph":PH, then the caller's members, then jw_end. */
static void item(struct chrome *c, const char *name, const char *ph)
{
	jw_obj(&c->j, NULL);
	jw_str(&c->j, "name", name);
	jw_str(&c->j, "ph", ph);
}

static void counter_head(struct chrome *c, const struct swack_event *e, const char *name)
{
	item(c, name, "C");
	jw_fixed(&c->j, "ts", us(c, e->ts), 3);
	jw_u64(&c->j, "pid", e->pid);
	jw_obj(&c->j, "args");
}

static void counter(struct chrome *c, const struct swack_event *e, const char *name,
		    const char *series, uint64_t v)
{
	counter_head(c, e, name);
	jw_u64(&c->j, series, v);
	jw_end(&c->j);
	jw_end(&c->j);
}

static void device_counter(struct chrome *c, const struct swack_event *e, uint64_t init,
			   uint64_t dirty)
{
	char name[SWACK_DEV_LEN + 8];

	snprintf(name, sizeof(name), "device %.*s", SWACK_DEV_LEN, e->dev);
	counter_head(c, e, name);
	jw_u64(&c->j, "initial_bytes", init);
	jw_u64(&c->j, "dirty_bytes", dirty);
	jw_end(&c->j);
	jw_end(&c->j);
}

static void counters(struct chrome *c, const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_PENDING:
		counter(c, e, "pending bytes", "bytes", e->a[0] + e->a[1] + e->a[2]);
		break;
	case SWACK_EV_QUERY_PENDING:
		counter(c, e, "pending bytes", "bytes", e->a[3]);
		counter(c, e, "pending ACKs", "acks", e->a[5]);
		break;
	case SWACK_EV_ACK_NEEDED:
	case SWACK_EV_ACK_APPROVE:
	case SWACK_EV_ACK_RECEIVED:
		if (e->a[0] != ~0ULL)
			counter(c, e, "pending ACKs", "acks", e->a[0]);
		break;
	case SWACK_EV_VFIO_PENDING:
		if (e->flags & SWACK_F_EXACT)
			device_counter(c, e, e->a[3], e->a[4]);
		break;
	case SWACK_EV_VFIO_IOCTL:
		if (e->a[0] == SWACK_VFIO_MIG_GET_PRECOPY_INFO && !e->a[5])
			device_counter(c, e, e->a[3], e->a[4]);
		break;
	default:
		break;
	}
}

static void on_event(void *ctx, const struct swack_event *e, int file)
{
	struct chrome *c = ctx;

	(void)file;
	if (!c->have_t0) {
		c->t0 = e->ts;
		c->have_t0 = true;
	}
	jw_obj(&c->j, NULL);
	jw_str(&c->j, "name", event_desc(e->kind)->name);
	jw_str(&c->j, "cat", "swack");
	jw_str(&c->j, "ph", "i");
	jw_str(&c->j, "s", "t");
	jw_fixed(&c->j, "ts", us(c, e->ts), 3);
	jw_u64(&c->j, "pid", e->pid);
	jw_u64(&c->j, "tid", e->tid);
	event_args_json(&c->j, "args", e);
	jw_end(&c->j);
	counters(c, e);
}

static void span(struct chrome *c, uint32_t pid, uint32_t tid, const char *name,
		 uint64_t from, uint64_t to)
{
	if (!from || to < from)
		return;
	jw_obj(&c->j, NULL);
	jw_str(&c->j, "name", name);
	jw_str(&c->j, "cat", "migration");
	jw_str(&c->j, "ph", "X");
	jw_fixed(&c->j, "ts", us(c, from), 3);
	jw_fixed(&c->j, "dur", (to - from) / 1e3, 3);
	jw_u64(&c->j, "pid", pid);
	jw_u64(&c->j, "tid", tid);
	jw_end(&c->j);
}

/* A metadata event: the name (key "name") or labels of a process, or the
 * name of one of its threads. */
static void meta(struct chrome *c, const char *what, uint32_t pid, int tid, const char *key,
		 const char *value)
{
	item(c, what, "M");
	jw_u64(&c->j, "pid", pid);
	if (tid >= 0)
		jw_u64(&c->j, "tid", tid);
	jw_obj(&c->j, "args");
	if (value)
		jw_str(&c->j, key, value);
	jw_end(&c->j);
	jw_end(&c->j);
}

/* Spans live on made-up threads 0 (phases) and 1 (downtime) of each process. */
static void names(struct chrome *c, const struct mig *g)
{
	const struct vm_ident *v = model_vm(g->model, g->pid);
	char name[VM_NAME_LEN + 48], labels[VM_UUID_LEN + 8];

	snprintf(name, sizeof(name), "%s%s%sqemu %u (%s)", v && v->name[0] ? "vm " : "",
		 v ? v->name : "", v && v->name[0] ? ": " : "", g->pid, role_name(g->role));
	meta(c, "process_name", g->pid, -1, "name", name);
	if (v && v->uuid[0]) {
		snprintf(labels, sizeof(labels), "uuid %s", v->uuid);
		meta(c, "process_labels", g->pid, -1, "labels", labels);
	}
	meta(c, "thread_name", g->pid, 0, "name", "migration phases");
	meta(c, "thread_name", g->pid, 1, "name", "downtime");
}

/* On the downtime thread too: what made a switchover late, or a snapshot
 * costly. */
static void gate_and_snapshot_spans(struct chrome *c, const struct mig *g)
{
	const struct gate_note *h[8];
	int n = mig_gate_holds(g, h, 8);

	for (int i = 0; i < n; i++)
		span(c, g->pid, 1, "swack gate hold", h[i]->t_hold,
		     h[i]->t_release ? h[i]->t_release : g->t_end ? g->t_end : g->t_last);
	if (!g->snap.seen)
		return;
	span(c, g->pid, 1, "write tracking", g->snap.t_start,
	     g->snap.t_stop ? g->snap.t_stop : g->t_last);
	for (uint32_t i = 0; i < g->snap.nworst; i++)
		span(c, g->pid, 1, "write-fault stall (one of the longest)",
		     g->snap.worst[i].ts - g->snap.worst[i].ns, g->snap.worst[i].ts);
}

/* Postcopy: each vCPU's waits for pages, on a made-up thread per vCPU
 * (100 + its index), as the stalls the model counted. */
#define VCPU_TID 100

static void vcpu_spans(struct chrome *c, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;
	char name[48];

	for (int v = 0; v < pc_vcpu_count(pc); v++) {
		snprintf(name, sizeof(name), "vCPU %d (waits for pages)", v);
		meta(c, "thread_name", g->pid, VCPU_TID + v, "name", name);
	}
	for (uint32_t i = 0; i < pc->nspans; i++) {
		const struct pc_span *s = &pc->spans[i];

		if (s->kernel == pc->kernel_stalls && s->vcpu >= 0)
			span(c, g->pid, VCPU_TID + s->vcpu, "missing page", s->from,
			     s->to ? s->to : g->t_last);
	}
}

/* On the phases thread: the switch (source stop to a destination vCPU back in
 * guest code), the postcopy phase, and each pause in it. */
static void postcopy_spans(struct chrome *c, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;
	uint64_t stop = g->t_stop ? g->t_stop : g->t_stopped;
	uint64_t resumed = g->peer ? mig_resume_ts(g->peer) : 0;

	if (!pc->seen)
		return;
	if (g->role == SWACK_ROLE_SRC && resumed > stop)
		span(c, g->pid, 1, "postcopy switch (guest paused)", stop, resumed);
	for (uint32_t i = 0; i < pc->npauses; i++)
		span(c, g->pid, 0, "postcopy paused", pc->pauses[i].t_pause,
		     pc->pauses[i].t_resume ? pc->pauses[i].t_resume : g->t_last);
	vcpu_spans(c, g);
}

static void mig_spans(struct chrome *c, const struct mig *g)
{
	uint64_t stop = g->t_stop ? g->t_stop : g->t_stopped;
	uint64_t end = g->t_end ? g->t_end : g->t_last;
	int64_t q = g->role == SWACK_ROLE_SRC ? mig_qemu_downtime_ns(g) : -1;

	names(c, g);
	for (int i = 0; i < g->nstates; i++)
		span(c, g->pid, 0, g->states[i].name, g->states[i].ts,
		     i + 1 < g->nstates ? g->states[i + 1].ts : end);
	if (q >= 0)
		span(c, g->pid, 1, "downtime (QEMU, source side)", stop, stop + (uint64_t)q);
	if (g->role == SWACK_ROLE_SRC && g->peer && mig_guest_downtime_ns(g, g->peer) >= 0)
		span(c, g->pid, 1, "guest-visible downtime", stop, mig_resume_ts(g->peer));
	gate_and_snapshot_spans(c, g);
	postcopy_spans(c, g);
}

/* Spans as each migration ends: the model frees it afterwards. */
static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	if (src)
		mig_spans(ctx, src);
	if (dst)
		mig_spans(ctx, dst);
}

int export_chrome(struct replay *rp, FILE *out, char *err, size_t errlen)
{
	struct chrome c = { 0 };
	struct model m;
	char note[256];
	int ret;

	model_init(&m, on_done, &c);
	jw_init(&c.j, out, 0);
	jw_obj(&c.j, NULL);
	jw_str(&c.j, "displayTimeUnit", "ms");
	jw_obj(&c.j, "otherData");
	jw_str(&c.j, "producer", "swack");
	jw_end(&c.j);
	jw_arr_lines(&c.j, "traceEvents");
	meta(&c, "swack", 0, -1, NULL, NULL);
	ret = replay_run(rp, &m, on_event, NULL, &c);
	model_flush(&m);
	if (model_evicted_note(&m, note, sizeof(note)))
		fprintf(stderr, "swack export: %s\n", note);
	jw_end(&c.j);
	jw_end(&c.j);
	model_free(&m);
	if (ret)
		snprintf(err, errlen, "cannot read the recording");
	return ret;
}
