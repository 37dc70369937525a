// SPDX-License-Identifier: GPL-2.0
/*
 * Device findings: the device that took most of the downtime (QEMU's own
 * per-vmstate save and load times inside the window), what it moved against
 * its own estimate, and multifd device-state buffers the destination's load
 * thread had to wait for.
 */
#include <string.h>
#include "diagnose/rules.h"
#include "event/vfio_uapi.h"

#define MS 1e6
/* A device is worth a finding once it takes this share of its side's
 * vmstate time in the downtime.  QEMU's per-vmstate times, not the window:
 * they are the device's own, where the window stretches with the host. */
#define DEVICE_SHARE_MIN 0.3

struct dev_time {
	const struct mig *g;
	const struct vmstate_time *v;
};

/* RAM is iterable state, not a device with a setting to change. */
static void slowest(const struct mig *g, struct dev_time *best)
{
	for (uint32_t i = 0; g && i < g->nvmstates; i++) {
		const struct vmstate_time *v = &g->vmstates[i];

		if (strcmp(v->idstr, "ram") && (!best->v || v->us > best->v->us)) {
			best->g = g;
			best->v = v;
		}
	}
}

/* The device a vmstate is, by QEMU's idstr "NAME/vfio". */
static const struct dev_state *src_dev(const struct mig *src, const char *idstr)
{
	for (uint32_t i = 0; src && i < src->ndevs; i++) {
		size_t len = strlen(src->devs[i].name);

		if (len && !strncmp(src->devs[i].name, idstr, len) && idstr[len] == '/')
			return &src->devs[i];
	}
	return NULL;
}

/* Stop-copy data against the device's estimate: the kernel's figures when
 * the ioctls were seen, else QEMU's. */
static void estimate(struct finding *f, const struct dev_state *dev)
{
	uint64_t est = dev->k.stop_copy_estimate ? dev->k.stop_copy_estimate : dev->stopcopy;
	uint64_t real = dev->k.read[VFIO_STOP_COPY] ? dev->k.read[VFIO_STOP_COPY] : dev->saved_bytes;
	char a[32], b[32];

	if (!est || !real)
		return;
	snprintf(f->detail, sizeof(f->detail), "stop-copy data: %s moved against the device's "
		 "estimate of %s (%.2fx)", diag_bytes(a, sizeof(a), (double)real),
		 diag_bytes(b, sizeof(b), (double)est), (double)real / est);
	diag_figure(f, "stop_copy_bytes", (double)real);
	diag_figure(f, "stop_copy_estimate", (double)est);
	if (real > 2 * est)
		diag_advice(f, "the device underestimates its stop-copy data, so QEMU switched "
			    "over expecting less: report it to the device's driver vendor");
	else if (est > 4 * real)
		diag_advice(f, "the device overestimates its stop-copy data %.0fx; QEMU counts that "
			    "estimate as pending and waits longer than needed to converge",
			    (double)est / real);
}

static double round_pct(double share)
{
	return (double)(long long)(share * 100 + 0.5);
}

static void rule_device_downtime(struct diagnosis *d)
{
	struct dev_time t = { 0 };
	double ns, share;
	struct finding *f;

	slowest(d->src, &t);
	slowest(d->dst, &t);
	if (!t.v || d->window_ns <= 0)
		return;
	ns = t.v->us * 1e3;
	share = (double)t.v->us / (mig_vmstates_us(t.g, true) + mig_vmstates_us(t.g, false));
	if (share < DEVICE_SHARE_MIN)
		return;
	f = diag_add(d, "device-downtime", share >= 0.5 ? 55 : 45);
	if (!f)
		return;
	diag_title(f, "device %s took %.1f ms %s in the downtime, %.0f%% of all state %s "
		   "there (%s downtime %.1f ms)", t.v->idstr, ns / MS,
		   t.g->role == SWACK_ROLE_DST ? "loading" : "saving", 100 * share,
		   t.g->role == SWACK_ROLE_DST ? "loaded" : "saved",
		   d->guest_ns >= 0 ? "guest-visible" : "QEMU's", d->window_ns / MS);
	diag_figure(f, "device_ns", ns);
	diag_figure(f, "share_pct", round_pct(share));
	diag_figure(f, "downtime_ns", (double)d->window_ns);
	diag_evidence(f, t.g, t.g->role == SWACK_ROLE_DST ? t.g->t_load_end ? t.g->t_load_end :
		      t.g->t_resumed : t.g->t_dt_start, "vmstate_downtime_%s %s %lld us",
		      t.g->role == SWACK_ROLE_DST ? "load" : "save", t.v->idstr,
		      (long long)t.v->us);
	if (src_dev(d->src, t.v->idstr))
		estimate(f, src_dev(d->src, t.v->idstr));
}

static void starved_evidence(struct finding *f, const struct mig *g, const struct dev_state *dev)
{
	for (uint32_t i = 0; i < dev->starved && i < DEV_MAX_STARVES; i++)
		diag_evidence(f, g, dev->starves[i].ts, "%s starved for buffer %u (%.1f ms)",
			      dev->name, dev->starves[i].idx, dev->starves[i].wait_ns / MS);
}

static void rule_starved(struct diagnosis *d, const struct dev_state *dev)
{
	struct finding *f = diag_add(d, "multifd-starved", 50);
	uint64_t thread = dev->t_load_thread[1] > dev->t_load_thread[0] ?
			  dev->t_load_thread[1] - dev->t_load_thread[0] : 0;

	if (!f)
		return;
	diag_title(f, "multifd device-state buffers starved: %s's load thread waited %u times "
		   "for %.1f ms in all", dev->name, dev->starved, dev->starved_ns / MS);
	diag_detail(f, "load thread ran %.1f ms; %u buffers in, %u loaded", thread / MS,
		    dev->bufs_in, dev->bufs_loaded);
	diag_figure(f, "starved", dev->starved);
	diag_figure(f, "starved_ns", (double)dev->starved_ns);
	diag_figure(f, "load_thread_ns", (double)thread);
	diag_figure(f, "buffers", dev->bufs_in);
	starved_evidence(f, d->dst, dev);
	diag_advice(f, "the destination loads faster than %s's state arrives: more "
		    "multifd-channels or more bandwidth bring its buffers sooner", dev->name);
}

void diag_device_rules(struct diagnosis *d)
{
	if (d->src)
		rule_device_downtime(d);
	for (uint32_t i = 0; d->dst && i < d->dst->ndevs; i++)
		if (d->dst->devs[i].starved)
			rule_starved(d, &d->dst->devs[i]);
}
