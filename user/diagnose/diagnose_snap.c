// SPDX-License-Identifier: GPL-2.0
/* A background snapshot's cost to its guest, as diagnose findings: the
 * snapshot findings (snapshot_findings.c) ranked among the others. */
#include "diagnose/rules.h"
#include "diagnose/snapshot_findings.h"

static const char *snap_id(enum snap_finding_kind k)
{
	switch (k) {
	case SNAPF_START_FAILED: return "snapshot-failed";
	case SNAPF_STALLS: return "snapshot-stalls";
	case SNAPF_THREAD: return "snapshot-thread-stalls";
	case SNAPF_WORST: return "snapshot-worst-stall";
	case SNAPF_HOT_REGION: return "snapshot-hot-region";
	case SNAPF_REPEATS: return "snapshot-repeat-faults";
	}
	return "snapshot";
}

/* Problems rank with failed migrations, warnings with slow devices. */
static int snap_score(enum snap_severity s, int i)
{
	int base = s == SNAP_BAD ? 88 : s == SNAP_WARN ? 48 : 20;

	return base - (i < 5 ? i : 5);
}

static void stall_figures(struct finding *f, const struct mig *g)
{
	struct snap_stats st;

	snap_stats(g, g->t_last, &st);
	diag_figure(f, "faults", st.faults);
	diag_figure(f, "fault_rate", st.fault_rate);
	diag_figure(f, "p50_ns", (double)st.p50);
	diag_figure(f, "p90_ns", (double)st.p90);
	diag_figure(f, "p99_ns", (double)st.p99);
	diag_figure(f, "max_ns", (double)st.max);
	diag_figure(f, "total_ns", (double)st.total);
	diag_figure(f, "tracking_ns", (double)st.tracking_ns);
}

static void evidence(struct finding *f, const struct mig *g, enum snap_finding_kind k)
{
	const struct snap_stall *w = g->snap.nworst ? &g->snap.worst[0] : NULL;

	if (k == SNAPF_WORST && w) {
		/* A stall event is stamped when the thread is woken: it began ns before. */
		diag_evidence(f, g, w->ts - w->ns, "thread %u faults", w->tid);
		diag_evidence(f, g, w->ts, "thread %u woken by the page's release", w->tid);
		return;
	}
	if (k == SNAPF_STALLS)
		stall_figures(f, g);
	if (k == SNAPF_STALLS || k == SNAPF_START_FAILED) {
		diag_evidence(f, g, g->snap.t_start, "write tracking on");
		diag_evidence(f, g, g->snap.t_stop, "write tracking off");
	}
}

void diag_snapshot_rules(struct diagnosis *d)
{
	const struct mig *g = d->src;
	struct snap_findings sf;

	if (!g)
		return;
	snap_findings(g, g->t_last, &sf);
	for (int i = 0; i < sf.n; i++) {
		struct finding *f = diag_add(d, snap_id(sf.f[i].kind),
					     snap_score(sf.f[i].severity, i));

		if (!f)
			return;
		diag_title(f, "%s", sf.f[i].line);
		evidence(f, g, sf.f[i].kind);
		if (i == 0 && sf.worst != SNAP_INFO)
			diag_advice(f, "%s", sf.advice);
	}
}
