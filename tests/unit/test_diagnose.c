// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of diagnose's rules: migrations built in memory by feeding
 * events to the model, as swack's sources do, then diagnose(): the findings'
 * ids in rank order, and their figures.  No BPF, no root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "diagnose/diagnose.h"
#include "model/model.h"
#include "util/json.h"

#define MS 1000000ull
#define SRC 100
#define DST 200
#define DEV "0000:3b:00.1"

/* The last migration the model reported, both sides. */
struct done {
	const struct mig *src, *dst;
};

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct done *d = ctx;

	d->src = src;
	d->dst = dst;
}

static struct swack_event ev(uint32_t pid, uint64_t ts_ms, int kind)
{
	struct swack_event e = { .pid = pid, .tid = pid, .ts = ts_ms * MS, .kind = kind,
				 .role = pid == DST ? SWACK_ROLE_DST : SWACK_ROLE_SRC };
	return e;
}

static void feed(struct model *m, uint32_t pid, uint64_t ts, int kind)
{
	struct swack_event e = ev(pid, ts, kind);

	model_feed(m, &e);
}

static void feed_a(struct model *m, uint32_t pid, uint64_t ts, int kind, uint64_t a0,
		   uint64_t a1)
{
	struct swack_event e = ev(pid, ts, kind);

	e.a[0] = a0;
	e.a[1] = a1;
	model_feed(m, &e);
}

static void feed_state(struct model *m, uint32_t pid, uint64_t ts, const char *state,
		       uint64_t tx)
{
	struct swack_event e = ev(pid, ts, SWACK_EV_MIG_STATE);

	snprintf(e.str, sizeof(e.str), "%s", state);
	e.tx_bytes = tx;
	model_feed(m, &e);
}

/* An exact pending-size answer of the source, against QEMU's threshold. */
static void feed_exact(struct model *m, uint64_t ts, uint64_t pending, uint64_t threshold,
		       uint64_t tx)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_PENDING);

	e.a[0] = pending;
	e.a[3] = threshold;
	e.flags = SWACK_F_EXACT;
	e.tx_bytes = tx;
	model_feed(m, &e);
}

/* The live source pairs the two through their TCP connection. */
static void feed_pair(struct model *m, uint32_t src, uint32_t dst)
{
	feed_a(m, src, 0, SWACK_EV_PAIR, src, dst);
}

/* QEMU 11.1's pending query: total, and the ACKs it asks for now (total asked). */
static void feed_query(struct model *m, uint64_t ts, uint64_t total, uint32_t asked,
		       uint32_t asked_total)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_QUERY_PENDING);

	e.a[3] = total;
	e.a[4] = asked;
	e.a[5] = asked_total;
	e.flags = SWACK_F_EXACT;
	model_feed(m, &e);
}

static void feed_vfio_pending(struct model *m, uint64_t ts, uint64_t initial)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_VFIO_PENDING);

	snprintf(e.dev, sizeof(e.dev), DEV);
	e.a[0] = initial;
	e.a[2] = 64 * MS;
	e.a[3] = initial;
	e.flags = SWACK_F_EXACT;
	model_feed(m, &e);
}

static void feed_vmstate(struct model *m, uint32_t pid, uint64_t ts, const char *idstr,
			 int64_t us, bool iterable)
{
	struct swack_event e = ev(pid, ts, pid == SRC ? SWACK_EV_VMSTATE_SAVE :
				  SWACK_EV_VMSTATE_LOAD);

	snprintf(e.dev, sizeof(e.dev), "%s", idstr);
	snprintf(e.str, sizeof(e.str), iterable ? "iterable" : "non-iterable");
	e.a[1] = (uint64_t)us;
	model_feed(m, &e);
}

static void feed_vfio_op(struct model *m, uint32_t pid, uint64_t ts, int op, int64_t a1)
{
	struct swack_event e = ev(pid, ts, SWACK_EV_VFIO_OP);

	snprintf(e.dev, sizeof(e.dev), DEV);
	e.a[0] = (uint64_t)op;
	e.a[1] = (uint64_t)a1;
	model_feed(m, &e);
}

