// SPDX-License-Identifier: GPL-2.0
/*
 * Rules on a postcopy migration.  Its downtime has two parts: the pause at
 * the switch (source stop to destination resume), and afterwards every vCPU
 * that touches a page still on the source, waiting for it.  The second is
 * what the guest feels most: per vCPU, all vCPUs at once (QEMU's blocktime),
 * where in memory, and why (an early switch, a pause of the connection).
 */
#include <stdio.h>
#include "diagnose/rules.h"

#define MS 1e6
/* A vCPU blocked this share of postcopy: a warning, a problem. */
#define VCPU_WARN_PCT 10.0
#define VCPU_BAD_PCT 50.0
/* Faults in one 2 MiB region, as a share of all, to call it dominant. */
#define HOT_REGION_PCT 50.0
#define HOT_REGION_MIN_FAULTS 4
/* A fault's wait at p99 from which it is worth a warning. */
#define LATENCY_WARN_NS 100000000ull

static const char *const phase_labels[PCP_MAX] = {
	[PCP_STOP] = "source stop", [PCP_ITERABLE] = "iterable save",
	[PCP_DISCARD] = "discard bitmap", [PCP_DEVICES] = "device state",
	[PCP_PACKAGE] = "package send", [PCP_DST_START] = "destination load and start",
};

static int longest_phase(const struct pc_switch *s)
{
	int best = -1;

	for (int p = 0; p < PCP_MAX; p++)
		if (s->ns[p] >= 0 && (best < 0 || s->ns[p] > s->ns[best]))
			best = p;
	return best;
}

static void switch_advice(struct finding *f, int p)
{
	if (p == PCP_DISCARD)
		diag_advice(f, "the discard bitmap (a last dirty sync, then every range dirtied "
			    "since it was sent) took most of the pause: switch to postcopy once "
			    "precopy has moved most of RAM, so that fewer ranges are dirty");
	else if (p == PCP_DST_START)
		diag_advice(f, "the destination took most of the pause to load the device state "
			    "and start: look at the destination host's load");
	else if (p == PCP_ITERABLE || p == PCP_DEVICES)
		diag_advice(f, "saving state with the guest stopped took most of the pause: "
			    "the slowest vmstates (swack report) are the ones to look at");
}

static void rule_switch(struct diagnosis *d)
{
	struct pc_switch s;
	struct finding *f;
	int p;

	pc_switch_breakdown(d->src, d->dst, &s);
	p = longest_phase(&s);
	if (s.pause_ns < 0 || p < 0)
		return;
	f = diag_add(d, "postcopy-switch", d->limit_given && s.pause_ns > d->limit_ns ? 90 : 15);
	if (!f)
		return;
	diag_title(f, "the switch to postcopy paused the guest %.1f ms; %s took the most, %.1f ms "
		   "(%.0f%%)", s.pause_ns / MS, phase_labels[p], s.ns[p] / MS,
		   100.0 * s.ns[p] / s.pause_ns);
	if (s.request_ns >= 0)
		diag_detail(f, "migrate-start-postcopy came %.1f ms before the source stopped",
			    s.request_ns / MS);
	diag_figure(f, "pause_ns", (double)s.pause_ns);
	diag_figure(f, "request_to_stop_ns", (double)s.request_ns);
	for (int k = 0; k < PCP_MAX; k++)
		diag_figure(f, pc_phase_name(k), (double)s.ns[k]);
	diag_evidence(f, d->src, d->src->pc.t_cmd, "migrate-start-postcopy");
	diag_evidence(f, d->src, d->src->t_stop ? d->src->t_stop : d->src->t_stopped,
		      "source vCPUs stop");
	diag_evidence(f, d->dst, d->dst->t_resumed, "destination vCPUs resume");
	if (s.ns[p] * 2 > s.pause_ns)
		switch_advice(f, p);
}

static int grade(double pct, int info, int warn, int bad)
{
	return pct >= VCPU_BAD_PCT ? bad : pct >= VCPU_WARN_PCT ? warn : info;
}

static void vcpu_faults(const struct postcopy *pc, int v, uint32_t *n, uint64_t *max)
{
	*n = 0;
	*max = 0;
	for (uint32_t i = 0; i < pc->nfaults; i++)
		if (pc->faults[i].vcpu == v) {
			(*n)++;
			if (pc_fault_latency(&pc->faults[i]) > *max)
				*max = pc_fault_latency(&pc->faults[i]);
		}
}

