// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO devices from the kernel's side: the migration ioctls and the reads
 * and writes of the data fds.  The ground truth whatever QEMU traces; merged
 * with the QEMU-level view by device name (struct dev_state), so one device
 * is counted once.
 */
#include <stdio.h>
#include <string.h>
#include "model/model.h"
#include "event/vfio_uapi.h"

/* Facts noted for (pid, dev) before its migration began, or NULL. */
static const struct dev_facts *model_facts(const struct model *m, uint32_t pid, const char *dev)
{
	for (uint32_t i = 0; m && i < m->nfacts; i++)
		if (m->facts[i].pid == pid && !strncmp(m->facts[i].dev, dev, SWACK_DEV_LEN))
			return &m->facts[i];
	return NULL;
}

static struct dev_facts *facts_for(struct model *m, uint32_t pid, const char *dev)
{
	struct dev_facts *f = (struct dev_facts *)model_facts(m, pid, dev);

	if (f || m->nfacts >= MODEL_MAX_FACTS)
		return f;
	f = &m->facts[m->nfacts++];
	memset(f, 0, sizeof(*f));
	f->pid = pid;
	snprintf(f->dev, sizeof(f->dev), "%.*s", SWACK_DEV_LEN - 1, dev);
	return f;
}

void kdev_note_facts(struct model *m, const struct swack_event *e)
{
	struct dev_facts *f;

	if (e->kind != SWACK_EV_VFIO_IOCTL || !e->dev[0] || (int64_t)e->a[5] < 0)
		return;
	if (vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_PRECOPY_INFOV2)) {
		f = facts_for(m, e->pid, e->dev);
		if (f)
			f->infov2 = true;
	} else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_GET, SWACK_VFIO_FEATURE_MIGRATION)) {
		f = facts_for(m, e->pid, e->dev);
		if (f)
			f->mig_flags = e->a[4];
	}
}

static void adopt_facts(const struct mig *g, struct dev_state *d)
{
	const struct dev_facts *f = model_facts(g->model, g->pid, d->name);

	if (d->k.seen)
		return;
	d->k.seen = true;
	d->k.state = -1;
	if (f) {
		d->k.infov2 = f->infov2;
		d->k.mig_flags = f->mig_flags;
	}
}

static void set_state(struct kdev *k, uint32_t to, uint64_t ts)
{
	if (k->state >= 0 && k->state < KDEV_STATES && ts > k->state_since)
		k->state_ns[k->state] += ts - k->state_since;
	if (k->ntrans < KDEV_MAX_TRANS) {
		k->trans[k->ntrans].ts = ts;
		k->trans[k->ntrans].from = k->state < 0 ? 0xff : (uint8_t)k->state;
		k->trans[k->ntrans].to = (uint8_t)to;
		k->ntrans++;
	}
	k->state = (int)to;
	k->state_since = ts;
}

/* REINIT says the initial data grew again; so does a rise after a fall. */
static void on_precopy_info(struct kdev *k, const struct swack_event *e)
{
	uint64_t init = e->a[3];
	bool reinit = e->a[2] & SWACK_VFIO_PRECOPY_INFO_REINIT;

	k->reinits += reinit && k->infov2;
	if (k->polls && ((reinit && k->infov2) || (init > k->init && k->init < k->init_peak)))
		k->regrowths++;
	k->polls++;
	k->init = init;
	k->dirty = e->a[4];
	if (init > k->init_peak)
		k->init_peak = init;
}

static void on_error(struct kdev *k, const struct swack_event *e)
{
	if (k->nerrs >= KDEV_MAX_ERRS)
		return;
	k->errs[k->nerrs].ts = e->ts;
	k->errs[k->nerrs].cmd = (uint32_t)e->a[0];
	k->errs[k->nerrs].flags = (uint32_t)e->a[2];
	k->errs[k->nerrs].target = vfio_target_state(e);
	k->errs[k->nerrs].err = (int)-(int64_t)e->a[5];
	k->nerrs++;
}

static void on_ioctl(struct kdev *k, const struct swack_event *e)
{
	if ((int64_t)e->a[5] < 0) {
		on_error(k, e);
		return;
	}
	if (vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_DEVICE_STATE))
		set_state(k, vfio_target_state(e), e->ts);
	else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_GET, SWACK_VFIO_FEATURE_MIG_DATA_SIZE))
		k->stop_copy_estimate = e->a[4];
	else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_PRECOPY_INFOV2))
		k->infov2 = true;
	else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_GET, SWACK_VFIO_FEATURE_MIGRATION))
		k->mig_flags = e->a[4];
	else if (e->a[0] == SWACK_VFIO_MIG_GET_PRECOPY_INFO)
		on_precopy_info(k, e);
}

static void on_data(struct kdev *k, const struct swack_event *e)
{
	int64_t ret = (int64_t)e->a[1];
	int st = k->state >= 0 && k->state < KDEV_STATES ? k->state : 0;

	if (ret <= 0)
		return;
	if (e->a[2])
		k->written[st] += ret;
	else
		k->read[st] += ret;
}

void kdev_apply(struct mig *g, const struct swack_event *e)
{
	struct dev_state *d;
	uint32_t polls;

	if (!e->dev[0])
		return;
	d = mig_dev(g, e->dev);
	if (!d)
		return;
	adopt_facts(g, d);
	if (e->kind == SWACK_EV_VFIO_IOCTL && !g->role &&
	    vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_DEVICE_STATE))
		g->role = vfio_target_state(e) == VFIO_RESUMING ? SWACK_ROLE_DST : SWACK_ROLE_SRC;
	if (e->kind != SWACK_EV_VFIO_IOCTL) {
		on_data(&d->k, e);
		return;
	}
	polls = d->k.polls;
	on_ioctl(&d->k, e);
	if (d->k.polls > polls)
		series_add(&d->init_s, e->ts, (int64_t)d->k.init, (int64_t)d->k.dirty);
}

uint32_t dev_regrowths(const struct dev_state *d)
{
	return d->k.polls ? d->k.regrowths : d->regrowths;
}

uint64_t kdev_state_ns(const struct dev_state *d, int state, uint64_t now)
{
	uint64_t ns = d->k.state_ns[state];

	if (d->k.state == state && now > d->k.state_since)
		ns += now - d->k.state_since;
	return ns;
}
