// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the model: event sequences in, figures out.  No BPF. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/figures.h"
#include "model/model.h"
#include "event/event.h"
#include "diagnose/snapshot_findings.h"
#include "util/json.h"

#define MS 1000000ull
#define SRC 100
#define DST 200

struct done_log {
	int calls;
	const struct mig *src, *dst;
	uint32_t first_pid;           /* first_pid(): of the first migration reported */
};

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct done_log *log = ctx;

	log->calls++;
	log->src = src;
	log->dst = dst;
}

static struct swack_event ev(uint32_t pid, uint64_t ts_ms, int kind, int role)
{
	struct swack_event e = { .pid = pid, .tid = pid, .ts = ts_ms * MS,
				 .kind = kind, .role = role };
	return e;
}

static void feed_state(struct model *m, uint32_t pid, uint64_t ts, const char *state,
		       uint64_t tx)
{
	struct swack_event e = ev(pid, ts, SWACK_EV_MIG_STATE, 0);

	snprintf(e.str, sizeof(e.str), "%s", state);
	e.tx_bytes = tx;
	model_feed(m, &e);
}

static void feed(struct model *m, uint32_t pid, uint64_t ts, int kind, uint64_t tx)
{
	struct swack_event e = ev(pid, ts, kind, 0);

	e.tx_bytes = tx;
	model_feed(m, &e);
}

/* The live source pairs a source and a destination through their TCP link. */
static void feed_pair(struct model *m, uint32_t src, uint32_t dst)
{
	struct swack_event e = ev(src, 0, SWACK_EV_PAIR, SWACK_ROLE_SRC);

	e.a[0] = src;
	e.a[1] = dst;
	model_feed(m, &e);
}

/* A dirty sync as BPF reports it: what the iteration sent and in how long. */
static void feed_sync(struct model *m, uint64_t ts, uint64_t bytes, uint64_t ms)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_DIRTY_SYNC, SWACK_ROLE_SRC);

	e.a[0] = bytes;
	e.a[1] = ms * MS;
	e.a[2] = bytes * 1000 / ms;
	e.tx_bytes = bytes;
	model_feed(m, &e);
}

static void feed_pending(struct model *m, uint64_t ts, uint64_t pre, uint64_t thresh)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_PENDING, SWACK_ROLE_SRC);

	e.a[0] = pre;
	e.a[3] = thresh;
	model_feed(m, &e);
}

/* A 7.2-shaped precopy migration: 3 syncs, stop at 1000 ms, resume at 1012 ms. */
static void play_72(struct model *m)
{
	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, DST, 1, "active", 0);
	feed(m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(m, SRC, 2, SWACK_EV_SAVE_SETUP, 0);
	feed(m, SRC, 3, SWACK_EV_DIRTY_SYNC, 0);
	feed_state(m, SRC, 3, "active", 0);
	feed_pending(m, 4, 500000000, 40000000);
	feed_sync(m, 500, 20000000, 497);
	feed_pending(m, 990, 30000000, 40000000);
	feed(m, SRC, 990, SWACK_EV_SWITCHOVER, 40000000);
	feed(m, SRC, 1000, SWACK_EV_VM_STOP, 40000000);
	feed(m, SRC, 1001, SWACK_EV_VM_STOPPED, 40000000);
	feed(m, SRC, 1002, SWACK_EV_DIRTY_SYNC, 40000000);
	feed(m, DST, 1010, SWACK_EV_LOAD_END, 0);
	feed(m, DST, 1011, SWACK_EV_VM_START, 0);
	feed_state(m, SRC, 1009, "completed", 70000000);
	feed(m, DST, 1012, SWACK_EV_VM_RESUMED, 0);
	feed_state(m, DST, 1013, "completed", 0);
}

static void test_pair_by_time(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	play_72(&m);
	assert_int_equal(log.calls, 1);
	assert_non_null(log.src);
	assert_non_null(log.dst);
	assert_int_equal(log.src->pid, SRC);
	assert_int_equal(log.dst->pid, DST);
	assert_int_equal(log.src->iterations, 3);
	assert_int_equal(log.src->queries, 2);
	assert_int_equal(mig_bytes(log.src), 70000000);
	assert_int_equal(mig_qemu_downtime_ns(log.src), 9 * MS);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 12 * MS);
	assert_int_equal(mig_total_ns(log.src), 1009 * MS);
	assert_int_equal(log.src->t_switchover, 990 * MS);
	/* No QEMU figure: bytes over the last second of sending (70 MB since 0 ms),
	 * and over the transfer from "active" (3 ms) to the last byte (1009 ms). */
	assert_int_equal(log.src->bw, (uint64_t)(70000000 * 1e9 / (1009 * MS)));
	assert_int_equal(log.src->bw_from, BW_BYTES);
	assert_int_equal(mig_avg_bw(log.src), (uint64_t)(70000000 * 1e9 / (1006 * MS)));
	assert_int_equal(log.src->paired_by, PAIR_TIME);
	model_free(&m);
}

/* Two VMs migrate at once: each destination pairs with its own VM's source
 * (by UUID), though both sources stopped while both destinations loaded. */
static void test_pair_by_time_same_vm(void **state)
{
	struct vm_ident id[4] = { { .pid = SRC, .uuid = "a" }, { .pid = DST, .uuid = "a" },
				  { .pid = SRC + 1, .uuid = "b" }, { .pid = DST + 1, .uuid = "b" } };
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	for (int i = 0; i < 4; i++)
		model_note_vm(&m, &id[i]);
	feed(&m, DST + 1, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(&m, DST, 2, SWACK_EV_LOAD_BEGIN, 0);
	feed_state(&m, SRC + 1, 3, "setup", 0);
	feed_state(&m, SRC, 4, "setup", 0);
	feed(&m, SRC + 1, 5, SWACK_EV_SAVE_SETUP, 0);
	feed(&m, SRC, 6, SWACK_EV_SAVE_SETUP, 0);
	feed(&m, SRC + 1, 10, SWACK_EV_VM_STOP, 0);
	feed(&m, SRC, 11, SWACK_EV_VM_STOP, 0);
	feed_state(&m, SRC + 1, 20, "completed", 0);
	feed_state(&m, SRC, 21, "completed", 0);
	feed(&m, DST, 30, SWACK_EV_VM_RESUMED, 0);
	feed_state(&m, DST, 31, "completed", 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.src->pid, SRC);
	assert_int_equal(log.dst->pid, DST);
	feed(&m, DST + 1, 40, SWACK_EV_VM_RESUMED, 0);
	feed_state(&m, DST + 1, 41, "completed", 0);
	assert_int_equal(log.calls, 2);
	assert_int_equal(log.src->pid, SRC + 1);
	assert_int_equal(log.dst->pid, DST + 1);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 30 * MS);
	model_free(&m);
}

static void test_waits_for_destination(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(&m, SRC, 2, SWACK_EV_SAVE_SETUP, 0);
	feed(&m, SRC, 10, SWACK_EV_VM_STOP, 0);
	feed_state(&m, SRC, 20, "completed", 0);
	/* The destination is still loading: no summary yet. */
	assert_int_equal(log.calls, 0);
	feed(&m, DST, 30, SWACK_EV_VM_RESUMED, 0);
	feed_state(&m, DST, 31, "completed", 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 20 * MS);
	model_free(&m);
}

static void test_source_alone(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, SRC, 1, SWACK_EV_SAVE_SETUP, 0);
	feed(&m, SRC, 5, SWACK_EV_VM_STOP, 0);
	feed_state(&m, SRC, 8, "completed", 1000);
	assert_int_equal(log.calls, 1);
	assert_null(log.dst);
	assert_int_equal(mig_guest_downtime_ns(log.src, NULL), -1);
	assert_int_equal(mig_qemu_downtime_ns(log.src), 3 * MS);
	assert_int_equal(mig_bytes(log.src), 1000);
	model_free(&m);
}

static void test_failed_and_noop(void **state)
{
	struct done_log log = { 0 };
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, SRC, 1, SWACK_EV_SAVE_SETUP, 0);
	e = ev(SRC, 2, SWACK_EV_MIG_STATE, SWACK_ROLE_SRC);
	snprintf(e.str, sizeof(e.str), "completed");
	e.flags = SWACK_F_NOOP;
	model_feed(&m, &e);
	assert_int_equal(log.calls, 0);
	assert_int_equal(m.head->nstates, 1);
	feed_state(&m, SRC, 3, "failed", 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.src->state, MS_FAILED);
	assert_int_equal(mig_qemu_downtime_ns(log.src), -1);
	model_free(&m);
}

static void test_explicit_pair_and_second_migration(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	play_72(&m);
	/* The same source migrates again, to a destination paired by TCP. */
	feed_state(&m, SRC, 2000, "setup", 70000000);
	feed(&m, SRC, 2001, SWACK_EV_SAVE_SETUP, 70000000);
	feed_state(&m, 300, 2002, "active", 0);
	feed(&m, 300, 2002, SWACK_EV_LOAD_BEGIN, 0);
	feed_pair(&m, SRC, 300);
	feed(&m, SRC, 2500, SWACK_EV_VM_STOP, 90000000);
	feed_state(&m, SRC, 2510, "completed", 100000000);
	assert_int_equal(log.calls, 1);
	feed(&m, 300, 2520, SWACK_EV_VM_RESUMED, 0);
	feed_state(&m, 300, 2521, "completed", 0);
	assert_int_equal(log.calls, 2);
	assert_int_equal(log.src->seq, 2);
	assert_int_equal(log.dst->pid, 300);
	assert_int_equal(log.dst->paired_by, PAIR_TCP);
	assert_int_equal(mig_bytes(log.src), 30000000);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 20 * MS);
	assert_int_equal(m.nmigs, 4);
	model_free(&m);
}

