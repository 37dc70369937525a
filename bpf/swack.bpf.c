// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Observation programs (libbpf 1.1 has no BPF_UPROBE: BPF_KPROBE reads the
 * same pt_regs).  They only read: filter on the watched processes,
 * read arguments, stamp time, emit one struct swack_event.  Three families
 * share the event set: uprobes on QEMU function symbols (builds without
 * USDT, such as Debian's 7.2), USDT probes of dtrace builds, and kernel hooks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "swack.h"
#include "ring.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Watched processes; user space inserts a pid before attaching to it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWACK_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct swack_proc);
} procs SEC(".maps");

/* Migration stream bytes sent per watched process: stamped on every event. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SWACK_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} txbytes SEC(".maps");

/* Out-parameters of a pending-size query, from its entry to its return. */
struct pending_args {
	__u64 ptr[3];
	__u64 threshold;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pending_args);
} pending SEC(".maps");

/* 7.2: the last query's answer was under the threshold (per thread). */
struct decision {
	__u64 sum;
	__u64 threshold;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct decision);
} decided SEC(".maps");

/* Threads that write the migration stream (tid -> pid): the one that saves,
 * seen by its probe, and those whose writes carried the stream's magic. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} mig_threads SEC(".maps");

static __always_inline struct swack_proc *watched(__u32 pid)
{
	return bpf_map_lookup_elem(&procs, &pid);
}

/* Postcopy: a page-placing progress event, and a source's pending-size
 * query, at most this often. */
#define PC_PROGRESS_NS 100000000ULL

/* After the switch a postcopy source queries its pending size in a tight
 * loop, thousands of times a second: one query a period is reported. */
static __always_inline bool pc_sampled_out(struct swack_proc *p)
{
	__u64 now;

	if (!p->pc_src)
		return false;
	now = bpf_ktime_get_ns();
	if (now - p->pc_pending_ts < PC_PROGRESS_NS)
		return true;
	p->pc_pending_ts = now;
	return false;
}

static __always_inline void pc_source(__u32 on)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (p)
		p->pc_src = on;
}

/* An event of the watched process p, the caller's. */
static __always_inline struct swack_event *ev_new_of(const struct swack_proc *p, __u16 kind,
						     __u8 origin)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct swack_event *e;
	__u64 *tx;

	e = ring_reserve();
	if (!e)
		return NULL;
	e->ts = bpf_ktime_get_ns();
	e->pid = pid;
	e->tid = (__u32)id;
	e->kind = kind;
	e->origin = origin;
	e->role = p->role;
	tx = bpf_map_lookup_elem(&txbytes, &pid);
	if (tx)
		e->tx_bytes = *tx;
	return e;
}

static __always_inline struct swack_event *ev_new(__u16 kind, __u8 origin)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	return p ? ev_new_of(p, kind, origin) : NULL;
}

/*
 * Waking the reader costs more than the probe itself (measured: a state
 * change whose event woke the reader 1.5 to 2.1x an empty uprobe, the same
 * event batched 1.1x).  While the kernel hooks are armed (user space sets
 * armed once they are attached: a watched process migrates), events wait for
 * the reader's next read: every reader reads the ring buffer at least every
 * 100 ms (swack gate run every 20 ms), which bounds how late an event reaches
 * it; a reader is woken early only when 256 KiB wait.  While they are not,
 * an event is what tells user space to arm them before the migration's first
 * syscalls: it wakes the reader at once, and so does a new QEMU's exec.  (A
 * plain submit wakes the reader only if it has read everything before.)
 */
__u32 armed = 0;

static __always_inline void submit(struct swack_event *e)
{
	if (!armed || e->kind == SWACK_EV_EXEC)
		bpf_ringbuf_submit(e, 0); /* the kernel wakes the reader unless it is busy */
	else
		ring_submit_batched(e);
}

/* The calling thread saves the migration stream (a source's pending query,
 * its setup): its writes are the stream, whatever their first bytes.  Never
 * the main thread: it answers QMP too (10.0's snapshot counted a query-migrate
 * reply as stream bytes); its writes to a channel count by the channel. */
static __always_inline void note_mig_thread(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, pid = id >> 32, *had;

	if (tid == pid)
		return;
	/* Every query calls this: a lookup costs less than an LRU update. */
	had = bpf_map_lookup_elem(&mig_threads, &tid);
	if (!had || *had != pid)
		bpf_map_update_elem(&mig_threads, &tid, &pid, BPF_ANY);
}

/* A source's pending-size query: its process, or NULL if it is not watched
 * or a postcopy source's query is sampled out.  The thread saves the stream. */
static __always_inline struct swack_proc *src_query(void)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (!p || pc_sampled_out(p))
		return NULL;
	p->role = SWACK_ROLE_SRC;
	note_mig_thread();
	return p;
}

static __always_inline void set_role(__u8 role)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (p)
		p->role = role;
}

static __always_inline int emit_simple(__u16 kind, __u8 origin, __u64 a0)
{
	struct swack_event *e = ev_new(kind, origin);

	if (!e)
		return 0;
	e->a[0] = a0;
	submit(e);
	return 0;
}

/* An event, with its process's state for probes that keep some there. */
static __always_inline struct swack_event *ev_new_proc(__u16 kind, __u8 origin,
						       struct swack_proc **p)
{
	*p = watched(bpf_get_current_pid_tgid() >> 32);
	return *p ? ev_new(kind, origin) : NULL;
}

/* One iteration ends: what it sent, in how long, at what rate. */
static __always_inline int emit_dirty_sync(__u8 origin)
{
	struct swack_proc *p;
	struct swack_event *e = ev_new_proc(SWACK_EV_DIRTY_SYNC, origin, &p);

	if (!e)
		return 0;
	if (p->sync_ts && e->ts > p->sync_ts && e->tx_bytes >= p->sync_tx) {
		e->a[0] = e->tx_bytes - p->sync_tx;
		e->a[1] = e->ts - p->sync_ts;
		e->a[2] = e->a[0] * 1000000000ULL / e->a[1];
	}
	p->sync_ts = e->ts;
	p->sync_tx = e->tx_bytes;
	submit(e);
	return 0;
}

/* The end of a span, with the function's return value. */
static __always_inline int emit_end(__u16 kind, int ret)
{
	struct swack_event *e = ev_new(kind, SWACK_ORIGIN_UPROBE);

	if (!e)
		return 0;
	e->a[0] = (__u64)(__s64)ret;
	e->flags = SWACK_F_END;
	submit(e);
	return 0;
}

/* ---- uprobes on function symbols ---------------------------------------- */

/* void migrate_set_state(int *state, int old_state, int new_state) */
SEC("uprobe")
int BPF_KPROBE(up_migrate_set_state, int *state, int old_state, int new_state)
{
	struct swack_event *e = ev_new(SWACK_EV_MIG_STATE, SWACK_ORIGIN_UPROBE);
	int cur = -1;

	if (!e)
		return 0;
	/* QEMU applies the change with a compare-and-swap: say when it won't. */
	bpf_probe_read_user(&cur, sizeof(cur), state);
	if (cur != old_state)
		e->flags |= SWACK_F_NOOP;
	e->a[0] = old_state;
	e->a[1] = new_state;
	submit(e);
	return 0;
}

static __always_inline int pending_enter(__u64 p0, __u64 p1, __u64 p2,
					 __u64 threshold, __u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_args a = { .ptr = { p0, p1, p2 }, .threshold = threshold,
				  .flags = flags };

	if (!watched(bpf_get_current_pid_tgid() >> 32))
		return 0;
	bpf_map_update_elem(&pending, &tid, &a, BPF_ANY);
	return 0;
}

/* QEMU 7.2 iterates while 'pending && pending >= threshold', else it
 * switches over (8.0-11.0: the same test, after the ACK if switchover-ack is
 * on): the same test here turns the query into the decision.
 * The decision is reported when the thread then stops the VM, not at the
 * query: swack gate may have raised the answer after this probe read it,
 * and QEMU then iterated instead. */
static __always_inline void switchover_72(__u64 sum, __u64 threshold)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct decision d = { .sum = sum, .threshold = threshold,
			      .ts = bpf_ktime_get_ns() };

	/* Most queries iterate: a lookup first spares them a delete's lock. */
	if (sum && sum >= threshold) {
		if (bpf_map_lookup_elem(&decided, &tid))
			bpf_map_delete_elem(&decided, &tid);
	} else
		bpf_map_update_elem(&decided, &tid, &d, BPF_ANY);
}

/* At the stop that follows a decision (same thread): the switchover, with
 * the decision's time and figures. */
static __always_inline void switchover_72_stop(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct decision *d = bpf_map_lookup_elem(&decided, &tid);
	struct swack_event *e;

	if (!d)
		return;
	e = ev_new(SWACK_EV_SWITCHOVER, SWACK_ORIGIN_UPROBE);
	if (e) {
		e->ts = d->ts;
		e->a[0] = d->sum;
		e->a[1] = d->threshold;
		submit(e);
	}
	bpf_map_delete_elem(&decided, &tid);
}

