// SPDX-License-Identifier: GPL-2.0
/*
 * The diagnosis as one self-contained HTML page: findings as HTML, the
 * timeline of both sides as data that the page's inline script draws into
 * SVG.  No network reference of any kind, so it opens on an air-gapped
 * laptop.  The script marks <body data-rendered="ok"> once drawn and puts
 * any script error into #errors, which is what tests look for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diagnose/diagnose.h"
#include "util/json.h"

#define MS 1e6

static void esc_html(FILE *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
}

static double rel(const struct diagnosis *d, uint64_t ts)
{
	return ((double)ts - (double)d->t0) / MS;
}

/* [t_ms, v] pairs. */
static void series_json(struct jw *j, const char *name, const struct diagnosis *d,
			const struct series *s)
{
	jw_arr(j, name);
	for (uint32_t i = 0; i < s->n; i++) {
		jw_arr(j, NULL);
		jw_fixed(j, NULL, rel(d, s->s[i].ts), 3);
		jw_s64(j, NULL, s->s[i].v);
		jw_end(j);
	}
	jw_end(j);
}

/* A [t_ms, name] pair. */
static void mark_json(struct jw *j, const struct diagnosis *d, uint64_t ts, const char *name,
		      size_t max)
{
	jw_arr(j, NULL);
	jw_fixed(j, NULL, rel(d, ts), 3);
	jw_strn(j, NULL, name, max);
	jw_end(j);
}

static void lane_states(struct jw *j, const struct diagnosis *d, const struct mig *g)
{
	jw_arr(j, "states");
	for (int i = 0; i < g->nstates; i++)
		mark_json(j, d, g->states[i].ts, g->states[i].name, sizeof(g->states[i].name));
	jw_end(j);
	jw_arr(j, "checkpoints");
	for (uint32_t i = 0; i < g->ncheckpoints; i++)
		mark_json(j, d, g->checkpoints[i].ts, g->checkpoints[i].name,
			  sizeof(g->checkpoints[i].name));
	jw_end(j);
}

static void lane_json(struct jw *j, const struct diagnosis *d, const struct mig *g,
		      const char *side)
{
	jw_obj(j, NULL);
	jw_str(j, "side", side);
	jw_u64(j, "pid", g->pid);
	jw_fixed(j, "start", rel(d, g->t_first), 3);
	jw_fixed(j, "end", rel(d, g->t_end ? g->t_end : g->t_last), 3);
	jw_u64(j, "threshold", g->threshold);
	lane_states(j, d, g);
	series_json(j, "iterations", d, &g->iter_s);
	series_json(j, "pending", d, &g->pending_s);
	series_json(j, "acks", d, &g->acks_s);
	jw_arr(j, "devices");
	for (uint32_t i = 0; i < g->ndevs; i++) {
		jw_obj(j, NULL);
		jw_strn(j, "name", g->devs[i].name, SWACK_DEV_LEN);
		series_json(j, "initial", d, &g->devs[i].init_s);
		jw_end(j);
	}
	jw_end(j);
	jw_end(j);
}

/* The downtime's consecutive phases, in order, in ms: the zoomed strip. */
static void breakdown_json(struct jw *j, const struct breakdown *b)
{
	jw_arr(j, "breakdown");
	for (int p = 0; b->total_ns >= 0 && p < PH_MAX; p++) {
		if (b->ns[p] < 0)
			continue;
		jw_arr(j, NULL);
		jw_str(j, NULL, phase_name(p));
		jw_fixed(j, NULL, b->ns[p] / MS, 3);
		jw_end(j);
	}
	jw_end(j);
}

static void window_json(struct jw *j, const struct diagnosis *d)
{
	const struct mig *s = d->src;
	uint64_t stop = s ? (s->t_stop ? s->t_stop : s->t_stopped) : 0;
	uint64_t end = d->guest_ns >= 0 ? mig_resume_ts(d->dst) :
		       s && d->qemu_ns >= 0 ? stop + (uint64_t)d->qemu_ns : 0;

	if (!stop || !end) {
		jw_null(j, "window");
	} else {
		jw_arr(j, "window");
		jw_fixed(j, NULL, rel(d, stop), 3);
		jw_fixed(j, NULL, rel(d, end), 3);
		jw_str(j, NULL, d->guest_ns >= 0 ? "guest-visible" : "QEMU's (source side)");
		jw_end(j);
	}
	breakdown_json(j, &d->b);
}

/* One migration's timeline data, into the page's JSON array. */
static void data_json(struct jw *j, const struct diagnosis *d)
{
	jw_obj(j, NULL);
	jw_fixed(j, "limit_ms", d->limit_ns >= 0 ? d->limit_ns / MS : -1.0, 3);
	window_json(j, d);
	jw_arr(j, "lanes");
	if (d->src)
		lane_json(j, d, d->src, "src");
	if (d->dst)
		lane_json(j, d, d->dst, "dst");
	jw_end(j);
	jw_end(j);
}

static void finding_html(FILE *out, const struct diagnosis *d, const struct finding *f)
{
	fprintf(out, "<li class=\"finding sev-%s\" data-id=\"%s\"><span class=\"sev\">%s</span> "
		"<code>%s</code> ", diag_severity(f->score), f->id, diag_severity(f->score), f->id);
	esc_html(out, f->title);
	if (f->detail[0]) {
		fputs("<div class=\"detail\">", out);
		esc_html(out, f->detail);
		fputs("</div>", out);
	}
	fputs("<ul class=\"evidence\">", out);
	for (int j = 0; j < f->nev; j++) {
		fprintf(out, "<li>%+.3f ms %s ", rel(d, f->ev[j].ts), f->ev[j].side);
		esc_html(out, f->ev[j].what);
		fputs("</li>", out);
	}
	fputs("</ul>", out);
	if (f->advice[0]) {
		fputs("<div class=\"advice\">advice: ", out);
		esc_html(out, f->advice);
		fputs("</div>", out);
	}
	fputs("</li>\n", out);
}