static void test_usdt_figures(void **state)
{
	struct done_log log = { 0 };
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	e = ev(SRC, 100, SWACK_EV_TRANSFERRED, SWACK_ROLE_SRC);
	e.origin = SWACK_ORIGIN_USDT;
	e.a[0] = 100000000;
	e.a[2] = 40000; /* bytes per ms */
	e.a[4] = 4000000;
	model_feed(&m, &e);
	e.a[0] = 23456789;
	model_feed(&m, &e);
	e = ev(SRC, 200, SWACK_EV_CHECKPOINT, SWACK_ROLE_SRC);
	snprintf(e.str, sizeof(e.str), "src-downtime-start");
	model_feed(&m, &e);
	e.ts = 207 * MS;
	snprintf(e.str, sizeof(e.str), "src-downtime-end");
	model_feed(&m, &e);
	feed_state(&m, SRC, 210, "completed", 0);
	model_flush(&m);
	assert_int_equal(log.calls, 1);
	/* No channel seen: QEMU's own count, said so. */
	assert_int_equal(mig_bytes(log.src), 123456789);
	assert_true(mig_bytes_from_qemu(log.src));
	assert_int_equal(log.src->bw, 40000000);
	assert_int_equal(log.src->bw_from, BW_QEMU);
	/* Over the time QEMU's count covers: from the first event to its last update. */
	assert_int_equal(mig_avg_bw(log.src), (uint64_t)(123456789 * 1e9 / (100 * MS)));
	assert_int_equal(log.src->threshold, 4000000);
	assert_int_equal(mig_qemu_downtime_ns(log.src), 7 * MS);
	assert_int_equal(mig_downtime_limit_ns(log.src), 100 * MS);
	model_free(&m);
}

/* A dtrace build: QEMU's migrate_transferred stops at its last bandwidth
 * update, the stream goes on to the end (the 1-13% a summary lost). */
static void test_stream_bytes_over_qemu_count(void **state)
{
	struct done_log log = { 0 };
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 1000);
	feed_state(&m, SRC, 1, "active", 1100);
	e = ev(SRC, 101, SWACK_EV_TRANSFERRED, SWACK_ROLE_SRC);
	e.origin = SWACK_ORIGIN_USDT;
	e.a[0] = 4000000;
	e.a[1] = 100;
	e.a[2] = 40000;
	e.a[4] = 12000000;
	e.tx_bytes = 1000 + 4000000;
	model_feed(&m, &e);
	/* The last window carried nothing: QEMU's earlier figure stands. */
	e.ts = 201 * MS;
	e.a[0] = e.a[2] = 0;
	model_feed(&m, &e);
	feed_state(&m, SRC, 250, "completed", 1000 + 6000000);
	model_flush(&m);
	assert_int_equal(log.calls, 1);
	assert_int_equal(mig_bytes(log.src), 6000000);
	assert_false(mig_bytes_from_qemu(log.src));
	assert_int_equal(log.src->qemu_bytes, 4000000);
	assert_int_equal(log.src->bw, 40000000);
	assert_int_equal(log.src->bw_from, BW_QEMU);
	assert_int_equal(mig_avg_bw(log.src), (uint64_t)(6000000 * 1e9 / (249 * MS)));
	model_free(&m);
}

/* Bytes over time: from the newest sample at least a second back, else the
 * oldest; samples closer than 25 ms to the previous are not kept. */
static void test_rate_window(void **state)
{
	struct rate_ring r = { 0 };

	(void)state;
	assert_int_equal(rate_over_window(&r, 5 * MS, 100), 0);
	rate_sample(&r, 0, 0);
	rate_sample(&r, 10 * MS, 999);             /* too close: dropped */
	assert_int_equal(r.n, 1);
	assert_int_equal(rate_over_window(&r, 500 * MS, 50000000), 100000000);
	for (uint64_t t = 100; t <= 3000; t += 100)
		rate_sample(&r, t * MS, t * 40000);   /* 40 MB/s */
	/* A second back from 3000 ms is the 2000 ms sample: 40 MB over 1 s. */
	assert_int_equal(rate_over_window(&r, 3000 * MS, 3000 * 40000), 40000000);
	/* Samples at or after now do not count. */
	assert_int_equal(rate_over_window(&r, 2500 * MS, 2500 * 40000), 40000000);
	/* The ring forgets the oldest: 64 samples. */
	for (uint64_t t = 3100; t <= 9900; t += 100)
		rate_sample(&r, t * MS, 3000 * 40000);
	assert_int_equal(r.n, RATE_SAMPLES);
	assert_int_equal(rate_over_window(&r, 9950 * MS, 3000 * 40000), 0);
}

/* A migration up to the destination's start, which announces a vCPU entry. */
static void play_resume(struct model *m)
{
	struct swack_event e;

	feed_state(m, SRC, 0, "setup", 0);
	feed_state(m, DST, 1, "active", 0);
	feed(m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(m, SRC, 2, SWACK_EV_SAVE_SETUP, 0);
	feed(m, SRC, 100, SWACK_EV_VM_STOP, 5000);
	feed(m, SRC, 101, SWACK_EV_VM_STOPPED, 5000);
	e = ev(SRC, 108, SWACK_EV_SAVE_COMPLETE, 0);
	e.flags = SWACK_F_END;
	model_feed(m, &e);
	feed(m, DST, 110, SWACK_EV_LOAD_END, 0);
	feed_state(m, SRC, 111, "completed", 9000);
	e = ev(DST, 112, SWACK_EV_VM_START, 0);
	e.flags = SWACK_F_RUN_NEXT;
	model_feed(m, &e);
	e = ev(DST, 113, SWACK_EV_VM_RESUMED, 0);
	e.flags = SWACK_F_RUN_NEXT;
	model_feed(m, &e);
	feed_state(m, DST, 114, "completed", 0);
}

static void test_vcpu_run_ends_window(void **state)
{
	struct done_log log = { 0 };
	struct breakdown b;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	play_resume(&m);
	/* Announced, not yet seen: the destination is not done. */
	assert_int_equal(log.calls, 0);
	feed(&m, DST, 150, SWACK_EV_VCPU_RUN, 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 50 * MS);
	assert_int_equal(mig_resume_ts(log.dst), 150 * MS);
	mig_breakdown(log.src, log.dst, &b);
	assert_int_equal(b.ns[PH_DST_START], 2 * MS);
	assert_int_equal(b.ns[PH_VCPU_START], 38 * MS);
	assert_int_equal(b.total_ns, 50 * MS);
	model_free(&m);
}

/* Without the announcement (no vCPU entry visible), vm_start's end is it. */
static void test_vm_start_without_run(void **state)
{
	struct done_log log = { 0 };
	struct breakdown b;
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(&m, SRC, 2, SWACK_EV_SAVE_SETUP, 0);
	feed(&m, SRC, 100, SWACK_EV_VM_STOP, 0);
	feed(&m, SRC, 101, SWACK_EV_VM_STOPPED, 0);
	feed(&m, SRC, 105, SWACK_EV_SAVE_COMPLETE, 0);
	e = ev(SRC, 106, SWACK_EV_SAVE_COMPLETE, 0);
	e.flags = SWACK_F_END;
	model_feed(&m, &e);
	feed(&m, DST, 110, SWACK_EV_LOAD_END, 0);
	feed_state(&m, SRC, 111, "completed", 0);
	feed(&m, DST, 112, SWACK_EV_VM_START, 0);
	feed(&m, DST, 113, SWACK_EV_VM_RESUMED, 0);
	feed_state(&m, DST, 114, "completed", 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 13 * MS);
	mig_breakdown(log.src, log.dst, &b);
	assert_int_equal(b.ns[PH_DST_START], 3 * MS);
	assert_int_equal(b.ns[PH_VCPU_START], -1);
	assert_int_equal(b.total_ns, 13 * MS);
	/* A later start of the same process (no migration) changes nothing. */
	feed(&m, DST, 500, SWACK_EV_VCPU_RUN, 0);
	assert_int_equal(log.dst->t_run, 0);
	model_free(&m);
}

static void test_flush_reports_open(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, SRC, 1, SWACK_EV_SAVE_SETUP, 0);
	/* Events that open nothing are ignored. */
	feed(&m, 999, 1, SWACK_EV_VM_RESUMED, 0);
	assert_int_equal(m.nmigs, 1);
	model_flush(&m);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.src->state, MS_SETUP);
	model_flush(&m);
	assert_int_equal(log.calls, 1);
	model_free(&m);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_int_equal(mstate_from_name("completed"), MS_COMPLETED);
	assert_int_equal(mstate_from_name("postcopy-device"), MS_POSTCOPY);
	assert_int_equal(mstate_from_name("wait-unplug"), MS_OTHER);
	assert_string_equal(mstate_name(MS_PRE_SWITCHOVER), "pre-switchover");
	assert_true(mstate_terminal(MS_CANCELLED));
	assert_false(mstate_terminal(MS_CANCELLING));
}

/* A hold placed before the migration and released during it belongs to it;
 * one on another process, or released before it began, does not; gate
 * events make no migration of their own. */
