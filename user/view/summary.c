// SPDX-License-Identifier: GPL-2.0
/* The end-of-migration summary: one line of figures, then indented lines for
 * switchover-ack, devices, the downtime breakdown and the slowest vmstates. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "util/term.h"
#include "event/event.h"
#include "view/postcopy_view.h"
#include "view/snapshot_view.h"
#include "source/vmid.h"
#include "view/summary.h"
#include "event/vfio_uapi.h"
#include "util/json.h"

#define TOP_VMSTATES 5

static void ms_or_na(FILE *out, const char *label, int64_t ns)
{
	if (ns < 0)
		fprintf(out, ", %s n/a", label);
	else
		fprintf(out, ", %s %.3f ms", label, ns / 1e6);
}

static const struct mig *main_side(const struct mig *src, const struct mig *dst)
{
	return src ? src : dst;
}

static const char *ack_scheme(const struct mig *g)
{
	if (g->ack.per_device)
		return "per-device";
	if (g->ack.needed || g->ack.received || g->ack.approved || g->ack.sent)
		return "legacy";
	return "none";
}

/* The destination's ACK, from the start of its load (-1: none sent). */
static int64_t ack_sent_ns(const struct mig *g)
{
	uint64_t from = g->t_load_begin ? g->t_load_begin : g->t_first;

	return g->ack.sent && g->ack.t_sent >= from ? (int64_t)(g->ack.t_sent - from) : -1;
}

static int64_t max_ack_latency(const struct mig *g)
{
	int64_t max = -1;

	for (uint32_t i = 0; i < g->ack.received; i++)
		if (ack_latency_ns(g, i) > max)
			max = ack_latency_ns(g, i);
	return max;
}

/* A snapshot has no destination: what it wrote, and how long the vCPUs paused. */
static void snapshot_head(FILE *out, const struct mig *g)
{
	int64_t bytes = mig_bytes(g);

	fprintf(out, "summary: background snapshot pid %u %s: total %.3f s", g->pid,
		mstate_name(g->state), mig_total_ns(g) / 1e9);
	if (bytes >= 0)
		fprintf(out, ", %.1f MB written", bytes / 1e6);
	ms_or_na(out, "vCPUs paused", mig_qemu_downtime_ns(g));
	mig_print_vm_text(out, g, NULL);
	fputc('\n', out);
}

static void print_rate(FILE *out, uint64_t bps)
{
	if (bps >= 100000)
		fprintf(out, "%.1f MB/s", bps / 1e6);
	else
		fprintf(out, "%.1f kB/s", bps / 1e3);
}

/*
 * The bytes over the transfer (from "active" to the last byte): what QEMU
 * itself reports as a completed migration's bandwidth (bytes over total less
 * setup time).  Beside it, the last window figure the live views showed:
 * QEMU's where the build gives it, else the bytes over the last second.
 */
static void text_bandwidth(FILE *out, const struct mig *src)
{
	uint64_t avg = mig_avg_bw(src);

	if (avg) {
		fputs(", bandwidth ", out);
		print_rate(out, avg);
		fputs(" over the transfer", out);
	}
	if (!src->bw)
		return;
	fputs(avg ? " (last " : ", last bandwidth ", out);
	print_rate(out, src->bw);
	fputs(src->bw_from == BW_QEMU ? ", QEMU's window" : ", bytes over a second", out);
	fputs(avg ? ")" : "", out);
}

static void text_head(FILE *out, const struct mig *src, const struct mig *dst)
{
	const struct mig *g = main_side(src, dst);
	int64_t bytes = mig_bytes(g);

	if (src && !dst && src->snap.seen) {
		snapshot_head(out, src);
		return;
	}
	fprintf(out, "summary: migration ");
	if (src)
		fprintf(out, "src %u", src->pid);
	if (src && dst)
		fprintf(out, " -> ");
	if (dst)
		fprintf(out, "dst %u", dst->pid);
	fprintf(out, " %s: total %.3f s, %u iterations", mstate_name(g->state),
		mig_total_ns(g) / 1e9, g->iterations);
	if (src && bytes >= 0)
		fprintf(out, ", %.1f MB sent%s", bytes / 1e6, mig_bytes_from_qemu(src) ?
			" (QEMU's count to its last bandwidth update: no migration channel seen)" :
			"");
	if (src)
		text_bandwidth(out, src);
	if (src)
		ms_or_na(out, "downtime qemu (source side)", mig_qemu_downtime_ns(src));
	ms_or_na(out, "guest-visible", mig_guest_downtime_ns(src, dst));
	/* The window ends where a vCPU enters guest code, when that is seen. */
	if (dst && !dst->t_run && mig_guest_downtime_ns(src, dst) >= 0)
		fputs(" (to vm_start: no vCPU entry seen)", out);
	mig_print_vm_text(out, src, dst);
	fputc('\n', out);
}

