// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO devices in the model, from QEMU's hw/vfio trace events.  Regrowth is
 * judged on vfio_state_pending_exact alone: it carries the device's fresh
 * answer, while vfio_save_iterate carries QEMU's running estimate, and mixing
 * the two would report rises that are only corrections of the estimate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

struct dev_state *mig_dev(struct mig *g, const char *name)
{
	struct dev_state *d;

	for (uint32_t i = 0; i < g->ndevs; i++)
		if (!strncmp(g->devs[i].name, name, SWACK_DEV_LEN))
			return &g->devs[i];
	if (g->ndevs >= MIG_MAX_DEVS)
		return NULL;
	/* Grown as devices appear: most migrations have none or a few. */
	if (g->ndevs == g->capdevs) {
		uint32_t cap = g->capdevs ? g->capdevs * 2 : 2;

		d = realloc(g->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		g->devs = d;
		g->capdevs = cap;
	}
	d = &g->devs[g->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%.*s", SWACK_DEV_LEN - 1, name);
	return d;
}

static void on_pending(struct dev_state *d, const struct swack_event *e)
{
	uint64_t init = e->a[3];

	d->precopy = e->a[0];
	d->postcopy = e->a[1];
	if (!(e->flags & SWACK_F_EXACT))
		return;
	d->stopcopy = e->a[2];
	if (d->exact_samples && init > d->init && d->init < d->init_peak) {
		d->regrowths++;
		d->t_last_regrowth = e->ts;
	}
	d->exact_samples++;
	d->init = init;
	d->dirty = e->a[4];
	if (init > d->init_peak)
		d->init_peak = init;
	if (!d->k.polls)
		series_add(&d->init_s, e->ts, (int64_t)init, (int64_t)d->dirty);
}

/* The loader waits for buffer idx from here until it comes in. */
static void on_starved(struct dev_state *d, const struct swack_event *e)
{
	if (d->starved < DEV_MAX_STARVES) {
		d->starves[d->starved].ts = e->ts;
		d->starves[d->starved].idx = (uint32_t)e->a[1];
	}
	d->starved++;
}

static void on_incoming(struct dev_state *d, const struct swack_event *e)
{
	d->bufs_in++;
	for (uint32_t i = 0; i < d->starved && i < DEV_MAX_STARVES; i++)
		if (d->starves[i].idx == (uint32_t)e->a[1] && !d->starves[i].wait_ns &&
		    e->ts >= d->starves[i].ts) {
			d->starves[i].wait_ns = e->ts - d->starves[i].ts;
			d->starved_ns += d->starves[i].wait_ns;
		}
}

static void span(uint64_t t[2], bool end, uint64_t ts)
{
	if (!end && !t[0])
		t[0] = ts;
	else if (end)
		t[1] = ts;
}

static void on_op(struct dev_state *d, const struct swack_event *e)
{
	int64_t a1 = (int64_t)e->a[1];

	switch (e->a[0]) {
	case SWACK_VFIO_SAVE_BLOCK: d->saved_bytes += a1 > 0 ? a1 : 0; break;
	case SWACK_VFIO_SAVE_COMPLETE:
		d->complete_ret = a1;
		d->failed |= a1 < 0;
		break;
	case SWACK_VFIO_LOAD_DEVICE_DATA:
		d->loaded_bytes += e->a[1];
		d->failed |= (int64_t)e->a[2] < 0;
		break;
	case SWACK_VFIO_SAVE_THREAD_START: span(d->t_save_thread, false, e->ts); break;
	case SWACK_VFIO_SAVE_THREAD_END:
		span(d->t_save_thread, true, e->ts);
		d->save_thread_ret = a1;
		d->failed |= a1 < 0;
		break;
	case SWACK_VFIO_BUF_INCOMING: on_incoming(d, e); break;
	case SWACK_VFIO_BUF_STARVED: on_starved(d, e); break;
	case SWACK_VFIO_BUF_LOAD_END: d->bufs_loaded++; break;
	case SWACK_VFIO_LOAD_THREAD_START: span(d->t_load_thread, false, e->ts); break;
	case SWACK_VFIO_LOAD_THREAD_END: span(d->t_load_thread, true, e->ts); break;
	default: break;
	}
}

void vfio_apply(struct mig *g, const struct swack_event *e)
{
	struct dev_state *d = mig_dev(g, e->dev);

	if (!d)
		return;
	switch (e->kind) {
	case SWACK_EV_VFIO_PENDING: on_pending(d, e); break;
	case SWACK_EV_VFIO_ITERATE:
		d->est_init = e->a[0];
		d->est_dirty = e->a[1];
		break;
	case SWACK_EV_VFIO_STATE:
		snprintf(e->a[0] ? d->dev_state : d->state, sizeof(d->state), "%.23s", e->str);
		break;
	case SWACK_EV_VFIO_OP: on_op(d, e); break;
	default: break;
	}
}