static void test_gate_holds(void **state)
{
	const struct gate_note *h[4];
	struct done_log log = { 0 };
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	e = ev(SRC, 1, SWACK_EV_GATE_HOLD, 0);
	snprintf(e.str, sizeof(e.str), "early");
	model_feed(&m, &e);
	e = ev(SRC, 2, SWACK_EV_GATE_RELEASE, 0);
	model_feed(&m, &e);
	e = ev(DST, 3, SWACK_EV_GATE_HOLD, 0);
	model_feed(&m, &e);
	e = ev(SRC, 4, SWACK_EV_GATE_HOLD, 0);
	e.a[0] = 30000 * MS;
	e.a[1] = 1;
	snprintf(e.str, sizeof(e.str), "window");
	model_feed(&m, &e);
	assert_int_equal(m.nmigs, 0);
	feed_state(&m, SRC, 10, "setup", 0);
	feed(&m, SRC, 11, SWACK_EV_SAVE_SETUP, 0);
	e = ev(SRC, 500, SWACK_EV_GATE_RELEASE, 0);
	e.a[1] = 40;
	e.a[2] = 45;
	e.a[4] = 1;
	model_feed(&m, &e);
	feed(&m, SRC, 505, SWACK_EV_VM_STOP, 0);
	feed_state(&m, SRC, 508, "completed", 1000);
	assert_int_equal(log.calls, 1);
	assert_int_equal(mig_gate_holds(log.src, h, 4), 1);
	assert_string_equal(h[0]->reason, "window");
	assert_int_equal(h[0]->t_release - h[0]->t_hold, 496 * MS);
	assert_int_equal(h[0]->raised, 40);
	assert_int_equal(h[0]->queries, 45);
	assert_int_equal(h[0]->cause, 1);
	model_free(&m);
}

/* A hold with no release (its gate killed) ends at its max-hold, by the
 * clock or by a later event; a release that comes after all (the gate's own,
 * or a later gate run's "gate died") takes its place. */
static void test_hold_ends_at_max_hold(void **state)
{
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	e = ev(SRC, 100, SWACK_EV_GATE_HOLD, 0);
	e.a[0] = 3000 * MS;
	model_feed(&m, &e);
	model_advance(&m, 3099 * MS);
	assert_int_equal(m.gate[0].t_release, 0);
	model_advance(&m, 3100 * MS);
	assert_int_equal(m.gate[0].t_release, 3100 * MS);
	assert_int_equal(m.gate[0].cause, 2);
	assert_true(m.gate[0].assumed);
	assert_string_equal(m.gate[0].release_reason, "max-hold passed, no release logged");
	e = ev(SRC, 5000, SWACK_EV_GATE_RELEASE, 0);
	e.a[4] = 6;
	snprintf(e.str, sizeof(e.str), "swack gate run 7 died holding it");
	model_feed(&m, &e);
	assert_int_equal(m.gate[0].t_release, 5000 * MS);
	assert_int_equal(m.gate[0].cause, 6);
	assert_false(m.gate[0].assumed);
	assert_string_equal(gate_cause_name(6), "gate-died");
	/* A second hold, ended by a later event of a recording; none without a max-hold. */
	e = ev(DST, 6000, SWACK_EV_GATE_HOLD, 0);
	e.a[0] = 1000 * MS;
	model_feed(&m, &e);
	e = ev(SRC, 6500, SWACK_EV_GATE_HOLD, 0);
	model_feed(&m, &e);
	feed_state(&m, SRC, 9000, "setup", 0);
	assert_int_equal(m.gate[1].t_release, 7000 * MS);
	assert_true(m.gate[1].assumed);
	assert_int_equal(m.gate[2].t_release, 0);
	model_free(&m);
}

static void test_event_text_and_json(void **state)
{
	struct swack_event e = ev(SRC, 1500, SWACK_EV_PENDING, SWACK_ROLE_SRC);
	char buf[512];
	FILE *f;

	(void)state;
	e.tid = 101;
	e.a[0] = 7;
	e.a[2] = 9;
	e.a[3] = 100;
	e.a[4] = ~0ULL;
	e.flags = SWACK_F_EXACT;
	f = fmemopen(buf, sizeof(buf), "w");
	event_print_text(f, &e, 500 * MS);
	fclose(f);
	assert_string_equal(buf, "    1.000000     100/101     src pending            precopy=7 "
			    "compat=0 postcopy=9 threshold=100 exact\n");
	snprintf(e.str, sizeof(e.str), "a\"b");
	e.kind = SWACK_EV_CHECKPOINT;
	f = fmemopen(buf, sizeof(buf), "w");
	event_print_json(f, &e);
	fclose(f);
	assert_string_equal(buf, "{\"ts\":1500000000,\"pid\":100,\"tid\":101,\"role\":\"src\","
			    "\"event\":\"checkpoint\",\"name\":\"a\\\"b\",\"flags\":1,"
			    "\"tx_bytes\":0}\n");
	e = ev(SRC, 1500, SWACK_EV_GATE_RELEASE, 0);
	e.a[0] = 2500 * MS;
	e.a[1] = 3;
	e.a[2] = 4;
	e.a[4] = 2;
	snprintf(e.str, sizeof(e.str), "max \"hold\"");
	f = fmemopen(buf, sizeof(buf), "w");
	event_print_text(f, &e, 500 * MS);
	fclose(f);
	assert_string_equal(buf, "    1.000000     100/100     -   gate_release       "
			    "reason=\"max 'hold'\" cause=deadline held=2.500s raised=3 queries=4 "
			    "missed=0\n");
}

static void test_series_thinning(void **state)
{
	struct series *s = calloc(1, sizeof(*s));

	(void)state;
	for (int i = 0; i < 300; i++)
		series_add(s, (uint64_t)i, i * 10, 0);
	/* Thinned twice: every 4th sample, spread over the whole span. */
	assert_int_equal(s->n, 75);
	assert_int_equal(s->stride, 4);
	for (uint32_t i = 0; i < s->n; i++) {
		assert_int_equal(s->s[i].ts, 4 * i);
		assert_int_equal(s->s[i].v, 40 * i);
	}
	free(s);
}

static void feed_exact(struct model *m, uint64_t ts, uint64_t pending, uint64_t tx)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_PENDING, SWACK_ROLE_SRC);

	e.a[0] = pending;
	e.a[3] = 10000000;
	e.flags = SWACK_F_EXACT;
	e.tx_bytes = tx;
	model_feed(m, &e);
}

static void test_convergence(void **state)
{
	struct convergence c;
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	feed_state(&m, SRC, 0, "active", 0);
	feed_exact(&m, 0, 100000000, 0);
	feed_exact(&m, 1000, 60000000, 50000000);
	feed_exact(&m, 2000, 30000000, 90000000);
	mig_convergence(m.head, &c);
	assert_true(c.known);
	assert_false(c.converged);
	assert_int_equal(c.first, 100000000);
	assert_int_equal(c.last, 30000000);
	/* Rates from the second sample: the first pass says nothing of them.
	 * 40 MB sent in 1 s while pending fell by 30 MB: 10 MB dirtied again. */
	assert_int_equal(c.span_ns, 1000 * MS);
	assert_int_equal(c.sent, 40000000);
	assert_int_equal(c.bw_Bps, 40000000);
	assert_int_equal(c.dirty_Bps, 10000000);
	/* Without QEMU's own bandwidth the limit is not known. */
	assert_int_equal(mig_downtime_limit_ns(m.head), -1);
	feed_exact(&m, 3000, 5000000, 120000000);
	mig_convergence(m.head, &c);
	assert_true(c.converged);
	assert_int_equal(c.last, 5000000);
	model_free(&m);
}

static void feed_buf(struct model *m, uint64_t ts, int op, uint32_t idx)
{
	struct swack_event e = ev(DST, ts, SWACK_EV_VFIO_OP, SWACK_ROLE_DST);

	snprintf(e.dev, sizeof(e.dev), "0000:3b:00.1");
	e.a[0] = (uint64_t)op;
	e.a[1] = idx;
	model_feed(m, &e);
}

static void test_starved_waits(void **state)
{
	const struct dev_state *d;
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	feed_state(&m, DST, 0, "active", 0);
	feed_buf(&m, 1, SWACK_VFIO_BUF_INCOMING, 0);
	feed_buf(&m, 10, SWACK_VFIO_BUF_STARVED, 2);
	feed_buf(&m, 12, SWACK_VFIO_BUF_INCOMING, 3);
	feed_buf(&m, 18, SWACK_VFIO_BUF_INCOMING, 2);
	feed_buf(&m, 20, SWACK_VFIO_BUF_STARVED, 4);
	feed_buf(&m, 25, SWACK_VFIO_BUF_INCOMING, 4);
	d = &m.head->devs[0];
	assert_int_equal(d->starved, 2);
	assert_int_equal(d->bufs_in, 4);
	assert_int_equal(d->starves[0].idx, 2);
	assert_int_equal(d->starves[0].wait_ns, 8 * MS);
	assert_int_equal(d->starves[1].wait_ns, 5 * MS);
	assert_int_equal(d->starved_ns, 13 * MS);
	model_free(&m);
}

