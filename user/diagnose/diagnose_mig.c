// SPDX-License-Identifier: GPL-2.0
/*
 * Rules on the migration as a whole: its outcome (failed, cancelled,
 * unfinished), where its downtime went and whether it was over the limit or
 * under-reported, and how it converged.
 */
#include <stdio.h>
#include "diagnose/rules.h"

#define MS 1e6
/* Below these a figure is noise, not a finding. */
#define UNDERREPORT_MIN_NS 2000000
#define UNDERREPORT_MIN_RATIO 1.25
#define SLOW_CONVERGENCE_ITERATIONS 8

static uint64_t state_ts(const struct mig *g, enum mstate s)
{
	for (int i = 0; g && i < g->nstates; i++)
		if (g->states[i].state == s)
			return g->states[i].ts;
	return 0;
}

static const struct dev_state *failed_dev(const struct mig *g)
{
	for (uint32_t i = 0; g && i < g->ndevs; i++)
		if (g->devs[i].failed)
			return &g->devs[i];
	return NULL;
}

static void rule_failed(struct diagnosis *d, const struct mig *g)
{
	const struct dev_state *dev = failed_dev(d->src) ? failed_dev(d->src) : failed_dev(d->dst);
	const struct mig *dg = failed_dev(d->src) ? d->src : d->dst;
	struct finding *f = diag_add(d, "migration-failed", 95);

	if (!f)
		return;
	diag_title(f, "migration failed after %.1f ms%s%s%s", mig_total_ns(g) / MS,
		   dev ? ": device " : "", dev ? dev->name : "",
		   !dev && g->ack.underflow ? ": switchover-ack counter underflow" : "");
	diag_evidence(f, g, state_ts(g, MS_FAILED), "migration state failed");
	if (g->t_stop)
		diag_evidence(f, g, g->t_stop, "vCPUs stopped (in the downtime)");
	diag_figure(f, "total_ns", (double)mig_total_ns(g));
	if (!dev) {
		if (!g->ack.underflow)
			diag_advice(f, "QEMU's log on the failing side says why");
		return;
	}
	diag_detail(f, "%s failed %s (return %lld)", dev->name,
		    dg->role == SWACK_ROLE_DST ? "loading its state" : "saving its stop-copy data",
		    (long long)(dev->complete_ret ? dev->complete_ret : dev->save_thread_ret));
	diag_advice(f, "the guest goes on running on the source; look at %s's driver and "
		    "firmware logs on the source host before retrying", dev->name);
}

/* Input ended (recording cut, Ctrl-C) while the migration still ran. */
static void rule_unfinished(struct diagnosis *d, const struct mig *g)
{
	struct finding *f = diag_add(d, "migration-unfinished", 30);

	if (!f)
		return;
	diag_title(f, "migration still %s when the input ended, %.1f ms after it began: the "
		   "figures are partial", mstate_name(g->state), (g->t_last - g->t_first) / MS);
	diag_evidence(f, g, g->t_last, "last event");
}

void diag_outcome_rules(struct diagnosis *d)
{
	const struct mig *g = d->src ? d->src : d->dst;
	struct finding *f;

	if (!mstate_terminal(g->state) && g->state != MS_CANCELLING)
		rule_unfinished(d, g);
	if (g->state == MS_FAILED || (d->dst && d->dst->state == MS_FAILED && !d->src))
		rule_failed(d, g);
	if (g->state != MS_CANCELLED && g->state != MS_CANCELLING)
		return;
	f = diag_add(d, "migration-cancelled", 70);
	if (!f)
		return;
	diag_title(f, "migration cancelled after %.1f ms, %s", mig_total_ns(g) / MS,
		   g->t_stop ? "in the downtime" : "before switchover: the guest never stopped");
	diag_evidence(f, g, state_ts(g, MS_CANCELLING), "migration state cancelling");
	diag_evidence(f, g, state_ts(g, MS_CANCELLED), "migration state cancelled");
	diag_figure(f, "total_ns", (double)mig_total_ns(g));
	diag_figure(f, "iterations", g->iterations);
}

static const char *phase_label(enum phase p)
{
	static const char *const labels[PH_MAX] = {
		[PH_STOP] = "source stop", [PH_ITERABLE] = "iterable save",
		[PH_NON_ITERABLE] = "non-iterable save", [PH_FINAL_SAVE] = "final save",
		[PH_SRC_TAIL] = "source completion",
		[PH_TRANSFER_LOAD] = "network and destination load",
		[PH_DST_START] = "destination start",
	};
	return labels[p];
}

static const char *phase_figure(enum phase p)
{
	static const char *const names[PH_MAX] = {
		[PH_STOP] = "stop_ns", [PH_ITERABLE] = "iterable_save_ns",
		[PH_NON_ITERABLE] = "non_iterable_save_ns", [PH_FINAL_SAVE] = "final_save_ns",
		[PH_SRC_TAIL] = "source_tail_ns", [PH_TRANSFER_LOAD] = "transfer_and_load_ns",
		[PH_DST_START] = "destination_start_ns",
	};
	return names[p];
}

