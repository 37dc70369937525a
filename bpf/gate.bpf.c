// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The switchover gate: the only swack programs that change what QEMU does.
 *
 * QEMU's migration thread asks the pending-size query how much is left and
 * switches over when the answer is at or under its threshold.  While a hold
 * applies to a process (pinned map gate_holds, written by `swack gate hold`
 * or by a policy of `swack gate run`), the query's answer is raised above
 * the threshold at its return, so QEMU iterates again.  The decision is taken
 * here, at the return, synchronously: the hold, its deadline (enforced here:
 * past it the hold is ignored) and whether raising is needed at all.
 *
 * Two actuators (user/gate.c picks one at load time):
 *  - write: bpf_probe_write_user raises the out-parameter (kernels without
 *    lockdown);
 *  - ptrace (lockdown "integrity", Secure Boot hosts): BPF may neither write
 *    user memory nor uprobe registers.  The return probe records what to
 *    write and sends the calling thread signal 33 (glibc's SIGSETXID: never
 *    blockable, its handler ignores instances its process did not send);
 *    `swack gate run`, which has PTRACE_SEIZEd that one thread, sees the
 *    signal-delivery stop, writes the value with PTRACE_POKEDATA and resumes
 *    the thread with the signal suppressed.  A signal goes only to a thread
 *    whose tracer is the running gate and is neither exiting nor stopped, so
 *    a killed or stopped gate holds nothing: QEMU proceeds (fail open).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "gate_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before loading. */
const volatile __u32 gate_tgid;      /* swack gate run, the tracer */
const volatile __u32 actuator;       /* enum gate_actuator */

#define PT_PTRACED 0x1
#define PF_EXITING 0x4
#define TASK_STOPPED_BIT 0x4         /* __TASK_STOPPED */
#define TASK_TRACED_BIT 0x8          /* __TASK_TRACED */

/* ---- pinned by swack gate run -------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GATE_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct gate_hold);
} gate_holds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GATE_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct gate_target);
} gate_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GATE_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct gate_stats);
} gate_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gate_ctl);
} gate_ctl SEC(".maps");

/* Written by user space only; pinned so that observation tools can read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GATE_LOG_SLOTS);
	__type(key, __u32);
	__type(value, struct gate_log_entry);
} gate_log SEC(".maps");

/* ---- private ------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} gate_events SEC(".maps");

/* tid -> the query in progress */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gate_call);
} gate_calls SEC(".maps");

/* tid -> what the gate must write at the signal-delivery stop */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gate_act);
} gate_acts SEC(".maps");

/* tid -> when it was last announced to the gate as not seized */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} gate_seen SEC(".maps");

#define ANNOUNCE_EVERY_NS 200000000ULL

static __always_inline void msg(__u32 type, __s64 a0, __u64 a1)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gate_msg *m = bpf_ringbuf_reserve(&gate_events, sizeof(*m), 0);

	if (!m)
		return;
	m->ts = bpf_ktime_get_ns();
	m->type = type;
	m->pid = id >> 32;
	m->tid = (__u32)id;
	m->pad = 0;
	m->a0 = a0;
	m->a1 = a1;
	bpf_ringbuf_submit(m, 0);   /* rare, and the gate must act on them: wake it */
}

/* This thread is ptrace-seized by the running gate, which can still act. */
static __always_inline bool seized_by_gate(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_struct *tracer;

	if (!(t->ptrace & PT_PTRACED))
		return false;
	tracer = t->parent;
	if (!tracer || tracer->tgid != gate_tgid)
		return false;
	if (tracer->flags & PF_EXITING)
		return false;
	return !(tracer->__state & (TASK_STOPPED_BIT | TASK_TRACED_BIT));
}

/* The ptrace actuator needs the querying thread seized before a hold
 * applies: tell the gate about a thread as soon as it shows up, held or not. */
