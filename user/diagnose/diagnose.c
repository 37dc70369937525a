// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnosis: rules over the model, each adding a finding with a score; the
 * findings are ranked by score.  Scores are coarse on purpose: a failed
 * migration (90s) outranks downtime over its limit (90), which outranks a
 * missing ACK or no convergence (80s), then the causes of a long downtime
 * (40-60), then explanations (below 40).  The rules live in their rule
 * files (diagnose_*.c), listed in the table below, which the engine owns.
 */
#include <stdlib.h>
#include <string.h>
#include "diagnose/diagnose.h"
#include "diagnose/rules.h"

enum rule_on { ON_ANY, ON_MIGRATION, ON_SNAPSHOT, ON_POSTCOPY };

/* In the order they run, which breaks ties between equal scores.  A
 * background snapshot has no switchover: its cost is in its stalls.  A
 * postcopy migration switches over without converging, and its downtime is
 * the switch's pause and then the vCPUs' waits for pages. */
static const struct {
	void (*run)(struct diagnosis *d);
	enum rule_on on;
} rules[] = {
	{ diag_outcome_rules, ON_ANY },
	{ diag_snapshot_rules, ON_SNAPSHOT },
	{ diag_postcopy_rules, ON_POSTCOPY },
	{ diag_downtime_rules, ON_MIGRATION },
	{ diag_convergence_rules, ON_MIGRATION },
	{ diag_ack_rules, ON_ANY },
	{ diag_device_rules, ON_ANY },
	{ diag_gate_rules, ON_ANY },
};

/* Rank by score; rules run in a fixed order, which breaks ties. */
static int by_score(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->score != y->score)
		return y->score - x->score;
	return x->order - y->order;
}

static int by_time(const void *a, const void *b)
{
	const struct evidence *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

static uint64_t earliest(const struct mig *src, const struct mig *dst)
{
	if (src && dst)
		return src->t_first < dst->t_first ? src->t_first : dst->t_first;
	return src ? src->t_first : dst->t_first;
}

void diagnose(const struct mig *src, const struct mig *dst, const struct diag_opts *o,
	      struct diagnosis *d)
{
	enum rule_on kind;

	memset(d, 0, sizeof(*d));
	d->src = src;
	d->dst = dst;
	d->t0 = earliest(src, dst);
	d->guest_ns = mig_guest_downtime_ns(src, dst);
	d->qemu_ns = src ? mig_qemu_downtime_ns(src) : -1;
	d->window_ns = d->guest_ns >= 0 ? d->guest_ns : d->qemu_ns;
	d->limit_given = o->limit_ns >= 0;
	d->limit_ns = d->limit_given ? o->limit_ns : src ? mig_downtime_limit_ns(src) : -1;
	d->b.total_ns = -1;
	if (src)
		mig_breakdown(src, dst, &d->b);
	kind = src && src->snap.seen ? ON_SNAPSHOT :
	       (src && src->pc.t_active) || (dst && dst->pc.t_active) ? ON_POSTCOPY : ON_MIGRATION;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].on == ON_ANY || rules[i].on == kind)
			rules[i].run(d);
	qsort(d->f, d->n, sizeof(d->f[0]), by_score);
	for (int i = 0; i < d->n; i++)
		qsort(d->f[i].ev, d->f[i].nev, sizeof(d->f[i].ev[0]), by_time);
}