/* The destination's side of a precopy migration that completes: active at 1
 * ms, loading from 1 ms, vCPUs resumed at resume ms. */
static void dst_completes(struct model *m, uint64_t resume)
{
	feed(m, DST, resume - 2, SWACK_EV_LOAD_END);
	feed(m, DST, resume - 1, SWACK_EV_VM_START);
	feed(m, DST, resume, SWACK_EV_VM_RESUMED);
	feed_state(m, DST, resume + 1, "completed", 0);
}

static void dst_starts(struct model *m)
{
	feed_state(m, DST, 1, "active", 0);
	feed(m, DST, 1, SWACK_EV_LOAD_BEGIN);
}

/* Source: setup at 0, active at 3 ms, three exact answers falling to below
 * the threshold (30 MB at 1 s, 20 MB/s), switchover at 990 ms, vCPUs
 * stopped from 1000 ms, completed at 1009 ms. */
static void src_precopy(struct model *m)
{
	feed_state(m, SRC, 0, "setup", 0);
	feed(m, SRC, 2, SWACK_EV_SAVE_SETUP);
	feed_state(m, SRC, 3, "active", 0);
	feed_exact(m, 4, 500 * MS, 40 * MS, 0);
	feed_exact(m, 500, 200 * MS, 40 * MS, 20 * MS);
	feed_exact(m, 990, 30 * MS, 40 * MS, 40 * MS);
	feed_a(m, SRC, 990, SWACK_EV_SWITCHOVER, 30 * MS, 40 * MS);
	feed(m, SRC, 1000, SWACK_EV_VM_STOP);
	feed(m, SRC, 1001, SWACK_EV_VM_STOPPED);
}

static void src_completes(struct model *m)
{
	feed_state(m, SRC, 1009, "completed", 70 * MS);
}

/* "id id ...": the findings in rank order. */
static const char *ids(const struct diagnosis *d)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < d->n; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", d->f[i].id);
	return buf;
}

static const struct finding *find(const struct diagnosis *d, const char *id)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->f[i].id, id))
			return &d->f[i];
	fail_msg("no finding %s among: %s", id, ids(d));
	return NULL;
}

static double figure(const struct finding *f, const char *name)
{
	for (int i = 0; i < f->nfig; i++)
		if (!strcmp(f->fig[i].name, name))
			return f->fig[i].v;
	fail_msg("finding %s has no figure %s", f->id, name);
	return -1;
}

/* What each test builds on: a model that reports into dn, a diagnosis. */
struct fx {
	struct model m;
	struct done dn;
	struct diagnosis d;

};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	model_init(&x->m, on_done, &x->dn);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	model_free(&x->m);
	free(x);
	return 0;
}

/* Diagnoses the last migration the model reported, both sides. */
static struct diagnosis *run(struct fx *x, int64_t limit_ns)
{
	struct diag_opts o = { .limit_ns = limit_ns };

	assert_non_null(x->dn.src ? x->dn.src : x->dn.dst);
	diagnose(x->dn.src, x->dn.dst, &o, &x->d);
	return &x->d;
}

/* ---- diagnose_mig.c: outcome, downtime, convergence ---------------------- */

/* Guest-visible 12 ms (source stop at 1000 ms, destination resumes at 1012
 * ms) against a 5 ms limit; QEMU says 9 ms. */