static void test_acks_series(void **state)
{
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	e = ev(DST, 1, SWACK_EV_ACK_NEEDED, SWACK_ROLE_DST);
	e.a[0] = 3;
	model_feed(&m, &e);
	for (uint64_t left = 3; left-- > 0;) {
		e = ev(DST, 10 - left, SWACK_EV_ACK_APPROVE, SWACK_ROLE_DST);
		e.a[0] = left;
		model_feed(&m, &e);
	}
	assert_int_equal(m.head->acks_s.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(m.head->acks_s.s[i].v, 3 - i);
	assert_int_equal(m.head->acks_s.s[3].ts, 10 * MS);
	assert_int_equal(mig_acks_pending(m.head), 0);
	model_free(&m);
}

/* QEMU 8.1-11.0 by symbols: approvals without a readable counter, then the
 * destination's ACK; the count of devices needed comes from the approvals. */
static void test_ack_sent_symbols(void **state)
{
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	feed(&m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	for (int i = 0; i < 2; i++) {
		e = ev(DST, 5 + i, SWACK_EV_ACK_APPROVE, SWACK_ROLE_DST);
		e.a[0] = ~0ULL;
		e.flags = SWACK_F_UNCOUNTED;
		model_feed(&m, &e);
	}
	assert_false(m.head->ack.per_device);
	assert_int_equal(mig_acks_pending(m.head), -1);
	feed(&m, DST, 9, SWACK_EV_ACK_SENT, 0);
	assert_int_equal(m.head->ack.needed, 2);
	assert_int_equal(m.head->ack.approved, 2);
	assert_int_equal(m.head->ack.sent, 1);
	assert_int_equal(m.head->ack.t_sent, 9 * MS);
	assert_int_equal(mig_acks_pending(m.head), 0);
	model_free(&m);
}

/* No device to approve: the ACK goes at once, 0 needed. */
static void test_ack_sent_none_needed(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, NULL, NULL);
	feed(&m, DST, 1, SWACK_EV_LOAD_BEGIN, 0);
	feed(&m, DST, 2, SWACK_EV_ACK_SENT, 0);
	assert_int_equal(m.head->ack.needed, 0);
	assert_int_equal(m.head->ack.sent, 1);
	assert_int_equal(mig_acks_pending(m.head), 0);
	model_free(&m);
}

/* ---- background snapshots ------------------------------------------------ */

#define US 1000ull
#define PAGE 4096ull
#define BASE 0x7f0000000000ull

static void feed_wt(struct model *m, uint64_t ts, int kind, uint32_t flags, int64_t ret)
{
	struct swack_event e = ev(SRC, ts, kind, SWACK_ROLE_SRC);

	e.flags = flags;
	e.a[0] = (uint64_t)ret;
	model_feed(m, &e);
}

/* QEMU released n ranges of bytes in all so far. */
static void feed_progress(struct model *m, uint64_t ts, uint64_t n, uint64_t bytes)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_SNAP_PROGRESS, SWACK_ROLE_SRC);

	e.a[0] = n;
	e.a[1] = bytes;
	model_feed(m, &e);
}

/* A stall as BPF reports it: resolved by QEMU's thread SRC+1 releasing len
 * bytes at addr, thread tid having slept ns. */
static void feed_stall(struct model *m, uint64_t ts, uint32_t tid, uint64_t ns, uint64_t addr,
		       uint64_t len)
{
	struct swack_event e = ev(SRC, ts, SWACK_EV_UFFD_STALL, SWACK_ROLE_SRC);

	e.tid = SRC + 1;
	e.a[0] = ns;
	e.a[1] = tid;
	e.a[2] = 0xc018aa06;
	e.a[3] = addr;
	e.a[4] = len;
	snprintf(e.str, sizeof(e.str), "CPU %u/TCG", tid - 1000);
	model_feed(m, &e);
}

/* setup at 1 ms, write tracking on at 2 ms */
static void snapshot_begin(struct model *m, struct done_log *log)
{
	model_init(m, on_done, log);
	feed_state(m, SRC, 1, "setup", 0);
	feed_wt(m, 2, SWACK_EV_WT_START, 0, 0);
}

/* setup at 1 ms, vCPUs paused 1-3 ms, tracking 2-502 ms, completed at 511 ms
 * with 1 MB written; 98 stalls of 5 us on vCPU 1000, one of 2 ms and one of
 * 20 ms on vCPU 1001; the first two stalls on the same page. */
static const struct mig *snapshot_run(struct model *m, struct done_log *log)
{
	model_init(m, on_done, log);
	feed_state(m, SRC, 1, "setup", 0);
	feed(m, SRC, 1, SWACK_EV_VM_STOP, 0);
	feed_wt(m, 2, SWACK_EV_WT_START, 0, 0);
	feed_wt(m, 2, SWACK_EV_WT_START, SWACK_F_END, 0);
	feed(m, SRC, 3, SWACK_EV_VM_RESUMED, 0);
	for (int i = 0; i < 98; i++)
		feed_stall(m, 10 + i, 1000, 5 * US, BASE + (i ? i : 1) * PAGE, PAGE);
	feed_stall(m, 200, 1001, 2 * MS, BASE + (3ull << 21), PAGE);
	feed_stall(m, 300, 1001, 20 * MS, BASE, 512 << 20);
	for (int i = 0; i < 90; i++)
		feed(m, SRC, 10 + i, SWACK_EV_UFFD_FAULT, 0);
	feed_progress(m, 400, 1000, 1000 * PAGE);
	feed_wt(m, 502, SWACK_EV_WT_STOP, 0, 0);
	feed_state(m, SRC, 511, "completed", 1000000);
	model_advance(m, 600 * MS);
	return log->src;
}

/* Faults released after ram_write_tracking_stop (its final unprotect) are
 * outside the window: whether an observer saw them before the last state
 * change must not change the count. */
static void test_snapshot_window(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	snapshot_begin(&m, &log);
	feed_stall(&m, 10, 1000, 5 * US, BASE, PAGE);
	feed(&m, SRC, 10, SWACK_EV_UFFD_FAULT, 0);
	feed_wt(&m, 20, SWACK_EV_WT_STOP, 0, 0);
	/* released by the stop, though it arrived before the stop's event */
	feed_stall(&m, 19, 1001, 3 * US, BASE + PAGE, PAGE);
	feed_stall(&m, 21, 1000, 7 * US, BASE, 512 << 20);
	feed(&m, SRC, 21, SWACK_EV_UFFD_FAULT, 0);
	feed_state(&m, SRC, 30, "completed", 0);
	model_advance(&m, 100 * MS);
	assert_int_equal(log.src->snap.stalls, 2);
	assert_int_equal(log.src->snap.msgs, 1);
	model_free(&m);
}

/* QEMU stops write tracking after the final state: the snapshot is reported
 * SNAP_GRACE_NS after the stop, with the stalls released up to it, including
 * one whose report came after the stop's event, and none released after it. */
static void test_snapshot_stop_after_completed(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	snapshot_begin(&m, &log);
	feed_stall(&m, 10, 1000, 5 * US, BASE, PAGE);
	feed_state(&m, SRC, 30, "completed", 0);
	assert_int_equal(log.calls, 0);
	assert_false(model_all_reported(&m));
	feed_stall(&m, 31, 1001, 3 * US, BASE + PAGE, PAGE);
	feed_wt(&m, 32, SWACK_EV_WT_STOP, 0, 0);
	assert_int_equal(log.calls, 0);
	/* woken at 31.9 ms, reported by its own switch after the stop's event */
	feed_stall(&m, 31, 1002, 1 * US, BASE + 2 * PAGE, PAGE);
	feed_stall(&m, 33, 1000, 7 * US, BASE, 512 << 20);
	model_advance(&m, 32 * MS + SNAP_GRACE_NS);
	assert_int_equal(log.calls, 0);
	/* an event of anything past the grace closes it, as the live clock does */
	feed(&m, SRC + 7, 53, SWACK_EV_UFFD_FAULT, 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.src->snap.stalls, 3);
	assert_int_equal(log.src->snap.t_stop, 32 * MS);
	assert_true(model_all_reported(&m));
	model_free(&m);
}

/* A live source's clock closes a snapshot after its grace with no event. */
static void test_snapshot_grace_by_clock(void **state)
{
	struct done_log log = { 0 };
	struct model m;

	(void)state;
	snapshot_begin(&m, &log);
	feed_state(&m, SRC, 30, "completed", 0);
	feed_wt(&m, 32, SWACK_EV_WT_STOP, 0, 0);
	model_advance(&m, 40 * MS);
	assert_int_equal(log.calls, 0);
	model_advance(&m, 60 * MS);
	assert_int_equal(log.calls, 1);
	model_advance(&m, 90 * MS);
	assert_int_equal(log.calls, 1);
	model_free(&m);
}

/* QEMU 10.0 restarts a snapshot's vCPUs without a vm_start probe firing:
 * the "running" run state ends the pause. */
static void test_snapshot_resume_by_runstate(void **state)
{
	struct done_log log = { 0 };
	struct swack_event e;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 1, "setup", 0);
	feed(&m, SRC, 2, SWACK_EV_VM_STOP, 0);
	feed_wt(&m, 3, SWACK_EV_WT_START, 0, 0);
	feed_wt(&m, 4, SWACK_EV_WT_START, SWACK_F_END, 0);
	e = ev(SRC, 6, SWACK_EV_RUNSTATE, SWACK_ROLE_SRC);
	snprintf(e.str, sizeof(e.str), "running");
	model_feed(&m, &e);
	feed_state(&m, SRC, 30, "completed", 0);
	feed_wt(&m, 31, SWACK_EV_WT_STOP, 0, 0);
	model_flush(&m);
	assert_int_equal(mig_qemu_downtime_ns(log.src), 4 * MS);
	model_free(&m);
}