/* Comma-separated parts after a label, without a trailing comma. */
static void part(FILE *out, bool *first, const char *fmt, ...)
{
	va_list ap;

	fputs(*first ? " " : ", ", out);
	*first = false;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

static void text_acks(FILE *out, const char *side, const struct mig *g)
{
	const struct ack_state *a = &g->ack;
	bool first = true;

	if (!a->requested && !a->received && !a->needed && !a->approved && !a->held && !a->sent)
		return;
	fprintf(out, "  acks (%s, %s):", side, ack_scheme(g));
	if (a->needed || a->sent)
		part(out, &first, "needed %u", a->needed);
	if (a->approved)
		part(out, &first, "approved %u", a->approved);
	for (uint32_t i = 0; a->approved && i < a->napprovals; i++)
		if (a->approvals[i].approver[0])
			fprintf(out, "%s %s", i ? "," : " by", a->approvals[i].approver);
	if (a->sent)
		part(out, &first, "ACK sent %.3f ms after the load began", ack_sent_ns(g) / 1e6);
	if (a->requested)
		part(out, &first, "requested %u (%u after an ACK)", a->requested, a->rerequests);
	if (g->role == SWACK_ROLE_SRC)
		part(out, &first, "received %u", a->received);
	if (max_ack_latency(g) >= 0)
		part(out, &first, "longest request to ACK %.3f ms", max_ack_latency(g) / 1e6);
	if (a->underflow)
		part(out, &first, "UNDERFLOW");
	if (g->role == SWACK_ROLE_SRC)
		part(out, &first, "held %u queries converged for %.3f ms", a->held,
		     ack_held_ns(g) / 1e6);
	fputc('\n', out);
}

static void text_kdev(FILE *out, const struct mig *g, const struct dev_state *d)
{
	const struct kdev *k = &d->k;
	uint64_t now = g->t_end ? g->t_end : g->t_last;

	if (!k->seen)
		return;
	fprintf(out, "    kernel: state %s", k->state < 0 ? "-" : vfio_mig_state_name(k->state));
	for (int st = 0; st < KDEV_STATES; st++)
		if (kdev_state_ns(d, st, now) && st != VFIO_RUNNING && st != VFIO_STOP)
			fprintf(out, ", %s %.3f ms", vfio_mig_state_name(st),
				kdev_state_ns(d, st, now) / 1e6);
	if (k->read[VFIO_STOP_COPY] || k->stop_copy_estimate)
		fprintf(out, ", stop-copy read %llu B against an estimate of %llu B",
			(unsigned long long)k->read[VFIO_STOP_COPY],
			(unsigned long long)k->stop_copy_estimate);
	if (k->read[VFIO_PRE_COPY])
		fprintf(out, ", precopy read %llu B", (unsigned long long)k->read[VFIO_PRE_COPY]);
	if (k->written[VFIO_RESUMING])
		fprintf(out, ", written %llu B", (unsigned long long)k->written[VFIO_RESUMING]);
	if (k->polls)
		fprintf(out, ", %u precopy-info polls: initial %llu B (peak %llu), dirty %llu B,"
			" REINIT %u, regrowths %u", k->polls, (unsigned long long)k->init,
			(unsigned long long)k->init_peak, (unsigned long long)k->dirty, k->reinits,
			k->regrowths);
	fprintf(out, "%s", k->infov2 ? ", PRECOPY_INFOv2" : "");
	for (uint32_t i = 0; i < k->nerrs; i++)
		fprintf(out, ", failed: %s (errno %d)", k->errs[i].cmd == SWACK_VFIO_DEVICE_FEATURE &&
			(k->errs[i].flags & SWACK_VFIO_FEATURE_MASK) ==
			SWACK_VFIO_FEATURE_MIG_DEVICE_STATE ?
			vfio_mig_state_name(k->errs[i].target) : "ioctl", k->errs[i].err);
	fputc('\n', out);
}

static void text_devices(FILE *out, const char *side, const struct mig *g)
{
	for (uint32_t i = 0; g && i < g->ndevs; i++) {
		const struct dev_state *d = &g->devs[i];

		fputs("  device ", out);
		term_put(out, d->name, sizeof(d->name));
		fprintf(out, " (%s):", side);
		if (d->exact_samples)
			fprintf(out, " initial %llu B (peak %llu), dirty %llu B, stop-copy size %llu B,",
				(unsigned long long)d->init, (unsigned long long)d->init_peak,
				(unsigned long long)d->dirty, (unsigned long long)d->stopcopy);
		if (d->exact_samples || d->k.polls)
			fprintf(out, " regrowths %u,", dev_regrowths(d));
		if (d->saved_bytes)
			fprintf(out, " saved %llu B,", (unsigned long long)d->saved_bytes);
		if (d->loaded_bytes)
			fprintf(out, " loaded %llu B,", (unsigned long long)d->loaded_bytes);
		if (d->bufs_in || d->starved)
			fprintf(out, " buffers %u in, %u loaded, %u starved,", d->bufs_in,
				d->bufs_loaded, d->starved);
		fputs(" state ", out);
		term_put(out, d->dev_state[0] ? d->dev_state : "-", sizeof(d->dev_state));
		fprintf(out, "%s\n", d->failed ? ", FAILED" : "");
		text_kdev(out, g, d);
	}
}

static void text_breakdown(FILE *out, const struct mig *src, const struct mig *dst)
{
	struct breakdown b;

	/* A snapshot's vCPUs stop only while write tracking starts; postcopy's
	 * switch has phases of its own (postcopy_view.c). */
	if (!src || src->snap.seen || src->pc.t_active)
		return;
	mig_breakdown(src, dst, &b);
	if (b.total_ns < 0)
		return;
	fprintf(out, "  downtime breakdown:");
	for (int p = 0; p < PH_MAX; p++)
		if (b.ns[p] >= 0)
			fprintf(out, " %s %.3f ms,", phase_name(p), b.ns[p] / 1e6);
	fprintf(out, " total %.3f ms\n", b.total_ns / 1e6);
}

static void text_vmstates(FILE *out, const char *what, const struct mig *g)
{
	struct vmstate_time top[TOP_VMSTATES];
	int n = mig_top_vmstates(g, top, TOP_VMSTATES);

	if (!n)
		return;
	fprintf(out, "  slowest vmstates %s:", what);
	for (int i = 0; i < n; i++) {
		fputs(i ? ", " : " ", out);
		term_put(out, top[i].idstr, sizeof(top[i].idstr));
		fprintf(out, "/%u %lld us", top[i].instance, (long long)top[i].us);
	}
	fputc('\n', out);
}

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	text_head(out, src, dst);
	if (src)
		snap_print_text(out, src);
	pc_print_text(out, src, dst);
	if (src)
		text_acks(out, "src", src);
	if (dst)
		text_acks(out, "dst", dst);
	text_devices(out, "src", src);
	text_devices(out, "dst", dst);
	text_breakdown(out, src, dst);
	text_vmstates(out, "saved", src);
	text_vmstates(out, "loaded", dst);
	fflush(out);
}