static void test_over_limit(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	src_precopy(m);
	src_completes(m);
	dst_completes(m, 1012);
	d = run(x, 5 * MS);
	assert_string_equal(ids(d), "downtime-over-limit downtime-underreported");
	f = &d->f[0];
	assert_int_equal(f->score, 94);             /* over by more than the limit itself */
	assert_string_equal(diag_severity(f->score), "critical");
	assert_int_equal(figure(f, "downtime_ns"), 12 * MS);
	assert_int_equal(figure(f, "limit_ns"), 5 * MS);
	assert_int_equal(figure(f, "over_ns"), 7 * MS);
	assert_string_equal(f->title, "guest-visible downtime 12.0 ms exceeds the 5.0 ms limit "
			    "by 7.0 ms (2.4x)");
	f = find(d, "downtime-underreported");
	assert_int_equal(figure(f, "qemu_downtime_ns"), 9 * MS);
	assert_int_equal(figure(f, "gap_ns"), 3 * MS);
	/* Within a limit of 20 ms, the same migration is explained, not flagged:
	 * 7.2's probes time only the source's stop, 1 ms of QEMU's 9. */
	d = run(x, 20 * MS);
	assert_string_equal(ids(d), "downtime-underreported downtime-breakdown");
	f = find(d, "downtime-breakdown");
	assert_string_equal(f->title, "guest-visible downtime 12.0 ms, within the limit; source "
			    "stop took the most, 1.0 ms (11%)");
	assert_int_equal(figure(f, "stop_ns"), 1 * MS);
}

/* A device fails its stop-copy save: the migration fails, the guest runs on. */
static void test_failed(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	src_precopy(m);
	feed_vfio_op(m, SRC, 1002, SWACK_VFIO_SAVE_COMPLETE, -5);
	feed_state(m, SRC, 1003, "failed", 50 * MS);
	feed_state(m, DST, 1004, "failed", 0);
	d = run(x, -1);
	assert_string_equal(ids(d), "migration-failed");
	f = &d->f[0];
	assert_int_equal(f->score, 95);
	assert_string_equal(f->title, "migration failed after 1003.0 ms: device " DEV);
	assert_string_equal(f->detail, DEV " failed saving its stop-copy data (return -5)");
	assert_int_equal(figure(f, "total_ns"), 1003 * MS);
	assert_int_equal(f->nev, 2);
	assert_string_equal(f->ev[0].what, "vCPUs stopped (in the downtime)");
	assert_string_equal(f->ev[1].what, "migration state failed");
}

/* Pending falls from 100 MB to 60 MB over 8 iterations, never under the 10
 * MB threshold, and the migration is cancelled: no convergence, ranked above
 * the cancellation. */
static void test_no_convergence(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, SRC, 1, "active", 0);
	for (uint64_t i = 0; i <= 8; i++) {
		feed(m, SRC, 1 + i * 1000, SWACK_EV_DIRTY_SYNC);
		feed_exact(m, 2 + i * 1000, (100 - 5 * i) * MS, 10 * MS, i * 40 * MS);
	}
	feed_state(m, SRC, 9000, "cancelling", 0);
	feed_state(m, SRC, 9001, "cancelled", 0);
	model_flush(m);
	d = run(x, -1);
	assert_string_equal(ids(d), "no-convergence migration-cancelled");
	f = &d->f[0];
	assert_int_equal(f->score, 80);
	assert_int_equal(figure(f, "pending_first"), 100 * MS);
	assert_int_equal(figure(f, "pending_last"), 60 * MS);
	assert_int_equal(figure(f, "threshold"), 10 * MS);
	/* 40 MB a second sent while pending fell 5 MB: 35 MB dirtied again. */
	assert_int_equal(figure(f, "bandwidth_Bps"), 40 * MS);
	assert_int_equal(figure(f, "dirty_Bps"), 35 * MS);
	assert_true(strstr(f->advice, "dirties memory about as fast as it moves") != NULL);
	f = &d->f[1];
	assert_string_equal(f->title, "migration cancelled after 9001.0 ms, before switchover: "
			    "the guest never stopped");
}

/* ---- diagnose_ack.c: switchover-ack ----------------------------------------- */

/* Legacy ACK (8.1-11.0): the destination needs two approvals and gets one;
 * the source converges again and again until the migration is cancelled. */