/* 8.0-11.0: the threshold QEMU compares the answer with, from its
 * MigrationState (user space found where); ~0 when unknown. */
static __always_inline __u64 qemu_threshold(const struct swack_proc *p)
{
	__u64 s = 0, thr = ~0ULL;

	if (!p->mig_ptr)
		return ~0ULL;
	if (bpf_probe_read_user(&s, sizeof(s), (void *)p->mig_ptr) || !s)
		return ~0ULL;
	if (bpf_probe_read_user(&thr, sizeof(thr), (void *)(s + p->threshold_off)))
		return ~0ULL;
	return thr;
}

static __always_inline int pending_exit(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_args *a = bpf_map_lookup_elem(&pending, &tid);
	struct swack_proc *p;
	struct swack_event *e;
	__u64 v[3] = { 0, 0, 0 }, threshold;
	__u32 flags;
	int i;

	if (!a)
		return 0;
	p = src_query();
	if (!p) {
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	threshold = a->threshold;
	flags = a->flags;
	if (flags & SWACK_F_NOTHRESH) {
		threshold = qemu_threshold(p);
		if (threshold != ~0ULL)
			flags &= ~SWACK_F_NOTHRESH;
	}
	for (i = 0; i < 3; i++)
		if (a->ptr[i])
			bpf_probe_read_user(&v[i], sizeof(__u64), (void *)a->ptr[i]);
	e = ev_new_of(p, SWACK_EV_PENDING, SWACK_ORIGIN_UPROBE);
	if (e) {
		for (i = 0; i < 3; i++)
			e->a[i] = v[i];
		e->a[3] = threshold;
		e->a[4] = ~0ULL;
		e->flags = flags;
		submit(e);
	}
	if (!(flags & SWACK_F_NOTHRESH))
		switchover_72(v[0] + v[1] + v[2], threshold);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* 7.2: void qemu_savevm_state_pending(QEMUFile *f, uint64_t threshold,
 *          uint64_t *precopy_only, uint64_t *compatible, uint64_t *postcopy_only) */
SEC("uprobe")
int BPF_KPROBE(up_pending_72, void *f, __u64 threshold, __u64 *pre, __u64 *compat,
	       __u64 *post)
{
	return pending_enter((__u64)pre, (__u64)compat, (__u64)post, threshold,
			     SWACK_F_EXACT);
}

/* 8.x-11.0: void qemu_savevm_state_pending_{estimate,exact}(uint64_t *must_precopy,
 *          uint64_t *can_postcopy); the threshold is not an argument there. */
SEC("uprobe")
int BPF_KPROBE(up_pending_estimate, __u64 *must, __u64 *can)
{
	return pending_enter((__u64)must, 0, (__u64)can, ~0ULL, SWACK_F_NOTHRESH);
}

SEC("uprobe")
int BPF_KPROBE(up_pending_exact, __u64 *must, __u64 *can)
{
	return pending_enter((__u64)must, 0, (__u64)can, ~0ULL,
			     SWACK_F_NOTHRESH | SWACK_F_EXACT);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_pending_ret)
{
	return pending_exit();
}

/* Counted only on a source: the dirty-rate monitor calls it too. */
SEC("uprobe")
int BPF_KPROBE(up_dirty_sync)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (!p || p->role != SWACK_ROLE_SRC)
		return 0;
	return emit_dirty_sync(SWACK_ORIGIN_UPROBE);
}

SEC("uprobe")
int BPF_KPROBE(up_vm_stop_force_state, int state)
{
	switchover_72_stop();
	return emit_simple(SWACK_EV_VM_STOP, SWACK_ORIGIN_UPROBE, state);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_vm_stop_force_state_ret, int ret)
{
	return emit_end(SWACK_EV_VM_STOPPED, ret);
}

/*
 * The VM is started: QEMU lets its vCPUs go, but the guest runs again only
 * when a vCPU thread enters guest code, which a busy host or the BQL held by
 * the rest of the start may delay.  Arm the wait for that entry (TCG:
 * cpu_exec, KVM: the KVM_RUN ioctl) and say on the event that it will come.
 */
static __always_inline int emit_start(__u16 kind, __u8 origin, bool arm, const char *reason,
				      __u64 a0)
{
	struct swack_proc *p;
	struct swack_event *e = ev_new_proc(kind, origin, &p);

	if (!e)
		return 0;
	if (p->run_probe) {
		if (arm)
			p->run_wait = e->ts;
		e->flags |= SWACK_F_RUN_NEXT;
	}
	e->a[0] = a0;
	if (reason)
		bpf_probe_read_user_str(e->str, sizeof(e->str), reason);
	submit(e);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_vm_start)
{
	return emit_start(SWACK_EV_VM_START, SWACK_ORIGIN_UPROBE, true, NULL, 0);
}

/* By its return a vCPU may already have entered guest code: no new wait. */
SEC("uretprobe")
int BPF_KRETPROBE(up_vm_start_ret)
{
	return emit_start(SWACK_EV_VM_RESUMED, SWACK_ORIGIN_UPROBE, false, NULL, 0);
}

/* The first vCPU entry into guest code after the start, once. */
static __always_inline void vcpu_entered(struct swack_proc *p, __u8 via)
{
	struct swack_event *e;
	__u64 since = p->run_wait;

	if (!since)
		return;
	p->run_wait = 0;
	e = ev_new(SWACK_EV_VCPU_RUN, via == SWACK_RUN_KVM ? SWACK_ORIGIN_KERNEL :
							      SWACK_ORIGIN_UPROBE);
	if (!e)
		return;
	e->a[0] = via;
	e->a[1] = e->ts > since ? e->ts - since : 0;
	submit(e);
}

/* TCG: a vCPU thread runs guest code through cpu_exec; about 150 calls a
 * second a vCPU here, a few microseconds each for the uprobe. */
SEC("uprobe")
int BPF_KPROBE(up_cpu_exec)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (p && p->run_wait)
		vcpu_entered(p, SWACK_RUN_TCG);
	return 0;
}

/* void runstate_set(RunState new_state) */
SEC("uprobe")
int BPF_KPROBE(up_runstate_set, int new_state)
{
	struct swack_event *e = ev_new(SWACK_EV_RUNSTATE, SWACK_ORIGIN_UPROBE);

	if (!e)
		return 0;
	e->a[0] = ~0ULL;
	e->a[1] = new_state;
	submit(e);
	return 0;
}

/* The stream bytes sent so far by the calling process. */
static __always_inline __u64 tx_now(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *tx = bpf_map_lookup_elem(&txbytes, &pid);

	return tx ? *tx : 0;
}

/*
 * QEMU's bandwidth window: QEMU measures its bandwidth from the migration's
 * start, then from each rate-limit reset to the next (about every 100 ms,
 * migration_update_counters, which is static; the reset it calls is not:
 * 7.2 qemu_file_reset_rate_limit, 8.0+ migration_rate_reset).  With the bytes
 * the channels carried in the same window, that is QEMU's own figure, on a
 * build that does not trace it.
 */
static __always_inline void rate_window_start(struct swack_proc *p)
{
	p->rate_ts = bpf_ktime_get_ns();
	p->rate_tx = tx_now();
}

SEC("uprobe")
int BPF_KPROBE(up_rate_reset)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);
	struct swack_event *e;
	__u64 ns;

	if (!p || p->role != SWACK_ROLE_SRC)
		return 0;
	e = p->rate_ts ? ev_new(SWACK_EV_TRANSFERRED, SWACK_ORIGIN_UPROBE) : NULL;
	if (e) {
		ns = e->ts > p->rate_ts ? e->ts - p->rate_ts : 1;
		e->a[0] = e->tx_bytes - p->rate_tx;
		e->a[1] = ns / 1000000;
		e->a[2] = e->a[0] * 1000000 / ns;
		e->a[3] = ~0ULL;
		e->a[4] = ~0ULL;
		submit(e);
	}
	rate_window_start(p);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(up_save_setup)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);

	if (!p)
		return 0;
	rate_window_start(p);
	note_mig_thread();
	p->role = SWACK_ROLE_SRC;
	p->pc_src = 0;
	return emit_simple(SWACK_EV_SAVE_SETUP, SWACK_ORIGIN_UPROBE, 0);
}

