// SPDX-License-Identifier: GPL-2.0
/* A background snapshot in text and JSON, for trace, report and record. */
#include <string.h>
#include "event/event.h"
#include "model/figures.h"
#include "diagnose/snapshot_findings.h"
#include "util/json.h"
#include "view/snapshot_view.h"

#define HIST_WIDTH 40
#define TOP_REGIONS 3

static uint64_t snap_end(const struct mig *g)
{
	return g->t_end ? g->t_end : g->t_last;
}

/* bcc-style log2 histogram of times, in microseconds. */
void hist_print_text(FILE *out, const char *label, const uint32_t *hist)
{
	uint32_t max = 0;
	int last = -1;

	for (int b = 0; b < SNAP_HIST; b++)
		if (hist[b]) {
			last = b;
			max = hist[b] > max ? hist[b] : max;
		}
	if (last < 0)
		return;
	fprintf(out, "  %18s : %-8s %s\n", label, "count", "distribution");
	for (int b = 0; b <= last; b++) {
		unsigned long long lo = b ? 1ull << b : 0, hi = (2ull << b) - 1;
		int stars = (int)((uint64_t)hist[b] * HIST_WIDTH / max);

		fprintf(out, "  %8llu -> %-8llu : %-8u |%-*.*s|\n", lo, hi, hist[b], HIST_WIDTH,
			stars, "****************************************");
	}
}

static void regions_text(FILE *out, const struct snapshot *s)
{
	struct snap_region r[TOP_REGIONS];
	int n = snap_hot_regions(s, SNAP_REGION_SHIFT, r, TOP_REGIONS);

	if (!n)
		return;
	fprintf(out, "  hottest 2 MiB regions:");
	for (int i = 0; i < n; i++)
		fprintf(out, "%s 0x%llx %u faults", i ? "," : "", (unsigned long long)r[i].addr,
			r[i].faults);
	n = snap_repeat_pages(s, r, TOP_REGIONS);
	if (n)
		fprintf(out, "; pages faulting more than once:");
	for (int i = 0; i < n; i++)
		fprintf(out, "%s 0x%llx x%u", i ? "," : "", (unsigned long long)r[i].addr,
			r[i].faults);
	fputc('\n', out);
}

static void worst_text(FILE *out, const struct mig *g)
{
	const struct snapshot *s = &g->snap;

	if (!s->nworst)
		return;
	fprintf(out, "  worst stalls:");
	for (uint32_t i = 0; i < s->nworst; i++) {
		fprintf(out, "%s %.3f ms (thread %u, +%.3f s", i ? "," : "", s->worst[i].ns / 1e6,
			s->worst[i].tid, (s->worst[i].ts - g->t_first) / 1e9);
		if (s->worst[i].addr)
			fprintf(out, ", page 0x%llx", (unsigned long long)s->worst[i].addr);
		fputc(')', out);
	}
	fputc('\n', out);
}

void snap_print_text(FILE *out, const struct mig *g)
{
	const struct snapshot *s = &g->snap;
	struct snap_stats st;

	if (!s->seen)
		return;
	snap_stats(g, snap_end(g), &st);
	fprintf(out, "  snapshot: write tracking %.3f s, %llu pages saved, %u write faults "
		"(%.0f/s; %u read by QEMU, the others released by its scan first), stall p50 "
		"%.1f us, p90 %.1f us, p99 %.1f us, max %.3f ms, total %.3f ms\n",
		st.tracking_ns / 1e9, (unsigned long long)st.pages_saved, st.faults, st.fault_rate,
		s->msgs, st.p50 / 1e3, st.p90 / 1e3, st.p99 / 1e3, st.max / 1e6, st.total / 1e6);
	hist_print_text(out, "stall usecs", s->hist);
	worst_text(out, g);
	for (uint32_t i = 0; i < s->nthreads; i++)
		fprintf(out, "  stalled thread %u (%s): %u faults, %.3f ms in all, longest %.3f ms\n",
			s->threads[i].tid, s->threads[i].comm, s->threads[i].stalls,
			s->threads[i].stall_ns / 1e6, s->threads[i].max_ns / 1e6);
	regions_text(out, s);
}

void snap_print_findings(FILE *out, const struct mig *g)
{
	struct snap_findings f;

	snap_findings(g, snap_end(g), &f);
	if (!f.n)
		return;
	fprintf(out, "  findings (snapshot of pid %u):\n", g->pid);
	for (int i = 0; i < f.n; i++)
		fprintf(out, "    %d. [%s] %s\n", i + 1, snap_severity_name(f.f[i].severity),
			f.f[i].line);
	fprintf(out, "    advice: %s\n", f.advice);
}