static void test_ack_missing(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	feed_a(m, DST, 2, SWACK_EV_ACK_NEEDED, 2, 0);
	feed_a(m, DST, 5, SWACK_EV_ACK_APPROVE, 1, 0);
	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, SRC, 3, "active", 0);
	feed_pair(m, SRC, DST);
	feed_vfio_pending(m, 4, 32 * MS);
	for (uint64_t t = 100; t <= 400; t += 100)
		feed_exact(m, t, 5 * MS, 10 * MS, t * MS);
	feed_state(m, SRC, 500, "cancelling", 0);
	feed_state(m, SRC, 501, "cancelled", 0);
	feed_state(m, DST, 502, "failed", 0);
	model_flush(m);
	d = run(x, -1);
	assert_string_equal(ids(d), "ack-missing migration-cancelled");
	f = &d->f[0];
	assert_int_equal(f->score, 85);
	assert_int_equal(figure(f, "held_queries"), 4);
	/* From the first converged answer to the end: no switchover came. */
	assert_int_equal(figure(f, "held_ns"), 401 * MS);
	assert_int_equal(figure(f, "needed"), 2);
	assert_int_equal(figure(f, "approved"), 1);
	assert_string_equal(f->title, "switchover-ack never came: the source converged 4 times "
			    "over 401.0 ms and kept iterating until the migration was cancelled");
	/* Legacy approvals name no device: the one with initial bytes left is
	 * the one the ACK waits for. */
	assert_string_equal(f->detail, DEV " had the most initial bytes left, 32.0 MB");
	assert_int_equal(figure(f, "initial_left"), 32 * MS);
	assert_string_equal(f->advice, DEV " never finished its initial precopy data, so it "
			    "never approved: check that device, or migrate without the "
			    "switchover-ack capability");
}

/* Per-device ACKs (11.1): two asked, both come, then the device's initial
 * bytes grow again and a third is asked after an ACK. */
static void test_ack_delayed_rerequested(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, SRC, 3, "active", 0);
	feed_vfio_pending(m, 4, 32 * MS);
	feed_exact(m, 5, 200 * MS, 40 * MS, 0);
	feed_query(m, 6, 200 * MS, 2, 2);
	feed_vfio_pending(m, 100, 0);
	feed_exact(m, 200, 20 * MS, 40 * MS, 100 * MS);
	feed_a(m, SRC, 250, SWACK_EV_ACK_RECEIVED, 1, 0);
	feed_a(m, SRC, 300, SWACK_EV_ACK_RECEIVED, 0, 0);
	feed_vfio_pending(m, 310, 16 * MS);
	feed_query(m, 320, 20 * MS, 1, 1);
	feed_exact(m, 400, 20 * MS, 40 * MS, 120 * MS);
	feed_a(m, SRC, 600, SWACK_EV_ACK_RECEIVED, 0, 0);
	feed_exact(m, 700, 20 * MS, 40 * MS, 130 * MS);
	feed_a(m, SRC, 700, SWACK_EV_SWITCHOVER, 20 * MS, 40 * MS);
	feed(m, SRC, 701, SWACK_EV_VM_STOP);
	src_completes(m);
	dst_completes(m, 1012);
	d = run(x, -1);
	/* Guest-visible 311 ms, QEMU's 308 ms: close enough to say nothing. */
	assert_string_equal(ids(d), "ack-delayed ack-rerequested");
	f = &d->f[0];
	/* Held from the first converged answer (200 ms) to the switchover (700 ms),
	 * longer than the downtime: a warning that ranks with the causes. */
	assert_int_equal(f->score, 60);
	assert_int_equal(figure(f, "held_ns"), 500 * MS);
	/* Converged at 200, 320 (the query asking again), 400 and 700 ms; the
	 * last one was the switchover's, not held. */
	assert_int_equal(figure(f, "held_queries"), 3);
	assert_int_equal(figure(f, "acks_received"), 3);
	f = &d->f[1];
	assert_int_equal(f->score, 50);
	assert_int_equal(figure(f, "rerequests"), 1);
	assert_int_equal(figure(f, "requested"), 3);
	assert_int_equal(figure(f, "regrown_to"), 16 * MS);
	assert_string_equal(f->title, "1 switchover-ack re-requested after an ACK had come: "
			    DEV "'s initial bytes grew again to 16.0 MB");
}