static void test_snapshot_stats(void **state)
{
	struct done_log log = { 0 };
	struct snap_stats st;
	struct model m;
	const struct mig *g;

	(void)state;
	g = snapshot_run(&m, &log);
	assert_int_equal(log.calls, 1);
	assert_null(log.dst);
	assert_true(g->snap.seen);
	snap_stats(g, 0, &st);
	assert_int_equal(st.duration_ns, 510 * MS);
	assert_int_equal(st.tracking_ns, 500 * MS);
	assert_int_equal(st.bytes, 1000000);
	assert_int_equal(st.paused_ns, 2 * MS);
	assert_int_equal(mig_qemu_downtime_ns(g), 2 * MS);
	assert_int_equal(st.faults, 100);
	assert_int_equal(g->snap.msgs, 90);
	assert_int_equal(st.fault_rate, 200);
	/* nearest rank: the 50th, 90th and 99th of 100 sorted values */
	assert_int_equal(st.p50, 5 * US);
	assert_int_equal(st.p90, 5 * US);
	assert_int_equal(st.p99, 2 * MS);
	assert_int_equal(st.max, 20 * MS);
	assert_int_equal(st.total, 98 * 5 * US + 22 * MS);
	assert_int_equal(g->snap.hist[snap_bucket(5 * US)], 98);
	assert_int_equal(snap_bucket(5 * US), 2);
	assert_int_equal(g->snap.hist[10], 1);
	assert_int_equal(g->snap.hist[14], 1);
	assert_int_equal(g->snap.nthreads, 2);
	assert_int_equal(g->snap.threads[1].stall_ns, 22 * MS);
	assert_string_equal(g->snap.threads[1].comm, "CPU 1/TCG");
	assert_int_equal(g->snap.worst[0].ns, 20 * MS);
	assert_int_equal(g->snap.worst[0].addr, 0);   /* a 512 MiB release names no page */
	assert_int_equal(g->snap.worst[1].ns, 2 * MS);
	assert_int_equal(st.pages_saved, 1000);
	assert_int_equal(g->snap.unprotects, 1000);
	model_free(&m);
}

static void test_snapshot_buckets(void)
{
	assert_int_equal(snap_bucket(0), 0);
	assert_int_equal(snap_bucket(1999), 0);
	assert_int_equal(snap_bucket(2 * US), 1);
	assert_int_equal(snap_bucket(3999), 1);
	assert_int_equal(snap_bucket(4 * US), 2);
	assert_int_equal(snap_bucket(~0ull), SNAP_HIST - 1);
}

static void test_snapshot_pages(void **state)
{
	struct done_log log = { 0 };
	struct snap_region r[3];
	struct model m;
	const struct mig *g;

	(void)state;
	test_snapshot_buckets();
	g = snapshot_run(&m, &log);
	/* page BASE+4096 stalled twice (i = 0 and 1); the 97 pages of the first
	 * 2 MiB region against one page in the region at 6 MiB */
	assert_int_equal(snap_repeat_pages(&g->snap, r, 3), 1);
	assert_int_equal(r[0].addr, BASE + PAGE);
	assert_int_equal(r[0].faults, 2);
	assert_int_equal(snap_hot_regions(&g->snap, SNAP_REGION_SHIFT, r, 3), 2);
	assert_int_equal(r[0].addr, BASE);
	assert_int_equal(r[0].faults, 98);
	assert_int_equal(r[1].addr, BASE + (3ull << 21));
	assert_int_equal(r[1].faults, 1);
	model_free(&m);
}

static int find_kind(const struct snap_findings *f, enum snap_finding_kind k)
{
	for (int i = 0; i < f->n; i++)
		if (f->f[i].kind == k)
			return i;
	return -1;
}

static void test_snapshot_findings(void **state)
{
	struct done_log log = { 0 };
	struct snap_findings f;
	struct model m;
	const struct mig *g;
	int i;

	(void)state;
	g = snapshot_run(&m, &log);
	snap_findings(g, 0, &f);
	/* the 20 ms stall is a problem and comes first; p99 2 ms a warning */
	assert_int_equal(f.worst, SNAP_BAD);
	assert_int_equal(f.f[0].kind, SNAPF_WORST);
	assert_string_equal(f.f[0].line, "longest stall 20.000 ms, thread 1001, 0.299 s into "
			    "the snapshot");
	i = find_kind(&f, SNAPF_STALLS);
	assert_int_equal(f.f[i].severity, SNAP_WARN);
	assert_string_equal(f.f[i].line, "100 write faults in 0.500 s of write tracking (200/s), "
			    "stall p50 5.0 us, p90 5.0 us, p99 2000.0 us, max 20.000 ms, total "
			    "22.490 ms");
	/* vCPU 1001: 22 ms of 500 = 4.4%, a warning; vCPU 1000: 0.49 ms, info */
	assert_true(strstr(f.f[1].line, "thread 1001 (CPU 1/TCG) stalled 2 times for 22.000 ms "
			   "in all, 4.40% of the write-tracking time") != NULL);
	assert_true(find_kind(&f, SNAPF_HOT_REGION) > 0);
	assert_true(find_kind(&f, SNAPF_REPEATS) > 0);
	for (i = 1; i < f.n; i++)
		assert_true(f.f[i - 1].severity >= f.f[i].severity);
	assert_true(strstr(f.advice, "migration thread has saved the page") != NULL);
	model_free(&m);
}

static void test_snapshot_failed_start(void **state)
{
	struct done_log log = { 0 };
	struct snap_findings f;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed_wt(&m, 1, SWACK_EV_WT_START, 0, 0);
	feed_wt(&m, 2, SWACK_EV_WT_START, SWACK_F_END, -22);
	feed_state(&m, SRC, 3, "failed", 0);
	assert_int_equal(log.calls, 1);
	snap_findings(log.src, 0, &f);
	assert_int_equal(f.f[0].kind, SNAPF_START_FAILED);
	assert_string_equal(f.f[0].line, "write tracking did not start: "
			    "ram_write_tracking_start returned -22");
	assert_true(strstr(f.advice, "userfaultfd write-protect") != NULL);
	model_free(&m);
}

/* Faults read but no stall measured (no handle_userfault in kallsyms). */
static void test_snapshot_unmeasured(void **state)
{
	struct done_log log = { 0 };
	struct snap_findings f;
	uint64_t p99;
	struct model m;

	(void)state;
	snapshot_begin(&m, &log);
	feed(&m, SRC, 3, SWACK_EV_UFFD_FAULT, 0);
	feed(&m, SRC, 4, SWACK_EV_UFFD_FAULT, 0);
	feed_state(&m, SRC, 5, "completed", 0);
	feed_wt(&m, 6, SWACK_EV_WT_STOP, 0, 0);
	model_advance(&m, 30 * MS);
	snap_findings(log.src, 0, &f);
	assert_int_equal(f.f[0].kind, SNAPF_STALLS);
	assert_int_equal(f.f[0].severity, SNAP_WARN);
	assert_string_equal(f.f[0].line, "QEMU read 2 write faults, but their stall times were "
			    "not measured (handle_userfault missing from /proc/kallsyms)");
	assert_true(strstr(f.advice, "kptr_restrict") != NULL);
	snap_quantiles(&log.src->snap, (const double[]){ 0.99 }, &p99, 1);
	assert_int_equal(p99, 0);
	model_free(&m);
}

/* A plain migration has no snapshot findings and keeps its downtime. */
static void test_snapshot_absent(void **state)
{
	struct done_log log = { 0 };
	struct snap_findings f;
	struct model m;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, SRC, 0, "setup", 0);
	feed(&m, SRC, 10, SWACK_EV_VM_STOP, 0);
	feed_state(&m, SRC, 15, "completed", 0);
	snap_findings(log.src, 0, &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(mig_qemu_downtime_ns(log.src), 5 * MS);
	model_free(&m);
}

static void test_uffd_event_text(void **state)
{
	struct swack_event e = ev(SRC, 1000, SWACK_EV_UFFD_STALL, SWACK_ROLE_SRC);
	char buf[256];
	FILE *f;

	(void)state;
	e.tid = 101;
	e.a[0] = 5300;
	e.a[1] = 1000;
	e.a[2] = 0xc018aa06;
	e.a[3] = BASE;
	e.a[4] = PAGE;
	snprintf(e.str, sizeof(e.str), "CPU 0/TCG");
	f = fmemopen(buf, sizeof(buf), "w");
	event_print_text(f, &e, 0);
	fclose(f);
	assert_string_equal(buf, "    1.000000     100/101     src uffd_stall         ns=5300 "
			    "thread=1000 comm=CPU 0/TCG by=WRITEPROTECT start=0x7f0000000000 "
			    "len=4096\n");
}


/* What each pass leaves (the first pending size after a dirty sync): falling,
 * then stuck at 900 MB for three passes, then lower again. */
static void test_passes_without_progress(void **state)
{
	static const uint64_t left[] = { 500, 300, 900, 900, 900, 200 };
	static const uint32_t want[] = { 0, 0, 1, 2, 3, 0 };
	struct model m;
	struct mig *g;

	(void)state;
	model_init(&m, NULL, NULL);
	feed_state(&m, SRC, 0, "active", 0);
	feed_sync(&m, 1, 0, 1);              /* setup's sync: the first pass follows */
	feed_pending(&m, 2, 1000 * MS, 30 * MS);
	for (unsigned i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		feed_sync(&m, 10 + 10 * i, 1000, 10);
		feed_pending(&m, 11 + 10 * i, left[i] * MS, 30 * MS);
		feed_pending(&m, 12 + 10 * i, left[i] * MS / 2, 30 * MS);  /* within the pass */
		g = m.head;
		assert_int_equal(g->passes_without_progress, want[i]);
	}
	model_free(&m);
}