void hist_json(struct jw *j, const char *key, const uint32_t *hist)
{
	jw_arr(j, key);
	for (int b = 0; b < SNAP_HIST; b++) {
		if (!hist[b])
			continue;
		jw_obj(j, NULL);
		jw_u64(j, "from", b ? 1ull << b : 0);
		jw_u64(j, "to", (2ull << b) - 1);
		jw_u64(j, "count", hist[b]);
		jw_end(j);
	}
	jw_end(j);
}

static void worst_json(struct jw *j, const struct mig *g)
{
	const struct snapshot *s = &g->snap;

	jw_arr(j, "worst");
	for (uint32_t i = 0; i < s->nworst; i++) {
		jw_obj(j, NULL);
		jw_u64(j, "ns", s->worst[i].ns);
		jw_u64(j, "tid", s->worst[i].tid);
		jw_u64(j, "ts", s->worst[i].ts);
		jw_u64(j, "page", s->worst[i].addr);
		jw_end(j);
	}
	jw_end(j);
}

static void threads_json(struct jw *j, const struct snapshot *s)
{
	jw_arr(j, "threads");
	for (uint32_t i = 0; i < s->nthreads; i++) {
		jw_obj(j, NULL);
		jw_u64(j, "tid", s->threads[i].tid);
		jw_strn(j, "comm", s->threads[i].comm, sizeof(s->threads[i].comm));
		jw_u64(j, "stalls", s->threads[i].stalls);
		jw_u64(j, "stall_ns", s->threads[i].stall_ns);
		jw_u64(j, "max_ns", s->threads[i].max_ns);
		jw_end(j);
	}
	jw_end(j);
}

static void findings_json(struct jw *j, const struct mig *g)
{
	struct snap_findings f;

	snap_findings(g, snap_end(g), &f);
	jw_arr(j, "findings");
	for (int i = 0; i < f.n; i++) {
		jw_obj(j, NULL);
		jw_str(j, "severity", snap_severity_name(f.f[i].severity));
		jw_strn(j, "line", f.f[i].line, sizeof(f.f[i].line));
		jw_end(j);
	}
	jw_end(j);
	jw_strn(j, "advice", f.advice, sizeof(f.advice));
}

void snap_json(struct jw *j, const struct mig *g)
{
	const struct snapshot *s = &g->snap;
	struct snap_stats st;

	if (!s->seen)
		return;
	snap_stats(g, snap_end(g), &st);
	jw_obj(j, "snapshot");
	jw_s64(j, "duration_ns", st.duration_ns);
	jw_s64(j, "tracking_ns", st.tracking_ns);
	jw_s64(j, "bytes", st.bytes);
	jw_s64(j, "paused_ns", st.paused_ns);
	jw_s64(j, "start_ret", s->start_ret);
	jw_u64(j, "pages_saved", st.pages_saved);
	jw_u64(j, "faults", st.faults);
	jw_u64(j, "fault_messages", s->msgs);
	jw_fixed(j, "fault_rate", st.fault_rate, 1);
	jw_u64(j, "stall_p50_ns", st.p50);
	jw_u64(j, "stall_p90_ns", st.p90);
	jw_u64(j, "stall_p99_ns", st.p99);
	jw_u64(j, "stall_max_ns", st.max);
	jw_u64(j, "stall_total_ns", st.total);
	jw_u64(j, "uffd_errors", s->ioctl_errors);
	hist_json(j, "stall_hist_us", s->hist);
	worst_json(j, g);
	threads_json(j, s);
	findings_json(j, g);
	jw_end(j);
}

/* Duration and rate up to now while it runs, up to its end once it ended. */
static uint64_t row_now(const struct mig *g, uint64_t now)
{
	return g->t_end ? g->t_end : now;
}

void snap_row(const struct mig *g, uint64_t now, char *buf, size_t len)
{
	struct snap_stats st;
	char bytes[16];

	buf[0] = 0;
	if (!g->snap.seen)
		return;
	snap_stats(g, row_now(g, now), &st);
	snprintf(buf, len, "snapshot %8.3f s written %9s faults %7u (%6.0f/s) stall p99 %9.1f us",
		 st.duration_ns / 1e9, human_bytes(st.bytes < 0 ? 0 : st.bytes, bytes,
						    sizeof(bytes)),
		 st.faults, st.fault_rate, st.p99 / 1e3);
}

void snap_row_json(FILE *out, const struct mig *g, uint64_t now)
{
	struct snap_stats st;
	struct jw j;

	if (!g->snap.seen)
		return;
	snap_stats(g, row_now(g, now), &st);
	jw_init(&j, out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "pid", g->pid);
	jw_obj(&j, "snapshot");
	jw_s64(&j, "duration_ns", st.duration_ns);
	jw_s64(&j, "bytes", st.bytes);
	jw_u64(&j, "faults", st.faults);
	jw_fixed(&j, "fault_rate", st.fault_rate, 1);
	jw_u64(&j, "stall_p99_ns", st.p99);
	jw_u64(&j, "stall_total_ns", st.total);
	jw_end(&j);
	jw_end(&j);
}
