// SPDX-License-Identifier: GPL-2.0
/* Rules on swack gate's holds: a held switchover is late on purpose. */
#include "diagnose/rules.h"
#include "event/event.h"

#define MS 1e6
#define MAX_HOLDS 4

static void hold_advice(struct finding *f, const struct gate_note *h)
{
	if (!h->t_release)
		return;
	if (h->assumed)
		diag_advice(f, "no release of this hold was logged: the gate run was most likely "
			    "killed; the hold is taken to end at its max-hold, and a later swack "
			    "gate run logs its release");
	else if (h->cause == 2)
		diag_advice(f, "the hold ran into its deadline: the switchover went ahead without "
			    "what the hold waited for; raise --max-hold or find out why it did "
			    "not come");
	else if (h->cause == 4 || h->cause == 5 || h->cause == 6)
		diag_advice(f, "the hold ended with the gate (%s), not by a decision: check why "
			    "swack gate run stopped", gate_cause_name(h->cause));
}

static void rule_hold(struct diagnosis *d, const struct gate_note *h)
{
	const struct mig *g = d->src;
	uint64_t end = h->t_release ? h->t_release : g->t_switchover ? g->t_switchover : g->t_last;
	struct finding *f = diag_add(d, "switchover-held", 38);

	if (!f)
		return;
	if (h->t_release)
		diag_title(f, "swack gate held the switchover for %.2f s (\"%.*s\"), released by "
			   "%s (\"%.*s\")", (end - h->t_hold) / 1e9, SWACK_STR_LEN, h->reason,
			   gate_cause_name(h->cause), SWACK_STR_LEN, h->release_reason);
	else
		diag_title(f, "swack gate held the switchover (\"%.*s\"); its release is not in "
			   "the input", SWACK_STR_LEN, h->reason);
	diag_detail(f, "placed by %s with a %.0f s deadline; QEMU iterated instead of switching "
		    "over: %llu of %llu decisions raised", gate_origin_name(h->origin),
		    h->max_ns / 1e9, (unsigned long long)h->raised,
		    (unsigned long long)h->queries);
	diag_figure(f, "held_ns", (double)(end - h->t_hold));
	diag_figure(f, "raised", (double)h->raised);
	diag_figure(f, "queries", (double)h->queries);
	diag_figure(f, "max_hold_ns", (double)h->max_ns);
	diag_evidence(f, g, h->t_hold, "gate_hold");
	diag_evidence(f, g, h->t_release, "gate_release cause=%s", gate_cause_name(h->cause));
	diag_evidence(f, g, g->t_switchover, "switchover");
	hold_advice(f, h);
}

void diag_gate_rules(struct diagnosis *d)
{
	const struct gate_note *h[MAX_HOLDS];
	int n;

	if (!d->src)
		return;
	n = mig_gate_holds(d->src, h, MAX_HOLDS);
	for (int i = 0; i < n; i++)
		rule_hold(d, h[i]);
}
