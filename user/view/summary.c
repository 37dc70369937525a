// SPDX-License-Identifier: GPL-2.0
/* The end-of-migration summary: one line of figures, then indented lines for
 * switchover-ack, devices, the downtime breakdown and the slowest vmstates. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "event/event.h"
#include "view/snapshot_view.h"
#include "source/vmid.h"
#include "view/summary.h"
#include "event/vfio_uapi.h"

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
	if (g->ack.needed || g->ack.received || g->ack.approved)
		return "legacy";
	return "none";
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
		fprintf(out, ", %.1f MB sent", bytes / 1e6);
	if (src && src->bw)
		fprintf(out, ", last bandwidth %.1f MB/s", src->bw / 1e6);
	if (src)
		ms_or_na(out, "downtime qemu (source side)", mig_qemu_downtime_ns(src));
	ms_or_na(out, "guest-visible", mig_guest_downtime_ns(src, dst));
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

	if (!a->requested && !a->received && !a->needed && !a->approved && !a->held)
		return;
	fprintf(out, "  acks (%s, %s):", side, ack_scheme(g));
	if (a->needed)
		part(out, &first, "needed %u", a->needed);
	if (a->approved)
		part(out, &first, "approved %u", a->approved);
	for (uint32_t i = 0; a->approved && i < a->napprovals; i++)
		if (a->approvals[i].approver[0])
			fprintf(out, "%s %s", i ? "," : " by", a->approvals[i].approver);
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

		fprintf(out, "  device %s (%s):", d->name, side);
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
		fprintf(out, " state %s%s\n", d->dev_state[0] ? d->dev_state : "-",
			d->failed ? ", FAILED" : "");
		text_kdev(out, g, d);
	}
}

static void text_breakdown(FILE *out, const struct mig *src, const struct mig *dst)
{
	struct breakdown b;

	/* A snapshot's vCPUs stop only while write tracking starts. */
	if (!src || src->snap.seen)
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
	for (int i = 0; i < n; i++)
		fprintf(out, "%s %s/%u %lld us", i ? "," : "", top[i].idstr, top[i].instance,
			(long long)top[i].us);
	fputc('\n', out);
}

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	text_head(out, src, dst);
	if (src)
		snap_print_text(out, src);
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

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	json_escape(out, s, SWACK_DEV_LEN);
	fputc('"', out);
}

static void acks_json(FILE *out, const struct mig *g)
{
	const struct ack_state *a = &g->ack;

	fprintf(out, ",\"acks\":{\"scheme\":\"%s\",\"needed\":%u,\"approved\":%u,"
		"\"remaining\":%lld,\"approvers\":[", ack_scheme(g), a->needed, a->approved,
		(long long)a->remaining);
	for (uint32_t i = 0; i < a->napprovals; i++) {
		fputs(i ? "," : "", out);
		json_str(out, a->approvals[i].approver);
	}
	fprintf(out, "],\"requested\":%u,\"rerequests\":%u,\"received\":%u,\"counter\":%lld,"
		"\"pending_total\":%lld,\"underflow\":%s,\"held_queries\":%u,\"held_ns\":%lld,"
		"\"max_request_to_ack_ns\":%lld}", a->requested, a->rerequests, a->received,
		(long long)a->counter, (long long)a->pending_total, a->underflow ? "true" : "false",
		a->held, (long long)ack_held_ns(g), (long long)max_ack_latency(g));
}

static int64_t span_ns(const uint64_t t[2])
{
	return t[0] && t[1] >= t[0] ? (int64_t)(t[1] - t[0]) : -1;
}

static void states_json(FILE *out, const char *name, const uint64_t *v, bool skip_zero)
{
	bool first = true;

	fprintf(out, ",\"%s\":{", name);
	for (int st = 0; st < KDEV_STATES; st++) {
		if (skip_zero && !v[st])
			continue;
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", vfio_mig_state_name(st),
			(unsigned long long)v[st]);
		first = false;
	}
	fputc('}', out);
}