SEC("uprobe")
int BPF_KPROBE(up_save_complete)
{
	return emit_simple(SWACK_EV_SAVE_COMPLETE, SWACK_ORIGIN_UPROBE, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_save_complete_ret, int ret)
{
	return emit_end(SWACK_EV_SAVE_COMPLETE, ret);
}

SEC("uprobe")
int BPF_KPROBE(up_load_begin)
{
	set_role(SWACK_ROLE_DST);
	return emit_simple(SWACK_EV_LOAD_BEGIN, SWACK_ORIGIN_UPROBE, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_load_end, int ret)
{
	return emit_simple(SWACK_EV_LOAD_END, SWACK_ORIGIN_UPROBE, (__u64)(__s64)ret);
}

/* ---- switchover-ack by symbols (legacy scheme, 8.1-11.0) -------------- */

/* int qemu_loadvm_approve_switchover(void): a device approved; the counter
 * it decrements is not an argument. */
SEC("uprobe")
int BPF_KPROBE(up_ack_approve)
{
	struct swack_event *e = ev_new(SWACK_EV_ACK_APPROVE, SWACK_ORIGIN_UPROBE);

	set_role(SWACK_ROLE_DST);
	if (!e)
		return 0;
	e->a[0] = ~0ULL;
	e->flags = SWACK_F_UNCOUNTED;
	submit(e);
	return 0;
}

/* int migrate_send_rp_switchover_ack(MigrationIncomingState *mis): the
 * destination's one ACK, once no device has an approval left to give. */
SEC("uprobe")
int BPF_KPROBE(up_ack_sent)
{
	set_role(SWACK_ROLE_DST);
	return emit_simple(SWACK_EV_ACK_SENT, SWACK_ORIGIN_UPROBE, 0);
}

/* ---- background snapshots: write tracking (QEMU 6.0+) ----------------- */

SEC("uprobe")
int BPF_KPROBE(up_wt_start)
{
	return emit_simple(SWACK_EV_WT_START, SWACK_ORIGIN_UPROBE, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_wt_start_ret, int ret)
{
	return emit_end(SWACK_EV_WT_START, ret);
}

SEC("uprobe")
int BPF_KPROBE(up_wt_stop)
{
	return emit_simple(SWACK_EV_WT_STOP, SWACK_ORIGIN_UPROBE, 0);
}

/* Progress, only while write tracking is on: a plain migration iterates
 * far more often and has its own progress events. */
SEC("uprobe")
int BPF_KPROBE(up_savevm_iterate)
{
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);
	struct swack_event *e;

	if (!p || !p->wt_fd)
		return 0;
	e = ev_new(SWACK_EV_SNAP_PROGRESS, SWACK_ORIGIN_UPROBE);
	if (!e)
		return 0;
	e->a[0] = p->unprot_calls;
	e->a[1] = p->unprot_bytes;
	submit(e);
	return 0;
}

/* ---- postcopy by symbols (7.2 and 8.0-11.0 export all of these) ------- */

/* The side a step belongs to: the source's come first in enum swack_pc_step. */
static __always_inline void pc_role(__u64 step)
{
	if (step >= SWACK_PC_RECOVER_CMD)
		set_role(SWACK_ROLE_DST);
	else if (step != SWACK_PC_PAUSE_CMD)
		set_role(SWACK_ROLE_SRC);
	if (step >= SWACK_PC_DISCARD_BITMAP && step <= SWACK_PC_PACKAGE_SENT)
		pc_source(1);
}

static __always_inline int pc_step(__u64 step, __u64 ret, __u32 flags, __u8 origin)
{
	struct swack_event *e;

	pc_role(step);
	e = ev_new(SWACK_EV_PC_STEP, origin);
	if (!e)
		return 0;
	e->a[0] = step;
	e->a[1] = ret;
	e->flags = flags;
	submit(e);
	return 0;
}

/* The functions that mark a step of the switch, a pause or a recovery: the
 * attach cookie says which (enum swack_pc_step). */
SEC("uprobe")
int BPF_KPROBE(up_pc_step)
{
	return pc_step(bpf_get_attach_cookie(ctx), 0, 0, SWACK_ORIGIN_UPROBE);
}

SEC("uretprobe")
int BPF_KRETPROBE(up_pc_step_ret, long ret)
{
	return pc_step(bpf_get_attach_cookie(ctx), ret, SWACK_F_END, SWACK_ORIGIN_UPROBE);
}

/* PostcopyState postcopy_state_set(PostcopyState new_state): the destination's
 * ADVISE (1) .. END (5). */
SEC("uprobe")
int BPF_KPROBE(up_pc_state, int state)
{
	if (state < 1 || state > 5)
		return 0;
	return pc_step(SWACK_PC_RECOVER_CMD + state, 0, 0, SWACK_ORIGIN_UPROBE);
}

static __always_inline int pc_request(__u64 haddr, __u64 start, __u8 origin)
{
	struct swack_event *e;

	set_role(SWACK_ROLE_DST);
	e = ev_new(SWACK_EV_PC_REQUEST, origin);
	if (!e)
		return 0;
	e->a[0] = haddr;
	e->a[1] = start;
	submit(e);
	return 0;
}

/* int migrate_send_rp_message_req_pages(MigrationIncomingState *mis,
 *     RAMBlock *rb, ram_addr_t start): a request goes out, from the fault
 * thread for the fault it has just read (or from the recovery, again). */
SEC("uprobe")
int BPF_KPROBE(up_pc_req_msg, void *mis, void *rb, __u64 start)
{
	return pc_request(0, start, SWACK_ORIGIN_UPROBE);
}

static __always_inline int pc_req_recv(const char *rbname, __u64 start, __u64 len, __u8 origin)
{
	struct swack_event *e;

	set_role(SWACK_ROLE_SRC);
	e = ev_new(SWACK_EV_PC_REQ_RECV, origin);
	if (!e)
		return 0;
	e->a[0] = start;
	e->a[1] = len;
	if (rbname)
		bpf_probe_read_user_str(e->str, sizeof(e->str), rbname);
	submit(e);
	return 0;
}

/* int ram_save_queue_pages(const char *rbname, ram_addr_t start, ram_addr_t len
 *     [, Error **errp]): where QEMU counts postcopy-requests. */
SEC("uprobe")
int BPF_KPROBE(up_pc_queue_pages, const char *rbname, __u64 start, __u64 len)
{
	return pc_req_recv(rbname, start, len, SWACK_ORIGIN_UPROBE);
}

static __always_inline int pc_discard(const char *rbname, __u64 start, __u64 len, __u8 origin)
{
	struct swack_event *e = ev_new(SWACK_EV_PC_DISCARD, origin);

	if (!e)
		return 0;
	e->a[0] = start;
	e->a[1] = len;
	bpf_probe_read_user_str(e->str, sizeof(e->str), rbname);
	submit(e);
	return 0;
}

/* int ram_discard_range(const char *rbname, uint64_t start, size_t length) */
SEC("uprobe")
int BPF_KPROBE(up_pc_discard, const char *rbname, __u64 start, __u64 len)
{
	return pc_discard(rbname, start, len, SWACK_ORIGIN_UPROBE);
}

/* ---- USDT probes of dtrace builds (provider qemu) ------------------------ */

/*
 * Every site of every USDT probe swack attaches is a plain uprobe whose
 * attach cookie indexes its argument spec, decoded by swack from the note
 * (user/source/usdt_args.c): one decoder for every form, RIP-relative
 * globals included, and the ELF notes read once per binary.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SWACK_USDT_MAX_SPECS);
	__type(key, __u32);
	__type(value, struct swack_usdt_spec);
} usdt_specs SEC(".maps");

static __always_inline const struct swack_usdt_spec *usdt_spec(void *ctx)
{
	__u32 id = bpf_get_attach_cookie(ctx);

	return bpf_map_lookup_elem(&usdt_specs, &id);
}

static __always_inline __u64 reg_at(struct pt_regs *ctx, __u32 off)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + (off & 0xff));
	return v;
}

/* Argument i of the site, at its own width, sign-extended where signed;
 * 0 when the site has no such argument. */
static __noinline __u64 usdt_arg(struct pt_regs *ctx, const struct swack_usdt_spec *s, __u32 i)
{
	const struct swack_usdt_arg *a;
	struct swack_proc *p;
	__u64 v = 0, size, addr = 0;
	int shift;

	if (!s || i >= SWACK_USDT_MAX_ARGS || i >= s->nargs)
		return 0;
	a = &s->args[i];
	size = a->size;
	/* Keep the bounded copy in a register the verifier has checked. */
	asm volatile("" : "+r"(size));
	if (size == 0 || size > 8)
		return 0;
	switch (a->kind) {
	case SWACK_ARG_CONST:
		return a->val;
	case SWACK_ARG_REG:
		v = reg_at(ctx, a->reg_off);
		break;
	case SWACK_ARG_REG_DEREF:
		addr = reg_at(ctx, a->reg_off) + a->val;
		break;
	case SWACK_ARG_SIB_DEREF:
		addr = reg_at(ctx, a->reg_off) + reg_at(ctx, a->idx_off) * a->scale + a->val;
		break;
	case SWACK_ARG_ABS_DEREF:
		p = watched(bpf_get_current_pid_tgid() >> 32);
		addr = a->val + (p ? p->exe_base : 0);
		break;
	}
	if (addr)
		bpf_probe_read_user(&v, size, (void *)addr);
	shift = 64 - size * 8;
	if (a->is_signed)
		return (__u64)(((__s64)(v << shift)) >> shift);
	return shift ? (v << shift) >> shift : v;
}

static __always_inline int emit_str(__u16 kind, const char *s, __u64 a0)
{
	struct swack_event *e = ev_new(kind, SWACK_ORIGIN_USDT);

	if (!e)
		return 0;
	e->a[0] = a0;
	bpf_probe_read_user_str(e->str, sizeof(e->str), s);
	submit(e);
	return 0;
}

#define ARG(n) usdt_arg(ctx, s, n)
#define STR(n) ((const char *)usdt_arg(ctx, s, n))

/* migrate_set_state(const char *new_state) */
SEC("uprobe")
int usdt_migrate_set_state(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	char st[3] = {};

	/* "setup": a new migration, no longer the last one's postcopy */
	bpf_probe_read_user(st, 2, STR(0));
	if (st[0] == 's' && st[1] == 'e')
		pc_source(0);
	return emit_str(SWACK_EV_MIG_STATE, STR(0), ~0ULL);
}

static __always_inline int usdt_pending(__u64 size, __u64 pre, __u64 post, __u32 flags)
{
	struct swack_proc *p = src_query();
	struct swack_event *e;

	if (!p)
		return 0;
	e = ev_new_of(p, SWACK_EV_PENDING, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = pre;
	e->a[2] = post;
	e->a[3] = ~0ULL;
	e->a[4] = size;
	e->flags = flags | SWACK_F_NOTHRESH;
	submit(e);
	return 0;
}

/* migrate_pending_{estimate,exact}(uint64_t size, uint64_t pre, uint64_t post) */
SEC("uprobe")
int usdt_pending_estimate(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return usdt_pending(ARG(0), ARG(1), ARG(2), 0);
}

SEC("uprobe")
int usdt_pending_exact(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return usdt_pending(ARG(0), ARG(1), ARG(2), SWACK_F_EXACT);
}

/* 11.1: qemu_savevm_query_pending(bool exact, bool final, uint64_t precopy,
 *     uint64_t stopcopy, uint64_t postcopy, uint64_t total,
 *     uint32_t switchover_ack_pending, uint32_t total_switchover_ack_pending) */
SEC("uprobe")
int usdt_query_pending(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_proc *p = src_query();
	struct swack_event *e;

	if (!p)
		return 0;
	e = ev_new_of(p, SWACK_EV_QUERY_PENDING, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	for (int i = 0; i < 6; i++)
		e->a[i] = ARG(i + 2);
	e->flags = (ARG(0) ? SWACK_F_EXACT : 0) | (ARG(1) ? SWACK_F_FINAL : 0);
	submit(e);
	return 0;
}

/* migration_bitmap_sync_start(void): one dirty-bitmap sync */
SEC("uprobe")
int usdt_dirty_sync(struct pt_regs *ctx)
{
	return emit_dirty_sync(SWACK_ORIGIN_USDT);
}

/* migration_thread_low_pending(uint64_t pending) */
SEC("uprobe")
int usdt_low_pending(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e = ev_new(SWACK_EV_SWITCHOVER, SWACK_ORIGIN_USDT);

	if (!e)
		return 0;
	e->a[0] = ARG(0);
	e->a[1] = ~0ULL; /* the threshold is in migrate_transferred */
	submit(e);
	return 0;
}

/* migrate_transferred(uint64_t transferred, uint64_t time_spent,
 *     uint64_t bandwidth, uint64_t avail_bw, uint64_t size) */
SEC("uprobe")
int usdt_transferred(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e = ev_new(SWACK_EV_TRANSFERRED, SWACK_ORIGIN_USDT);

	if (!e)
		return 0;
	for (int i = 0; i < 5; i++)
		e->a[i] = ARG(i);
	submit(e);
	return 0;
}

/* migration_completion_vm_stop(int ret) */
SEC("uprobe")
int usdt_completion_vm_stop(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return emit_simple(SWACK_EV_COMPLETION_STOP, SWACK_ORIGIN_USDT, ARG(0));
}

/* loadvm_state_switchover_ack_needed(unsigned int switchover_ack_pending_num) */
SEC("uprobe")
int usdt_ack_needed(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	set_role(SWACK_ROLE_DST);
	return emit_simple(SWACK_EV_ACK_NEEDED, SWACK_ORIGIN_USDT, ARG(0));
}

/* 8.1-11.0: loadvm_approve_switchover(unsigned int pending_num) */
SEC("uprobe")
int usdt_approve_count(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	set_role(SWACK_ROLE_DST);
	return emit_simple(SWACK_EV_ACK_APPROVE, SWACK_ORIGIN_USDT, ARG(0));
}

/* 11.1: loadvm_approve_switchover(const char *approver) */
SEC("uprobe")
int usdt_approve_name(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	set_role(SWACK_ROLE_DST);
	return emit_str(SWACK_EV_ACK_APPROVE, STR(0), ~0ULL);
}

/* 11.1: loadvm_approve_switchover_legacy(const char *approver, unsigned int n) */
SEC("uprobe")
int usdt_approve_legacy(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	set_role(SWACK_ROLE_DST);
	return emit_str(SWACK_EV_ACK_APPROVE, STR(0), ARG(1));
}

/* source_return_path_thread_switchover_acked: no argument before 11.1, the
 * counter after the decrement from 11.1 on. */
SEC("uprobe")
int usdt_acked(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	set_role(SWACK_ROLE_SRC);
	return emit_simple(SWACK_EV_ACK_RECEIVED, SWACK_ORIGIN_USDT,
			   s && s->nargs > 0 ? (__u32)ARG(0) : ~0ULL);
}

SEC("uprobe")
int usdt_switchover_start(struct pt_regs *ctx)
{
	return emit_simple(SWACK_EV_SWITCHOVER_START, SWACK_ORIGIN_USDT, 0);
}

/* vmstate_downtime_checkpoint(const char *checkpoint) */
SEC("uprobe")
int usdt_checkpoint(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	const char *checkpoint = STR(0);
	char c = 0;

	bpf_probe_read_user(&c, 1, checkpoint);
	set_role(c == 'd' ? SWACK_ROLE_DST : SWACK_ROLE_SRC);
	return emit_str(SWACK_EV_CHECKPOINT, checkpoint, 0);
}

/* vmstate_downtime_{save,load}(const char *type, const char *idstr,
 *     uint32_t instance_id, int64_t downtime) */
static __always_inline int vmstate_time(struct pt_regs *ctx, __u16 kind)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e = ev_new(kind, SWACK_ORIGIN_USDT);

	if (!e)
		return 0;
	bpf_probe_read_user_str(e->str, sizeof(e->str), STR(0));
	bpf_probe_read_user_str(e->dev, sizeof(e->dev), STR(1));
	e->a[0] = ARG(2);
	e->a[1] = ARG(3);
	submit(e);
	return 0;
}

SEC("uprobe")
int usdt_vmstate_save(struct pt_regs *ctx)
{
	return vmstate_time(ctx, SWACK_EV_VMSTATE_SAVE);
}

SEC("uprobe")
int usdt_vmstate_load(struct pt_regs *ctx)
{
	return vmstate_time(ctx, SWACK_EV_VMSTATE_LOAD);
}

/* runstate_set(int cur, const char *cur_str, int new, const char *new_str):
 * QEMU passes cur from the global current_run_state (RIP-relative spec). */
SEC("uprobe")
int usdt_runstate_set(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e = ev_new(SWACK_EV_RUNSTATE, SWACK_ORIGIN_USDT);

	if (!e)
		return 0;
	e->a[0] = ARG(0);
	e->a[1] = ARG(2);
	bpf_probe_read_user_str(e->str, sizeof(e->str), STR(3));
	submit(e);
	return 0;
}

/* vm_state_notify(int running, int reason, const char *reason_str): called
 * after the vCPUs stopped, and just before they resume. */
SEC("uprobe")
int usdt_vm_state_notify(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	if (ARG(0))
		return emit_start(SWACK_EV_VM_RESUMED, SWACK_ORIGIN_USDT, true, STR(2), ARG(1));
	return emit_str(SWACK_EV_VM_STOPPED, STR(2), ARG(1));
}

/* ram_write_tracking_ramblock_{start,stop}(block_id, page_size, addr, length):
 * write tracking of one RAMBlock; the cookie says which (0 start, 1 stop). */
SEC("uprobe")
int usdt_wt_ramblock(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	e = ev_new(s->cookie ? SWACK_EV_WT_STOP : SWACK_EV_WT_START, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[1] = ARG(1);
	e->a[2] = ARG(2);
	e->a[3] = ARG(3);
	bpf_probe_read_user_str(e->str, sizeof(e->str), STR(0));
	submit(e);
	return 0;
}

/* ---- VFIO devices as QEMU sees them (hw/vfio/trace-events) ------------- */

static __always_inline struct swack_event *vfio_event(__u16 kind, const char *name)
{
	struct swack_event *e = ev_new(kind, SWACK_ORIGIN_USDT);

	if (e)
		bpf_probe_read_user_str(e->dev, sizeof(e->dev), name);
	return e;
}

static __always_inline int vfio_pending(const char *name, __u64 precopy, __u64 postcopy,
					__u64 stopcopy, __u64 init, __u64 dirty, __u32 flags)
{
	struct swack_event *e = vfio_event(SWACK_EV_VFIO_PENDING, name);

	if (!e)
		return 0;
	e->a[0] = precopy;
	e->a[1] = postcopy;
	e->a[2] = stopcopy;
	e->a[3] = init;
	e->a[4] = dirty;
	e->flags = flags;
	submit(e);
	return 0;
}

/* vfio_state_pending_estimate(name, precopy, postcopy, init, dirty) */
SEC("uprobe")
int usdt_vfio_pending_estimate(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return vfio_pending(STR(0), ARG(1), ARG(2), ~0ULL, ARG(3), ARG(4), 0);
}

/* vfio_state_pending_exact(name, precopy, postcopy, stopcopy, init, dirty) */
SEC("uprobe")
int usdt_vfio_pending_exact(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return vfio_pending(STR(0), ARG(1), ARG(2), ARG(3), ARG(4), ARG(5), SWACK_F_EXACT);
}

/* vfio_save_iterate(name, init, dirty) */
SEC("uprobe")
int usdt_vfio_save_iterate(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e = vfio_event(SWACK_EV_VFIO_ITERATE, STR(0));

	if (!e)
		return 0;
	e->a[0] = ARG(1);
	e->a[1] = ARG(2);
	submit(e);
	return 0;
}

/* vfio_migration_set_state(name, new_state, recover_state) and
 * vfio_migration_set_device_state(name, state): the cookie says which. */
SEC("uprobe")
int usdt_vfio_state(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	e = vfio_event(SWACK_EV_VFIO_STATE, STR(0));
	if (!e)
		return 0;
	bpf_probe_read_user_str(e->str, sizeof(e->str), STR(1));
	e->a[0] = s->cookie;
	submit(e);
	return 0;
}

/* Every other VFIO event: (name[, x[, y]]), the cookie names the event. */
SEC("uprobe")
int usdt_vfio_op(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	e = vfio_event(SWACK_EV_VFIO_OP, STR(0));
	if (!e)
		return 0;
	e->a[0] = s->cookie;
	e->a[1] = ARG(1);
	e->a[2] = ARG(2);
	submit(e);
	return 0;
}

/* ---- postcopy, QEMU 10.2's migration/trace-events ------------------------ */

/* Void events, loadvm_postcopy_handle_listen(const char *str) and the QMP
 * commands' qmp_enter_*(const char *json): the cookie is the step. */
SEC("uprobe")
int usdt_pc_step(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	pc_role(s->cookie);
	e = ev_new(SWACK_EV_PC_STEP, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = s->cookie;
	if (s->cookie == SWACK_PC_DST_LISTENING)
		bpf_probe_read_user_str(e->str, sizeof(e->str), STR(0));
	submit(e);
	return 0;
}

/* migrate_send_rp_message(int msg_type, uint16_t len): the page requests. */
SEC("uprobe")
int usdt_pc_request(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	__u64 type = ARG(0);

	if (type != SWACK_RP_MSG_REQ_PAGES_ID && type != SWACK_RP_MSG_REQ_PAGES)
		return 0;
	return pc_request(0, ~0ULL, SWACK_ORIGIN_USDT);
}

/* migrate_handle_rp_req_pages(const char *rbname, size_t start, size_t len) */
SEC("uprobe")
int usdt_pc_req_recv(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return pc_req_recv(STR(0), ARG(1), ARG(2), SWACK_ORIGIN_USDT);
}

/* postcopy_ram_fault_thread_request(uint64_t hostaddr, const char *ramblock,
 *     size_t offset, uint32_t pid) */
SEC("uprobe")
int usdt_pc_fault(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	set_role(SWACK_ROLE_DST);
	e = ev_new(SWACK_EV_PC_FAULT, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = ARG(0);
	e->a[1] = ARG(2);
	e->a[2] = (__u32)ARG(3);
	bpf_probe_read_user_str(e->str, sizeof(e->str), STR(1));
	submit(e);
	return 0;
}

/* postcopy_page_req_add / _del(void *addr, int count): the cookie is 1 / 0. */
SEC("uprobe")
int usdt_pc_page_req(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	e = ev_new(SWACK_EV_PC_PAGE_REQ, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = ARG(0);
	e->a[1] = (__u32)ARG(1);
	e->a[2] = s->cookie;
	submit(e);
	return 0;
}

/* postcopy_blocktime_tid_cpu_map(int cpu, uint32_t tid) */
SEC("uprobe")
int usdt_pc_vcpu(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	set_role(SWACK_ROLE_DST);
	e = ev_new(SWACK_EV_PC_VCPU, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = (__u32)ARG(0);
	e->a[1] = (__u32)ARG(1);
	submit(e);
	return 0;
}

/* postcopy_blocktime_begin(uint64_t addr, uint64_t time, int cpu, bool exists),
 * postcopy_blocktime_end(uint64_t addr, uint64_t time, int affected_cpu,
 *     int affected_non_cpus), postcopy_ram_incoming_cleanup_blocktime(uint64_t
 * total): the cookie is enum swack_pc_bt. */
SEC("uprobe")
int usdt_pc_blocktime(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);
	struct swack_event *e;

	if (!s)
		return 0;
	e = ev_new(SWACK_EV_PC_BLOCKTIME, SWACK_ORIGIN_USDT);
	if (!e)
		return 0;
	e->a[0] = s->cookie;
	for (int i = 0; i < 4; i++)
		e->a[i + 1] = ARG(i);
	if (s->cookie == SWACK_PC_BT_TOTAL) {   /* its one argument, where BEGIN has the time */
		e->a[2] = e->a[1];
		e->a[1] = 0;
	}
	submit(e);
	return 0;
}

/* ram_discard_range(const char *rbname, uint64_t start, size_t len) */
SEC("uprobe")
int usdt_pc_discard(struct pt_regs *ctx)
{
	const struct swack_usdt_spec *s = usdt_spec(ctx);

	return pc_discard(STR(0), ARG(1), ARG(2), SWACK_ORIGIN_USDT);
}

#undef ARG
#undef STR

/* ---- kernel ---------------------------------------------------------------- */

/*
 * The migration stream's bytes, counted in the kernel whatever QEMU was built
 * with (syscall tracepoints: fentry and kprobes are not available on every
 * host).  A channel is a descriptor of a watched process whose first bytes
 * are QEMU's stream magic ("QEVM" on the main channel, 0x11223344 on a
 * multifd channel, whose every packet starts with it), or that a thread which
 * sent such bytes writes to (the postcopy preempt channel has no magic; the
 * migration thread is also learned from its probes, for an observer attached
 * mid-migration).  Sockets of any family (tcp:, unix:), pipes and files
 * (exec:, file:, background snapshots) all count; QMP, chardevs and VNC do
 * not.  Keyed pid << 32 | fd, dropped at close().
 */
#define STREAM_MAGIC 0x4d564551u    /* "QEVM" read as a little-endian u32 */
#define MULTIFD_MAGIC 0x44332211u   /* the big-endian 0x11223344, read so */

enum { CH_NONE = 1, CH_OTHER = 2, CH_MIGRATION = 3 };

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} channels SEC(".maps");

/* Threads with a channel send in progress, from entry to exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} chan_send SEC(".maps");

static __always_inline bool mig_thread(__u64 id)
{
	__u32 tid = (__u32)id, *pid = bpf_map_lookup_elem(&mig_threads, &tid);

	return pid && *pid == id >> 32;
}

/* Where a write's data is: a buffer (write), an iovec array (writev), a
 * struct user_msghdr (sendmsg, msg_iov at offset 16). */
enum data_at { AT_BUF, AT_IOV, AT_MSG };

/* A migration thread's write that is the stream, magic or not; its stdout
 * and stderr are logs (QEMU's error reports, the log trace backend), which
 * a redirection may make a file or a pipe. */
static __always_inline bool mig_write(__u64 id, __u32 fd, enum data_at at)
{
	return (at == AT_MSG || fd > 2) && mig_thread(id);
}

/* A pipe or a regular file: where an exec: or file: migration stream goes
 * (eventfd notifications are neither). */
static __always_inline bool fd_is_stream(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *f;
	__u16 fmt;

	if (fd < 0 || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return false;
	fmt = BPF_CORE_READ(f, f_inode, i_mode) & 0170000;
	return fmt == 0010000 || fmt == 0100000;
}

/* The first bytes an iovec array points at, 0 when fewer than 4. */
static __always_inline __u64 iov_first(__u64 iov)
{
	__u64 v[2] = { 0, 0 };

	if (!iov || bpf_probe_read_user(v, sizeof(v), (void *)iov) || v[1] < 4)
		return 0;
	return v[0];
}

static __always_inline __u64 first_bytes(__u64 ptr, enum data_at at)
{
	__u64 iov = 0;

	if (at == AT_BUF)
		return ptr;
	if (at == AT_MSG && bpf_probe_read_user(&iov, sizeof(iov), (void *)(ptr + 16)))
		return 0;
	return iov_first(at == AT_MSG ? iov : ptr);
}

/* How the first write seen on fd classifies it; its data at ptr. */
static __always_inline __u8 classify(__u64 id, __u32 fd, __u64 ptr, enum data_at at)
{
	__u32 magic = 0, tid = (__u32)id, pid = id >> 32;
	__u64 first;

	if (at != AT_MSG && !fd_is_stream((int)fd))
		return CH_NONE;
	if (mig_write(id, fd, at))
		return CH_MIGRATION;
	first = first_bytes(ptr, at);
	if (first)
		bpf_probe_read_user(&magic, sizeof(magic), (void *)first);
	if (magic != STREAM_MAGIC && magic != MULTIFD_MAGIC)
		return CH_OTHER;
	if (tid != pid)
		bpf_map_update_elem(&mig_threads, &tid, &pid, BPF_ANY);
	return CH_MIGRATION;
}

static __always_inline bool is_channel(__u64 id, __u32 fd, __u64 ptr, enum data_at at)
{
	__u64 key = (id & 0xffffffff00000000ULL) | fd;
	__u8 *k = bpf_map_lookup_elem(&channels, &key), v;

	if (k && (*k == CH_MIGRATION || *k == CH_NONE))
		return *k == CH_MIGRATION;
	if (k && !mig_write(id, fd, at))
		return false;
	v = k ? CH_MIGRATION : classify(id, fd, ptr, at);
	bpf_map_update_elem(&channels, &key, &v, BPF_ANY);
	return v == CH_MIGRATION;
}

static __always_inline void add_stream_bytes(long ret)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *tx, zero = 0;

	if (ret <= 0)
		return;
	tx = bpf_map_lookup_elem(&txbytes, &pid);
	if (!tx) {
		bpf_map_update_elem(&txbytes, &pid, &zero, BPF_NOEXIST);
		tx = bpf_map_lookup_elem(&txbytes, &pid);
		if (!tx)
			return;
	}
	__sync_fetch_and_add(tx, ret);
}

/* sendmsg(fd, struct user_msghdr *msg, flags) */
static __always_inline int sendmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u8 one = 1;

	if (!watched(id >> 32) || !is_channel(id, (__u32)ctx->args[0], ctx->args[1], AT_MSG))
		return 0;
	bpf_map_update_elem(&chan_send, &tid, &one, BPF_ANY);
	return 0;
}

static __always_inline int sendmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&chan_send, &tid))
		return 0;
	bpf_map_delete_elem(&chan_send, &tid);
	add_stream_bytes(ctx->ret);
	return 0;
}

/* ---- VFIO migration uAPI, from the syscall tracepoints ------------------
 * Every ioctl on the host passes here: the first test, on the ioctl type,
 * is all that an unrelated ioctl pays at entry; at exit, one lookup. */

struct vfio_call {
	__u64 arg;
	__u64 enter_payload;
	__u32 fd;
	__u32 cmd;
	__u32 flags;
	char name[SWACK_STR_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vfio_call);
} vfio_calls SEC(".maps");

/* Migration data fds, (pid << 32 | fd), learned from MIG_DEVICE_STATE. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} data_fds SEC(".maps");

struct data_io {
	__u32 fd;
	__u32 kind;       /* enum io_kind */
	__u64 buf;        /* read buffer */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct data_io);
} data_calls SEC(".maps");