static void acks_json(struct jw *j, const struct mig *g)
{
	const struct ack_state *a = &g->ack;

	jw_obj(j, "acks");
	jw_str(j, "scheme", ack_scheme(g));
	jw_u64(j, "needed", a->needed);
	jw_u64(j, "approved", a->approved);
	jw_s64(j, "remaining", a->remaining);
	jw_arr(j, "approvers");
	for (uint32_t i = 0; i < a->napprovals; i++)
		jw_strn(j, NULL, a->approvals[i].approver, SWACK_DEV_LEN);
	jw_end(j);
	jw_u64(j, "requested", a->requested);
	jw_u64(j, "rerequests", a->rerequests);
	jw_u64(j, "received", a->received);
	jw_s64(j, "counter", a->counter);
	jw_s64(j, "pending_total", a->pending_total);
	jw_bool(j, "underflow", a->underflow);
	jw_u64(j, "held_queries", a->held);
	jw_s64(j, "held_ns", ack_held_ns(g));
	jw_s64(j, "max_request_to_ack_ns", max_ack_latency(g));
	jw_u64(j, "sent", a->sent);
	jw_s64(j, "sent_after_load_ns", ack_sent_ns(g));
	jw_end(j);
}

static int64_t span_ns(const uint64_t t[2])
{
	return t[0] && t[1] >= t[0] ? (int64_t)(t[1] - t[0]) : -1;
}

