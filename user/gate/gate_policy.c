// SPDX-License-Identifier: GPL-2.0
/*
 * Policies of swack gate run, evaluated where the data is: the observation
 * programs' events feed the model (user/model.h), and every tick decides,
 * per watched source, whether its policy hold can go.  A policy hold is
 * placed when a migration of the process starts (state setup or active), is
 * an ordinary hold (same map, same deadline, --max-hold), and is released
 * once every policy given is satisfied:
 *   --until-acked        no switchover ACK left pending;
 *   --until-settled D:MS device D's precopy initial bytes at 0, with no
 *                        regrowth, for MS;
 *   --downtime-budget MS (remaining bytes + the devices' stop-copy sizes) over
 *                        the measured bandwidth <= MS.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "source/attach.h"
#include "util/clock.h"
#include "gate.skel.h"
#include "gate/gate_run.h"

bool policy_any(const struct gate_run *g)
{
	return g->until_acked || g->settle || g->budget;
}

static struct mig *newest(struct gate_run *g, pid_t pid)
{
	struct mig *found = NULL;

	for (struct mig *m = g->model.head; m; m = m->next)
		if (m->pid == (uint32_t)pid)
			found = m;
	return found;
}

/* Event order matters for the per-device ACK count: the latest of a query's
 * total and an ACK's remaining count is the one in force. */
void policy_event(struct gate_run *g, const struct swack_event *e)
{
	struct gate_tgt *t = run_tgt(g, e->pid);

	if (!t)
		return;
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

static bool acked(struct gate_run *g, struct gate_tgt *t, const struct mig *m, char *why,
		  size_t len)
{
	struct target *ot = attach_target(&g->live.a, t->pid);
	const struct mig *d = m->peer;

	switch (ot ? ot->gen : GEN_NONE) {
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

static bool settled(struct gate_run *g, struct gate_tgt *t, const struct mig *m, char *why,
		    size_t len)
{
	const struct dev_state *d = find_dev(m, g->settle_dev);
	uint64_t now = now_ns(), init;
	uint32_t rg;

	if (!d || (!d->k.polls && !d->exact_samples)) {
		snprintf(why, len, "%s not seen", g->settle_dev);
		return false;
	}
	init = d->k.polls ? d->k.init : d->init;
	rg = dev_regrowths(d);
	if (init) {
		t->zero_since = 0;
		snprintf(why, len, "%s initial %llu B", g->settle_dev, (unsigned long long)init);
		return false;
	}
	if (!t->zero_since || rg != t->zero_regrowths) {
		t->zero_since = now;
		t->zero_regrowths = rg;
	}
	snprintf(why, len, "settled %.0fms", (now - t->zero_since) / 1e6);
	return now - t->zero_since >= g->settle_ns;
}

static bool within_budget(struct gate_run *g, struct gate_tgt *t, const struct mig *m,
			  char *why, size_t len)
{
	struct gate_target gt = { 0 };
	uint64_t rem, stop = 0;
	__u32 key = t->pid;
	double ms;

	/* QEMU's own answer, as the gate read it before raising it. */
	bpf_map__lookup_elem(g->skel->maps.gate_targets, &key, sizeof(key), &gt, sizeof(gt), 0);
	rem = gt.last_pending_ns ? gt.last_pending : m->pending;
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
	return ms * 1e6 <= (double)g->budget_ns;
}

static void hold_reason(struct gate_run *g, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "policy:");

	if (g->until_acked && n < len)
		n += snprintf(buf + n, len - n, " acked");
	if (g->settle && n < len)
		n += snprintf(buf + n, len - n, " settled %s", g->settle_dev);
	if (g->budget && n < len)
		snprintf(buf + n, len - n, " budget %.0fms", g->budget_ns / 1e6);
}

/* Every policy given is satisfied; why says how things stand. */
static bool satisfied(struct gate_run *g, struct gate_tgt *t, const struct mig *m, char *why,
		      size_t len)
{
	char part[64];
	bool ok = true;
	size_t n = 0;

	why[0] = 0;
	if (g->until_acked) {
		ok &= acked(g, t, m, part, sizeof(part));
		n += snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	if (g->settle) {
		ok &= settled(g, t, m, part, sizeof(part));
		n += snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	if (g->budget) {
		ok &= within_budget(g, t, m, part, sizeof(part));
		snprintf(why + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", part);
	}
	return ok;
}

static void policy_one(struct gate_run *g, struct gate_tgt *t)
{
	struct mig *m = newest(g, t->pid);
	struct gate_hold h;
	char why[128];
	bool held;

	if (!m || m->role == SWACK_ROLE_DST)
		return;
	held = run_hold_of(g, t->pid, &h);
	if ((m->state == MS_SETUP || m->state == MS_ACTIVE) && t->policy_seq != m->seq) {
		t->policy_seq = m->seq;
		t->policy_held = false;
		if (!held) {
			hold_reason(g, why, sizeof(why));
			t->policy_held = !run_place_hold(g, t->pid, why);
			held = run_hold_of(g, t->pid, &h);
		} else {
			t->policy_held = h.origin == GATE_BY_POLICY;
		}
	}
	if (!t->policy_held)
		return;
	if (!held || h.origin != GATE_BY_POLICY) {
		t->policy_held = false;  /* ended by its deadline, a command, or replaced */
		return;
	}
	if (mstate_terminal(m->state)) {
		snprintf(why, sizeof(why), "migration %s", mstate_name(m->state));
		run_release(g, t->pid, GATE_CAUSE_POLICY, why);
		t->policy_held = false;
		return;
	}
	if (satisfied(g, t, m, why, sizeof(why))) {
		run_release(g, t->pid, GATE_CAUSE_POLICY, why);
		t->policy_held = false;
	}
}

void policy_tick(struct gate_run *g)
{
	for (int i = 0; i < g->ntgts; i++)
		policy_one(g, &g->tgts[i]);
}