static int dominant_phase(const struct breakdown *b)
{
	int best = -1;

	for (int p = 0; p < PH_MAX; p++)
		if (b->ns[p] >= 0 && (best < 0 || b->ns[p] > b->ns[best]))
			best = p;
	return best;
}

/* "iterable save 3.1 ms (40%), ..." for every phase the checkpoints give. */
static void phase_shares(struct finding *f, const struct breakdown *b)
{
	size_t len = 0;

	for (int p = 0; p < PH_MAX && len < sizeof(f->detail); p++) {
		if (b->ns[p] < 0)
			continue;
		len += snprintf(f->detail + len, sizeof(f->detail) - len, "%s%s %.1f ms (%.0f%%)",
				len ? ", " : "phases: ", phase_label(p), b->ns[p] / MS,
				100.0 * b->ns[p] / b->total_ns);
		diag_figure(f, phase_figure(p), (double)b->ns[p]);
	}
	diag_figure(f, "phases_total_ns", (double)b->total_ns);
}

static void window_evidence(struct finding *f, const struct diagnosis *d)
{
	const struct mig *s = d->src, *t = d->dst;

	diag_evidence(f, s, s->t_stop ? s->t_stop : s->t_stopped, "source vCPUs stop");
	if (s->t_dt_start)
		diag_evidence(f, s, s->t_dt_start, "checkpoint src-downtime-start");
	if (t)
		diag_evidence(f, t, t->t_resumed, "destination vCPUs resume");
	if (!t || d->guest_ns < 0)
		diag_evidence(f, s, s->t_dt_end ? s->t_dt_end : s->t_end, "source downtime ends");
}

static void over_limit_advice(struct finding *f, const struct diagnosis *d)
{
	int p = dominant_phase(&d->b);
	double need = d->window_ns / MS;

	if (p == PH_ITERABLE || p == PH_FINAL_SAVE)
		diag_advice(f, "the final save of iterable state (RAM, VFIO) took most of it: let "
			    "precopy move more first (switchover-ack for devices, more bandwidth), "
			    "or budget downtime-limit >= %.0f ms", need);
	else if (p == PH_TRANSFER_LOAD)
		diag_advice(f, "the transfer and the destination's load took most of it, which "
			    "QEMU's estimate leaves out: raise the link's bandwidth, check the "
			    "destination host, or budget downtime-limit >= %.0f ms", need);
	else if (p == PH_NON_ITERABLE)
		diag_advice(f, "non-iterable device state took most of it: the slowest vmstates "
			    "(swack report) are the devices to look at");
	else if (p == PH_DST_START)
		diag_advice(f, "the destination's start (device start, announce) took most of it");
	else if (p == PH_STOP)
		diag_advice(f, "stopping the source's vCPUs took most of it: vCPUs were slow to "
			    "leave the guest (long I/O in flight)");
}

static void rule_over_limit(struct diagnosis *d)
{
	int64_t over = d->window_ns - d->limit_ns;
	struct finding *f;

	if (d->window_ns < 0 || d->limit_ns <= 0 || over <= 0)
		return;
	f = diag_add(d, "downtime-over-limit", over >= d->limit_ns ? 94 : 90);
	if (!f)
		return;
	diag_title(f, "%s downtime %.1f ms exceeds the %.1f ms limit%s by %.1f ms (%.1fx)",
		   d->guest_ns >= 0 ? "guest-visible" : "QEMU's", d->window_ns / MS,
		   d->limit_ns / MS, d->limit_given ? "" : " (from QEMU's threshold)", over / MS,
		   (double)d->window_ns / d->limit_ns);
	diag_figure(f, "downtime_ns", (double)d->window_ns);
	diag_figure(f, "limit_ns", (double)d->limit_ns);
	diag_figure(f, "over_ns", (double)over);
	if (d->b.total_ns > 0)
		phase_shares(f, &d->b);
	window_evidence(f, d);
	over_limit_advice(f, d);
}

static void rule_breakdown(struct diagnosis *d)
{
	int p = dominant_phase(&d->b);
	struct finding *f;

	if (d->b.total_ns <= 0 || p < 0 || (d->limit_ns > 0 && d->window_ns > d->limit_ns))
		return;
	f = diag_add(d, "downtime-breakdown", 15);
	if (!f)
		return;
	diag_title(f, "%s downtime %.1f ms%s; %s took the most, %.1f ms (%.0f%%)",
		   d->guest_ns >= 0 ? "guest-visible" : "QEMU's", d->window_ns / MS,
		   d->limit_ns > 0 ? ", within the limit" : "", phase_label(p), d->b.ns[p] / MS,
		   100.0 * d->b.ns[p] / d->b.total_ns);
	diag_figure(f, "downtime_ns", (double)d->window_ns);
	if (d->limit_ns > 0)
		diag_figure(f, "limit_ns", (double)d->limit_ns);
	phase_shares(f, &d->b);
	window_evidence(f, d);
}

