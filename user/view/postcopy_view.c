// SPDX-License-Identifier: GPL-2.0
/* Postcopy in text and JSON, for trace, report, record and swackstat: the
 * switch and its pause, then what the guest waited for on the destination. */
#include <string.h>
#include "event/event.h"
#include "model/figures.h"
#include "util/json.h"
#include "view/postcopy_view.h"
#include "view/snapshot_view.h"

#define TOP_REGIONS 3
#define MS 1e6

static uint64_t end_of(const struct mig *g)
{
	return g->t_end ? g->t_end : g->t_last;
}

static double since(const struct mig *g, uint64_t ts)
{
	return ts > g->t_first ? (ts - g->t_first) / 1e9 : 0;
}

static void switch_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	const struct postcopy *pc = &src->pc;
	struct pc_switch sw;

	pc_switch_breakdown(src, dst, &sw);
	fprintf(out, "  postcopy switch:");
	if (pc->t_cmd)
		fprintf(out, " migrate-start-postcopy at +%.3f s,", since(src, pc->t_cmd));
	if (pc->t_active)
		fprintf(out, " postcopy-active at +%.3f s with %.1f MB of %.1f MB still to send,",
			since(src, pc->t_active), pc->pending_at_switch / 1e6,
			pc->pending_first / 1e6);
	if (sw.pause_ns >= 0)
		fprintf(out, " guest paused %.3f ms:", sw.pause_ns / MS);
	for (int p = 0; p < PCP_MAX; p++)
		if (sw.ns[p] >= 0)
			fprintf(out, " %s %.3f ms,", pc_phase_name(p), sw.ns[p] / MS);
	fprintf(out, " QEMU's downtime %.3f ms\n", mig_qemu_downtime_ns(src) / MS);
}

static void source_text(FILE *out, const struct mig *src)
{
	struct pc_stats st;

	pc_stats(src, end_of(src), &st);
	fprintf(out, "  postcopy (src): %.3f s", st.duration_ns / 1e9);
	if (st.bytes >= 0)
		fprintf(out, ", %llu B sent", (unsigned long long)st.bytes);
	fprintf(out, ", %u page requests taken", st.requests_recv);
	if (src->pc.t_complete)
		fprintf(out, ", the last of RAM sent at +%.3f s", since(src, src->pc.t_complete));
	fputc('\n', out);
}

static void latency_text(FILE *out, const struct mig *dst, const struct pc_stats *st)
{
	const struct postcopy *pc = &dst->pc;

	fprintf(out, "  postcopy (dst): %.3f s, %u missing faults (%.1f/s) on %u pages, %u page "
		"requests sent", st->duration_ns / 1e9, st->faults, st->fault_rate,
		pc->pages.used, st->requests);
	/* QEMU names the faulting page only where swack probes its functions */
	if (st->unrequested >= 0)
		fprintf(out, " (%u for a page already requested; %lld faults needed none: the "
			"page had arrived)", pc->rerequests, (long long)st->unrequested);
	fprintf(out, ", %u resolved; fault latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max "
		"%.3f ms, total %.3f ms\n", st->resolved, st->p50 / MS, st->p90 / MS,
		st->p99 / MS, st->max / MS, st->latency_total / MS);
	if (pc->unread_stalls)
		fprintf(out, "  and %u sleeps on missing pages that arrived before QEMU read the "
			"fault (in the blocked times below, not among the faults)\n",
			pc->unread_stalls);
	if (pc->faults_dropped)
		fprintf(out, "  (%u faults counted but not kept: figures cover the first %u)\n",
			pc->faults_dropped, pc->nfaults);
}

static void qemu_traced_text(FILE *out, const struct postcopy *pc)
{
	if (pc->have_qemu_blocktime)
		fprintf(out, "; QEMU's own total (postcopy_ram_incoming_cleanup_blocktime): %llu us",
			(unsigned long long)pc->qemu_blocktime);
}

static void vcpus_text(FILE *out, const struct mig *dst, const struct pc_stats *st)
{
	const struct postcopy *pc = &dst->pc;
	uint64_t per[PC_MAX_VCPUS];
	int n = pc_vcpu_count(pc);

	if (!n) {
		fprintf(out, "  vCPUs: none known (name QEMU's threads with -name ...,"
			"debug-threads=on to tell vCPU stalls from others)\n");
		return;
	}
	pc_vcpus_blocked(pc, end_of(dst), per);
	fprintf(out, "  vCPUs (%d", n);
	if (st->blocktime_ns >= 0)
		fprintf(out, " listed): all blocked at once %.3f ms", st->blocktime_ns / MS);
	else
		fprintf(out, " seen stalling, not listed: no blocktime)");
	for (int v = 0; v < n; v++)
		fprintf(out, "%svCPU %d %.3f ms", v || st->blocktime_ns >= 0 ? ", " : ": ", v,
			per[v] / MS);
	qemu_traced_text(out, pc);
	fputc('\n', out);
}