/* Identities by pid; a later note replaces; control characters become '?'. */
static void test_vm_identity(void **state)
{
	struct vm_ident a = { .pid = SRC, .name = "web-1", .uuid = "5f0c3b1e-8a2d-4c6f-9e1b-2d3c4b5a6f70",
			      .via = "-name -uuid" };
	struct vm_ident b = { .pid = DST, .name = "evil\x1b[2J", .via = "-name" };
	struct model m;
	struct jw j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	model_init(&m, NULL, NULL);
	assert_null(model_vm(&m, SRC));
	model_note_vm(&m, &a);
	model_note_vm(&m, &b);
	assert_string_equal(model_vm(&m, SRC)->name, "web-1");
	assert_string_equal(model_vm(&m, DST)->name, "evil?[2J");
	snprintf(a.name, sizeof(a.name), "web-2");
	model_note_vm(&m, &a);
	assert_string_equal(model_vm(&m, SRC)->name, "web-2");
	assert_int_equal(m.nvms, 2);
	feed_state(&m, SRC, 0, "active", 0);
	assert_string_equal(mig_vm_name(m.head), "web-2");
	f = open_memstream(&buf, &len);
	jw_init(&j, f, 0);
	jw_obj(&j, NULL);
	vm_json(&j, &m, SRC);
	jw_obj(&j, "unknown");
	vm_json(&j, &m, 4242);
	jw_end(&j);
	jw_end(&j);
	mig_print_vm_text(f, m.head, NULL);
	fclose(f);
	assert_string_equal(buf, "{\"vm\":\"web-2\",\"uuid\":\"5f0c3b1e-8a2d-4c6f-9e1b-2d3c4b5a6f70\","
			    "\"unknown\":{\"vm\":null,\"uuid\":null}}\n; vm web-2");
	free(buf);
	model_free(&m);
}

/* ---- postcopy ---------------------------------------------------------------- */

#define PA (BASE + 0x1000)
#define PB (BASE + 0x2000)
#define PC (BASE + 0x3000)
#define PD (BASE + 0x4000)

static void feed_pc(struct model *m, uint32_t pid, uint64_t ts, int kind, uint64_t a0,
		    uint64_t a1, uint64_t a2)
{
	struct swack_event e = ev(pid, ts, kind, pid == DST ? SWACK_ROLE_DST : SWACK_ROLE_SRC);

	e.a[0] = a0;
	e.a[1] = a1;
	e.a[2] = a2;
	model_feed(m, &e);
}

static void feed_step(struct model *m, uint32_t pid, uint64_t ts, int step, uint32_t flags)
{
	struct swack_event e = ev(pid, ts, SWACK_EV_PC_STEP, pid == DST ? SWACK_ROLE_DST :
				  SWACK_ROLE_SRC);

	e.a[0] = step;
	e.flags = flags;
	model_feed(m, &e);
}

/* Thread tid slept ns in a missing fault until a UFFDIO_COPY of page woke it. */
static void feed_pc_stall(struct model *m, uint64_t ts, uint32_t tid, uint64_t ns,
			  uint64_t page, const char *comm)
{
	struct swack_event e = ev(DST, ts, SWACK_EV_UFFD_STALL, SWACK_ROLE_DST);

	e.a[0] = ns;
	e.a[1] = tid;
	e.a[2] = 0xc028aa03;
	e.a[3] = page;
	e.a[4] = PAGE;
	snprintf(e.str, sizeof(e.str), "%s", comm);
	model_feed(m, &e);
}

/* A missing fault the kernel side saw: read by QEMU at ts, its request, the
 * thread's sleep from sleep_ms to woke_ms, and the page placed then. */
static void pc_fault(struct model *m, uint64_t ts, uint64_t page, uint32_t ptid,
		     uint32_t tid, uint64_t sleep_ms, uint64_t woke_ms, bool placed)
{
	char comm[16];

	snprintf(comm, sizeof(comm), tid >= 2000 ? "qemu-system-x86" : "CPU %u/TCG", tid - 1001);
	feed_pc(m, DST, ts, SWACK_EV_UFFD_FAULT, page, 0, ptid);
	/* by symbols the request names no address: the fault its thread read last */
	feed_pc(m, DST, ts, SWACK_EV_PC_REQUEST, 0, page - BASE, 0);
	feed_pc_stall(m, woke_ms, tid, (woke_ms - sleep_ms) * MS, page, comm);
	if (placed)
		feed_pc(m, DST, woke_ms, SWACK_EV_PC_RESOLVE, page, (woke_ms - ts) * MS, ptid);
}

/* The switch (by symbols, 7.2's order), then 5 faults on the destination: A on
 * vCPU 0 (sleeps 59-81), B on vCPU 1 (70-101), C on both (110-120, 112-120),
 * D on the main thread (130-135); vCPUs 1001 and 1002 listed. */
static void postcopy_switch_events(struct model *m)
{
	feed_pair(m, SRC, DST);
	feed_state(m, SRC, 1, "setup", 0);
	feed_state(m, DST, 1, "active", 0);
	feed_state(m, SRC, 2, "active", 0);
	feed_exact(m, 3, 500000000, 0);
	feed_step(m, DST, 4, SWACK_PC_DST_ADVISE, 0);
	feed_pc(m, DST, 4, SWACK_EV_PC_DISCARD, 0, 1 << 29, 0);  /* advise: RAM emptied */
	feed_step(m, SRC, 10, SWACK_PC_START_CMD, 0);
	feed_exact(m, 11, 400000000, 8000000);
	feed_state(m, SRC, 12, "postcopy-active", 8000000);
	feed(m, SRC, 13, SWACK_EV_VM_STOP, 8000000);
	feed(m, SRC, 14, SWACK_EV_VM_STOPPED, 8000000);
	feed_step(m, SRC, 15, SWACK_PC_DISCARD_BITMAP, 0);
	feed_step(m, SRC, 40, SWACK_PC_DISCARD_BITMAP, SWACK_F_END);
	feed_step(m, SRC, 41, SWACK_PC_LISTEN_SENT, 0);
	feed_step(m, SRC, 43, SWACK_PC_RUN_SENT, 0);
	feed_step(m, SRC, 44, SWACK_PC_PACKAGE_SENT, 0);
	feed_step(m, SRC, 45, SWACK_PC_PACKAGE_SENT, SWACK_F_END);
	feed_step(m, DST, 46, SWACK_PC_DST_DISCARD, 0);
	feed_pc(m, DST, 46, SWACK_EV_PC_DISCARD, 0x100000, 0x800000, 0);
	feed_pc(m, DST, 46, SWACK_EV_PC_DISCARD, 0x2000000, 0x1000000, 0);
	feed_step(m, DST, 47, SWACK_PC_DST_LISTENING, 0);
	feed_pc(m, DST, 47, SWACK_EV_PC_VCPU, 0, 1001, 0);
	feed_pc(m, DST, 47, SWACK_EV_PC_VCPU, 1, 1002, 0);
	{
		struct swack_event e = ev(DST, 48, SWACK_EV_UFFD_IOCTL, SWACK_ROLE_DST);

		e.a[0] = 0xc020aa00;
		e.a[3] = 1 << 29;
		e.a[4] = SWACK_UFFDIO_REGISTER_MODE_MISSING;
		model_feed(m, &e);
	}
	feed_state(m, DST, 48, "postcopy-active", 0);
	feed(m, DST, 50, SWACK_EV_VM_START, 0);
	feed(m, DST, 51, SWACK_EV_VM_RESUMED, 0);
}

static void postcopy_run(struct model *m, struct done_log *log)
{
	model_init(m, on_done, log);
	postcopy_switch_events(m);
	pc_fault(m, 60, PA, 1001, 1001, 59, 81, true);
	pc_fault(m, 70, PB, 1002, 1002, 70, 101, true);
	pc_fault(m, 110, PC, 1001, 1001, 110, 120, false);
	pc_fault(m, 112, PC, 1002, 1002, 112, 120, true);
	pc_fault(m, 130, PD, 0, 2000, 130, 135, true);
	for (int i = 0; i < 3; i++)
		feed_pc(m, SRC, 60 + i, SWACK_EV_PC_REQ_RECV, 0, PAGE, 0);
	{
		struct swack_event e = ev(DST, 140, SWACK_EV_PC_PROGRESS, SWACK_ROLE_DST);

		e.a[0] = 1000;
		e.a[1] = 3000;
		e.a[2] = 4000 * PAGE;
		e.a[3] = 4;             /* the calls that placed A, B, C and D */
		model_feed(m, &e);
	}
	log->src = NULL;
	feed_state(m, DST, 200, "completed", 0);
	feed_step(m, SRC, 199, SWACK_PC_COMPLETE, 0);
	feed_state(m, SRC, 201, "completed", 58000000);
}

/* ---- what the model holds ------------------------------------------------ */

static void feed_on(struct model *m, uint32_t pid, int role, uint64_t ts_us, int kind,
		    uint64_t a0, const char *str)
{
	struct swack_event e = { .pid = pid, .tid = pid, .ts = ts_us * US, .kind = kind,
				 .role = role };

	e.a[0] = a0;
	e.a[1] = pid;
	e.a[3] = a0;
	e.a[4] = PAGE;
	snprintf(e.str, sizeof(e.str), "%s", str ? str : "");
	model_feed(m, &e);
}

static int held(const struct model *m)
{
	int n = 0;

	for (const struct mig *g = m->head; g; g = g->next)
		n++;
	return n;
}

