// SPDX-License-Identifier: GPL-2.0
#include "summary.h"

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

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst)
{
	const struct mig *g = main_side(src, dst);
	int64_t bytes = mig_bytes(g);

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
	fputc('\n', out);
	fflush(out);
}

static void side_json(FILE *out, const char *name, const struct mig *g)
{
	if (!g) {
		fprintf(out, ",\"%s\":null", name);
		return;
	}
	fprintf(out, ",\"%s\":{\"pid\":%u,\"state\":\"%s\",\"total_ns\":%lld,"
		"\"iterations\":%u,\"pending_queries\":%u,\"bytes\":%lld,\"bandwidth_Bps\":%llu,"
		"\"stop_ts\":%llu,\"resume_ts\":%llu}", name, g->pid, mstate_name(g->state),
		(long long)mig_total_ns(g), g->iterations, g->queries, (long long)mig_bytes(g),
		(unsigned long long)g->bw, (unsigned long long)(g->t_stop ? g->t_stop : g->t_stopped),
		(unsigned long long)g->t_resumed);
}

void summary_print_json(FILE *out, const struct mig *src, const struct mig *dst)
{
	fprintf(out, "{\"event\":\"summary\",\"state\":\"%s\"",
		mstate_name(main_side(src, dst)->state));
	side_json(out, "src", src);
	side_json(out, "dst", dst);
	fprintf(out, ",\"paired_by\":\"%s\"", !src || !dst ? "none" :
		src->paired_by == PAIR_TCP ? "tcp" : "time");
	fprintf(out, ",\"qemu_downtime_ns\":%lld,\"guest_downtime_ns\":%lld}\n",
		src ? (long long)mig_qemu_downtime_ns(src) : -1LL,
		(long long)mig_guest_downtime_ns(src, dst));
	fflush(out);
}