/* Two ACKs arrive for one asked: the source's counter wraps to UINT32_MAX. */
static void test_ack_underflow(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, SRC, 3, "active", 0);
	feed_query(m, 5, 20 * MS, 1, 1);
	feed_a(m, SRC, 10, SWACK_EV_ACK_RECEIVED, 0, 0);
	feed_a(m, SRC, 11, SWACK_EV_ACK_RECEIVED, 4294967295ull, 0);
	feed_state(m, SRC, 12, "failed", 0);
	feed_state(m, DST, 13, "failed", 0);
	d = run(x, -1);
	assert_string_equal(ids(d), "migration-failed ack-underflow");
	assert_string_equal(d->f[0].title, "migration failed after 12.0 ms: switchover-ack "
			    "counter underflow");
	f = &d->f[1];
	assert_int_equal(f->score, 92);
	assert_int_equal(figure(f, "received"), 2);
	assert_int_equal(figure(f, "requested"), 1);
	assert_int_equal(f->nev, 2);
}

/* ---- diagnose_dev.c: devices ------------------------------------------------ */

/* The device's vmstate took 6 of the 8 ms saved in the downtime, and moved
 * 200 MB against an estimate of 64 MB. */
static void test_device_downtime(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	src_precopy(m);
	feed_vfio_pending(m, 995, 0);
	feed_vmstate(m, SRC, 1005, "ram", 1000, true);
	feed_vmstate(m, SRC, 1006, DEV "/vfio", 6000, true);
	feed_vmstate(m, SRC, 1007, "cpu", 1000, false);
	feed_vfio_op(m, SRC, 1006, SWACK_VFIO_SAVE_BLOCK, 200 * MS);
	src_completes(m);
	dst_completes(m, 1012);
	d = run(x, -1);
	assert_string_equal(ids(d), "device-downtime downtime-underreported downtime-breakdown");
	f = &d->f[0];
	assert_int_equal(f->score, 55);
	assert_int_equal(figure(f, "device_ns"), 6 * MS);
	assert_int_equal(figure(f, "share_pct"), 75);
	assert_int_equal(figure(f, "stop_copy_bytes"), 200 * MS);
	assert_int_equal(figure(f, "stop_copy_estimate"), 64 * MS);
	assert_true(strstr(f->advice, "underestimates its stop-copy data") != NULL);
}

/* The destination's load thread waits twice for multifd buffers. */
static void test_multifd_starved(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	src_precopy(m);
	feed_vfio_op(m, DST, 2, SWACK_VFIO_LOAD_THREAD_START, 0);
	feed_vfio_op(m, DST, 3, SWACK_VFIO_BUF_INCOMING, 0);
	feed_vfio_op(m, DST, 10, SWACK_VFIO_BUF_STARVED, 1);
	feed_vfio_op(m, DST, 14, SWACK_VFIO_BUF_INCOMING, 1);
	feed_vfio_op(m, DST, 20, SWACK_VFIO_BUF_STARVED, 2);
	feed_vfio_op(m, DST, 26, SWACK_VFIO_BUF_INCOMING, 2);
	feed_vfio_op(m, DST, 1009, SWACK_VFIO_LOAD_THREAD_END, 0);
	src_completes(m);
	dst_completes(m, 1012);
	d = run(x, -1);
	assert_string_equal(ids(d), "multifd-starved downtime-underreported downtime-breakdown");
	f = &d->f[0];
	assert_int_equal(figure(f, "starved"), 2);
	assert_int_equal(figure(f, "starved_ns"), 10 * MS);
	assert_int_equal(figure(f, "load_thread_ns"), 1007 * MS);
	assert_int_equal(figure(f, "buffers"), 3);
	assert_int_equal(f->nev, 2);
}

/* ---- diagnose_gate.c: swack gate's holds ---------------------------------- */

static void feed_hold(struct model *m, uint64_t ts, const char *reason)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_GATE_HOLD);

	e.a[0] = 30000 * MS;    /* max hold */
	e.a[1] = 1;             /* by a command */
	snprintf(e.str, sizeof(e.str), "%s", reason);
	model_feed(m, &e);
}

