// SPDX-License-Identifier: GPL-2.0
/* A diagnosis as text for a terminal, or as one JSON object for tooling. */
#include "diagnose/diagnose.h"
#include "event/event.h"
#include "util/json.h"
#include "util/term.h"

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

	fprintf(out, "%2d. [%s] %s: ", i + 1, diag_severity(f->score), f->id);
	term_put(out, f->title, sizeof(f->title));
	fputc('\n', out);
	if (f->detail[0]) {
		fputs("      ", out);
		term_put(out, f->detail, sizeof(f->detail));
		fputc('\n', out);
	}
	for (int j = 0; j < f->nev; j++) {
		fprintf(out, "      evidence: %+10.3f ms %s ",
			((double)f->ev[j].ts - (double)d->t0) / MS, f->ev[j].side);
		term_put(out, f->ev[j].what, sizeof(f->ev[j].what));
		fputc('\n', out);
	}
	if (f->advice[0]) {
		fputs("      advice: ", out);
		term_put(out, f->advice, sizeof(f->advice));
		fputc('\n', out);
	}
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

/* Figures are integers (ns, bytes, counts) or ratios: no exponent forms. */
static void figure_json(struct jw *j, const char *name, double v)
{
	jw_fixed(j, name, v, v > -9e15 && v < 9e15 && v == (double)(long long)v ? 0 : 6);
}

static void finding_json(struct jw *j, const struct diagnosis *d, int i)
{
	const struct finding *f = &d->f[i];

	jw_obj(j, NULL);
	jw_s64(j, "rank", i + 1);
	jw_str(j, "id", f->id);
	jw_str(j, "severity", diag_severity(f->score));
	jw_s64(j, "score", f->score);
	jw_strn(j, "title", f->title, sizeof(f->title));
	jw_strn(j, "detail", f->detail, sizeof(f->detail));
	jw_strn(j, "advice", f->advice, sizeof(f->advice));
	jw_obj(j, "figures");
	for (int k = 0; k < f->nfig; k++)
		figure_json(j, f->fig[k].name, f->fig[k].v);
	jw_end(j);
	jw_arr(j, "evidence");
	for (int k = 0; k < f->nev; k++) {
		jw_obj(j, NULL);
		jw_u64(j, "ts", f->ev[k].ts);
		jw_fixed(j, "t_ms", ((double)f->ev[k].ts - (double)d->t0) / MS, 3);
		jw_str(j, "side", f->ev[k].side);
		jw_strn(j, "what", f->ev[k].what, sizeof(f->ev[k].what));
		jw_end(j);
	}
	jw_end(j);
	jw_end(j);
}

void diag_json(struct jw *j, const struct diagnosis *d)
{
	const struct mig *g = d->src ? d->src : d->dst;

	jw_obj(j, NULL);
	jw_s64(j, "src_pid", d->src ? (int)d->src->pid : -1);
	jw_s64(j, "dst_pid", d->dst ? (int)d->dst->pid : -1);
	vm_json(j, g->model, g->pid);
	jw_str(j, "state", mstate_name(g->state));
	jw_s64(j, "guest_downtime_ns", d->guest_ns);
	jw_s64(j, "qemu_downtime_ns", d->qemu_ns);
	jw_s64(j, "limit_ns", d->limit_ns);
	jw_str(j, "limit_from", limit_source(d));
	jw_arr(j, "findings");
	for (int i = 0; i < d->n; i++)
		finding_json(j, d, i);
	jw_end(j);
	jw_end(j);
}
