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
#include "view/export.h"
#include "event/vfio_uapi.h"

struct chrome {
	FILE *out;
	uint64_t t0;
	bool have_t0;
};

static double us(const struct chrome *c, uint64_t ts)
{
	return ts >= c->t0 ? (ts - c->t0) / 1e3 : 0;
}

static void counter(struct chrome *c, const struct swack_event *e, const char *name,
		    const char *series, uint64_t v)
{
	fprintf(c->out, ",\n{\"name\":\"%s\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,"
		"\"args\":{\"%s\":%llu}}", name, us(c, e->ts), e->pid, series,
		(unsigned long long)v);
}

static void device_counter(struct chrome *c, const struct swack_event *e, uint64_t init,
			   uint64_t dirty)
{
	fprintf(c->out, ",\n{\"name\":\"device ");
	json_escape(c->out, e->dev, SWACK_DEV_LEN);
	fprintf(c->out, "\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":%u,\"args\":{\"initial_bytes\":%llu,"
		"\"dirty_bytes\":%llu}}", us(c, e->ts), e->pid, (unsigned long long)init,
		(unsigned long long)dirty);
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
	fprintf(c->out, ",\n{\"name\":\"%s\",\"cat\":\"swack\",\"ph\":\"i\",\"s\":\"t\","
		"\"ts\":%.3f,\"pid\":%u,\"tid\":%u,\"args\":", event_desc(e->kind)->name,
		us(c, e->ts), e->pid, e->tid);
	event_print_args_json(c->out, e);
	fputc('}', c->out);
	counters(c, e);
}

static void span(struct chrome *c, uint32_t pid, uint32_t tid, const char *name,
		 uint64_t from, uint64_t to)
{
	if (!from || to < from)
		return;
	fprintf(c->out, ",\n{\"name\":\"%s\",\"cat\":\"migration\",\"ph\":\"X\",\"ts\":%.3f,"
		"\"dur\":%.3f,\"pid\":%u,\"tid\":%u}", name, us(c, from), (to - from) / 1e3, pid, tid);
}

/* Spans live on made-up threads 0 (phases) and 1 (downtime) of each process. */
static void names(struct chrome *c, const struct mig *g)
{
	const struct vm_ident *v = model_vm(g->model, g->pid);

	fprintf(c->out, ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":"
		"{\"name\":\"", g->pid);
	if (v && v->name[0]) {
		fputs("vm ", c->out);
		json_escape(c->out, v->name, sizeof(v->name));
		fputs(": ", c->out);
	}
	fprintf(c->out, "qemu %u (%s)\"}}", g->pid, role_name(g->role));
	if (v && v->uuid[0]) {
		fprintf(c->out, ",\n{\"name\":\"process_labels\",\"ph\":\"M\",\"pid\":%u,"
			"\"args\":{\"labels\":\"uuid ", g->pid);
		json_escape(c->out, v->uuid, sizeof(v->uuid));
		fputs("\"}}", c->out);
	}
	fprintf(c->out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":0,"
		"\"args\":{\"name\":\"migration phases\"}}", g->pid);
	fprintf(c->out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":1,"
		"\"args\":{\"name\":\"downtime\"}}", g->pid);
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
		span(c, g->pid, 1, "guest-visible downtime", stop, g->peer->t_resumed);
	gate_and_snapshot_spans(c, g);
}

int export_chrome(struct replay *rp, FILE *out, char *err, size_t errlen)
{
	struct chrome c = { .out = out };
	struct model m;
	int ret;

	model_init(&m, NULL, NULL);
	fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"swack\"},"
		"\"traceEvents\":[\n{\"name\":\"swack\",\"ph\":\"M\",\"pid\":0,\"args\":{}}");
	ret = replay_run(rp, &m, on_event, NULL, &c);
	model_flush(&m);
	for (const struct mig *g = m.head; g; g = g->next)
		mig_spans(&c, g);
	fprintf(out, "\n]}\n");
	model_free(&m);
	if (ret)
		snprintf(err, errlen, "cannot read the recording");
	return ret;
}