/* The vCPU that waited longest, against the length of postcopy. */
static void rule_vcpus(struct diagnosis *d, const struct pc_stats *st)
{
	const struct postcopy *pc = &d->dst->pc;
	uint64_t per[PC_MAX_VCPUS], max;
	int n = pc_vcpu_count(pc), worst = 0;
	struct finding *f;
	uint32_t faults;
	double pct;

	if (!n || st->duration_ns <= 0)
		return;
	pc_vcpus_blocked(pc, d->dst->t_last, per);
	for (int v = 1; v < n; v++)
		worst = per[v] > per[worst] ? v : worst;
	pct = 100.0 * per[worst] / st->duration_ns;
	vcpu_faults(pc, worst, &faults, &max);
	f = diag_add(d, "postcopy-vcpu-blocked", grade(pct, 20, 45, 85));
	if (!f)
		return;
	diag_title(f, "vCPU %d waited for pages %.1f ms, %.0f%% of postcopy's %.1f ms, in %u "
		   "faults, the longest %.1f ms", worst, per[worst] / MS, pct,
		   st->duration_ns / MS, faults, max / MS);
	diag_figure(f, "vcpu", worst);
	diag_figure(f, "blocked_ns", (double)per[worst]);
	diag_figure(f, "postcopy_ns", (double)st->duration_ns);
	diag_figure(f, "faults", faults);
	diag_figure(f, "max_ns", (double)max);
	diag_evidence(f, d->dst, pc->t_active, "destination postcopy-active");
	if (pct >= VCPU_WARN_PCT)
		diag_advice(f, "each wait is a request's round trip behind the background pages: "
			    "enable postcopy-preempt (requested pages overtake them) and leave "
			    "max-postcopy-bandwidth unlimited, or let precopy run longer first");
}

static void rule_blocktime(struct diagnosis *d, const struct pc_stats *st)
{
	struct finding *f;
	double pct;

	if (st->blocktime_ns < 0 || st->duration_ns <= 0)
		return;
	pct = 100.0 * st->blocktime_ns / st->duration_ns;
	f = diag_add(d, "postcopy-blocktime", grade(pct, 18, 50, 86));
	if (!f)
		return;
	diag_title(f, "all %d vCPUs waited for pages at once for %.1f ms, %.1f%% of postcopy: the "
		   "guest made no progress then (QEMU's blocktime)", st->nvcpus,
		   st->blocktime_ns / MS, pct);
	diag_figure(f, "blocktime_ns", (double)st->blocktime_ns);
	diag_figure(f, "vcpus", st->nvcpus);
	diag_figure(f, "postcopy_ns", (double)st->duration_ns);
	if (d->dst->pc.have_qemu_blocktime)
		diag_figure(f, "qemu_traced", (double)d->dst->pc.qemu_blocktime);
}

static void rule_latency(struct diagnosis *d, const struct pc_stats *st)
{
	struct finding *f;

	if (!st->faults)
		return;
	f = diag_add(d, "postcopy-faults", st->p99 >= LATENCY_WARN_NS ? 42 : 17);
	if (!f)
		return;
	diag_title(f, "%u missing faults in %.1f s of postcopy (%.1f/s), each waiting p50 %.1f ms, "
		   "p99 %.1f ms, max %.1f ms", st->faults, st->duration_ns / 1e9, st->fault_rate,
		   st->p50 / MS, st->p99 / MS, st->max / MS);
	diag_detail(f, "%u page requests sent by the destination, %u taken by the source%s",
		    st->requests, d->src ? d->src->pc.requests_recv : 0,
		    d->src && d->src->pc.requests_recv < st->requests ?
		    " (the others were lost with a broken connection and sent again)" : "");
	diag_figure(f, "faults", st->faults);
	diag_figure(f, "requests", st->requests);
	diag_figure(f, "p50_ns", (double)st->p50);
	diag_figure(f, "p99_ns", (double)st->p99);
	diag_figure(f, "max_ns", (double)st->max);
	diag_figure(f, "total_ns", (double)st->latency_total);
	diag_figure(f, "fault_rate", st->fault_rate);
}