/* ---- userfaultfd: write-protect faults and what resolves them --------- */

/* A UFFDIO_* ioctl in progress: its range, normalized (start, length, mode). */
struct uffd_call {
	__u64 start;
	__u64 len;
	__u64 mode;
	__u32 fd;
	__u32 cmd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct uffd_call);
} uffd_calls SEC(".maps");

/*
 * A userfault stall (a snapshot's write fault, postcopy's missing fault), met
 * from both ends: the faulting thread going to sleep in handle_userfault
 * (sched_switch, on its CPU) and the UFFDIO ioctl of its process that wakes
 * it (sched_waking, on the waker's CPU).  The two may run
 * at the same time, each swack's programs one after another, so each end
 * marks the entry with one atomic OR, and an end that finds the other's mark
 * claims the stall by swapping both marks for none: only the one whose swap
 * succeeds reports it.  A sleep can find the mark of a wake-up that ended an
 * earlier sleep its own program missed, while the wake-up of this sleep
 * comes: both ends then see both marks, and without the swap both reported
 * (one stall twice, in one observer and not another).
 */
#define STALL_SLEPT 1ull
#define STALL_WOKEN 2ull
#define WOKEN_NS 1000000ull   /* a wake-up older than this at a sleep was not for it */

struct stall {
	__u64 sleep_ts, wake_ts;
	__u64 start, len;     /* the waking ioctl's range */
	__u32 cmd, waker;
	__u64 flags;          /* STALL_SLEPT | STALL_WOKEN, set atomically */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct stall);
} stalls SEC(".maps");