static void feed_release(struct model *m, uint64_t ts, uint64_t held_ms, int cause,
			 const char *reason)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_GATE_RELEASE);

	e.a[0] = held_ms * MS;
	e.a[1] = 7;             /* raised */
	e.a[2] = 9;             /* queries */
	e.a[4] = (uint64_t)cause;
	snprintf(e.str, sizeof(e.str), "%s", reason);
	model_feed(m, &e);
}

/* A hold placed at 200 ms, released by its deadline at 900 ms. */
static void test_switchover_held(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	dst_starts(m);
	feed_state(m, SRC, 0, "setup", 0);
	feed_hold(m, 200, "wait for \"window\"");
	src_precopy(m);
	feed_release(m, 900, 700, 2, "0.700s max-hold reached");
	src_completes(m);
	dst_completes(m, 1004);
	d = run(x, -1);
	assert_string_equal(ids(d), "switchover-held downtime-breakdown");
	f = &d->f[0];
	assert_int_equal(f->score, 38);
	assert_int_equal(figure(f, "held_ns"), 700 * MS);
	assert_int_equal(figure(f, "raised"), 7);
	assert_int_equal(figure(f, "queries"), 9);
	assert_int_equal(figure(f, "max_hold_ns"), 30000 * MS);
	assert_string_equal(f->title, "swack gate held the switchover for 0.70 s (\"wait for "
			    "\"window\"\"), released by deadline (\"0.700s max-hold reached\")");
	assert_true(strstr(f->advice, "ran into its deadline") != NULL);
}

/* ---- diagnose_snap.c: background snapshots ---------------------------------- */

static void feed_stall(struct model *m, uint64_t ts, uint32_t tid, uint64_t ns, uint64_t addr)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_UFFD_STALL);

	e.tid = SRC + 1;
	e.a[0] = ns;
	e.a[1] = tid;
	e.a[2] = 0xc018aa06;
	e.a[3] = addr;
	e.a[4] = 4096;
	snprintf(e.str, sizeof(e.str), "CPU %u/TCG", tid - 1000);
	model_feed(m, &e);
}

/* Write tracking from 2 to 502 ms; 50 stalls of 5 us and one of 20 ms. */
static void test_snapshot(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	feed_state(m, SRC, 1, "setup", 0);
	feed(m, SRC, 1, SWACK_EV_VM_STOP);
	feed_a(m, SRC, 2, SWACK_EV_WT_START, 0, 0);
	feed(m, SRC, 3, SWACK_EV_VM_RESUMED);
	for (uint64_t i = 0; i < 50; i++)
		feed_stall(m, 10 + i, 1000, 5000, 0x7f0000000000ull + i * 4096);
	feed_stall(m, 300, 1001, 20 * MS, 0x7f0000400000ull);
	feed_a(m, SRC, 502, SWACK_EV_WT_STOP, 0, 0);
	feed_state(m, SRC, 511, "completed", 1000000);
	model_advance(m, 600 * MS);
	assert_true(x->dn.src && x->dn.src->snap.seen);
	d = run(x, -1);
	/* No switchover: none of the downtime rules, the snapshot's own instead;
	 * p99 is the 20 ms stall, so the stalls as a whole are a problem too. */
	assert_string_equal(ids(d), "snapshot-stalls snapshot-worst-stall snapshot-thread-stalls "
			    "snapshot-hot-region snapshot-thread-stalls");
	f = &d->f[0];
	assert_int_equal(f->score, 88);
	assert_int_equal(figure(f, "faults"), 51);
	assert_int_equal(figure(f, "p99_ns"), 20 * MS);
	assert_int_equal(figure(f, "max_ns"), 20 * MS);
	assert_int_equal(figure(f, "tracking_ns"), 500 * MS);
	f = &d->f[1];
	assert_int_equal(f->score, 87);
	assert_string_equal(f->title, "longest stall 20.000 ms, thread 1001, 0.299 s into the "
			    "snapshot, page 0x7f0000400000");
	assert_int_equal(f->ev[0].ts, 280 * MS);     /* it began 20 ms before its wake-up */
}