/* Per VFIO migration state, by name; zeros left out. */
static void states_json(struct jw *j, const char *name, const uint64_t *v)
{
	jw_obj(j, name);
	for (int st = 0; st < KDEV_STATES; st++)
		if (v[st])
			jw_u64(j, vfio_mig_state_name(st), v[st]);
	jw_end(j);
}

static void kdev_json(struct jw *j, const struct mig *g, const struct dev_state *d)
{
	const struct kdev *k = &d->k;
	uint64_t now = g->t_end ? g->t_end : g->t_last, ns[KDEV_STATES];

	jw_obj(j, "kernel");
	jw_bool(j, "seen", k->seen);
	jw_bool(j, "precopy_info_v2", k->infov2);
	jw_u64(j, "mig_flags", k->mig_flags);
	jw_str(j, "state", k->state < 0 ? "" : vfio_mig_state_name(k->state));
	jw_arr(j, "transitions");
	for (uint32_t i = 0; i < k->ntrans; i++)
		jw_str(j, NULL, vfio_mig_state_name(k->trans[i].to));
	jw_end(j);
	for (int st = 0; st < KDEV_STATES; st++)
		ns[st] = kdev_state_ns(d, st, now);
	states_json(j, "state_ns", ns);
	states_json(j, "bytes_read", k->read);
	states_json(j, "bytes_written", k->written);
	jw_u64(j, "precopy_polls", k->polls);
	jw_u64(j, "initial", k->init);
	jw_u64(j, "dirty", k->dirty);
	jw_u64(j, "initial_peak", k->init_peak);
	jw_u64(j, "reinits", k->reinits);
	jw_u64(j, "regrowths", k->regrowths);
	jw_u64(j, "stop_copy_estimate", k->stop_copy_estimate);
	jw_s64(j, "stop_copy_gap", (long long)k->read[VFIO_STOP_COPY] -
	       (long long)k->stop_copy_estimate);
	jw_arr(j, "errors");
	for (uint32_t i = 0; i < k->nerrs; i++) {
		jw_obj(j, NULL);
		jw_u64(j, "cmd", k->errs[i].cmd);
		jw_u64(j, "flags", k->errs[i].flags);
		jw_str(j, "target", vfio_mig_state_name(k->errs[i].target));
		jw_s64(j, "errno", k->errs[i].err);
		jw_end(j);
	}
	jw_end(j);
	jw_end(j);
}

static void device_json(struct jw *j, const struct mig *g, const struct dev_state *d)
{
	jw_obj(j, NULL);
	jw_strn(j, "name", d->name, SWACK_DEV_LEN);
	jw_u64(j, "initial", d->init);
	jw_u64(j, "initial_peak", d->init_peak);
	jw_u64(j, "dirty", d->dirty);
	jw_u64(j, "stopcopy", d->stopcopy);
	jw_u64(j, "exact_samples", d->exact_samples);
	jw_u64(j, "regrowths", dev_regrowths(d));
	jw_u64(j, "regrowths_qemu", d->regrowths);
	jw_u64(j, "estimate_initial", d->est_init);
	jw_strn(j, "device_state", d->dev_state, sizeof(d->dev_state));
	jw_u64(j, "saved_bytes", d->saved_bytes);
	jw_u64(j, "loaded_bytes", d->loaded_bytes);
	jw_bool(j, "failed", d->failed);
	jw_u64(j, "buffers_in", d->bufs_in);
	jw_u64(j, "buffers_loaded", d->bufs_loaded);
	jw_u64(j, "starved", d->starved);
	jw_s64(j, "save_thread_ns", span_ns(d->t_save_thread));
	jw_s64(j, "load_thread_ns", span_ns(d->t_load_thread));
	kdev_json(j, g, d);
	jw_end(j);
}

static void vmstates_json(struct jw *j, const struct mig *g)
{
	struct vmstate_time top[TOP_VMSTATES];
	int n = mig_top_vmstates(g, top, TOP_VMSTATES);

	jw_s64(j, "vmstates_iterable_us", mig_vmstates_us(g, true));
	jw_s64(j, "vmstates_non_iterable_us", mig_vmstates_us(g, false));
	jw_arr(j, "slowest_vmstates");
	for (int i = 0; i < n; i++) {
		jw_obj(j, NULL);
		jw_strn(j, "idstr", top[i].idstr, SWACK_DEV_LEN);
		jw_u64(j, "instance", top[i].instance);
		jw_s64(j, "us", top[i].us);
		jw_bool(j, "iterable", top[i].iterable);
		jw_end(j);
	}
	jw_end(j);
}