#define FD_VFIO_DATA 1
#define FD_UFFD 2

/* Each command's argument, as (start, length, mode): uffdio_copy is { dst,
 * src, len, mode }; UFFDIO_API's { api, features, ioctls } gives its features
 * as the mode; range-only commands have no mode. */
static __always_inline void uffd_args(struct uffd_call *c, __u64 arg)
{
	__u64 w[4] = {};

	/* Two reads: a 16-byte uffdio_range may end at the end of a page. */
	bpf_probe_read_user(w, 16, (void *)arg);
	switch (c->cmd & 0xff) {
	case SWACK_UFFDIO_API:
		c->mode = w[1];
		return;
	case SWACK_UFFDIO_UNREGISTER:
	case SWACK_UFFDIO_WAKE:
		c->start = w[0];
		c->len = w[1];
		return;
	}
	bpf_probe_read_user(&w[2], 16, (void *)(arg + 16));
	c->start = w[0];
	c->len = (c->cmd & 0xff) == SWACK_UFFDIO_COPY ? w[2] : w[1];
	c->mode = (c->cmd & 0xff) == SWACK_UFFDIO_COPY ? w[3] : w[2];
}

static __always_inline int uffd_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct uffd_call c = { .fd = (__u32)ctx->args[0], .cmd = (__u32)ctx->args[1] };

	if (!watched(id >> 32))
		return 0;
	uffd_args(&c, ctx->args[2]);
	bpf_map_update_elem(&uffd_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* Releasing protection (or filling a page) is what lets a faulting thread go. */
static __always_inline bool uffd_resolves(const struct uffd_call *c)
{
	switch (c->cmd & 0xff) {
	case SWACK_UFFDIO_WRITEPROTECT:
		return !(c->mode & SWACK_UFFDIO_WP_MODE_WP);
	case SWACK_UFFDIO_WAKE:
	case SWACK_UFFDIO_COPY:
	case SWACK_UFFDIO_ZEROPAGE:
	case SWACK_UFFDIO_CONTINUE:
		return true;
	default:
		return false;
	}
}

/* The fd registered for write-protect (a snapshot) or for missing faults (a
 * postcopy destination): its reads carry the fault messages. */
static __always_inline void uffd_registered(struct swack_proc *p, const struct uffd_call *c)
{
	__u64 key = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | c->fd;
	__u8 kind = FD_UFFD;

	if (c->mode & SWACK_UFFDIO_REGISTER_MODE_WP)
		p->wt_fd = c->fd + 1;
	else
		p->pc_fd = c->fd + 1;
	bpf_map_update_elem(&data_fds, &key, &kind, BPF_ANY);
}

/* Missing faults QEMU read off a postcopy destination's userfaultfd and that
 * no page has filled yet, by process and page. */
struct pc_key {
	__u32 pid;
	__u32 pad;
	__u64 page;
};

struct pc_fault {
	__u64 ts;          /* when QEMU read it */
	__u32 tid;         /* the faulting thread, 0 unknown */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct pc_key);
	__type(value, struct pc_fault);
} pc_faults SEC(".maps");