/* The VM a diagnosis is about, or NULL when neither side is named. */
static const char *diag_vm(const struct diagnosis *d)
{
	const char *v = d->src ? mig_vm_name(d->src) : NULL;

	return v ? v : d->dst ? mig_vm_name(d->dst) : NULL;
}

static void migration_html(FILE *out, const struct diagnosis *d, int i)
{
	const struct mig *g = d->src ? d->src : d->dst;

	fprintf(out, "<section class=\"migration\" id=\"migration-%d\"><h2>", i);
	if (diag_vm(d)) {
		fputs("vm ", out);
		esc_html(out, diag_vm(d));
		fputs(": ", out);
	}
	fputs("migration", out);
	if (d->src)
		fprintf(out, " src %u", d->src->pid);
	if (d->dst)
		fprintf(out, " dst %u", d->dst->pid);
	fprintf(out, ": %s", mstate_name(g->state));
	if (d->guest_ns >= 0)
		fprintf(out, ", guest-visible downtime %.1f ms", d->guest_ns / MS);
	if (d->qemu_ns >= 0)
		fprintf(out, ", QEMU's %.1f ms", d->qemu_ns / MS);
	if (d->limit_ns >= 0)
		fprintf(out, ", limit %.1f ms", d->limit_ns / MS);
	fprintf(out, "</h2>\n<ol class=\"findings\" id=\"findings-%d\">\n", i);
	for (int j = 0; j < d->n; j++)
		finding_html(out, d, &d->f[j]);
	if (!d->n)
		fputs("<li class=\"finding sev-info\">no findings</li>\n", out);
	fprintf(out, "</ol>\n<div class=\"timeline\" id=\"timeline-%d\"></div></section>\n", i);
}

extern const char diag_html_style[], diag_html_script[];

/* Distinct VMs named in the title; more are counted. */
#define TITLE_VMS 16

/* The page is written as diagnoses come: sections into one temporary file,
 * their data into another, escaped for the <script> element it sits in (no
 * "</script>" can end it); at the end the page's head (its title names the
 * VMs seen) and both go into the file. */
struct diag_html {
	FILE *out, *body, *data;
	char *path;
	struct jw j;
	int n;
	char *vms[TITLE_VMS];
	int nvms, more_vms;
};

static void html_free(struct diag_html *h)
{
	if (h->out)
		fclose(h->out);
	if (h->body)
		fclose(h->body);
	if (h->data)
		fclose(h->data);
	for (int i = 0; i < h->nvms; i++)
		free(h->vms[i]);
	free(h->path);
	free(h);
}

struct diag_html *diag_html_open(const char *path, char *err, size_t errlen)
{
	struct diag_html *h = calloc(1, sizeof(*h));

	if (!h || !(h->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		free(h);
		return NULL;
	}
	h->out = fopen(path, "we");
	h->body = tmpfile();
	h->data = tmpfile();
	if (!h->out || !h->body || !h->data) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		html_free(h);
		return NULL;
	}
	jw_init(&h->j, h->data, JSON_HTML);
	jw_arr(&h->j, NULL);
	return h;
}

static void note_vm(struct diag_html *h, const char *v)
{
	char *copy;

	if (!v)
		return;
	for (int i = 0; i < h->nvms; i++)
		if (!strcmp(h->vms[i], v))
			return;
	if (h->nvms == TITLE_VMS || !(copy = strdup(v))) {
		h->more_vms++;
		return;
	}
	h->vms[h->nvms++] = copy;
}

void diag_html_add(struct diag_html *h, const struct diagnosis *d)
{
	note_vm(h, diag_vm(d));
	migration_html(h->body, d, h->n++);
	data_json(&h->j, d);
}

/* "swack diagnose: vm a, vm b": the VMs the page is about, each once. */
static void page_title(const struct diag_html *h)
{
	fputs("swack diagnose", h->out);
	for (int i = 0; i < h->nvms; i++) {
		fputs(i ? ", vm " : ": vm ", h->out);
		esc_html(h->out, h->vms[i]);
	}
	if (h->more_vms)
		fprintf(h->out, " and %d more", h->more_vms);
}

static void copy_into(FILE *to, FILE *from)
{
	char buf[65536];
	size_t n;

	rewind(from);
	while ((n = fread(buf, 1, sizeof(buf), from)))
		fwrite(buf, 1, n, to);
}

void diag_html_discard(struct diag_html *h)
{
	if (!h)
		return;
	unlink(h->path);
	html_free(h);
}

int diag_html_close(struct diag_html *h, char *err, size_t errlen)
{
	int ret = 0, e;

	jw_end(&h->j);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", h->out);
	page_title(h);
	fprintf(h->out, "</title>\n<style>%s</style></head>\n<body data-rendered=\"no\"><h1>",
		diag_html_style);
	page_title(h);
	fputs("</h1>\n<div id=\"errors\"></div>\n", h->out);
	if (!h->n)
		fputs("<p class=\"none\">No migration was seen.</p>\n", h->out);
	copy_into(h->out, h->body);
	fputs("<script type=\"application/json\" id=\"swack-data\">", h->out);
	copy_into(h->out, h->data);
	fprintf(h->out, "</script>\n<script>%s</script>\n</body></html>\n", diag_html_script);
	e = ferror(h->body) | ferror(h->data) | ferror(h->out);
	if (fclose(h->out) | e) {
		snprintf(err, errlen, "cannot write %s: %s", h->path, strerror(errno ? errno : EIO));
		ret = -1;
	}
	h->out = NULL;
	html_free(h);
	return ret;
}