static void threads_text(FILE *out, const struct postcopy *pc)
{
	for (uint32_t i = 0; i < pc->nthreads; i++) {
		const struct pc_thread *t = &pc->threads[i];

		fprintf(out, "  stalled thread %u (%s%s): %u faults, %.3f ms in all, longest %.3f ms\n",
			t->tid, t->comm, t->vcpu >= 0 ? ", a vCPU" : "", t->stalls,
			t->blocked_ns / MS, t->max_ns / MS);
	}
}

/* What the kernel side saw: the registration and the pages placed. */
static void placed_text(FILE *out, const struct mig *dst, const struct pc_stats *st)
{
	const struct postcopy *pc = &dst->pc;

	if (pc->t_registered)
		fprintf(out, "  RAM registered for missing faults at +%.3f s: %u RAMBlocks, %llu B\n",
			since(dst, pc->t_registered), pc->registered_blocks,
			(unsigned long long)pc->registered_bytes);
	if (pc->copies + pc->zeros)
		fprintf(out, "  pages placed: %llu (%llu copied, %llu zero, %llu B), %llu for a "
			"waiting fault, %llu in the background\n",
			(unsigned long long)(pc->copies + pc->zeros), (unsigned long long)pc->copies,
			(unsigned long long)pc->zeros, (unsigned long long)pc->placed_bytes,
			(unsigned long long)pc->placed_resolved,
			(unsigned long long)st->background_pages);
	fprintf(out, "  discarded at the switch: %u ranges, %llu B\n", pc->discards,
		(unsigned long long)pc->discard_bytes);
}

static void pages_text(FILE *out, const struct mig *dst, const struct pc_stats *st)
{
	const struct postcopy *pc = &dst->pc;
	struct snap_region r[TOP_REGIONS];
	int n;

	placed_text(out, dst, st);
	n = fault_pages_hot(&pc->pages, SNAP_REGION_SHIFT, r, TOP_REGIONS);
	if (n)
		fprintf(out, "  hottest 2 MiB regions:");
	for (int i = 0; i < n; i++)
		fprintf(out, "%s 0x%llx %u faults", i ? "," : "", (unsigned long long)r[i].addr,
			r[i].faults);
	n = n ? fault_pages_repeats(&pc->pages, r, TOP_REGIONS) : 0;
	if (n)
		fprintf(out, "; pages faulting more than once:");
	for (int i = 0; i < n; i++)
		fprintf(out, "%s 0x%llx x%u", i ? "," : "", (unsigned long long)r[i].addr,
			r[i].faults);
	if (pc->pages.used)
		fputc('\n', out);
}

static int64_t max_outstanding(const struct postcopy *pc)
{
	int64_t max = 0;

	for (uint32_t i = 0; i < pc->outstanding_s.n; i++)
		if (pc->outstanding_s.s[i].v > max)
			max = pc->outstanding_s.s[i].v;
	return max;
}

static void pauses_text(FILE *out, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;

	for (uint32_t i = 0; i < pc->npauses; i++) {
		const struct pc_pause *p = &pc->pauses[i];

		fprintf(out, "  postcopy paused (%s) at +%.3f s", role_name(g->role),
			since(g, p->t_pause));
		if (p->t_recover)
			fprintf(out, ", recovery at +%.3f s", since(g, p->t_recover));
		if (p->t_resume)
			fprintf(out, ", resumed at +%.3f s: paused %.3f s\n", since(g, p->t_resume),
				(p->t_resume - p->t_pause) / 1e9);
		else
			fprintf(out, ", not resumed\n");
	}
}

static void dest_text(FILE *out, const struct mig *dst)
{
	const struct postcopy *pc = &dst->pc;
	struct pc_stats st;
	uint32_t hist[SNAP_HIST];

	pc_stats(dst, end_of(dst), &st);
	latency_text(out, dst, &st);
	pc_latency_hist(pc, hist);
	hist_print_text(out, "fault usecs", hist);
	vcpus_text(out, dst, &st);
	threads_text(out, pc);
	pages_text(out, dst, &st);
	fprintf(out, "  page requests outstanding: at most %lld\n",
		(long long)max_outstanding(pc));
	if (pc->uffd_errors)
		fprintf(out, "  %u UFFDIO calls failed, the last with errno %lld\n", pc->uffd_errors,
			(long long)-pc->last_error);
}

