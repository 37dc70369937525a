// SPDX-License-Identifier: GPL-2.0
/* Interval lines, vmstat style: one a migrating VM, a device each with -d. */
#include <stdlib.h>
#include <string.h>
#include "event/event.h"
#include "util/json.h"
#include "view/postcopy_view.h"
#include "view/snapshot_view.h"
#include "view/stat.h"

void stat_print_header(struct stat_view *v)
{
	if (v->json)
		return;
	fprintf(v->out, "%10s %7s %-4s %-15s %5s %10s %10s %5s %9s %9s %6s %9s %9s %9s %s\n",
		"TIME", "PID", "ROLE", "PHASE", "ITER", "REMAINING", "BW/s", "ACKS", "INITIAL",
		"DIRTY", "REGROW", "EXP_MS", "LIMIT_MS", "DOWN_MS", "VM");
}

static bool shown(const struct stat_view *v, const struct mig *g)
{
	for (int i = 0; i < v->nshown; i++)
		if (v->shown[i].pid == g->pid && v->shown[i].seq == g->seq)
			return true;
	return false;
}

/* Its last line printed: ended, and (a snapshot) write tracking stopped. */
static bool shown_final(const struct mig *g)
{
	return mstate_terminal(g->state) && !snap_tracking(g);
}

/* The ended migrations the model holds, once shown: a list rebuilt each interval,
 * so that it never outgrows the model. */
static void set_shown(struct stat_view *v, const struct model *m)
{
	struct stat_shown *p;
	int n = 0;

	for (const struct mig *g = m->head; g; g = g->next)
		n += shown_final(g);
	if (n > v->capshown) {
		p = realloc(v->shown, n * sizeof(*p));
		if (!p)
			return;
		v->shown = p;
		v->capshown = n;
	}
	v->nshown = 0;
	for (const struct mig *g = m->head; g; g = g->next)
		if (shown_final(g))
			v->shown[v->nshown++] = (struct stat_shown){ g->pid, g->seq };
}

static const char *ms(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

static void line_text(struct stat_view *v, const struct vm_figures *f, uint64_t now)
{
	char rem[16], bw[16], ini[16], dir[16], e[16], l[16], d[16], acks[24];

	if (f->acks_pending < 0)
		snprintf(acks, sizeof(acks), "-");
	else
		snprintf(acks, sizeof(acks), "%lld", (long long)f->acks_pending);
	fprintf(v->out, "%10.3f %7u %-4s %-15s %5u %10s %10s %5s %9s %9s %6u %9s %9s %9s %s%s\n",
		now > v->t0 ? (now - v->t0) / 1e9 : 0.0, f->pid, role_name(f->role), f->phase,
		f->iterations, human_bytes(f->remaining, rem, sizeof(rem)),
		human_bytes(f->bw, bw, sizeof(bw)), acks, human_bytes(f->initial, ini, sizeof(ini)),
		human_bytes(f->dirty, dir, sizeof(dir)), f->regrowths, ms(f->expected_ms, e, 16),
		ms(f->limit_ms, l, 16), ms(f->downtime_ms, d, 16), f->vm,
		f->stalled ? "  converged, waiting" : f->over_budget ? "  over budget" : "");
}

static void line_json(struct stat_view *v, const struct mig *g, const struct vm_figures *f,
		      uint64_t now)
{
	struct jw j;

	jw_init(&j, v->out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "ts", now);
	jw_u64(&j, "pid", f->pid);
	vm_json(&j, g->model, g->pid);
	jw_str(&j, "role", role_name(f->role));
	jw_str(&j, "phase", f->phase);
	jw_u64(&j, "iterations", f->iterations);
	jw_u64(&j, "remaining_bytes", f->remaining);
	jw_u64(&j, "bandwidth_Bps", f->bw);
	jw_s64(&j, "acks_pending", f->acks_pending);
	jw_u64(&j, "initial_bytes", f->initial);
	jw_u64(&j, "dirty_bytes", f->dirty);
	jw_u64(&j, "regrowths", f->regrowths);
	jw_fixed(&j, "expected_ms", f->expected_ms, 3);
	jw_fixed(&j, "limit_ms", f->limit_ms, 3);
	jw_fixed(&j, "downtime_ms", f->downtime_ms, 3);
	jw_bool(&j, "stalled", f->stalled);
	jw_bool(&j, "over_budget", f->over_budget);
	jw_bool(&j, "ended", f->ended);
	jw_end(&j);
}

static void device_json(struct stat_view *v, const struct mig *g, const struct dev_state *d,
			uint64_t init, uint64_t dirty)
{
	struct jw j;

	jw_init(&j, v->out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "pid", g->pid);
	jw_strn(&j, "device", d->name, SWACK_DEV_LEN);
	jw_u64(&j, "initial_bytes", init);
	jw_u64(&j, "dirty_bytes", dirty);
	jw_u64(&j, "stopcopy_bytes", d->stopcopy);
	jw_u64(&j, "regrowths", dev_regrowths(d));
	jw_end(&j);
}

static void device_lines(struct stat_view *v, const struct mig *g)
{
	char ini[16], dir[16], sc[16];

	for (uint32_t i = 0; i < g->ndevs; i++) {
		const struct dev_state *d = &g->devs[i];
		uint64_t init = d->k.polls ? d->k.init : d->init;
		uint64_t dirty = d->k.polls ? d->k.dirty : d->dirty;

		if (v->json)
			device_json(v, g, d, init, dirty);
		else
			fprintf(v->out, "%18s device %-16s initial %9s dirty %9s stop-copy %9s "
				"regrowths %u\n", "", d->name, human_bytes(init, ini, sizeof(ini)),
				human_bytes(dirty, dir, sizeof(dir)),
				human_bytes(d->stopcopy, sc, sizeof(sc)), dev_regrowths(d));
	}
}

static void snapshot_line(struct stat_view *v, const struct mig *g, uint64_t now)
{
	char row[160];

	if (v->json) {
		snap_row_json(v->out, g, now);
		pc_row_json(v->out, g, now);
		return;
	}
	snap_row(g, now, row, sizeof(row));
	if (row[0])
		fprintf(v->out, "%18s %s\n", "", row);
	pc_row(g, now, row, sizeof(row));
	if (row[0])
		fprintf(v->out, "%18s %s\n", "", row);
}

void stat_print_interval(struct stat_view *v, const struct model *m, uint64_t now)
{
	struct vm_figures f;

	for (const struct mig *g = m->head; g; g = g->next) {
		if (mstate_terminal(g->state) && shown(v, g))
			continue;
		mig_figures(g, &f);
		if (v->json)
			line_json(v, g, &f, now);
		else
			line_text(v, &f, now);
		if (v->devices)
			device_lines(v, g);
		snapshot_line(v, g, now);
	}
	set_shown(v, m);
	fflush(v->out);
}
