// SPDX-License-Identifier: GPL-2.0
/*
 * Switchover-ack findings.  "Held" is the model's word for a source whose
 * exact pending size was at or below the threshold and that iterated again
 * instead of switching over: with switchover-ack, the wait for an ACK.
 * Who held it: the destination names its approvers (11.1); otherwise the
 * source device with the most initial bytes left when the ACK came, since
 * a device approves once it has loaded its initial precopy data.
 */
#include <string.h>
#include "diagnose/rules.h"

#define MS 1e6

static bool acks_involved(const struct diagnosis *d)
{
	const struct ack_state *s = &d->src->ack;

	return s->received || s->requested || s->per_device ||
	       (d->dst && (d->dst->ack.needed || d->dst->ack.sent));
}

/* By symbols (8.1-11.0) the source does not see the legacy ACK arrive: the
 * destination's sending of it stands for it. */
static bool acked(const struct diagnosis *d)
{
	return d->src->ack.received || (d->dst && d->dst->ack.sent);
}

/* Initial bytes of device dev at time ts (its last sample before). */
static int64_t init_at(const struct dev_state *dev, uint64_t ts)
{
	int64_t v = -1;

	for (uint32_t i = 0; i < dev->init_s.n && dev->init_s.s[i].ts <= ts; i++)
		v = dev->init_s.s[i].v;
	return v;
}

static const struct dev_state *most_initial(const struct mig *g, uint64_t ts, int64_t *left)
{
	const struct dev_state *best = NULL;

	*left = -1;
	for (uint32_t i = 0; i < g->ndevs; i++)
		if (init_at(&g->devs[i], ts) > *left) {
			*left = init_at(&g->devs[i], ts);
			best = &g->devs[i];
		}
	return best;
}

/* The last approver the destination named, with the time of its approval. */
static const char *last_approver(const struct mig *dst, uint64_t *ts)
{
	const struct ack_state *a;

	if (!dst)
		return NULL;
	a = &dst->ack;
	for (uint32_t i = a->napprovals; i-- > 0;)
		if (a->approvals[i].approver[0]) {
			*ts = a->approvals[i].ts;
			return a->approvals[i].approver;
		}
	return NULL;
}

static void who(struct finding *f, const struct diagnosis *d, uint64_t at, char *name,
		size_t len)
{
	const struct dev_state *dev;
	uint64_t ts = 0;
	const char *n = last_approver(d->dst, &ts);
	int64_t left;
	char b[32];

	if (n) {
		snprintf(name, len, "%s", n);
		diag_evidence(f, d->dst, ts, "%s approves (last)", n);
		return;
	}
	dev = most_initial(d->src, at, &left);
	if (!dev || left <= 0) {
		snprintf(name, len, "the destination");
		return;
	}
	snprintf(name, len, "%s", dev->name);
	snprintf(f->detail, sizeof(f->detail), "%s had the most initial bytes left, %s",
		 dev->name, diag_bytes(b, sizeof(b), (double)left));
	diag_figure(f, "initial_left", (double)left);
}

static void rule_never(struct diagnosis *d)
{
	const struct mig *g = d->src;
	struct finding *f = diag_add(d, "ack-missing", 85);
	char name[SWACK_DEV_LEN + 16];

	if (!f)
		return;
	who(f, d, g->t_last, name, sizeof(name));
	diag_title(f, "switchover-ack never came: the source converged %u times over %.1f ms "
		   "and kept iterating until the migration was %s", g->ack.held,
		   ack_held_ns(g) / MS, mstate_name(g->state));
	diag_figure(f, "held_queries", g->ack.held);
	diag_figure(f, "held_ns", (double)ack_held_ns(g));
	diag_evidence(f, g, g->ack.t_held_first, "first converged query, no switchover");
	if (d->dst && d->dst->ack.needed) {
		diag_figure(f, "needed", d->dst->ack.needed);
		diag_figure(f, "approved", d->dst->ack.approved);
		diag_evidence(f, d->dst, d->dst->ack.t_needed, "destination needs %u approval%s, "
			      "got %u", d->dst->ack.needed, d->dst->ack.needed == 1 ? "" : "s",
			      d->dst->ack.approved);
	}
	diag_evidence(f, g, g->t_end, "migration %s", mstate_name(g->state));
	if (strcmp(name, "the destination"))
		diag_advice(f, "%s never finished its initial precopy data, so it never approved: "
			    "check that device, or migrate without the switchover-ack capability",
			    name);
}

static void rule_delayed(struct diagnosis *d)
{
	const struct mig *g = d->src;
	int64_t held = ack_held_ns(g);
	struct finding *f = diag_add(d, "ack-delayed", held >= d->window_ns ? 60 : 45);
	char name[SWACK_DEV_LEN + 16];

	if (!f)
		return;
	who(f, d, g->ack.received ? g->ack.ack_ts[0] : d->dst->ack.t_sent, name, sizeof(name));
	diag_title(f, "switchover delayed %.1f ms by switchover-ack: the source converged %u "
		   "times waiting for the ACK of %s", held / MS, g->ack.held, name);
	diag_figure(f, "held_ns", (double)held);
	diag_figure(f, "held_queries", g->ack.held);
	diag_figure(f, "acks_received", g->ack.received);
	diag_evidence(f, g, g->ack.t_held_first, "first converged query, no switchover");
	for (uint32_t i = 0; i < g->ack.received && i < MIG_MAX_ACKS; i++)
		diag_evidence(f, g, g->ack.ack_ts[i], "ACK %u received", i + 1);
	if (!g->ack.received && d->dst)
		diag_evidence(f, d->dst, d->dst->ack.t_sent, "destination sends its ACK");
	diag_evidence(f, g, g->t_switchover, "switchover decided");
	if (strcmp(name, "the destination"))
		diag_advice(f, "the ACK waits for %s to load its initial precopy data on the "
			    "destination; a smaller initial data size on that device, or more "
			    "bandwidth, shortens the wait", name);
}

