// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "model/figures.h"

const char *human_bytes(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%c" : "%.0f%c", d, units[u]);
	return buf;
}

static void devices(const struct mig *g, struct vm_figures *f)
{
	for (uint32_t i = 0; i < g->ndevs; i++) {
		const struct dev_state *d = &g->devs[i];

		f->initial += d->k.polls ? d->k.init : d->init;
		f->dirty += d->k.polls ? d->k.dirty : d->dirty;
		f->regrowths += dev_regrowths(d);
	}
	f->ndevs = g->ndevs;
}

static double final_downtime(const struct mig *g)
{
	int64_t ns = -1;

	if (g->role == SWACK_ROLE_SRC)
		ns = g->peer ? mig_guest_downtime_ns(g, g->peer) : mig_qemu_downtime_ns(g);
	else if (g->peer)
		ns = mig_guest_downtime_ns(g->peer, g);
	return ns >= 0 ? ns / 1e6 : -1;
}

void mig_figures(const struct mig *g, struct vm_figures *f)
{
	*f = (struct vm_figures){ .pid = g->pid, .role = g->role, .phase = mstate_name(g->state),
				  .iterations = g->iterations, .remaining = g->pending,
				  .bw = g->bw, .expected_ms = -1, .limit_ms = -1,
				  .downtime_ms = -1 };
	f->vm = mig_vm_name(g) ? mig_vm_name(g) : "-";
	if (g->nstates)
		f->phase = g->states[g->nstates - 1].name;
	f->acks_pending = mig_acks_pending(g);
	devices(g, f);
	if (f->bw) {
		f->expected_ms = f->remaining * 1e3 / f->bw;
		if (g->threshold)
			f->limit_ms = g->threshold * 1e3 / f->bw;
	}
	f->ended = mstate_terminal(g->state);
	if (f->ended)
		f->downtime_ms = final_downtime(g);
	f->stalled = !f->ended && g->ack.held > 0 && !g->t_switchover;
	f->over_budget = !f->ended && f->limit_ms >= 0 && f->expected_ms > f->limit_ms;
}

static int64_t span(uint64_t from, uint64_t to)
{
	return from && to >= from ? (int64_t)(to - from) : -1;
}

void snap_stats(const struct mig *g, uint64_t now, struct snap_stats *st)
{
	const struct snapshot *s = &g->snap;
	uint64_t end = g->t_end ? g->t_end : now;
	uint64_t stop = g->t_stop ? g->t_stop : g->t_stopped;
	uint64_t p[3];

	memset(st, 0, sizeof(*st));
	st->duration_ns = span(g->t_first, end);
	st->tracking_ns = span(s->t_start, s->t_stop ? s->t_stop : end);
	st->bytes = mig_bytes(g);
	st->paused_ns = span(stop, g->t_resumed);
	st->faults = s->stalls;
	if (st->tracking_ns > 0)
		st->fault_rate = s->stalls * 1e9 / st->tracking_ns;
	snap_quantiles(s, (const double[]){ 0.5, 0.9, 0.99 }, p, 3);
	st->p50 = p[0];
	st->p90 = p[1];
	st->p99 = p[2];
	st->max = s->nworst ? s->worst[0].ns : 0;
	st->total = s->stall_ns;
	st->pages_saved = s->bytes_unprotected >> SNAP_PAGE_SHIFT;
}
