// SPDX-License-Identifier: GPL-2.0
/*
 * Switchover-ack accounting.  Legacy (8.1-11.0, and 11.1 with
 * switchover-ack-legacy): the destination counts the devices that must
 * approve and sends one ACK when its counter reaches zero.  Per-device
 * (11.1): every pending-size query may ask for more ACKs, the source counts
 * them down as ACKs arrive, and UINT32_MAX after an ACK means underflow.
 *
 * "Held": the source's exact pending size was at or below the threshold,
 * yet it iterated again instead of switching over; with switchover-ack
 * that is the wait for an ACK.
 */
#include <stdio.h>
#include <string.h>
#include "model/model.h"

#define U32_MAX_ACK 4294967295ull

static void on_needed(struct ack_state *a, const struct swack_event *e)
{
	a->needed = (uint32_t)e->a[0];
	a->remaining = (int64_t)e->a[0];
	if (!a->t_needed)
		a->t_needed = e->ts;
}

static void on_approve(struct ack_state *a, const struct swack_event *e)
{
	if (a->napprovals < MIG_MAX_ACKS) {
		snprintf(a->approvals[a->napprovals].approver, SWACK_DEV_LEN, "%.*s",
			 SWACK_DEV_LEN - 1, e->str);
		a->approvals[a->napprovals].ts = e->ts;
		a->napprovals++;
	}
	a->approved++;
	/* 11.1's loadvm_approve_switchover names the approver, no counter;
	 * by symbols (8.1-11.0) the counter is not readable. */
	if (e->a[0] != ~0ULL)
		a->remaining = (int64_t)e->a[0];
	else if (!(e->flags & SWACK_F_UNCOUNTED))
		a->per_device = true;
}

/* The legacy ACK goes once the counter reaches zero: every device that had
 * to approve has, so the approvals so far are how many were needed. */
static void on_sent(struct ack_state *a, const struct swack_event *e)
{
	if (!a->sent++)
		a->t_sent = e->ts;
	if (!a->t_needed)
		a->needed = a->approved;
	a->remaining = 0;
}

static void on_received(struct ack_state *a, const struct swack_event *e)
{
	if (a->received < MIG_MAX_ACKS)
		a->ack_ts[a->received] = e->ts;
	a->received++;
	if (e->a[0] == ~0ULL)
		return;
	a->counter = (int64_t)e->a[0];
	a->underflow |= e->a[0] == U32_MAX_ACK;
}

static void on_query(struct ack_state *a, const struct swack_event *e)
{
	uint32_t asked = (uint32_t)e->a[4];

	a->per_device |= asked > 0;
	a->pending_total = (int64_t)e->a[5];
	for (uint32_t i = 0; i < asked; i++, a->requested++) {
		if (a->requested < MIG_MAX_ACKS)
			a->req_ts[a->requested] = e->ts;
		a->rerequests += a->received > 0;
	}
}

/* The last exact query converged: if a switchover decision follows, that
 * one was not held, so the count is taken back there. */
static void on_exact_pending(struct mig *g, const struct swack_event *e, uint64_t total)
{
	struct ack_state *a = &g->ack;

	if (!g->threshold || total > g->threshold || g->t_switchover)
		return;
	a->held++;
	if (!a->t_held_first)
		a->t_held_first = e->ts;
}

static void on_switchover(struct mig *g, const struct swack_event *e)
{
	struct ack_state *a = &g->ack;

	(void)e;
	if (a->held)
		a->held--;
}

void ack_apply(struct mig *g, const struct swack_event *e)
{
	struct ack_state *a = &g->ack;

	if (!a->seen) {
		a->remaining = a->counter = a->pending_total = -1;
		a->seen = true;
	}
	switch (e->kind) {
	case SWACK_EV_ACK_NEEDED: on_needed(a, e); break;
	case SWACK_EV_ACK_APPROVE: on_approve(a, e); break;
	case SWACK_EV_ACK_RECEIVED: on_received(a, e); break;
	case SWACK_EV_ACK_SENT: on_sent(a, e); break;
	case SWACK_EV_QUERY_PENDING:
		on_query(a, e);
		if ((e->flags & SWACK_F_EXACT) && !(e->flags & SWACK_F_FINAL))
			on_exact_pending(g, e, e->a[3]);
		break;
	case SWACK_EV_PENDING:
		if (e->flags & SWACK_F_EXACT)
			on_exact_pending(g, e, e->a[0] + e->a[1] + e->a[2]);
		break;
	case SWACK_EV_SWITCHOVER: on_switchover(g, e); break;
	default: return;
	}
	if (e->kind != SWACK_EV_SWITCHOVER && e->kind != SWACK_EV_PENDING &&
	    mig_acks_pending(g) >= 0)
		series_add(&g->acks_s, e->ts, mig_acks_pending(g), 0);
}

int64_t ack_held_ns(const struct mig *g)
{
	uint64_t end = g->t_switchover ? g->t_switchover : g->t_end ? g->t_end : g->t_last;

	if (!g->ack.held || !g->ack.t_held_first || end < g->ack.t_held_first)
		return 0;
	return (int64_t)(end - g->ack.t_held_first);
}

int64_t ack_latency_ns(const struct mig *src, uint32_t i)
{
	const struct ack_state *a = &src->ack;

	if (i >= a->received || i >= MIG_MAX_ACKS || i >= a->requested)
		return -1;
	return (int64_t)(a->ack_ts[i] - a->req_ts[i]);
}