static __always_inline void announce(__u32 gen, __u64 now)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *seen;

	if (actuator != GATE_ACT_PTRACE || seized_by_gate())
		return;
	seen = bpf_map_lookup_elem(&gate_seen, &tid);
	if (seen && now - *seen < ANNOUNCE_EVERY_NS)
		return;
	bpf_map_update_elem(&gate_seen, &tid, &now, BPF_ANY);
	msg(GATE_MSG_THREAD, gen, 0);
}

static __always_inline int on_entry(__u32 gen, __u64 a0, __u64 a1, __u64 a2, __u64 threshold,
				    __u32 exact)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct gate_call c = {};
	__u64 now;

	if (!bpf_map_lookup_elem(&gate_targets, &pid))
		return 0;
	now = bpf_ktime_get_ns();
	c.addr[0] = a0;
	c.addr[1] = a1;
	c.addr[2] = a2;
	c.threshold = threshold;
	c.ts = now;
	c.gen = gen;
	c.exact = exact;
	bpf_map_update_elem(&gate_calls, &tid, &c, BPF_ANY);
	announce(gen, now);
	return 0;
}

static __always_inline struct gate_stats *stats_for(__u32 pid, __u64 hold_id)
{
	struct gate_stats *s = bpf_map_lookup_elem(&gate_stats, &pid);
	struct gate_stats zero = { .hold_id = hold_id };

	if (s && s->hold_id == hold_id)
		return s;
	bpf_map_update_elem(&gate_stats, &pid, &zero, BPF_ANY);
	return bpf_map_lookup_elem(&gate_stats, &pid);
}

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* QEMU's own answer, before any raise: for the --downtime-budget policy.
 * 11.1: MigPendingData's offsets are the target's (DWARF, user/gate/gate.c). */
static __always_inline void note_pending(struct gate_target *t, const struct gate_call *c)
{
	__u64 v;

	if (c->gen == GATE_GEN_111)
		v = read_u64(c->addr[0] + t->mpd_total);
	else
		v = read_u64(c->addr[0]) + read_u64(c->addr[1]) + read_u64(c->addr[2]);
	t->last_pending = v;
	t->last_pending_ns = bpf_ktime_get_ns();
}

/*
 * Fills act with what the query must report; false when it needs nothing:
 * 7.2 switches over when the sum is 0 or under the threshold, so a sum at
 * or above it (and not 0) is left alone.  8.x and 11.1 give no threshold to
 * the query: every held exact query is raised.
 */
static __always_inline bool plan(const struct gate_call *c, const struct gate_target *t,
				 const struct gate_hold *h, struct gate_act *act)
{
	__u64 v = h->value;

	if (c->gen == GATE_GEN_72) {
		__u64 sum = read_u64(c->addr[0]) + read_u64(c->addr[1]) + read_u64(c->addr[2]);

		if (sum && sum >= c->threshold)
			return false;
		if (v <= c->threshold)
			v = c->threshold + 1;
		act->addr[0] = c->addr[0];
		act->value[0] = v;
		act->n = 1;
		return true;
	}
	if (!v)
		v = GATE_HUGE;
	if (c->gen == GATE_GEN_8) {
		act->addr[0] = c->addr[0];
		act->value[0] = v;
		act->n = 1;
		return true;
	}
	act->addr[0] = c->addr[0] + t->mpd_precopy;
	act->addr[1] = c->addr[0] + t->mpd_total;
	act->value[0] = act->value[1] = v;
	act->n = 2;
	return true;
}

static __always_inline long write_act(const struct gate_act *act)
{
	long err = 0;

	for (int i = 0; i < 2; i++) {
		if (i >= act->n)
			break;
		err = bpf_probe_write_user((void *)act->addr[i], &act->value[i], sizeof(__u64));
		if (err)
			break;
	}
	return err;
}

