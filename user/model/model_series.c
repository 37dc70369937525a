// SPDX-License-Identifier: GPL-2.0
/*
 * Figures over time, for timelines and for judging convergence: the
 * source's pending bytes and what it had sent, its iterations, the pending
 * switchover ACKs of either side.
 */
#include <string.h>
#include "model/model.h"

static void thin(struct series *s)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < s->n; i += 2)
		s->s[j++] = s->s[i];
	s->n = j;
	s->stride *= 2;
}

void series_add(struct series *s, uint64_t ts, int64_t v, int64_t aux)
{
	uint32_t k = s->seen++;

	if (!s->stride)
		s->stride = 1;
	/* Keep the samples a series thinned from the start would have kept. */
	if (k % s->stride)
		return;
	if (s->n == SERIES_MAX) {
		thin(s);
		if (k % s->stride)
			return;
	}
	s->s[s->n++] = (struct sample){ .ts = ts, .v = v, .aux = aux };
}

int64_t mig_acks_pending(const struct mig *g)
{
	const struct ack_state *a = &g->ack;

	if (g->role == SWACK_ROLE_DST) {
		if (a->sent)
			return 0;
		return a->needed ? (a->remaining >= 0 ? a->remaining : a->needed - a->approved) : -1;
	}
	if (a->pending_total >= 0)
		return a->pending_total;
	/* legacy: one ACK for all devices; by symbols the source does not see
	 * it arrive, the destination's sending stands for it */
	if (g->peer && (g->peer->ack.needed || g->peer->ack.sent))
		return g->ack.received || g->peer->ack.sent ? 0 : 1;
	return -1;
}

/* QEMU sets the threshold to its own bandwidth figure times the limit, so
 * only that figure (migrate_transferred) gives the limit back; the TCP rate
 * of an iteration (7.2) is measured over another window. */
int64_t mig_downtime_limit_ns(const struct mig *g)
{
	if (!g->threshold || !g->bw || !g->qemu_bytes)
		return -1;
	return (int64_t)((double)g->threshold * 1e9 / (double)g->bw);
}

/* Rates are taken from the second sample on where there are three or more:
 * the first pass sends every page once and leaves zero pages out, so it says
 * nothing of how fast the guest dirties memory. */
void mig_convergence(const struct mig *g, struct convergence *c)
{
	const struct series *p = &g->pending_s;
	const struct sample *a = &p->s[p->n >= 3 ? 1 : 0], *b = &p->s[p->n ? p->n - 1 : 0];

	memset(c, 0, sizeof(*c));
	c->threshold = g->threshold;
	c->sent = c->bw_Bps = c->dirty_Bps = -1;
	c->known = p->n >= 2;
	c->first = (uint64_t)p->s[0].v;
	c->last = (uint64_t)b->v;
	for (uint32_t i = 0; i < p->n; i++)
		c->converged |= g->threshold && (uint64_t)p->s[i].v <= g->threshold;
	c->converged |= g->t_switchover != 0;
	if (!c->known)
		return;
	c->span_ns = (int64_t)(b->ts - a->ts);
	if (b->aux > a->aux && c->span_ns > 0) {
		c->sent = b->aux - a->aux;
		c->bw_Bps = (int64_t)(c->sent * 1e9 / c->span_ns);
		/* What was sent and did not lower pending was dirtied again. */
		if (c->sent > a->v - b->v)
			c->dirty_Bps = (int64_t)((c->sent - (a->v - b->v)) * 1e9 / c->span_ns);
	}
	/* QEMU's own figure, where it traces one, is what it plans with. */
	if (g->qemu_bytes && g->bw)
		c->bw_Bps = (int64_t)g->bw;
	else if (c->bw_Bps < 0 && g->bw)
		c->bw_Bps = (int64_t)g->bw;
}