void pc_print_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	bool s = src && src->pc.seen, d = dst && dst->pc.seen;

	if (s)
		switch_text(out, src, dst);
	if (s)
		source_text(out, src);
	if (d)
		dest_text(out, dst);
	if (s)
		pauses_text(out, src);
	if (d)
		pauses_text(out, dst);
}

/* ---- JSON ----------------------------------------------------------------- */

static void vcpus_json(struct jw *j, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;
	uint64_t per[PC_MAX_VCPUS];
	int n = pc_vcpu_count(pc);

	pc_vcpus_blocked(pc, end_of(g), per);
	jw_arr(j, "vcpus");
	for (int v = 0; v < n; v++) {
		uint32_t faults = 0;

		for (uint32_t i = 0; i < pc->nfaults; i++)
			faults += pc->faults[i].vcpu == v;
		jw_obj(j, NULL);
		jw_u64(j, "vcpu", v);
		jw_u64(j, "faults", faults);
		jw_u64(j, "blocked_ns", per[v]);
		jw_end(j);
	}
	jw_end(j);
}

static void threads_json(struct jw *j, const struct postcopy *pc)
{
	jw_arr(j, "threads");
	for (uint32_t i = 0; i < pc->nthreads; i++) {
		const struct pc_thread *t = &pc->threads[i];

		jw_obj(j, NULL);
		jw_u64(j, "tid", t->tid);
		jw_strn(j, "comm", t->comm, sizeof(t->comm));
		jw_s64(j, "vcpu", t->vcpu);
		jw_u64(j, "stalls", t->stalls);
		jw_u64(j, "blocked_ns", t->blocked_ns);
		jw_u64(j, "max_ns", t->max_ns);
		jw_end(j);
	}
	jw_end(j);
}

static void regions_json(struct jw *j, const struct postcopy *pc)
{
	struct snap_region r[TOP_REGIONS];
	int n = fault_pages_hot(&pc->pages, SNAP_REGION_SHIFT, r, TOP_REGIONS);

	jw_arr(j, "hot_regions");
	for (int i = 0; i < n; i++) {
		jw_obj(j, NULL);
		jw_u64(j, "addr", r[i].addr);
		jw_u64(j, "faults", r[i].faults);
		jw_end(j);
	}
	jw_end(j);
}

static void pauses_json(struct jw *j, const struct postcopy *pc)
{
	jw_arr(j, "pauses");
	for (uint32_t i = 0; i < pc->npauses; i++) {
		jw_obj(j, NULL);
		jw_u64(j, "pause_ts", pc->pauses[i].t_pause);
		jw_u64(j, "recover_ts", pc->pauses[i].t_recover);
		jw_u64(j, "resume_ts", pc->pauses[i].t_resume);
		jw_end(j);
	}
	jw_end(j);
}

static void qemu_json(struct jw *j, const struct postcopy *pc)
{
	if (pc->have_qemu_blocktime)
		jw_u64(j, "qemu_traced_blocktime", pc->qemu_blocktime);
	else
		jw_null(j, "qemu_traced_blocktime");
}

static void faults_json(struct jw *j, const struct mig *g, const struct pc_stats *st)
{
	const struct postcopy *pc = &g->pc;
	uint32_t hist[SNAP_HIST];

	jw_u64(j, "faults", st->faults);
	jw_u64(j, "faults_kept", pc->nfaults);
	jw_u64(j, "unread_stalls", pc->unread_stalls);
	jw_u64(j, "pages_faulted", pc->pages.used);
	jw_u64(j, "repeat_pages", st->repeat_pages);
	jw_u64(j, "resolved", st->resolved);
	jw_fixed(j, "fault_rate", st->fault_rate, 1);
	jw_u64(j, "latency_p50_ns", st->p50);
	jw_u64(j, "latency_p90_ns", st->p90);
	jw_u64(j, "latency_p99_ns", st->p99);
	jw_u64(j, "latency_max_ns", st->max);
	jw_u64(j, "latency_total_ns", st->latency_total);
	pc_latency_hist(pc, hist);
	hist_json(j, "latency_hist_us", hist);
	jw_s64(j, "blocktime_ns", st->blocktime_ns);
	jw_s64(j, "vcpus_listed", st->nvcpus);
	vcpus_json(j, g);
	threads_json(j, pc);
	qemu_json(j, pc);
	regions_json(j, pc);
}