static __always_inline void pc_progress(struct swack_proc *p, __u64 now)
{
	struct swack_event *e = ev_new(SWACK_EV_PC_PROGRESS, SWACK_ORIGIN_KERNEL);

	p->pc_sent_ts = now;
	p->pc_sent_calls = p->pc_copies + p->pc_zeros + p->pc_wakes;
	if (!e)
		return;
	e->a[0] = p->pc_copies;
	e->a[1] = p->pc_zeros;
	e->a[2] = p->pc_bytes;
	e->a[3] = p->pc_resolved;
	e->a[4] = p->pc_wakes;
	submit(e);
}

/* A page placed on a postcopy destination: counted, and an event only when a
 * fault QEMU read was waiting for it (background pages are most of them). */
static __always_inline void pc_placed(struct swack_proc *p, const struct uffd_call *c)
{
	struct pc_key k = { .pid = bpf_get_current_pid_tgid() >> 32, .page = c->start & ~0xfffULL };
	struct pc_fault *f = bpf_map_lookup_elem(&pc_faults, &k);
	__u64 now = bpf_ktime_get_ns();
	struct swack_event *e;

	switch (c->cmd & 0xff) {
	case SWACK_UFFDIO_COPY: __sync_fetch_and_add(&p->pc_copies, 1); break;
	case SWACK_UFFDIO_ZEROPAGE: __sync_fetch_and_add(&p->pc_zeros, 1); break;
	default: __sync_fetch_and_add(&p->pc_wakes, 1); break;
	}
	if ((c->cmd & 0xff) != SWACK_UFFDIO_WAKE)
		__sync_fetch_and_add(&p->pc_bytes, c->len);
	if (f) {
		__sync_fetch_and_add(&p->pc_resolved, 1);
		e = ev_new(SWACK_EV_PC_RESOLVE, SWACK_ORIGIN_KERNEL);
		if (e) {
			e->a[0] = k.page;
			e->a[1] = e->ts > f->ts ? e->ts - f->ts : 0;
			e->a[2] = f->tid;
			e->a[3] = c->cmd;
			e->a[4] = c->len;
			submit(e);
		}
		bpf_map_delete_elem(&pc_faults, &k);
	}
	if (now - p->pc_sent_ts >= PC_PROGRESS_NS)
		pc_progress(p, now);
}