static void side_json(struct jw *j, const char *name, const struct mig *g)
{
	if (!g) {
		jw_null(j, name);
		return;
	}
	jw_obj(j, name);
	jw_u64(j, "pid", g->pid);
	vm_json(j, g->model, g->pid);
	jw_str(j, "state", mstate_name(g->state));
	jw_s64(j, "total_ns", mig_total_ns(g));
	jw_u64(j, "iterations", g->iterations);
	jw_u64(j, "pending_queries", g->queries);
	jw_s64(j, "bytes", mig_bytes(g));
	jw_str(j, "bytes_from", mig_bytes_from_qemu(g) ? "qemu" : "channels");
	jw_u64(j, "bandwidth_Bps", mig_avg_bw(g));
	jw_u64(j, "last_bandwidth_Bps", g->bw);
	jw_str(j, "last_bandwidth_from", bw_source_name(g->bw_from));
	jw_u64(j, "threshold", g->threshold);
	jw_u64(j, "stop_ts", g->t_stop ? g->t_stop : g->t_stopped);
	jw_u64(j, "resume_ts", g->t_resumed);
	jw_u64(j, "run_ts", g->t_run);
	jw_str(j, "run_via", g->t_run ? run_via_name(g->run_via) : "");
	acks_json(j, g);
	jw_arr(j, "devices");
	for (uint32_t i = 0; i < g->ndevs; i++)
		device_json(j, g, &g->devs[i]);
	jw_end(j);
	vmstates_json(j, g);
	snap_json(j, g);
	pc_json(j, g);
	jw_end(j);
}

static void breakdown_json(struct jw *j, const struct mig *src, const struct mig *dst)
{
	struct breakdown b;
	char key[48];

	if (!src || src->snap.seen || src->pc.t_active) {
		jw_null(j, "breakdown");
		return;
	}
	mig_breakdown(src, dst, &b);
	jw_obj(j, "breakdown");
	for (int p = 0; p < PH_MAX; p++) {
		snprintf(key, sizeof(key), "%s_ns", phase_name(p));
		jw_s64(j, key, b.ns[p]);
	}
	jw_s64(j, "total_ns", b.total_ns);
	jw_bool(j, "both_sides", b.both_sides);
	jw_end(j);
}

void summary_json(struct jw *j, const struct mig *src, const struct mig *dst)
{
	jw_obj(j, NULL);
	jw_str(j, "event", "summary");
	jw_str(j, "state", mstate_name(main_side(src, dst)->state));
	side_json(j, "src", src);
	side_json(j, "dst", dst);
	jw_str(j, "paired_by", !src || !dst ? "none" : src->paired_by == PAIR_TCP ? "tcp" : "time");
	breakdown_json(j, src, dst);
	pc_switch_json(j, src, dst);
	jw_s64(j, "qemu_downtime_ns", src ? mig_qemu_downtime_ns(src) : -1);
	jw_s64(j, "guest_downtime_ns", mig_guest_downtime_ns(src, dst));
	jw_end(j);
	fflush(j->out);
}

void process_print_text(FILE *out, const char *file, const struct rec_process *p, bool exe)
{
	struct vm_ident v = { .pid = p->pid };

	snprintf(v.name, sizeof(v.name), "%s", p->vm);
	snprintf(v.uuid, sizeof(v.uuid), "%s", p->uuid);
	snprintf(v.via, sizeof(v.via), "%s", p->vm_via);
	vm_ident_sanitize(&v);
	fprintf(out, "# %s: pid %u (", file, p->pid);
	term_put(out, p->comm, (size_t)-1);
	fputs(exe ? ") " : ")", out);
	if (exe)
		term_put(out, p->exe, (size_t)-1);
	fputs(": ", out);
	term_put(out, p->attach, (size_t)-1);
	if (v.name[0] || v.uuid[0]) {
		char vm[320];

		vmid_describe(&v, vm, sizeof(vm));
		fprintf(out, "; %s", vm);
	}
	fputc('\n', out);
}