/* ---- diagnose_postcopy.c ------------------------------------------------------ */

static void feed_step(struct model *m, uint32_t pid, uint64_t ts, int step, uint32_t flags)
{
	struct swack_event e = ev(pid, ts, SWACK_EV_PC_STEP);

	e.a[0] = step;
	e.flags = flags;
	model_feed(m, &e);
}

/* tid's missing fault on page, read at from_ms, its thread asleep until to_ms. */
static void feed_missing(struct model *m, uint32_t tid, uint64_t page, uint64_t from_ms,
			 uint64_t to_ms)
{
	struct swack_event e = ev(DST, to_ms, SWACK_EV_UFFD_STALL);

	feed_a(m, DST, from_ms, SWACK_EV_UFFD_FAULT, page, 0);
	feed_a(m, DST, from_ms, SWACK_EV_PC_REQUEST, page, 0);
	e.a[0] = (to_ms - from_ms) * MS;
	e.a[1] = tid;
	e.a[3] = page;
	e.a[4] = 4096;
	snprintf(e.str, sizeof(e.str), "CPU %u/TCG", tid - 1001);
	model_feed(m, &e);
	feed_a(m, DST, to_ms, SWACK_EV_PC_RESOLVE, page, (to_ms - from_ms) * MS);
}

/* Switched with 90% of RAM still to send (13-51 ms, 25 ms of discard bitmap),
 * then vCPU 0 faults 20 times back to back (60-240 ms) in one 2 MiB region,
 * vCPU 1 once (100-150 ms); the destination pauses 160-170 ms. */
static void test_postcopy(void **state)
{
	struct fx *x = *state;
	struct model *m = &x->m;
	struct diagnosis *d;
	const struct finding *f;

	feed_pair(m, SRC, DST);
	feed_state(m, SRC, 1, "setup", 0);
	feed_state(m, DST, 1, "active", 0);
	feed_state(m, SRC, 2, "active", 0);
	feed_exact(m, 3, 500000000, 0, 0);
	feed_step(m, SRC, 10, SWACK_PC_START_CMD, 0);
	feed_exact(m, 11, 450000000, 0, 0);
	feed_state(m, SRC, 12, "postcopy-active", 0);
	feed(m, SRC, 13, SWACK_EV_VM_STOP);
	feed(m, SRC, 14, SWACK_EV_VM_STOPPED);
	feed_step(m, SRC, 15, SWACK_PC_DISCARD_BITMAP, 0);
	feed_step(m, SRC, 40, SWACK_PC_DISCARD_BITMAP, SWACK_F_END);
	feed_step(m, SRC, 44, SWACK_PC_PACKAGE_SENT, 0);
	feed_step(m, SRC, 45, SWACK_PC_PACKAGE_SENT, SWACK_F_END);
	feed_a(m, DST, 47, SWACK_EV_PC_VCPU, 0, 1001);
	feed_a(m, DST, 47, SWACK_EV_PC_VCPU, 1, 1002);
	feed_state(m, DST, 48, "postcopy-active", 0);
	feed(m, DST, 51, SWACK_EV_VM_RESUMED);
	for (uint64_t i = 0; i < 20; i++)
		feed_missing(m, 1001, 0x7f0000000000ull + (i + 1) * 4096, 60 + 9 * i, 69 + 9 * i);
	feed_missing(m, 1002, 0x7f0000100000ull, 100, 150);
	feed_state(m, DST, 160, "postcopy-paused", 0);
	feed_step(m, DST, 165, SWACK_PC_RECOVER_CMD, 0);
	feed_state(m, DST, 170, "postcopy-active", 0);
	feed_state(m, DST, 260, "completed", 0);
	feed_state(m, SRC, 261, "completed", 0);
	d = run(x, -1);
	assert_string_equal(ids(d), "postcopy-vcpu-blocked postcopy-paused postcopy-blocktime "
			    "postcopy-early-switch postcopy-hot-region postcopy-faults "
			    "postcopy-switch");
	f = find(d, "postcopy-vcpu-blocked");
	assert_int_equal(f->score, 85);                 /* 180 of 212 ms */
	assert_int_equal(figure(f, "vcpu"), 0);
	assert_int_equal(figure(f, "blocked_ns"), 180 * MS);
	assert_int_equal(figure(f, "faults"), 20);
	assert_true(strstr(f->advice, "postcopy-preempt") != NULL);
	assert_int_equal(figure(find(d, "postcopy-blocktime"), "blocktime_ns"), 50 * MS);
	assert_int_equal(figure(find(d, "postcopy-paused"), "paused_ns"), 10 * MS);
	assert_int_equal(figure(find(d, "postcopy-early-switch"), "pending_bytes"), 450000000);
	assert_int_equal(figure(find(d, "postcopy-hot-region"), "faults"), 21);
	assert_int_equal(figure(find(d, "postcopy-faults"), "requests"), 21);
	f = find(d, "postcopy-switch");
	assert_int_equal(figure(f, "pause_ns"), 38 * MS);
	assert_int_equal(figure(f, "discard_bitmap"), 25 * MS);
	assert_true(!strncmp(f->advice, "the discard bitmap", 18));
}