static __always_inline int on_return(bool write)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct gate_act act = {};
	struct gate_call call, *c;
	struct gate_target *t;
	struct gate_stats *s;
	struct gate_hold *h;
	__u64 now;
	long err;

	c = bpf_map_lookup_elem(&gate_calls, &tid);
	if (!c)
		return 0;
	call = *c;
	bpf_map_delete_elem(&gate_calls, &tid);
	if (call.gen == GATE_GEN_111 && !call.exact)
		return 0;     /* the estimate: the exact query that follows decides */
	t = bpf_map_lookup_elem(&gate_targets, &pid);
	if (!t)
		return 0;
	note_pending(t, &call);
	h = bpf_map_lookup_elem(&gate_holds, &pid);
	if (!h || h->state != GATE_HOLD_ACTIVE)
		return 0;
	now = bpf_ktime_get_ns();
	s = stats_for(pid, h->id);
	if (!s)
		return 0;
	s->last_query_ns = now;
	if (now >= h->deadline) {
		__sync_fetch_and_add(&s->expired, 1);
		return 0;
	}
	__sync_fetch_and_add(&s->queries, 1);
	if (!plan(&call, t, h, &act)) {
		__sync_fetch_and_add(&s->above, 1);
		return 0;
	}
	act.ts = now;
	act.hold_id = h->id;
	act.pid = pid;
	if (write) {
		err = write_act(&act);
	} else {
		if (!seized_by_gate()) {
			__sync_fetch_and_add(&s->missed, 1);
			msg(GATE_MSG_MISSED, 0, h->id);
			return 0;
		}
		bpf_map_update_elem(&gate_acts, &tid, &act, BPF_ANY);
		err = bpf_send_signal_thread(GATE_SIGNAL);
		if (err)
			bpf_map_delete_elem(&gate_acts, &tid);
	}
	if (err) {
		__sync_fetch_and_add(&s->failed, 1);
		msg(GATE_MSG_FAILED, err, h->id);
		return 0;
	}
	__sync_fetch_and_add(&s->enforced, 1);
	if (!s->first_ns)
		s->first_ns = now;
	s->last_ns = now;
	return 0;
}

/* 7.2: void qemu_savevm_state_pending(QEMUFile *f, uint64_t threshold_size,
 *      uint64_t *res_precopy_only, uint64_t *res_compatible, uint64_t *res_postcopy_only) */
SEC("uprobe")
int BPF_KPROBE(gate_enter_72, void *f, __u64 threshold, __u64 *pre, __u64 *compat, __u64 *post)
{
	return on_entry(GATE_GEN_72, (__u64)pre, (__u64)compat, (__u64)post, threshold, 1);
}

/* 8.0-11.0: void qemu_savevm_state_pending_exact(uint64_t *must_precopy,
 *           uint64_t *can_postcopy): the query the switchover decision reads.
 * The estimate before it is left alone: holding it would skip the exact
 * query, and with it the dirty-bitmap sync, so the held iterations would
 * send nothing. */
SEC("uprobe")
int BPF_KPROBE(gate_enter_8, __u64 *must, __u64 *can)
{
	return on_entry(GATE_GEN_8, (__u64)must, (__u64)can, 0, ~0ULL, 1);
}

/* 11.1: void qemu_savevm_query_pending_iter(MigrationState *s,
 *       MigPendingData *pending, bool exact) */
SEC("uprobe")
int BPF_KPROBE(gate_enter_111, void *s, void *pending, int exact)
{
	return on_entry(GATE_GEN_111, (__u64)pending, 0, 0, ~0ULL, (exact & 0xff) != 0);
}

/* qemu_savevm_state_setup(), where exported (7.2 to 11.0): the migration
 * thread's first act, long before its first pending-size query; the gate
 * seizes the thread then, so even that first query can be held. */
SEC("uprobe")
int BPF_KPROBE(gate_thread_hint)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (bpf_map_lookup_elem(&gate_targets, &pid))
		announce(GATE_GEN_NONE, bpf_ktime_get_ns());
	return 0;
}

/* The ptrace actuator: signal the seized thread, the gate writes. */
SEC("uretprobe")
int BPF_KRETPROBE(gate_return)
{
	return on_return(false);
}

/* The write actuator, loaded only where the kernel allows the helper. */
SEC("uretprobe")
int BPF_KRETPROBE(gate_return_write)
{
	return on_return(true);
}