/* A background snapshot of pid from t us, 20 write faults and stalls. */
static void snapshot_of(struct model *m, uint32_t pid, uint64_t t)
{
	feed_on(m, pid, SWACK_ROLE_SRC, t, SWACK_EV_MIG_STATE, 0, "setup");
	feed_on(m, pid, SWACK_ROLE_SRC, t + 1, SWACK_EV_WT_START, 0, NULL);
	for (int i = 0; i < 20; i++) {
		feed_on(m, pid, SWACK_ROLE_SRC, t + 2 + i, SWACK_EV_UFFD_FAULT, BASE + i * PAGE, NULL);
		feed_on(m, pid, SWACK_ROLE_SRC, t + 2 + i, SWACK_EV_UFFD_STALL, BASE + i * PAGE,
			"CPU 0/KVM");
	}
	feed_on(m, pid, SWACK_ROLE_SRC, t + 30, SWACK_EV_WT_STOP, 0, NULL);
	feed_on(m, pid, SWACK_ROLE_SRC, t + 31, SWACK_EV_MIG_STATE, 0, "completed");
}

/* A postcopy migration from src to dst, 20 missing faults on the destination. */
static void postcopy_of(struct model *m, uint32_t src, uint32_t dst, uint64_t t)
{
	feed_on(m, src, SWACK_ROLE_SRC, t, SWACK_EV_MIG_STATE, 0, "active");
	feed_on(m, dst, SWACK_ROLE_DST, t, SWACK_EV_MIG_STATE, 0, "active");
	feed_pair(m, src, dst);
	feed_on(m, src, SWACK_ROLE_SRC, t + 1, SWACK_EV_MIG_STATE, 0, "postcopy-active");
	feed_on(m, dst, SWACK_ROLE_DST, t + 1, SWACK_EV_MIG_STATE, 0, "postcopy-active");
	for (int i = 0; i < 20; i++) {
		feed_on(m, dst, SWACK_ROLE_DST, t + 2 + i, SWACK_EV_UFFD_FAULT, BASE + i * PAGE, NULL);
		feed_on(m, dst, SWACK_ROLE_DST, t + 3 + i, SWACK_EV_UFFD_STALL, BASE + i * PAGE,
			"CPU 0/KVM");
	}
	feed_on(m, dst, SWACK_ROLE_DST, t + 30, SWACK_EV_MIG_STATE, 0, "completed");
	feed_on(m, src, SWACK_ROLE_SRC, t + 31, SWACK_EV_MIG_STATE, 0, "completed");
	feed_on(m, dst, SWACK_ROLE_DST, t + 32, SWACK_EV_VM_RESUMED, 0, NULL);
}

/* Thousands of finished snapshots and postcopy migrations, each of another
 * process: every one reported, and the model holds no more than its last
 * MODEL_KEEP_FINISHED (and the one in progress) at any time. */
static void test_memory_bounded(void **state)
{
	struct done_log log = { 0 };
	uint32_t faults = 0;
	struct model m;
	int most = 0;

	(void)state;
	model_init(&m, on_done, &log);
	for (uint32_t i = 0; i < 3000; i++) {
		/* 100 ms apart: each snapshot's grace has ended by the next one */
		snapshot_of(&m, 10000 + i, 200000ull * i);
		postcopy_of(&m, 20000 + 2 * i, 20001 + 2 * i, 200000ull * i + 100000);
		most = held(&m) > most ? held(&m) : most;
		if (log.dst)
			faults += log.dst->pc.nfaults;
		log.dst = NULL;
	}
	model_flush(&m);
	assert_int_equal(log.calls, 6000);   /* each pair in one call */
	assert_true(faults >= 1000 * 20);   /* the postcopy state was there when reported */
	assert_true(most <= MODEL_KEEP_FINISHED + 3);
	assert_int_equal(m.nopen, 0);
	assert_int_equal(m.nclosing, 0);
	assert_int_equal(model_ended(&m, SWACK_ROLE_SRC, MS_COMPLETED), 6000);
	assert_int_equal(model_ended(&m, SWACK_ROLE_DST, MS_COMPLETED), 3000);
	assert_int_equal(m.evicted, 0);
	model_free(&m);
}

static void first_pid(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct done_log *log = ctx;

	if (!log->calls++)
		log->first_pid = (src ? src : dst)->pid;
}

/* More snapshots in progress than the model holds: the idlest, in its grace
 * after the stop, is reported as it stood and its grace ended with it. */
static void test_evicted_in_grace(void **state)
{
	struct done_log log = { 0 };
	char note[256];
	struct model m;

	(void)state;
	model_init(&m, first_pid, &log);
	for (uint32_t i = 0; i <= MODEL_MAX_OPEN; i++) {
		feed_on(&m, 10000 + i, SWACK_ROLE_SRC, 1000, SWACK_EV_MIG_STATE, 0, "setup");
		feed_on(&m, 10000 + i, SWACK_ROLE_SRC, 1000, SWACK_EV_WT_START, 0, NULL);
		feed_on(&m, 10000 + i, SWACK_ROLE_SRC, 1000, SWACK_EV_WT_STOP, 0, NULL);
	}
	assert_int_equal(m.evicted, 1);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.first_pid, 10000);   /* the first, idle the longest */
	assert_int_equal(m.nclosing, MODEL_MAX_OPEN);
	assert_int_equal(m.nopen, MODEL_MAX_OPEN);
	assert_true(model_evicted_note(&m, note, sizeof(note)));
	assert_string_equal(note, "1 migration was reported before it ended: more than 1024 "
			    "were in progress at once, and the one idle the longest was reported "
			    "as it stood");
	model_flush(&m);
	assert_int_equal(log.calls, MODEL_MAX_OPEN + 1);
	assert_int_equal(m.nclosing, 0);
	assert_true(held(&m) <= MODEL_KEEP_FINISHED + 1);
	model_free(&m);
}

static void test_postcopy_faults(void **state)
{
	struct done_log log = { 0 };
	const struct postcopy *pc;
	uint64_t per[PC_MAX_VCPUS];
	uint32_t hist[SNAP_HIST];
	struct pc_stats st;
	struct model m;

	(void)state;
	postcopy_run(&m, &log);
	assert_int_equal(log.calls, 1);
	assert_non_null(log.dst);
	pc = &log.dst->pc;
	pc_stats(log.dst, 0, &st);
	assert_int_equal(st.faults, 5);
	assert_int_equal(pc->pages.used, 4);
	assert_int_equal(st.repeat_pages, 1);
	assert_int_equal(st.requests, 5);
	assert_int_equal(pc->rerequests, 1);       /* vCPU 1's request for C, asked already */
	assert_int_equal(st.unrequested, 0);
	assert_int_equal(st.resolved, 5);
	/* the threads' sleeps: 5, 8, 10, 22, 31 ms; nearest rank */
	assert_int_equal(st.p50, 10 * MS);
	assert_int_equal(st.p90, 31 * MS);
	assert_int_equal(st.max, 31 * MS);
	assert_int_equal(st.stall_max, 31 * MS);    /* ended: no fault still waits */
	assert_int_equal(st.latency_total, 76 * MS);
	pc_latency_hist(pc, hist);
	assert_int_equal(hist[snap_bucket(5 * MS)], 2);
	assert_int_equal(hist[snap_bucket(10 * MS)], 1);
	assert_int_equal(hist[snap_bucket(22 * MS)], 2);
	/* vCPU 0: A 22 + C 10; vCPU 1: B 31 + C 8; both at once 70-81 and 112-120 */
	pc_vcpus_blocked(pc, 0, per);
	assert_int_equal(per[0], 32 * MS);
	assert_int_equal(per[1], 39 * MS);
	assert_int_equal(st.nvcpus, 2);
	assert_int_equal(st.blocktime_ns, 19 * MS);
	assert_int_equal(st.blocked_now, 0);
	assert_int_equal(pc->nthreads, 3);
	assert_int_equal(pc->threads[2].vcpu, -1);  /* the main thread: no vCPU */
	assert_int_equal(st.background_pages, 3996);
	assert_int_equal(pc->discards, 2);          /* not the advise-time emptying */
	assert_int_equal(pc->discard_bytes, 0x1800000);
	assert_int_equal(pc->registered_blocks, 1);
	assert_int_equal(pc->registered_bytes, 1 << 29);
	assert_int_equal(st.duration_ns, 152 * MS);  /* destination: 48 to 200 */
	model_free(&m);
}

static void test_postcopy_switch(void **state)
{
	struct done_log log = { 0 };
	struct pc_switch sw;
	struct pc_stats st;
	struct model m;

	(void)state;
	postcopy_run(&m, &log);
	pc_switch_breakdown(log.src, log.dst, &sw);
	assert_int_equal(sw.request_ns, 3 * MS);
	assert_int_equal(sw.ns[PCP_STOP], 1 * MS);
	assert_int_equal(sw.ns[PCP_ITERABLE], 1 * MS);
	assert_int_equal(sw.ns[PCP_DISCARD], 25 * MS);
	assert_int_equal(sw.ns[PCP_DEVICES], 4 * MS);
	assert_int_equal(sw.ns[PCP_PACKAGE], 1 * MS);
	assert_int_equal(sw.ns[PCP_DST_START], 6 * MS);
	assert_int_equal(sw.pause_ns, 38 * MS);
	assert_int_equal(mig_guest_downtime_ns(log.src, log.dst), 38 * MS);
	/* 7.2 begins its downtime as postcopy begins, just before the stop */
	assert_int_equal(mig_qemu_downtime_ns(log.src), 33 * MS);
	pc_stats(log.src, 0, &st);
	assert_int_equal(st.duration_ns, 189 * MS);
	assert_int_equal(st.bytes, 50000000);
	assert_int_equal(st.requests_recv, 3);
	assert_int_equal(log.src->pc.pending_first, 500000000);
	assert_int_equal(log.src->pc.pending_at_switch, 400000000);
	model_free(&m);
}

