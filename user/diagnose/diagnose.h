/* SPDX-License-Identifier: GPL-2.0 */
/*
 * swack diagnose: a migration's downtime explained as ranked findings, each
 * with its figures, the events it rests on and, where they support it, what
 * to change.  Reads the model only.
 */
#ifndef SWACK_DIAGNOSE_H
#define SWACK_DIAGNOSE_H
#include <stdio.h>
#include "model/model.h"

#define DIAG_MAX_FINDINGS 16
#define DIAG_MAX_EVIDENCE 8
#define DIAG_MAX_FIGURES 10
#define DIAG_TEXT 320

struct evidence {
	uint64_t ts;                 /* on the model's clock */
	const char *side;            /* "src" or "dst" */
	char what[80];
};

struct figure {
	const char *name;
	double v;
};

struct finding {
	const char *id;              /* stable, e.g. "downtime-over-limit" */
	int score;                   /* 0-100: ranks, and gives the severity */
	int order;                   /* the rules' order, for ties */
	char title[DIAG_TEXT];       /* one line, with its figures */
	char detail[DIAG_TEXT];      /* optional second line */
	char advice[DIAG_TEXT];      /* empty where the evidence supports none */
	struct evidence ev[DIAG_MAX_EVIDENCE];
	int nev;
	struct figure fig[DIAG_MAX_FIGURES];
	int nfig;
};

struct diag_opts {
	int64_t limit_ns;            /* the downtime limit, -1: as QEMU's threshold implies */
};

struct diagnosis {
	const struct mig *src, *dst;
	uint64_t t0;                 /* evidence times are shown from here */
	int64_t guest_ns, qemu_ns;   /* the downtimes, -1 unknown */
	int64_t window_ns;           /* guest-visible, else QEMU's */
	int64_t limit_ns;            /* -1 unknown */
	bool limit_given;
	struct breakdown b;
	struct finding f[DIAG_MAX_FINDINGS];
	int n;
};

/* Findings for one migration (either side may be NULL), ranked. */
void diagnose(const struct mig *src, const struct mig *dst, const struct diag_opts *o,
	      struct diagnosis *d);
/* "critical", "warning" or "info", from a finding's score. */
const char *diag_severity(int score);

/* Output: text for a terminal, one JSON object, or a self-contained HTML page. */
void diag_print_text(FILE *out, const struct diagnosis *d);
struct jw;
void diag_json(struct jw *j, const struct diagnosis *d);
/* The HTML page, written as diagnoses come; close says whether all of it was. */
struct diag_html;
struct diag_html *diag_html_open(const char *path, char *err, size_t errlen);
void diag_html_add(struct diag_html *h, const struct diagnosis *d);
int diag_html_close(struct diag_html *h, char *err, size_t errlen);
/* Closes and removes the page (NULL: nothing): the command failed first. */
void diag_html_discard(struct diag_html *h);

#endif