static __always_inline int uffd_ioctl_exit(struct uffd_call *c, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct swack_proc *p = watched(bpf_get_current_pid_tgid() >> 32);
	struct swack_event *e;

	if (p && !ret && uffd_resolves(c)) {
		/* Hundreds of thousands in a snapshot: counted, not emitted. */
		__sync_fetch_and_add(&p->unprot_calls, 1);
		__sync_fetch_and_add(&p->unprot_bytes, c->len);
		if (p->pc_fd && (c->cmd & 0xff) != SWACK_UFFDIO_WRITEPROTECT)
			pc_placed(p, c);
	} else if ((e = ev_new(SWACK_EV_UFFD_IOCTL, SWACK_ORIGIN_KERNEL))) {
		e->a[0] = c->cmd;
		e->a[1] = c->fd;
		e->a[2] = c->start;
		e->a[3] = c->len;
		e->a[4] = c->mode;
		e->a[5] = ret;
		submit(e);
	}
	if (p && !ret && (c->cmd & 0xff) == SWACK_UFFDIO_REGISTER &&
	    (c->mode & (SWACK_UFFDIO_REGISTER_MODE_WP | SWACK_UFFDIO_REGISTER_MODE_MISSING)))
		uffd_registered(p, c);
	/* Postcopy ends with the RAMBlocks unregistered: the last totals. */
	if (p && p->pc_fd && (c->cmd & 0xff) == SWACK_UFFDIO_UNREGISTER &&
	    p->pc_sent_calls != p->pc_copies + p->pc_zeros + p->pc_wakes)
		pc_progress(p, bpf_ktime_get_ns());
	bpf_map_delete_elem(&uffd_calls, &tid);
	return 0;
}

/* handle_userfault's text (from /proc/kallsyms), where a faulting thread
 * waits; 0 when unknown, and then stalls are not measured. */
const volatile __u64 uffd_wait_lo = 0;
const volatile __u64 uffd_wait_hi = 0;

#define STALL_FRAMES 12

/* Sleeping inside handle_userfault: a fault waiting for QEMU. */
static __always_inline bool in_userfault(void *ctx)
{
	__u64 ips[STALL_FRAMES];
	long n;

	if (!uffd_wait_lo)
		return false;
	n = bpf_get_stack(ctx, ips, sizeof(ips), 0);
	for (int i = 0; i < STALL_FRAMES; i++) {
		if (i * 8 >= n)
			break;
		if (ips[i] >= uffd_wait_lo && ips[i] < uffd_wait_hi)
			return true;
	}
	return false;
}

static __always_inline struct stall *stall_entry(__u32 tid)
{
	struct stall zero = {};

	bpf_map_update_elem(&stalls, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stalls, &tid);
}

/* Both marks set: the caller reports the stall if it is the one to clear them. */
static __always_inline bool stall_claim(struct stall *st)
{
	__u64 both = STALL_SLEPT | STALL_WOKEN;

	return __sync_val_compare_and_swap(&st->flags, both, 0) == both;
}

static __always_inline void stall_report(__u32 thread, const struct stall *st, const char *comm)
{
	struct swack_event *e = ev_new(SWACK_EV_UFFD_STALL, SWACK_ORIGIN_KERNEL);

	if (e) {
		/* The wake-up's time, whichever end reports: it orders the stall
		 * against the waker's own events (write tracking's stop) the same
		 * way for every observer. */
		e->ts = st->wake_ts;
		e->tid = st->waker;
		e->a[0] = st->wake_ts > st->sleep_ts ? st->wake_ts - st->sleep_ts : 0;
		e->a[1] = thread;
		e->a[2] = st->cmd;
		e->a[3] = st->start;
		e->a[4] = st->len;
		bpf_probe_read_kernel(e->str, 16, comm);
		submit(e);
	}
}

/* A watched thread goes to sleep in a userfault: a write-protect fault while
 * its process tracks writes, or a missing fault on a postcopy destination.
 * Every context switch of the machine passes here; all but
 * the watched processes' stop at the first lookup, and only their sleeps
 * pay for the stack walk. */
SEC("tp_btf/sched_switch")
int BPF_PROG(uffd_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct swack_proc *p = watched(id >> 32);
	__u32 tid = (__u32)id;
	long state = prev_state;
	struct stall *st;
	__u64 now;

	/* 0: still runnable; 0x100 and above (TASK_REPORT_MAX): preempted. */
	if (!p || !(p->wt_fd || p->pc_fd) || state == 0 || state >= 0x100)
		return 0;
	if (!in_userfault(ctx))
		return 0;
	st = stall_entry(tid);
	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	st->sleep_ts = now;
	if (!(__sync_fetch_and_or(&st->flags, STALL_SLEPT) & STALL_WOKEN))
		return 0;
	if (st->wake_ts >= now || now - st->wake_ts < WOKEN_NS) {
		if (!stall_claim(st))
			return 0;
		st->sleep_ts = st->wake_ts; /* woken on its way to sleep */
		stall_report(tid, st, prev->comm);
	} else {
		/* a wake-up of an earlier sleep (one a signal ended): not this one's */
		__sync_fetch_and_and(&st->flags, ~STALL_WOKEN);
	}
	return 0;
}

/* The waker is inside a UFFDIO ioctl of the faulting thread's own process:
 * this ioctl ended the stall. */
SEC("tp_btf/sched_waking")
int BPF_PROG(uffd_waking, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, wakee = task->pid;
	struct uffd_call *c = bpf_map_lookup_elem(&uffd_calls, &tid);
	struct stall *st;

	if (!c || task->tgid != id >> 32)
		return 0;
	st = stall_entry(wakee);
	if (!st)
		return 0;
	st->wake_ts = bpf_ktime_get_ns();
	st->cmd = c->cmd;
	st->start = c->start;
	st->len = c->len;
	st->waker = tid;
	if ((__sync_fetch_and_or(&st->flags, STALL_WOKEN) & STALL_SLEPT) && stall_claim(st))
		stall_report(wakee, st, task->comm);
	return 0;
}

/* KVM: a vCPU thread enters guest code with KVM_RUN (one per exit to QEMU). */
static __always_inline int kvm_run_enter(__u64 id)
{
	struct swack_proc *p = watched(id >> 32);

	if (p && p->run_wait)
		vcpu_entered(p, SWACK_RUN_KVM);
	return 0;
}