static void kdev_json(FILE *out, const struct mig *g, const struct dev_state *d)
{
	const struct kdev *k = &d->k;
	uint64_t now = g->t_end ? g->t_end : g->t_last, ns[KDEV_STATES];

	fprintf(out, ",\"kernel\":{\"seen\":%s,\"precopy_info_v2\":%s,\"mig_flags\":%llu,"
		"\"state\":\"%s\",\"transitions\":[", k->seen ? "true" : "false",
		k->infov2 ? "true" : "false", (unsigned long long)k->mig_flags,
		k->state < 0 ? "" : vfio_mig_state_name(k->state));
	for (uint32_t i = 0; i < k->ntrans; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", vfio_mig_state_name(k->trans[i].to));
	fputc(']', out);
	for (int st = 0; st < KDEV_STATES; st++)
		ns[st] = kdev_state_ns(d, st, now);
	states_json(out, "state_ns", ns, true);
	states_json(out, "bytes_read", k->read, true);
	states_json(out, "bytes_written", k->written, true);
	fprintf(out, ",\"precopy_polls\":%u,\"initial\":%llu,\"dirty\":%llu,\"initial_peak\":%llu,"
		"\"reinits\":%u,\"regrowths\":%u,\"stop_copy_estimate\":%llu,"
		"\"stop_copy_gap\":%lld,\"errors\":[", k->polls, (unsigned long long)k->init,
		(unsigned long long)k->dirty, (unsigned long long)k->init_peak, k->reinits,
		k->regrowths, (unsigned long long)k->stop_copy_estimate,
		(long long)k->read[VFIO_STOP_COPY] - (long long)k->stop_copy_estimate);
	for (uint32_t i = 0; i < k->nerrs; i++)
		fprintf(out, "%s{\"cmd\":%u,\"flags\":%u,\"target\":\"%s\",\"errno\":%d}",
			i ? "," : "", k->errs[i].cmd, k->errs[i].flags,
			vfio_mig_state_name(k->errs[i].target), k->errs[i].err);
	fputs("]}", out);
}

static void device_json(FILE *out, const struct mig *g, const struct dev_state *d)
{
	fputs("{\"name\":", out);
	json_str(out, d->name);
	fprintf(out, ",\"initial\":%llu,\"initial_peak\":%llu,\"dirty\":%llu,\"stopcopy\":%llu,"
		"\"exact_samples\":%u,\"regrowths\":%u,\"regrowths_qemu\":%u,\"estimate_initial\":%llu,"
		"\"device_state\":\"%s\",\"saved_bytes\":%llu,\"loaded_bytes\":%llu,"
		"\"failed\":%s,\"buffers_in\":%u,\"buffers_loaded\":%u,\"starved\":%u,"
		"\"save_thread_ns\":%lld,\"load_thread_ns\":%lld",
		(unsigned long long)d->init, (unsigned long long)d->init_peak,
		(unsigned long long)d->dirty, (unsigned long long)d->stopcopy, d->exact_samples,
		dev_regrowths(d), d->regrowths, (unsigned long long)d->est_init, d->dev_state,
		(unsigned long long)d->saved_bytes, (unsigned long long)d->loaded_bytes,
		d->failed ? "true" : "false", d->bufs_in, d->bufs_loaded, d->starved,
		(long long)span_ns(d->t_save_thread), (long long)span_ns(d->t_load_thread));
	kdev_json(out, g, d);
	fputc('}', out);
}

static void vmstates_json(FILE *out, const struct mig *g)
{
	struct vmstate_time top[TOP_VMSTATES];
	int n = mig_top_vmstates(g, top, TOP_VMSTATES);

	fprintf(out, ",\"vmstates_iterable_us\":%lld,\"vmstates_non_iterable_us\":%lld,"
		"\"slowest_vmstates\":[", (long long)mig_vmstates_us(g, true),
		(long long)mig_vmstates_us(g, false));
	for (int i = 0; i < n; i++) {
		fputs(i ? ",{\"idstr\":" : "{\"idstr\":", out);
		json_str(out, top[i].idstr);
		fprintf(out, ",\"instance\":%u,\"us\":%lld,\"iterable\":%s}", top[i].instance,
			(long long)top[i].us, top[i].iterable ? "true" : "false");
	}
	fputc(']', out);
}

static void side_json(FILE *out, const char *name, const struct mig *g)
{
	if (!g) {
		fprintf(out, ",\"%s\":null", name);
		return;
	}
	fprintf(out, ",\"%s\":{\"pid\":%u", name, g->pid);
	vm_print_json(out, g->model, g->pid);
	fprintf(out, ",\"state\":\"%s\",\"total_ns\":%lld,"
		"\"iterations\":%u,\"pending_queries\":%u,\"bytes\":%lld,\"bandwidth_Bps\":%llu,"
		"\"threshold\":%llu,\"stop_ts\":%llu,\"resume_ts\":%llu",
		mstate_name(g->state), (long long)mig_total_ns(g), g->iterations, g->queries,
		(long long)mig_bytes(g), (unsigned long long)g->bw,
		(unsigned long long)g->threshold,
		(unsigned long long)(g->t_stop ? g->t_stop : g->t_stopped),
		(unsigned long long)g->t_resumed);
	acks_json(out, g);
	fputs(",\"devices\":[", out);
	for (uint32_t i = 0; i < g->ndevs; i++) {
		fputs(i ? "," : "", out);
		device_json(out, g, &g->devs[i]);
	}
	fputc(']', out);
	vmstates_json(out, g);
	snap_print_json(out, g);
	fputc('}', out);
}

static void breakdown_json(FILE *out, const struct mig *src, const struct mig *dst)
{
	struct breakdown b;

	if (!src || src->snap.seen) {
		fputs(",\"breakdown\":null", out);
		return;
	}
	mig_breakdown(src, dst, &b);
	fputs(",\"breakdown\":{", out);
	for (int p = 0; p < PH_MAX; p++)
		fprintf(out, "\"%s_ns\":%lld,", phase_name(p), (long long)b.ns[p]);
	fprintf(out, "\"total_ns\":%lld,\"both_sides\":%s}", (long long)b.total_ns,
		b.both_sides ? "true" : "false");
}

void summary_print_json(FILE *out, const struct mig *src, const struct mig *dst)
{
	fprintf(out, "{\"event\":\"summary\",\"state\":\"%s\"",
		mstate_name(main_side(src, dst)->state));
	side_json(out, "src", src);
	side_json(out, "dst", dst);
	fprintf(out, ",\"paired_by\":\"%s\"", !src || !dst ? "none" :
		src->paired_by == PAIR_TCP ? "tcp" : "time");
	breakdown_json(out, src, dst);
	fprintf(out, ",\"qemu_downtime_ns\":%lld,\"guest_downtime_ns\":%lld}\n",
		src ? (long long)mig_qemu_downtime_ns(src) : -1LL,
		(long long)mig_guest_downtime_ns(src, dst));
	fflush(out);
}

void process_print_text(FILE *out, const char *file, const struct rec_process *p, bool exe)
{
	struct vm_ident v = { .pid = p->pid };

	snprintf(v.name, sizeof(v.name), "%s", p->vm);
	snprintf(v.uuid, sizeof(v.uuid), "%s", p->uuid);
	snprintf(v.via, sizeof(v.via), "%s", p->vm_via);
	vm_ident_sanitize(&v);
	fprintf(out, "# %s: pid %u (%s)%s%s: %s", file, p->pid, p->comm, exe ? " " : "",
		exe ? p->exe : "", p->attach);
	if (v.name[0] || v.uuid[0]) {
		char vm[320];

		vmid_describe(&v, vm, sizeof(vm));
		fprintf(out, "; %s", vm);
	}
	fputc('\n', out);
}
