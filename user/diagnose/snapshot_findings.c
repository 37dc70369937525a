// SPDX-License-Identifier: GPL-2.0
/* Ranked findings on a background snapshot: pure functions over the model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diagnose/snapshot_findings.h"

const char *snap_severity_name(enum snap_severity s)
{
	return s == SNAP_BAD ? "problem" : s == SNAP_WARN ? "warning" : "info";
}

static void add(struct snap_findings *out, enum snap_finding_kind kind, enum snap_severity sev,
		double score, const char *fmt, ...)
{
	struct snap_finding *f;
	va_list ap;

	if (out->n == SNAP_MAX_FINDINGS)
		return;
	f = &out->f[out->n++];
	f->kind = kind;
	f->severity = sev;
	f->score = score;
	va_start(ap, fmt);
	vsnprintf(f->line, sizeof(f->line), fmt, ap);
	va_end(ap);
}

static enum snap_severity grade(double v, double warn, double bad)
{
	return v >= bad ? SNAP_BAD : v >= warn ? SNAP_WARN : SNAP_INFO;
}

static void start_failed(const struct snapshot *s, struct snap_findings *out)
{
	if (s->start_ret < 0)
		add(out, SNAPF_START_FAILED, SNAP_BAD, 1e9, "write tracking did not start: "
		    "ram_write_tracking_start returned %lld", (long long)s->start_ret);
	if (s->ioctl_errors)
		add(out, SNAPF_START_FAILED, SNAP_BAD, 1e9 - 1, "%u UFFDIO calls failed, the "
		    "last with errno %lld", s->ioctl_errors, (long long)-s->last_error);
}

static void stalls(const struct snapshot *s, const struct snap_stats *st,
		   struct snap_findings *out)
{
	/* Fault messages without a single stall: the stalls were not measured. */
	if (!st->faults && s->msgs) {
		add(out, SNAPF_STALLS, SNAP_WARN, 0, "QEMU read %u write faults, but their stall "
		    "times were not measured (handle_userfault missing from /proc/kallsyms)",
		    s->msgs);
		return;
	}
	add(out, SNAPF_STALLS, grade(st->p99, SNAP_P99_WARN_NS, SNAP_P99_BAD_NS), st->p99 / 1e6,
	    "%u write faults in %.3f s of write tracking (%.0f/s), stall p50 %.1f us, p90 "
	    "%.1f us, p99 %.1f us, max %.3f ms, total %.3f ms", st->faults,
	    st->tracking_ns / 1e9, st->fault_rate, st->p50 / 1e3, st->p90 / 1e3, st->p99 / 1e3,
	    st->max / 1e6, st->total / 1e6);
}

static void threads(const struct snapshot *s, const struct snap_stats *st,
		    struct snap_findings *out)
{
	for (uint32_t i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		double pct = st->tracking_ns > 0 ? 100.0 * t->stall_ns / st->tracking_ns : 0;

		add(out, SNAPF_THREAD, grade(pct, SNAP_THREAD_WARN_PCT, SNAP_THREAD_BAD_PCT), pct,
		    "thread %u (%s) stalled %u times for %.3f ms in all, %.2f%% of the "
		    "write-tracking time, longest %.3f ms", t->tid, t->comm, t->stalls,
		    t->stall_ns / 1e6, pct, t->max_ns / 1e6);
	}
}

static void worst(const struct mig *g, struct snap_findings *out)
{
	const struct snap_stall *w = &g->snap.worst[0];
	char page[32] = "";

	if (!g->snap.nworst)
		return;
	if (w->addr)
		snprintf(page, sizeof(page), ", page 0x%llx", (unsigned long long)w->addr);
	add(out, SNAPF_WORST, grade(w->ns, SNAP_P99_WARN_NS, SNAP_P99_BAD_NS), w->ns / 1e6,
	    "longest stall %.3f ms, thread %u, %.3f s into the snapshot%s", w->ns / 1e6,
	    w->tid, (w->ts - g->t_first) / 1e9, page);
}

static void pages(const struct snapshot *s, struct snap_findings *out)
{
	struct snap_region r[3];
	int n = snap_hot_regions(s, SNAP_REGION_SHIFT, r, 1);

	if (n && s->stalls)
		add(out, SNAPF_HOT_REGION, SNAP_INFO, 100.0 * r[0].faults / s->stalls,
		    "hottest 2 MiB of guest RAM at 0x%llx: %u faults, %.1f%% of all",
		    (unsigned long long)r[0].addr, r[0].faults, 100.0 * r[0].faults / s->stalls);
	n = snap_repeat_pages(s, r, 3);
	if (n)
		add(out, SNAPF_REPEATS, SNAP_INFO, r[0].faults, "pages faulting more than once "
		    "(several threads writing them before they were saved): 0x%llx %u times%s",
		    (unsigned long long)r[0].addr, r[0].faults, n > 1 ? ", and others" : "");
}

static int by_rank(const void *a, const void *b)
{
	const struct snap_finding *x = a, *y = b;

	if (x->severity != y->severity)
		return y->severity - x->severity;
	return (y->score > x->score) - (y->score < x->score);
}

/* Advice on the top finding: what would make it go away. */
static void advise(const struct snap_stats *st, struct snap_findings *out)
{
	const char *a;

	switch (out->worst == SNAP_INFO ? -1 : (int)out->f[0].kind) {
	case SNAPF_START_FAILED:
		a = "check that the kernel has userfaultfd write-protect for this memory "
		    "(anonymous or shmem RAM, Linux 5.7+) and that QEMU may use userfaultfd";
		break;
	case SNAPF_STALLS:
		if (!st->faults) {
			a = "let swack read handle_userfault's address (/proc/kallsyms as root, "
			    "kernel.kptr_restrict below 2) to time the stalls";
			break;
		}
		/* fall through */
	case SNAPF_WORST:
		a = "each stall lasts until the migration thread has saved the page: give that "
		    "thread CPU and a fast target (local file, no max-bandwidth cap), or snapshot "
		    "when the guest writes less";
		break;
	case SNAPF_THREAD:
		a = "short stalls add up on that thread: snapshot when the guest writes less, "
		    "or shorten the snapshot (faster target) so fewer pages fault";
		break;
	default:
		a = "the guest paid little for this snapshot: no action needed";
		break;
	}
	snprintf(out->advice, sizeof(out->advice), "%s", a);
}

void snap_findings(const struct mig *g, uint64_t now, struct snap_findings *out)
{
	struct snap_stats st;

	memset(out, 0, sizeof(*out));
	if (!g->snap.seen)
		return;
	snap_stats(g, now, &st);
	start_failed(&g->snap, out);
	stalls(&g->snap, &st, out);
	threads(&g->snap, &st, out);
	worst(g, out);
	pages(&g->snap, out);
	qsort(out->f, out->n, sizeof(out->f[0]), by_rank);
	out->worst = out->f[0].severity;
	advise(&st, out);
}
