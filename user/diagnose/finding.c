// SPDX-License-Identifier: GPL-2.0
/*
 * Building findings: what every rule file uses to add a finding, its text,
 * figures and evidence.  Below the rules and the engine alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "diagnose/rules.h"

const char *diag_severity(int score)
{
	return score >= 80 ? "critical" : score >= 40 ? "warning" : "info";
}

struct finding *diag_add(struct diagnosis *d, const char *id, int score)
{
	struct finding *f;

	if (d->n >= DIAG_MAX_FINDINGS)
		return NULL;
	f = &d->f[d->n++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->score = score;
	f->order = d->n;
	return f;
}

#define VPRINT(buf, fmt) do { \
	va_list ap; \
	va_start(ap, fmt); \
	vsnprintf(buf, sizeof(buf), fmt, ap); \
	va_end(ap); \
} while (0)

void diag_title(struct finding *f, const char *fmt, ...) { VPRINT(f->title, fmt); }
void diag_detail(struct finding *f, const char *fmt, ...) { VPRINT(f->detail, fmt); }
void diag_advice(struct finding *f, const char *fmt, ...) { VPRINT(f->advice, fmt); }

void diag_evidence(struct finding *f, const struct mig *g, uint64_t ts, const char *fmt, ...)
{
	struct evidence *e;

	if (!ts || f->nev >= DIAG_MAX_EVIDENCE)
		return;
	e = &f->ev[f->nev++];
	e->ts = ts;
	e->side = g->role == SWACK_ROLE_DST ? "dst" : "src";
	VPRINT(e->what, fmt);
}

void diag_figure(struct finding *f, const char *name, double v)
{
	if (f->nfig < DIAG_MAX_FIGURES)
		f->fig[f->nfig++] = (struct figure){ name, v };
}

const char *diag_bytes(char *buf, size_t len, double b)
{
	if (b >= 1e9)
		snprintf(buf, len, "%.1f GB", b / 1e9);
	else if (b >= 1e6)
		snprintf(buf, len, "%.1f MB", b / 1e6);
	else if (b >= 1e3)
		snprintf(buf, len, "%.1f kB", b / 1e3);
	else
		snprintf(buf, len, "%.0f B", b);
	return buf;
}