/* ---- diagnose_out.c: the JSON of a diagnosis ------------------------------ */

/* Every string escaped (quotes, a line break, a backslash); integer figures
 * without decimals, ratios with six; the VM's name and UUID after the pids,
 * null where unknown. */
static void test_json(void **state)
{
	struct diagnosis *d = calloc(1, sizeof(*d));
	struct mig *g = calloc(1, sizeof(*g));
	struct vm_ident id = { .pid = SRC, .name = "web \"1\"", .via = "-name" };
	char buf[2048] = "";
	struct finding *f;
	struct model m;
	struct jw j;
	FILE *out;

	(void)state;
	model_init(&m, NULL, NULL);
	model_note_vm(&m, &id);
	g->model = &m;
	g->pid = SRC;
	g->state = MS_COMPLETED;
	d->src = g;
	d->t0 = 1000 * MS;
	d->guest_ns = -1;
	d->qemu_ns = 9 * MS;
	d->limit_ns = -1;
	d->n = 1;
	f = &d->f[0];
	f->id = "switchover-held";
	f->score = 38;
	snprintf(f->title, sizeof(f->title), "held (\"a \"b\"\nc\\\")");
	f->fig[f->nfig++] = (struct figure){ "held_ns", 7e8 };
	f->fig[f->nfig++] = (struct figure){ "ratio", 2.5 };
	f->ev[f->nev++] = (struct evidence){ 1200 * MS + 2000, "src", "gate_hold" };
	out = fmemopen(buf, sizeof(buf), "w");
	jw_init(&j, out, 0);
	diag_json(&j, d);
	fclose(out);
	assert_string_equal(buf,
		"{\"src_pid\":100,\"dst_pid\":-1,\"vm\":\"web \\\"1\\\"\",\"uuid\":null,"
		"\"state\":\"completed\",\"guest_downtime_ns\":-1,"
		"\"qemu_downtime_ns\":9000000,\"limit_ns\":-1,\"limit_from\":\"unknown\","
		"\"findings\":[{\"rank\":1,\"id\":\"switchover-held\",\"severity\":\"info\","
		"\"score\":38,\"title\":\"held (\\\"a \\\"b\\\"\\u000ac\\\\\\\")\",\"detail\":\"\","
		"\"advice\":\"\",\"figures\":{\"held_ns\":700000000,\"ratio\":2.500000},"
		"\"evidence\":[{\"ts\":1200002000,\"t_ms\":200.002,\"side\":\"src\","
		"\"what\":\"gate_hold\"}]}]}\n");
	model_free(&m);
	free(g);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_over_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_convergence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_delayed_rerequested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_underflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_downtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifd_starved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switchover_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postcopy, setup, teardown),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