static void rule_underreported(struct diagnosis *d)
{
	int64_t gap = d->guest_ns - d->qemu_ns;
	struct finding *f;

	if (d->guest_ns < 0 || d->qemu_ns <= 0 || gap < UNDERREPORT_MIN_NS ||
	    d->guest_ns < d->qemu_ns * UNDERREPORT_MIN_RATIO)
		return;
	f = diag_add(d, "downtime-underreported", 35);
	if (!f)
		return;
	diag_title(f, "QEMU reports %.1f ms of downtime, the guest saw %.1f ms (+%.1f ms, +%.0f%%)",
		   d->qemu_ns / MS, d->guest_ns / MS, gap / MS, 100.0 * gap / d->qemu_ns);
	diag_detail(f, "QEMU's figure is the source's alone; the destination's load and start "
		    "come after it");
	diag_figure(f, "qemu_downtime_ns", (double)d->qemu_ns);
	diag_figure(f, "guest_downtime_ns", (double)d->guest_ns);
	diag_figure(f, "gap_ns", (double)gap);
	window_evidence(f, d);
	diag_advice(f, "judge downtime budgets on the guest-visible figure (swack), not on "
		    "query-migrate's downtime");
}

static void convergence_text(struct finding *f, const struct mig *g, const struct convergence *c)
{
	char a[32], b[32], r[32];
	int len;

	len = snprintf(f->detail, sizeof(f->detail), "pending fell from %s to %s",
		       diag_bytes(a, sizeof(a), (double)c->first),
		       diag_bytes(b, sizeof(b), (double)c->last));
	if (c->bw_Bps > 0)
		len += snprintf(f->detail + len, sizeof(f->detail) - len, "; bandwidth %s/s",
				diag_bytes(r, sizeof(r), (double)c->bw_Bps));
	if (c->dirty_Bps >= 0)
		snprintf(f->detail + len, sizeof(f->detail) - len, ", dirty rate %s/s",
			 diag_bytes(r, sizeof(r), (double)c->dirty_Bps));
	diag_figure(f, "iterations", g->iterations);
	diag_figure(f, "pending_first", (double)c->first);
	diag_figure(f, "pending_last", (double)c->last);
	diag_figure(f, "threshold", (double)c->threshold);
	diag_figure(f, "bandwidth_Bps", (double)c->bw_Bps);
	diag_figure(f, "dirty_Bps", (double)c->dirty_Bps);
	diag_evidence(f, g, g->pending_s.s[0].ts, "first exact pending query");
	diag_evidence(f, g, g->pending_s.s[g->pending_s.n - 1].ts, "last exact pending query");
}

static void convergence_advice(struct finding *f, const struct convergence *c)
{
	if (c->dirty_Bps >= 0 && c->bw_Bps > 0 && c->dirty_Bps * 5 >= c->bw_Bps * 4)
		diag_advice(f, "the guest dirties memory about as fast as it moves: enable the "
			    "auto-converge or dirty-limit capability, or raise max-bandwidth");
	else if (c->bw_Bps > 0 && !c->converged)
		diag_advice(f, "at %.1f MB/s the %.1f MB left need %.0f ms: raise max-bandwidth, "
			    "or downtime-limit to that, or give precopy more time", c->bw_Bps / 1e6,
			    c->last / 1e6, c->last * 1e3 / c->bw_Bps);
}

void diag_convergence_rules(struct diagnosis *d)
{
	const struct mig *g = d->src;
	struct convergence c;
	struct finding *f;
	char a[32], b[32];

	if (!g)
		return;
	mig_convergence(g, &c);
	if (!c.known || !c.threshold)
		return;
	if (!c.converged && (mstate_terminal(g->state) || g->state == MS_CANCELLING)) {
		f = diag_add(d, "no-convergence", 80);
		if (!f)
			return;
		diag_title(f, "did not converge in %u iterations: %s still pending, %.1fx the %s "
			   "threshold", g->iterations, diag_bytes(a, sizeof(a), (double)c.last),
			   (double)c.last / c.threshold, diag_bytes(b, sizeof(b), (double)c.threshold));
	} else if (g->iterations >= SLOW_CONVERGENCE_ITERATIONS && g->t_switchover) {
		f = diag_add(d, "slow-convergence", 25);
		if (!f)
			return;
		diag_title(f, "converged only after %u iterations, %.1f s into the migration",
			   g->iterations, (g->t_switchover - g->t_first) / 1e9);
	} else {
		return;
	}
	convergence_text(f, g, &c);
	convergence_advice(f, &c);
}

/* Where the downtime went, against the limit and QEMU's own figure. */
void diag_downtime_rules(struct diagnosis *d)
{
	if (!d->src || d->window_ns < 0)
		return;
	rule_over_limit(d);
	rule_breakdown(d);
	rule_underreported(d);
}