static void rule_hot_region(struct diagnosis *d, const struct pc_stats *st)
{
	const struct postcopy *pc = &d->dst->pc;
	struct snap_region r[1];
	struct finding *f;
	double pct;

	if (fault_pages_hot(&pc->pages, SNAP_REGION_SHIFT, r, 1) != 1 || !st->faults)
		return;
	pct = 100.0 * r[0].faults / st->faults;
	if (pct < HOT_REGION_PCT || r[0].faults < HOT_REGION_MIN_FAULTS)
		return;
	f = diag_add(d, "postcopy-hot-region", 28);
	if (!f)
		return;
	diag_title(f, "faults dominated by one 2 MiB region at 0x%llx: %u of %u (%.0f%%)",
		   (unsigned long long)r[0].addr, r[0].faults, st->faults, pct);
	diag_figure(f, "addr", (double)r[0].addr);
	diag_figure(f, "faults", r[0].faults);
	diag_figure(f, "share_pct", pct);
	diag_advice(f, "the guest's working set is there: let precopy run until it has moved "
		    "(more iterations before migrate-start-postcopy)");
}

/* Postcopy began while precopy had not been through RAM once: more than
 * half of what its first query found was still to send. */
static void rule_early(struct diagnosis *d, const struct pc_stats *st)
{
	const struct postcopy *s = &d->src->pc;
	struct finding *f;
	char left[32], all[32];
	double moved;

	if (!s->t_active || !s->pending_first || !st->faults ||
	    s->pending_at_switch * 2 < s->pending_first)
		return;
	moved = 100.0 - 100.0 * s->pending_at_switch / s->pending_first;
	f = diag_add(d, "postcopy-early-switch", st->faults >= 16 ? 46 : 22);
	if (!f)
		return;
	diag_title(f, "postcopy began when precopy had moved %.0f%% of RAM (%s of %s still to "
		   "send): %u faults fetched pages precopy would have moved", moved < 0 ? 0 : moved,
		   diag_bytes(left, sizeof(left), (double)s->pending_at_switch),
		   diag_bytes(all, sizeof(all), (double)s->pending_first), st->faults);
	diag_figure(f, "iterations", s->iterations_at_switch);
	diag_figure(f, "pending_bytes", (double)s->pending_at_switch);
	diag_figure(f, "first_pending_bytes", (double)s->pending_first);
	diag_figure(f, "faults", st->faults);
	diag_evidence(f, d->src, s->t_cmd, "migrate-start-postcopy");
	diag_evidence(f, d->src, s->t_active, "source postcopy-active");
	diag_advice(f, "issue migrate-start-postcopy once precopy has been through RAM at least "
		    "once (query-migrate dirty-sync-count >= 2): then only the pages dirtied since "
		    "travel on demand");
}

static void rule_pauses(struct diagnosis *d, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;
	struct finding *f;

	for (uint32_t i = 0; i < pc->npauses; i++) {
		const struct pc_pause *p = &pc->pauses[i];
		uint64_t end = p->t_resume ? p->t_resume : g->t_last;

		f = diag_add(d, "postcopy-paused", p->t_resume ? 72 : 93);
		if (!f)
			return;
		diag_title(f, "postcopy paused %.1f ms (%s): every vCPU touching a missing page "
			   "waited as long", (end - p->t_pause) / MS, p->t_resume ?
			   "recovered" : "not recovered");
		diag_figure(f, "paused_ns", (double)(end - p->t_pause));
		diag_evidence(f, g, p->t_pause, "postcopy-paused");
		diag_evidence(f, g, p->t_recover, "recovery begins");
		diag_evidence(f, g, p->t_resume, "postcopy-active again");
		diag_advice(f, "the connection broke: run migrate-recover on the destination and "
			    "migrate with resume=true on the source as soon as the link is back; a "
			    "redundant migration link avoids the pause");
	}
}

void diag_postcopy_rules(struct diagnosis *d)
{
	struct pc_stats st;

	if (d->src && d->dst)
		rule_switch(d);
	/* both sides pause together: one side's pauses are enough */
	if (d->src && d->src->pc.npauses)
		rule_pauses(d, d->src);
	else if (d->dst)
		rule_pauses(d, d->dst);
	if (!d->dst || !d->dst->pc.seen)
		return;
	pc_stats(d->dst, d->dst->t_last, &st);
	rule_latency(d, &st);
	rule_vcpus(d, &st);
	rule_blocktime(d, &st);
	rule_hot_region(d, &st);
	if (d->src)
		rule_early(d, &st);
}
