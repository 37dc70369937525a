// SPDX-License-Identifier: GPL-2.0
/*
 * The policies of swack gate run (gate/gate_policy.h), evaluated where the
 * data is: the observation programs' events feed the model, and every tick
 * the run asks, per watched source, what to do.  A policy hold is placed
 * when a migration of the process starts (state setup or active), is an
 * ordinary hold (same map, same deadline, --max-hold), and is released once
 * every policy given is satisfied:
 *   --until-acked        no switchover ACK left pending;
 *   --until-settled D:MS device D's precopy initial bytes at 0, with no
 *                        regrowth, for MS;
 *   --downtime-budget MS (remaining bytes + the devices' stop-copy sizes) over
 *                        the measured bandwidth <= MS.
 */
#include <stdio.h>
#include <string.h>
#include "gate/gate_policy.h"

bool policy_any(const struct gate_policy *p)
{
	return p->until_acked || p->settle || p->budget;
}

void policy_init(struct policy_state *s)
{
	memset(s, 0, sizeof(*s));
	s->ack_count = -1;
}

/* Event order matters for the per-device ACK count: the latest of a query's
 * total and an ACK's remaining count is the one in force. */
void policy_event(struct policy_state *t, const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_MIG_STATE:
		if (!strcmp(e->str, "setup")) {
			t->ack_count = -1;
			t->acked = false;
			t->zero_since = 0;
		}
		break;
	case SWACK_EV_QUERY_PENDING:
		t->ack_count = (int64_t)e->a[5];
		break;
	case SWACK_EV_ACK_RECEIVED:
		if (e->a[0] == ~0ULL)
			t->acked = true;
		else
			t->ack_count = (int64_t)(uint32_t)e->a[0];
		break;
	default:
		break;
	}
}

static bool acked(const struct policy_state *t, const struct policy_facts *f, char *why,
		  size_t len)
{
	const struct mig *d = f->m->peer;

	switch (f->gen) {
	case GEN_USDT_111:
		snprintf(why, len, "acked: %lld pending", (long long)t->ack_count);
		return t->ack_count == 0;
	case GEN_USDT_81:
		if (t->acked) {
			snprintf(why, len, "acked");
			return true;
		}
		if (d && d->ack.t_needed && (!d->ack.needed || !d->ack.remaining)) {
			snprintf(why, len, "acked: none needed");
			return true;
		}
		snprintf(why, len, "waiting for the ACK");
		return false;
	case GEN_USDT:
	case GEN_SYM_72:
		snprintf(why, len, "no switchover-ack here");
		return true;
	default:
		snprintf(why, len, "acks not observable");
		return true;
	}
}

static const struct dev_state *find_dev(const struct mig *m, const char *name)
{
	for (uint32_t i = 0; i < m->ndevs && i < MIG_MAX_DEVS; i++)
		if (!strncmp(m->devs[i].name, name, SWACK_DEV_LEN))
			return &m->devs[i];
	return NULL;
}

static bool settled(const struct gate_policy *p, struct policy_state *t,
		    const struct policy_facts *f, char *why, size_t len)
{
	const struct dev_state *d = find_dev(f->m, p->settle_dev);
	uint64_t now = f->now, init;
	uint32_t rg;

	if (!d || (!d->k.polls && !d->exact_samples)) {
		snprintf(why, len, "%s not seen", p->settle_dev);
		return false;
	}
	init = d->k.polls ? d->k.init : d->init;
	rg = dev_regrowths(d);
	if (init) {
		t->zero_since = 0;
		snprintf(why, len, "%s initial %llu B", p->settle_dev, (unsigned long long)init);
		return false;
	}
	if (!t->zero_since || rg != t->zero_regrowths) {
		t->zero_since = now;
		t->zero_regrowths = rg;
	}
	snprintf(why, len, "settled %.0fms", (now - t->zero_since) / 1e6);
	return now - t->zero_since >= p->settle_ns;
}

static bool within_budget(const struct gate_policy *p, const struct policy_facts *f,
			  char *why, size_t len)
{
	const struct mig *m = f->m;
	uint64_t rem, stop = 0;
	double ms;

	/* QEMU's own answer, as the gate read it before raising it. */
	rem = f->gate_pending_known ? f->gate_pending : m->pending;
	for (uint32_t i = 0; i < m->ndevs && i < MIG_MAX_DEVS; i++) {
		const struct dev_state *d = &m->devs[i];

		if (d->k.polls && d->k.stop_copy_estimate)
			stop += d->k.stop_copy_estimate;
		else if (d->stopcopy != ~0ULL)
			stop += d->stopcopy;
	}
	if (!m->bw) {
		snprintf(why, len, "no bandwidth yet");
		return false;
	}
	ms = (double)(rem + stop) * 1e3 / (double)m->bw;
	snprintf(why, len, "downtime %.1fms", ms);
	return ms * 1e6 <= (double)p->budget_ns;
}

static void hold_reason(const struct gate_policy *p, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "policy:");

	if (p->until_acked && n < len)
		n += snprintf(buf + n, len - n, " acked");
	if (p->settle && n < len)
		n += snprintf(buf + n, len - n, " settled %s", p->settle_dev);
	if (p->budget && n < len)
		snprintf(buf + n, len - n, " budget %.0fms", p->budget_ns / 1e6);
}

/* Every policy given is satisfied; why says how things stand. */
static bool satisfied(const struct gate_policy *p, struct policy_state *t,
		      const struct policy_facts *f, char *why, size_t len)
{
	char part[64];
	bool ok = true;
	size_t n = 0;

	why[0] = 0;
	if (p->until_acked) {
		ok &= acked(t, f, part, sizeof(part));
		n += snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	if (p->settle) {
		ok &= settled(p, t, f, part, sizeof(part));
		n += snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	if (p->budget) {
		ok &= within_budget(p, f, part, sizeof(part));
		snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	return ok;
}

enum policy_do policy_decide(const struct gate_policy *p, struct policy_state *t,
			     const struct policy_facts *f, char *why, size_t len)
{
	const struct mig *m = f->m;

	if ((m->state == MS_SETUP || m->state == MS_ACTIVE) && t->seq != m->seq) {
		t->seq = m->seq;
		t->held = false;
		if (!f->hold) {
			hold_reason(p, why, len);
			return POLICY_PLACE;
		}
		t->held = f->hold->origin == GATE_BY_POLICY;
	}
	if (!t->held)
		return POLICY_NOTHING;
	if (!f->hold || f->hold->origin != GATE_BY_POLICY) {
		t->held = false;  /* ended by its deadline, a command, or replaced */
		return POLICY_NOTHING;
	}
	if (mstate_terminal(m->state)) {
		snprintf(why, len, "migration %s", mstate_name(m->state));
		t->held = false;
		return POLICY_RELEASE;
	}
	if (!satisfied(p, t, f, why, len))
		return POLICY_NOTHING;
	t->held = false;
	return POLICY_RELEASE;
}