static const struct dev_state *regrown(const struct mig *g)
{
	for (uint32_t i = 0; i < g->ndevs; i++)
		if (dev_regrowths(&g->devs[i]))
			return &g->devs[i];
	return NULL;
}

static void rule_rerequested(struct diagnosis *d)
{
	const struct mig *g = d->src;
	const struct dev_state *dev = regrown(g);
	struct finding *f = diag_add(d, "ack-rerequested", 50);
	const struct ack_state *a = &g->ack;
	char b[32];

	if (!f)
		return;
	diag_title(f, "%u switchover-ack%s re-requested after an ACK had come%s%s%s%s",
		   a->rerequests, a->rerequests > 1 ? "s" : "", dev ? ": " : "",
		   dev ? dev->name : "", dev ? "'s initial bytes grew again to " : "",
		   dev ? diag_bytes(b, sizeof(b), (double)dev->init) : "");
	diag_figure(f, "rerequests", a->rerequests);
	diag_figure(f, "requested", a->requested);
	diag_figure(f, "received", a->received);
	if (dev) {
		diag_figure(f, "regrown_to", (double)dev->init);
		diag_evidence(f, g, dev->t_last_regrowth, "%s initial bytes grow again", dev->name);
	}
	for (uint32_t i = a->requested - a->rerequests; i < a->requested && i < MIG_MAX_ACKS; i++)
		diag_evidence(f, g, a->req_ts[i], "ACK %u requested again", i + 1);
	if (dev)
		diag_advice(f, "each regrowth of %s's initial data costs another ACK round trip "
			    "before switchover: find what re-initialises the device's state during "
			    "precopy", dev->name);
}

static void rule_underflow(struct diagnosis *d)
{
	const struct mig *g = d->src;
	const struct ack_state *a = &g->ack;
	struct finding *f = diag_add(d, "ack-underflow", 92);

	if (!f)
		return;
	diag_title(f, "switchover-ack counter underflowed: %u ACKs received for %u requested; "
		   "QEMU failed the migration", a->received, a->requested);
	diag_figure(f, "received", a->received);
	diag_figure(f, "requested", a->requested);
	for (uint32_t i = 0; i < a->received && i < MIG_MAX_ACKS; i++)
		diag_evidence(f, g, a->ack_ts[i], "ACK %u received", i + 1);
	for (uint32_t i = 0; d->dst && i < d->dst->ack.napprovals; i++)
		diag_evidence(f, d->dst, d->dst->ack.approvals[i].ts, "%s approves",
			      d->dst->ack.approvals[i].approver);
	diag_advice(f, "the destination approved more often than the source asked: a "
		    "per-device ACK accounting bug in QEMU or a device to report; the machine "
		    "property switchover-ack-legacy=on avoids the per-device counter");
}

/* An ACK that held nothing back: when it came, against the switchover. */
static void rule_sent(struct diagnosis *d)
{
	const struct mig *dst = d->dst, *g = d->src;
	struct finding *f = diag_add(d, "ack-sent", 10);
	uint64_t from = dst->t_load_begin ? dst->t_load_begin : dst->t_first;

	if (!f)
		return;
	diag_title(f, "switchover-ack: the destination sent its ACK %.1f ms after its load began "
		   "(%u device%s had to approve)%s", (double)(dst->ack.t_sent - from) / MS,
		   dst->ack.needed, dst->ack.needed == 1 ? "" : "s",
		   g->t_switchover > dst->ack.t_sent ? "; it did not hold the switchover back" : "");
	diag_figure(f, "needed", dst->ack.needed);
	diag_figure(f, "approved", dst->ack.approved);
	diag_figure(f, "sent_after_load_ns", (double)(dst->ack.t_sent - from));
	diag_evidence(f, dst, from, "destination load begins");
	for (uint32_t i = 0; i < dst->ack.napprovals; i++)
		diag_evidence(f, dst, dst->ack.approvals[i].ts, "a device approves");
	diag_evidence(f, dst, dst->ack.t_sent, "destination sends its ACK");
	if (g->t_switchover)
		diag_evidence(f, g, g->t_switchover, "switchover decided");
}

void diag_ack_rules(struct diagnosis *d)
{
	const struct mig *g = d->src;

	if (!g || (!acks_involved(d) && !g->ack.held))
		return;
	if (g->ack.underflow)
		rule_underflow(d);
	else if (g->ack.held && !acked(d) && g->state != MS_COMPLETED)
		rule_never(d);
	else if (g->ack.held && acked(d))
		rule_delayed(d);
	else if (d->dst && d->dst->ack.sent)
		rule_sent(d);
	if (g->ack.rerequests)
		rule_rerequested(d);
}