static void placed_json(struct jw *j, const struct postcopy *pc, const struct pc_stats *st)
{
	jw_u64(j, "pages_copied", pc->copies);
	jw_u64(j, "pages_zero", pc->zeros);
	jw_u64(j, "placed_bytes", pc->placed_bytes);
	jw_u64(j, "placed_for_faults", pc->placed_resolved);
	jw_u64(j, "background_pages", st->background_pages);
	jw_u64(j, "wakes", pc->wakes);
	jw_u64(j, "discards", pc->discards);
	jw_u64(j, "discard_bytes", pc->discard_bytes);
	jw_u64(j, "registered_ts", pc->t_registered);
	jw_u64(j, "registered_blocks", pc->registered_blocks);
	jw_u64(j, "registered_bytes", pc->registered_bytes);
	jw_u64(j, "uffd_errors", pc->uffd_errors);
}

void pc_json(struct jw *j, const struct mig *g)
{
	const struct postcopy *pc = &g->pc;
	struct pc_stats st;

	if (!pc->seen)
		return;
	pc_stats(g, end_of(g), &st);
	jw_obj(j, "postcopy");
	jw_u64(j, "active_ts", pc->t_active);
	jw_s64(j, "duration_ns", st.duration_ns);
	jw_s64(j, "bytes", st.bytes);
	jw_s64(j, "paused_ns", st.paused_ns);
	jw_u64(j, "requests", st.requests);
	jw_u64(j, "rerequests", pc->rerequests);
	jw_u64(j, "requests_taken", st.requests_recv);
	jw_s64(j, "unrequested_faults", st.unrequested);
	faults_json(j, g, &st);
	placed_json(j, pc, &st);
	pauses_json(j, pc);
	jw_end(j);
}

void pc_switch_json(struct jw *j, const struct mig *src, const struct mig *dst)
{
	struct pc_switch sw;
	char key[48];

	if (!src || !src->pc.seen) {
		jw_null(j, "postcopy_switch");
		return;
	}
	pc_switch_breakdown(src, dst, &sw);
	jw_obj(j, "postcopy_switch");
	jw_u64(j, "command_ts", src->pc.t_cmd);
	jw_u64(j, "active_ts", src->pc.t_active);
	jw_u64(j, "iterations_before", src->pc.iterations_at_switch);
	jw_u64(j, "pending_before", src->pc.pending_at_switch);
	jw_u64(j, "pending_first", src->pc.pending_first);
	jw_s64(j, "request_to_stop_ns", sw.request_ns);
	for (int p = 0; p < PCP_MAX; p++) {
		snprintf(key, sizeof(key), "%s_ns", pc_phase_name(p));
		jw_s64(j, key, sw.ns[p]);
	}
	jw_s64(j, "guest_pause_ns", sw.pause_ns);
	jw_end(j);
}

/* ---- swackstat -------------------------------------------------------------- */

void pc_row(const struct mig *g, uint64_t now, char *buf, size_t len)
{
	struct pc_stats st;
	char blocked[24] = "-";

	buf[0] = 0;
	if (!g->pc.seen)
		return;
	pc_stats(g, g->t_end ? g->t_end : now, &st);
	if (st.blocked_now >= 0 && st.nvcpus)
		snprintf(blocked, sizeof(blocked), "%d/%d", st.blocked_now, st.nvcpus);
	else if (st.blocked_now >= 0)
		snprintf(blocked, sizeof(blocked), "%d", st.blocked_now);
	snprintf(buf, len, "postcopy %8.3f s requests %6u faults %6u (%6.1f/s) p99 stall %9.3f ms "
		 "blocked vCPUs %s", st.duration_ns < 0 ? 0 : st.duration_ns / 1e9,
		 g->role == SWACK_ROLE_SRC ? st.requests_recv : st.requests, st.faults,
		 st.fault_rate, st.p99 / MS, blocked);
}

void pc_row_json(FILE *out, const struct mig *g, uint64_t now)
{
	struct pc_stats st;
	struct jw j;

	if (!g->pc.seen)
		return;
	pc_stats(g, g->t_end ? g->t_end : now, &st);
	jw_init(&j, out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "pid", g->pid);
	jw_obj(&j, "postcopy");
	jw_s64(&j, "duration_ns", st.duration_ns);
	jw_u64(&j, "requests", g->role == SWACK_ROLE_SRC ? st.requests_recv : st.requests);
	jw_u64(&j, "faults", st.faults);
	jw_fixed(&j, "fault_rate", st.fault_rate, 1);
	jw_u64(&j, "latency_p99_ns", st.p99);
	jw_s64(&j, "blocked_vcpus", st.blocked_now);
	jw_s64(&j, "vcpus", st.nvcpus);
	jw_end(&j);
	jw_end(&j);
}