static __always_inline int vfio_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 cmd = (__u32)ctx->args[1], tid = (__u32)id;
	struct vfio_call c = {};
	__u32 hdr[2];

	if (cmd == SWACK_KVM_RUN)
		return kvm_run_enter(id);
	if (((cmd >> 8) & 0xff) == SWACK_UFFD_TYPE)
		return uffd_ioctl_enter(ctx);
	if (((cmd >> 8) & 0xff) != SWACK_VFIO_TYPE || !watched(id >> 32))
		return 0;
	c.fd = (__u32)ctx->args[0];
	c.cmd = cmd;
	c.arg = ctx->args[2];
	if (cmd == SWACK_VFIO_DEVICE_FEATURE &&
	    !bpf_probe_read_user(hdr, sizeof(hdr), (void *)c.arg)) {
		c.flags = hdr[1];
		bpf_probe_read_user(&c.enter_payload, 8, (void *)(c.arg + 8));
	} else if (cmd == SWACK_VFIO_GROUP_GET_DEVICE_FD) {
		bpf_probe_read_user_str(c.name, sizeof(c.name), (void *)c.arg);
	}
	bpf_map_update_elem(&vfio_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* A successful SET of MIG_DEVICE_STATE may hand out a new data fd. */
static __always_inline void learn_data_fd(const struct vfio_call *c, __u64 out, long ret)
{
	__u64 key;
	__s32 fd = (__s32)(out >> 32);
	__u8 one = 1;

	if (ret || c->cmd != SWACK_VFIO_DEVICE_FEATURE || fd < 0 ||
	    c->flags != (SWACK_VFIO_FEATURE_SET | SWACK_VFIO_FEATURE_MIG_DEVICE_STATE))
		return;
	key = (bpf_get_current_pid_tgid() & 0xffffffff00000000ULL) | (__u32)fd;
	bpf_map_update_elem(&data_fds, &key, &one, BPF_ANY);
}

static __always_inline int vfio_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vfio_call *c = bpf_map_lookup_elem(&vfio_calls, &tid);
	struct uffd_call *u;
	struct swack_event *e;
	__u32 info[6] = {};

	if (!c) {
		u = bpf_map_lookup_elem(&uffd_calls, &tid);
		return u ? uffd_ioctl_exit(u, ctx->ret) : 0;
	}
	e = ev_new(SWACK_EV_VFIO_IOCTL, SWACK_ORIGIN_KERNEL);
	if (e) {
		e->a[0] = c->cmd;
		e->a[1] = c->fd;
		e->a[5] = ctx->ret;
		if (c->cmd == SWACK_VFIO_DEVICE_FEATURE) {
			e->a[2] = c->flags;
			e->a[3] = c->enter_payload;
			bpf_probe_read_user(&e->a[4], 8, (void *)(c->arg + 8));
			learn_data_fd(c, e->a[4], ctx->ret);
		} else if (c->cmd == SWACK_VFIO_MIG_GET_PRECOPY_INFO &&
			   !bpf_probe_read_user(info, sizeof(info), (void *)c->arg)) {
			e->a[2] = info[1];
			e->a[3] = info[2] | (__u64)info[3] << 32;
			e->a[4] = info[4] | (__u64)info[5] << 32;
		}
		__builtin_memcpy(e->str, c->name, sizeof(e->str));
		submit(e);
	}
	bpf_map_delete_elem(&vfio_calls, &tid);
	return 0;
}

/* What a read or write in progress is to swack. */
enum io_kind { IO_VFIO_READ = 0, IO_VFIO_WRITE = 1, IO_UFFD_READ = 2, IO_STREAM = 3 };

/* data, at: where a write's data is (to classify a new channel) */
static __always_inline int data_enter(__u64 fd, __u32 write, __u64 buf, __u64 data,
				      enum data_at at)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 key = (id & 0xffffffff00000000ULL) | (__u32)fd;
	struct data_io io = { .fd = (__u32)fd, .kind = write, .buf = buf };
	__u32 tid = (__u32)id;
	__u8 *kind = bpf_map_lookup_elem(&data_fds, &key);

	if (kind && *kind == FD_UFFD && !write)
		io.kind = IO_UFFD_READ;
	else if (!kind && !(write && watched(id >> 32) && is_channel(id, fd, data, at)))
		return 0;
	else if (!kind)
		io.kind = IO_STREAM;
	bpf_map_update_elem(&data_calls, &tid, &io, BPF_ANY);
	return 0;
}

/* A missing fault on a postcopy destination, until a page fills it. */
static __always_inline void pc_fault_read(const __u64 *m)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct swack_proc *p = watched(id >> 32);
	struct pc_key k = { .pid = id >> 32, .page = m[2] & ~0xfffULL };
	struct pc_fault f = { .ts = bpf_ktime_get_ns(), .tid = (__u32)m[3] };

	if (p && p->pc_fd && !(m[1] & SWACK_UFFD_PAGEFAULT_FLAG_WP))
		bpf_map_update_elem(&pc_faults, &k, &f, BPF_ANY);
}

/* QEMU reads struct uffd_msg records; a few per read at most. */
static __always_inline void uffd_msgs(const struct data_io *io, long ret)
{
	struct swack_event *e;
	__u64 m[4];

	for (int i = 0; i < 4; i++) {
		if ((i + 1) * SWACK_UFFD_MSG_SIZE > ret)
			break;
		if (bpf_probe_read_user(m, sizeof(m), (void *)(io->buf + i * SWACK_UFFD_MSG_SIZE)) ||
		    (m[0] & 0xff) != SWACK_UFFD_EVENT_PAGEFAULT)
			continue;
		pc_fault_read(m);
		e = ev_new(SWACK_EV_UFFD_FAULT, SWACK_ORIGIN_KERNEL);
		if (!e)
			return;
		e->a[0] = m[2];
		e->a[1] = m[1];
		e->a[2] = (__u32)m[3];
		submit(e);
	}
}

static __always_inline int data_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct data_io *io = bpf_map_lookup_elem(&data_calls, &tid);
	struct swack_event *e;

	if (!io)
		return 0;
	if (io->kind == IO_UFFD_READ)
		uffd_msgs(io, ret);
	else if (io->kind == IO_STREAM)
		add_stream_bytes(ret);
	else if ((e = ev_new(SWACK_EV_VFIO_DATA, SWACK_ORIGIN_KERNEL))) {
		e->a[0] = io->fd;
		e->a[1] = ret;
		e->a[2] = io->kind;
		submit(e);
	}
	bpf_map_delete_elem(&data_calls, &tid);
	return 0;
}

static __always_inline int data_read_enter(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[0], 0, ctx->args[1], 0, AT_BUF);
}

static __always_inline int data_read_exit(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx->ret);
}

static __always_inline int data_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[0], 1, 0, ctx->args[2] >= 4 ? ctx->args[1] : 0, AT_BUF);
}

static __always_inline int data_write_exit(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx->ret);
}

/* QEMUFile flushes its buffer with writev. */
static __always_inline int data_writev_enter(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[0], 1, 0, ctx->args[2] ? ctx->args[1] : 0, AT_IOV);
}

static __always_inline int data_writev_exit(struct trace_event_raw_sys_exit *ctx)
{
	return data_exit(ctx->ret);
}

/* A closed data fd number may come back as anything; closing the
 * userfaultfd ends write tracking. */
static __always_inline int data_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 key = (id & 0xffffffff00000000ULL) | (__u32)ctx->args[0];
	__u8 *kind = bpf_map_lookup_elem(&data_fds, &key);
	struct swack_proc *p;

	bpf_map_delete_elem(&channels, &key);
	if (!kind)
		return 0;
	p = *kind == FD_UFFD ? watched(id >> 32) : NULL;
	if (p && p->wt_fd == (__u32)ctx->args[0] + 1)
		p->wt_fd = 0;
	if (p && p->pc_fd == (__u32)ctx->args[0] + 1)
		p->pc_fd = 0;
	bpf_map_delete_elem(&data_fds, &key);
	return 0;
}

/* New QEMU processes: user space decides whether to attach. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec)
{
	struct swack_event *e;
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 'q' || comm[1] != 'e' || comm[2] != 'm' || comm[3] != 'u')
		return 0;
	e = ring_reserve();
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tid = e->pid;
	e->kind = SWACK_EV_EXEC;
	e->origin = SWACK_ORIGIN_KERNEL;
	__builtin_memcpy(e->str, comm, sizeof(comm));
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	/* Its tid may come back as any thread: no longer a migration thread.
	 * Its stall entry goes here, not at each report: the other end of a
	 * stall may still hold it, and a deleted element of a preallocated hash
	 * is reused at once. */
	bpf_map_delete_elem(&mig_threads, &tid);
	bpf_map_delete_elem(&stalls, &tid);
	if (tid != (__u32)(id >> 32))
		return 0;
	emit_simple(SWACK_EV_EXIT, SWACK_ORIGIN_KERNEL, 0);
	return 0;
}

/* ---- syscalls: the raw sys_enter and sys_exit tracepoints ----------------
 * A perf-event tracepoint link takes the kernel's trace event mutex and waits
 * out the tracepoint's grace periods when it goes (about 50 ms a link here,
 * one link after the other for the whole host, and any swack attaching
 * meanwhile waits); raw tracepoint links go at once.  One program each way
 * serves every syscall swack follows, in the tracepoints' own context. */

#if defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#define NR_ioctl 29
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_writev 66
#define NR_sendmsg 211
#else
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define NR_ioctl 16
#define NR_close 3
#define NR_read 0
#define NR_write 1
#define NR_writev 20
#define NR_sendmsg 46
#endif

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct trace_event_raw_sys_enter t = { .id = id };

	switch (id) {
	case NR_ioctl: case NR_close: case NR_read: case NR_write: case NR_writev:
	case NR_sendmsg:
		break;
	default:
		return 0;
	}
	t.args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	t.args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	t.args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	switch (id) {
	case NR_ioctl: return vfio_ioctl_enter(&t);
	case NR_close: return data_close(&t);
	case NR_read: return data_read_enter(&t);
	case NR_write: return data_write_enter(&t);
	case NR_writev: return data_writev_enter(&t);
	default: return sendmsg_enter(&t);
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct trace_event_raw_sys_exit t = { .ret = ret };
	long id = SYSCALL_NR(regs);

	t.id = id;
	switch (id) {
	case NR_ioctl: return vfio_ioctl_exit(&t);
	case NR_read: return data_read_exit(&t);
	case NR_write: return data_write_exit(&t);
	case NR_writev: return data_writev_exit(&t);
	case NR_sendmsg: return sendmsg_exit(&t);
	default: return 0;
	}
}
