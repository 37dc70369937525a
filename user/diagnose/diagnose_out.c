// SPDX-License-Identifier: GPL-2.0
/* A diagnosis as text for a terminal, or as one JSON object for tooling. */
#include "diagnose/diagnose.h"
#include "event/event.h"

#define MS 1e6

static void ms_or_na(FILE *out, const char *label, int64_t ns)
{
	if (ns >= 0)
		fprintf(out, ", %s %.1f ms", label, ns / MS);
	else
		fprintf(out, ", %s n/a", label);
}

static const char *limit_source(const struct diagnosis *d)
{
	return d->limit_ns < 0 ? "unknown" : d->limit_given ? "option" : "threshold";
}

static void head_text(FILE *out, const struct diagnosis *d)
{
	const struct mig *g = d->src ? d->src : d->dst;

	if (d->src && d->src->snap.seen) {
		/* No downtime to speak of: its vCPUs stall page by page. */
		fprintf(out, "diagnosis: background snapshot pid %u %s, vCPUs paused ", d->src->pid,
			mstate_name(g->state));
		if (d->qemu_ns >= 0)
			fprintf(out, "%.1f ms at its start", d->qemu_ns / MS);
		else
			fprintf(out, "n/a");
		mig_print_vm_text(out, d->src, NULL);
		fputc('\n', out);
		return;
	}
	fprintf(out, "diagnosis: migration ");
	if (d->src)
		fprintf(out, "src %u%s", d->src->pid, d->dst ? " -> " : "");
	if (d->dst)
		fprintf(out, "dst %u", d->dst->pid);
	fprintf(out, " %s", mstate_name(g->state));
	ms_or_na(out, "guest-visible downtime", d->guest_ns);
	ms_or_na(out, "QEMU's", d->qemu_ns);
	ms_or_na(out, "limit", d->limit_ns);
	if (d->limit_ns >= 0 && !d->limit_given)
		fprintf(out, " (from QEMU's threshold)");
	mig_print_vm_text(out, d->src, d->dst);
	fputc('\n', out);
}

static void finding_text(FILE *out, const struct diagnosis *d, int i)
{
	const struct finding *f = &d->f[i];

	fprintf(out, "%2d. [%s] %s: %s\n", i + 1, diag_severity(f->score), f->id, f->title);
	if (f->detail[0])
		fprintf(out, "      %s\n", f->detail);
	for (int j = 0; j < f->nev; j++)
		fprintf(out, "      evidence: %+10.3f ms %s %s\n",
			((double)f->ev[j].ts - (double)d->t0) / MS, f->ev[j].side, f->ev[j].what);
	if (f->advice[0])
		fprintf(out, "      advice: %s\n", f->advice);
}

void diag_print_text(FILE *out, const struct diagnosis *d)
{
	head_text(out, d);
	if (!d->n)
		fprintf(out, "    no findings: nothing in this migration stands out\n");
	for (int i = 0; i < d->n; i++)
		finding_text(out, d, i);
	fflush(out);
}

static void json_field(FILE *out, const char *name, const char *s, size_t max)
{
	fprintf(out, ",\"%s\":\"", name);
	json_escape(out, s, max);
	fputc('"', out);
}

/* Figures are integers (ns, bytes, counts) or ratios: no exponent forms. */
static void json_number(FILE *out, double v)
{
	if (v > -9e15 && v < 9e15 && v == (double)(long long)v)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.6f", v);
}

static void finding_json(FILE *out, const struct diagnosis *d, int i)
{
	const struct finding *f = &d->f[i];

	fprintf(out, "%s{\"rank\":%d,\"id\":\"%s\",\"severity\":\"%s\",\"score\":%d", i ? "," : "",
		i + 1, f->id, diag_severity(f->score), f->score);
	json_field(out, "title", f->title, sizeof(f->title));
	json_field(out, "detail", f->detail, sizeof(f->detail));
	json_field(out, "advice", f->advice, sizeof(f->advice));
	fputs(",\"figures\":{", out);
	for (int j = 0; j < f->nfig; j++) {
		fprintf(out, "%s\"%s\":", j ? "," : "", f->fig[j].name);
		json_number(out, f->fig[j].v);
	}
	fputs("},\"evidence\":[", out);
	for (int j = 0; j < f->nev; j++) {
		fprintf(out, "%s{\"ts\":%llu,\"t_ms\":%.3f,\"side\":\"%s\"", j ? "," : "",
			(unsigned long long)f->ev[j].ts,
			((double)f->ev[j].ts - (double)d->t0) / MS, f->ev[j].side);
		json_field(out, "what", f->ev[j].what, sizeof(f->ev[j].what));
		fputc('}', out);
	}
	fputs("]}", out);
}

void diag_print_json(FILE *out, const struct diagnosis *d)
{
	const struct mig *g = d->src ? d->src : d->dst;

	fprintf(out, "{\"src_pid\":%d,\"dst_pid\":%d", d->src ? (int)d->src->pid : -1,
		d->dst ? (int)d->dst->pid : -1);
	vm_print_json(out, g->model, g->pid);
	fprintf(out, ",\"state\":\"%s\",\"guest_downtime_ns\":%lld,"
		"\"qemu_downtime_ns\":%lld,\"limit_ns\":%lld,\"limit_from\":\"%s\",\"findings\":[",
		mstate_name(g->state), (long long)d->guest_ns, (long long)d->qemu_ns,
		(long long)d->limit_ns, limit_source(d));
	for (int i = 0; i < d->n; i++)
		finding_json(out, d, i);
	fputs("]}", out);
}
