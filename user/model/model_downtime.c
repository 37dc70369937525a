// SPDX-License-Identifier: GPL-2.0
/*
 * Where the downtime went, from QEMU's vmstate_downtime_checkpoint events
 * (8.1+) and per-vmstate save and load times.  The phases are consecutive
 * spans between checkpoints, so they add up to the window they cover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

static void add_checkpoint(struct mig *g, const struct swack_event *e)
{
	struct checkpoint *c;

	if (g->ncheckpoints >= MIG_MAX_CHECKPOINTS)
		return;
	c = &g->checkpoints[g->ncheckpoints++];
	snprintf(c->name, sizeof(c->name), "%.31s", e->str);
	c->ts = e->ts;
}

static void add_vmstate(struct mig *g, const struct swack_event *e)
{
	struct vmstate_time *v;

	if (g->nvmstates >= MIG_MAX_VMSTATES)
		return;
	v = &g->vmstates[g->nvmstates++];
	snprintf(v->idstr, sizeof(v->idstr), "%.*s", SWACK_DEV_LEN - 1, e->dev);
	v->instance = (uint32_t)e->a[0];
	v->us = (int64_t)e->a[1];
	v->iterable = !strcmp(e->str, "iterable");
}

void downtime_apply(struct mig *g, const struct swack_event *e)
{
	if (e->kind == SWACK_EV_CHECKPOINT)
		add_checkpoint(g, e);
	else if (e->kind == SWACK_EV_VMSTATE_SAVE || e->kind == SWACK_EV_VMSTATE_LOAD)
		add_vmstate(g, e);
}

static int64_t checkpoint_ts(const struct mig *g, const char *name)
{
	if (!g)
		return -1;
	for (uint32_t i = 0; i < g->ncheckpoints; i++)
		if (!strcmp(g->checkpoints[i].name, name))
			return (int64_t)g->checkpoints[i].ts;
	return -1;
}

const char *phase_name(enum phase p)
{
	static const char *const names[PH_MAX] = {
		[PH_STOP] = "stop", [PH_ITERABLE] = "iterable_save",
		[PH_NON_ITERABLE] = "non_iterable_save", [PH_FINAL_SAVE] = "final_save",
		[PH_SRC_TAIL] = "source_tail",
		[PH_TRANSFER_LOAD] = "transfer_and_load", [PH_DST_START] = "destination_start",
	};
	return names[p];
}

static int64_t between(int64_t a, int64_t b)
{
	return a >= 0 && b >= a ? b - a : -1;
}

/*
 * Without checkpoints (QEMU 7.2, function probes): stop, the final save up to
 * the destination's end of load (the two overlap: the destination may finish
 * before the source returns), then the destination's start.
 */
static void breakdown_from_probes(const struct mig *src, const struct mig *dst,
				  struct breakdown *b)
{
	int64_t stop = src->t_stop ? (int64_t)src->t_stop : -1;
	int64_t stopped = src->t_stopped ? (int64_t)src->t_stopped : -1;
	int64_t saved = src->t_save_end ? (int64_t)src->t_save_end : -1;
	int64_t loaded = dst && dst->t_load_end ? (int64_t)dst->t_load_end : -1;
	int64_t resumed = dst && dst->t_resumed ? (int64_t)dst->t_resumed : -1;

	b->ns[PH_STOP] = between(stop, stopped);
	b->both_sides = loaded >= 0 && resumed >= 0 && saved >= 0;
	if (b->both_sides) {
		int64_t save_end = saved < loaded ? saved : loaded;

		b->ns[PH_FINAL_SAVE] = between(stopped, save_end);
		b->ns[PH_TRANSFER_LOAD] = between(save_end, loaded);
		b->ns[PH_DST_START] = between(loaded, resumed);
		b->total_ns = between(stop, resumed);
	} else {
		int64_t end = src->state == MS_COMPLETED ? (int64_t)src->t_end : -1;

		b->ns[PH_FINAL_SAVE] = between(stopped, saved);
		b->ns[PH_SRC_TAIL] = between(saved, end);
		b->total_ns = between(stop, end);
	}
}

/*
 * From QEMU's checkpoints.  Source alone: stop, iterable save, non-iterable
 * save, then the source's tail to src-downtime-end.  With the destination
 * (one clock): the tail is replaced by the transfer and load up to
 * dst-precopy-loadvm-completed, then the destination's start.
 */
void mig_breakdown(const struct mig *src, const struct mig *dst, struct breakdown *b)
{
	int64_t start = checkpoint_ts(src, "src-downtime-start");
	int64_t stopped = checkpoint_ts(src, "src-vm-stopped");
	int64_t iter = checkpoint_ts(src, "src-iterable-saved");
	int64_t nonit = checkpoint_ts(src, "src-non-iterable-saved");
	int64_t end = checkpoint_ts(src, "src-downtime-end");
	int64_t loaded = checkpoint_ts(dst, "dst-precopy-loadvm-completed");
	int64_t started = checkpoint_ts(dst, "dst-precopy-bh-vm-started");

	for (int i = 0; i < PH_MAX; i++)
		b->ns[i] = -1;
	b->total_ns = -1;
	b->from_checkpoints = start >= 0;
	if (!b->from_checkpoints) {
		breakdown_from_probes(src, dst, b);
		return;
	}
	b->ns[PH_STOP] = between(start, stopped);
	b->ns[PH_ITERABLE] = between(stopped, iter);
	b->ns[PH_NON_ITERABLE] = between(iter, nonit);
	b->both_sides = loaded >= 0 && started >= 0 && nonit >= 0;
	if (b->both_sides) {
		b->ns[PH_TRANSFER_LOAD] = between(nonit, loaded);
		b->ns[PH_DST_START] = between(loaded, started);
		b->total_ns = between(start, started);
	} else {
		b->ns[PH_SRC_TAIL] = between(nonit, end);
		b->total_ns = between(start, end);
	}
}

static int slower(const void *a, const void *b)
{
	const struct vmstate_time *x = a, *y = b;

	return (y->us > x->us) - (y->us < x->us);
}

int mig_top_vmstates(const struct mig *g, struct vmstate_time *out, int n)
{
	struct vmstate_time all[MIG_MAX_VMSTATES];

	if (!g)
		return 0;
	memcpy(all, g->vmstates, g->nvmstates * sizeof(all[0]));
	qsort(all, g->nvmstates, sizeof(all[0]), slower);
	if (n > (int)g->nvmstates)
		n = (int)g->nvmstates;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

int64_t mig_vmstates_us(const struct mig *g, bool iterable)
{
	int64_t sum = 0;

	for (uint32_t i = 0; g && i < g->nvmstates; i++)
		if (g->vmstates[i].iterable == iterable)
			sum += g->vmstates[i].us;
	return sum;
}