/* While faults wait, the vCPUs waiting are known from the faulting thread. */
static void test_postcopy_blocked_now(void **state)
{
	struct done_log log = { 0 };
	struct pc_stats st;
	struct model m;
	struct mig *g;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, DST, 1, "active", 0);
	feed_pc(&m, DST, 2, SWACK_EV_PC_VCPU, 0, 1001, 0);
	feed_pc(&m, DST, 2, SWACK_EV_PC_VCPU, 1, 1002, 0);
	feed_state(&m, DST, 3, "postcopy-active", 0);
	feed_pc(&m, DST, 4, SWACK_EV_UFFD_FAULT, PA, 0, 1001);
	g = m.head;
	pc_stats(g, 5 * MS, &st);
	assert_int_equal(st.blocked_now, 1);
	assert_int_equal(st.max, 0);
	assert_int_equal(st.stall_max, 1 * MS);     /* A, still waiting since 4 */
	feed_pc(&m, DST, 6, SWACK_EV_UFFD_FAULT, PB, 0, 1002);
	pc_stats(g, 7 * MS, &st);
	assert_int_equal(st.blocked_now, 2);
	assert_int_equal(st.stall_max, 3 * MS);
	assert_int_equal(g->pc.outstanding, 2);
	feed_pc(&m, DST, 8, SWACK_EV_PC_RESOLVE, PA, 4 * MS, 1001);
	pc_stats(g, 9 * MS, &st);
	assert_int_equal(st.blocked_now, 1);
	assert_int_equal(st.stall_max, 4 * MS);     /* A's, resolved, over B's 3 so far */
	assert_int_equal(g->pc.outstanding, 1);
	/* a fault whose thread QEMU did not learn (no postcopy-blocktime) */
	feed_pc(&m, DST, 10, SWACK_EV_UFFD_FAULT, PC, 0, 0);
	pc_stats(g, 11 * MS, &st);
	assert_int_equal(st.blocked_now, -1);
	assert_int_equal(st.stall_max, 5 * MS);     /* B, still waiting since 6 */
	assert_int_equal(pc_vcpu_of_comm("CPU 12/KVM"), 12);
	assert_int_equal(pc_vcpu_of_comm("qemu-system-x86"), -1);
	assert_int_equal(pc_vcpu_of_comm("CPU x/TCG"), -1);
	model_free(&m);
}

/* A pause of postcopy, its recovery and resume: a phase of its own. */
static void test_postcopy_pause(void **state)
{
	struct done_log log = { 0 };
	struct pc_stats st;
	struct model m;
	struct mig *g;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, DST, 1, "active", 0);
	feed_state(&m, DST, 10, "postcopy-active", 0);
	feed_state(&m, DST, 20, "postcopy-paused", 0);
	feed_step(&m, DST, 25, SWACK_PC_RECOVER_CMD, 0);
	feed_state(&m, DST, 26, "postcopy-recover-setup", 0);
	feed_state(&m, DST, 27, "postcopy-recover", 0);
	feed_state(&m, DST, 30, "postcopy-active", 0);
	feed_state(&m, DST, 40, "postcopy-paused", 0);
	g = m.head;
	pc_stats(g, 45 * MS, &st);
	assert_int_equal(g->pc.npauses, 2);
	assert_int_equal(g->pc.pauses[0].t_recover, 25 * MS);
	assert_int_equal(g->pc.pauses[0].t_resume, 30 * MS);
	assert_int_equal(g->pc.pauses[1].t_resume, 0);
	assert_int_equal(st.paused_ns, 15 * MS);        /* 10 ms, and 5 so far */
	assert_int_equal(g->pc.t_active, 10 * MS);      /* the first time it went active */
	assert_int_equal(g->state, MS_POSTCOPY_PAUSED);
	assert_string_equal(mstate_name(MS_POSTCOPY_RECOVER), "postcopy-recover");
	model_free(&m);
}

/* A dtrace build: QEMU's own fault and blocktime events where the kernel
 * measured nothing; where it did, they only fill in the faulting thread. */
static void test_postcopy_usdt(void **state)
{
	struct done_log log = { 0 };
	uint64_t per[PC_MAX_VCPUS];
	struct pc_stats st;
	struct model m;
	struct mig *g;

	(void)state;
	model_init(&m, on_done, &log);
	feed_state(&m, DST, 1, "active", 0);
	feed_state(&m, DST, 2, "postcopy-active", 0);
	feed_pc(&m, DST, 3, SWACK_EV_PC_VCPU, 0, 3001, 0);
	feed_pc(&m, DST, 10, SWACK_EV_PC_FAULT, PA, 0x1000, 3001);
	feed_pc(&m, DST, 10, SWACK_EV_PC_BLOCKTIME, SWACK_PC_BT_BEGIN, PA, 10000);
	feed_pc(&m, DST, 10, SWACK_EV_PC_PAGE_REQ, PA, 1, 1);
	feed_pc(&m, DST, 10, SWACK_EV_PC_REQUEST, 0, ~0ull, 0);
	feed_pc(&m, DST, 25, SWACK_EV_PC_PAGE_REQ, PA, 0, 0);
	feed_pc(&m, DST, 25, SWACK_EV_PC_BLOCKTIME, SWACK_PC_BT_END, PA, 25000);
	feed_pc(&m, DST, 30, SWACK_EV_PC_BLOCKTIME, SWACK_PC_BT_TOTAL, 0, 15000);
	g = m.head;
	pc_stats(g, 40 * MS, &st);
	assert_int_equal(st.faults, 1);
	assert_int_equal(st.max, 15 * MS);
	assert_int_equal(st.unrequested, 0);            /* it follows its fault, same thread */
	pc_vcpus_blocked(&g->pc, 40 * MS, per);
	assert_int_equal(per[0], 15 * MS);
	assert_int_equal(st.blocktime_ns, 15 * MS);
	assert_int_equal(g->pc.qemu_blocktime, 15000);
	/* now the kernel's view: a USDT fault no longer adds a fault */
	feed_pc(&m, DST, 50, SWACK_EV_UFFD_FAULT, PB, 0, 0);
	feed_pc(&m, DST, 50, SWACK_EV_PC_FAULT, PB, 0x2000, 3001);
	pc_stats(g, 51 * MS, &st);
	assert_int_equal(st.faults, 2);
	assert_int_equal(g->pc.faults[1].tid, 3001);
	assert_int_equal(g->pc.faults[1].vcpu, 0);
	model_free(&m);
}

static void test_postcopy_event_text(void **state)
{
	struct swack_event e = { .ts = 2500000000ull, .pid = 7, .tid = 9, .kind = SWACK_EV_PC_STEP,
				 .role = SWACK_ROLE_DST };
	char buf[256];
	FILE *f;

	(void)state;
	e.a[0] = SWACK_PC_DST_LISTENING;
	snprintf(e.str, sizeof(e.str), "enter");
	f = fmemopen(buf, sizeof(buf), "w");
	event_print_text(f, &e, 0);
	e.kind = SWACK_EV_PC_REQUEST;
	e.a[0] = PA;
	e.a[1] = ~0ull;
	event_print_text(f, &e, 0);
	fclose(f);
	assert_string_equal(buf,
		"    2.500000       7/9       dst postcopy_step      step=listening ret=0 what=enter\n"
		"    2.500000       7/9       dst postcopy_request   addr=0x7f0000001000\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_by_time),
		cmocka_unit_test(test_pair_by_time_same_vm),
		cmocka_unit_test(test_waits_for_destination),
		cmocka_unit_test(test_source_alone),
		cmocka_unit_test(test_failed_and_noop),
		cmocka_unit_test(test_explicit_pair_and_second_migration),
		cmocka_unit_test(test_usdt_figures),
		cmocka_unit_test(test_stream_bytes_over_qemu_count),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_vcpu_run_ends_window),
		cmocka_unit_test(test_vm_start_without_run),
		cmocka_unit_test(test_flush_reports_open),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_event_text_and_json),
		cmocka_unit_test(test_gate_holds),
		cmocka_unit_test(test_hold_ends_at_max_hold),
		cmocka_unit_test(test_series_thinning),
		cmocka_unit_test(test_convergence),
		cmocka_unit_test(test_starved_waits),
		cmocka_unit_test(test_acks_series),
		cmocka_unit_test(test_snapshot_stats),
		cmocka_unit_test(test_snapshot_pages),
		cmocka_unit_test(test_snapshot_findings),
		cmocka_unit_test(test_snapshot_window),
		cmocka_unit_test(test_memory_bounded),
		cmocka_unit_test(test_evicted_in_grace),
		cmocka_unit_test(test_snapshot_resume_by_runstate),
		cmocka_unit_test(test_ack_sent_symbols),
		cmocka_unit_test(test_ack_sent_none_needed),
		cmocka_unit_test(test_snapshot_failed_start),
		cmocka_unit_test(test_snapshot_unmeasured),
		cmocka_unit_test(test_snapshot_stop_after_completed),
		cmocka_unit_test(test_snapshot_grace_by_clock),
		cmocka_unit_test(test_snapshot_absent),
		cmocka_unit_test(test_uffd_event_text),
		cmocka_unit_test(test_passes_without_progress),
		cmocka_unit_test(test_vm_identity),
		cmocka_unit_test(test_postcopy_faults),
		cmocka_unit_test(test_postcopy_switch),
		cmocka_unit_test(test_postcopy_blocked_now),
		cmocka_unit_test(test_postcopy_pause),
		cmocka_unit_test(test_postcopy_usdt),
		cmocka_unit_test(test_postcopy_event_text),
	};
	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
