// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "swack.skel.h"
#include "source/env.h"
#include "source/live.h"
#include "source/uprobes.h"
#include "util/clock.h"

/*
 * While the kernel hooks are off, the reader waits at the lowest real-time
 * priority, so that the event announcing a migration is read, and the hooks
 * armed, before the migration's first syscalls even on a loaded host (load
 * 14 on 2 CPUs here: 0.2 to 2 ms from the event to the reader, against 20 ms
 * at normal priority, where QEMU 7.2 writes its stream about 30 ms after
 * it).  Once they are on, it reads events at normal priority, and so it
 * attaches to a new process.  Where the system does not allow it, the reader
 * says so once.
 */
static void set_priority(struct live *l, bool rt)
{
	struct sched_param sp = { .sched_priority = rt ? 1 : 0 };

	if (rt == l->rt || l->rt_refused)
		return;
	if (sched_setscheduler(0, rt ? SCHED_FIFO : SCHED_OTHER, &sp)) {
		l->rt_refused = true;
		fprintf(stderr, "swack: cannot raise the reader's priority (%s): on a loaded "
			"host, a migration's first syscalls may precede swack's kernel hooks\n",
			strerror(errno));
		return;
	}
	l->rt = rt;
}

static void reader_priority(struct live *l)
{
	set_priority(l, !l->a.arm.on);
}

/* Real-time priority 1 stays allowed once capabilities are dropped: true if
 * RLIMIT_RTPRIO allows it (raising it takes CAP_SYS_RESOURCE, which a root in
 * a container may lack; CAP_SYS_NICE is then kept instead, see live_keeps_nice). */
static bool allow_rt(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_RTPRIO, &r))
		return false;
	if (r.rlim_cur >= 1)
		return true;
	r.rlim_cur = 1;
	if (r.rlim_max < 1)
		r.rlim_max = 1;
	return !setrlimit(RLIMIT_RTPRIO, &r);
}

bool live_keeps_nice(const struct live *l)
{
	return !l->rt_limit && !l->rt_refused;
}

/* The kernel hooks on as soon as a watched process needs them. */
static void arm_now(struct live *l)
{
	char err[512];

	if (arm_sync(&l->a, err, sizeof(err)))
		fprintf(stderr, "swack: %s\n", err);
	reader_priority(l);
}

/* Watches pid; 0 or -errno with err set (nothing done if already watched). */
static int watch(struct live *l, pid_t pid, bool at_exec, char *err, size_t errlen)
{
	int ret;

	if (attach_target(&l->a, pid))
		return 0;
	set_priority(l, false);
	ret = attach_pid(&l->a, pid, at_exec, err, errlen);
	reader_priority(l);
	return ret;
}

static void attach_new(struct live *l, pid_t pid, bool at_exec)
{
	char err[512];

	if (watch(l, pid, at_exec, err, sizeof(err)) && l->a.verbose)
		fprintf(stderr, "swack: %s\n", err);
}

/* A source going active: find the destination holding the other end, and
 * say so with an event, so that recordings keep the pairing too. */
static void try_pair(struct live *l, const struct swack_event *e)
{
	if (e->kind != SWACK_EV_MIG_STATE || e->role != SWACK_ROLE_SRC ||
	    mstate_from_name(e->str) != MS_ACTIVE)
		return;
	for (int i = 0; i < l->a.ntargets; i++) {
		pid_t q = l->a.targets[i].pid;
		struct swack_event p = { .ts = e->ts, .pid = e->pid, .tid = e->tid,
					 .kind = SWACK_EV_PAIR, .role = SWACK_ROLE_SRC };

		if (q == (pid_t)e->pid || !proc_tcp_peers(e->pid, q))
			continue;
		p.a[0] = e->pid;
		p.a[1] = (__u64)q;
		if (l->cbs.event)
			l->cbs.event(l->cbs.ctx, &p);
		model_feed(l->model, &p);
	}
}

struct vcpu_scan {
	struct live *l;
	const struct swack_event *at;
};

static void vcpu_thread(pid_t tid, const char *comm, void *ctx)
{
	struct vcpu_scan *v = ctx;
	struct swack_event e = { .ts = v->at->ts, .pid = v->at->pid, .tid = v->at->tid,
				 .kind = SWACK_EV_PC_VCPU, .role = SWACK_ROLE_DST,
				 .origin = SWACK_ORIGIN_KERNEL };
	int idx = pc_vcpu_of_comm(comm);

	if (idx < 0)
		return;
	e.a[0] = (__u64)idx;
	e.a[1] = (__u64)tid;
	if (v->l->cbs.event)
		v->l->cbs.event(v->l->cbs.ctx, &e);
	model_feed(v->l->model, &e);
}

/* A postcopy destination registering its RAM for missing faults: its vCPU
 * threads (named "CPU n/..." with -name ...,debug-threads=on), as events, so
 * that recordings know them too.  Once per registration (a call per RAMBlock). */
static void note_vcpus(struct live *l, const struct swack_event *e)
{
	struct target *t = attach_target(&l->a, e->pid);
	struct vcpu_scan v = { l, e };

	if (!t || e->kind != SWACK_EV_UFFD_IOCTL || (e->a[0] & 0xff) != SWACK_UFFDIO_REGISTER ||
	    !(e->a[4] & SWACK_UFFDIO_REGISTER_MODE_MISSING) || e->a[5] ||
	    e->ts < t->vcpus_ts + 1000000000ULL)
		return;
	t->vcpus_ts = e->ts;
	proc_threads(e->pid, vcpu_thread, &v);
}

static int on_ring(void *ctx, void *data, size_t len)
{
	struct live *l = ctx;
	struct swack_event e;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	if (e.kind == SWACK_EV_EXEC) {
		attach_exec(&l->a, e.pid);
		if (l->follow_new && proc_is_qemu(e.pid))
			attach_new(l, e.pid, true);
		return 0;
	}
	attach_normalize(&l->a, &e);
	arm_note(&l->a, &e);
	arm_now(l);
	if (l->cbs.event)
		l->cbs.event(l->cbs.ctx, &e);
	model_feed(l->model, &e);
	try_pair(l, &e);
	note_vcpus(l, &e);
	if (e.kind == SWACK_EV_EXIT)
		attach_forget(&l->a, e.pid);
	return 0;
}

/* Watched now, or until it exited: a gate's release (or its deadline) is
 * often the last thing before a QEMU that switched over exits, and the log
 * is read after the ring buffer that says it exited. */
static bool watched(struct live *l, pid_t pid)
{
	for (int i = 0; i < l->a.ntargets; i++)
		if (l->a.targets[i].pid == pid)
			return true;
	return model_vm(l->model, (uint32_t)pid) != NULL;
}

/* A hold or release of swack gate run, on a process this command watches. */
static void on_gate_log(void *ctx, const struct swack_event *ev)
{
	struct live *l = ctx;
	struct swack_event e = *ev;

	if (!watched(l, e.pid))
		return;
	attach_normalize(&l->a, &e);
	if (l->cbs.event)
		l->cbs.event(l->cbs.ctx, &e);
	model_feed(l->model, &e);
}

/* The model learns who each process is; the view hears of the attach. */
static void on_attached(void *ctx, const struct target *t, const char *exe, const char *line)
{
	struct live *l = ctx;

	model_note_vm(l->model, &t->vm);
	if (l->cbs.attached)
		l->cbs.attached(l->cbs.ctx, t, exe, line);
}

static void attach_found(pid_t pid, void *ctx)
{
	attach_new(ctx, pid, false);
}

static int preflight(char *err, size_t errlen)
{
	return env_check_caps(err, errlen) || env_check_btf(err, errlen) ? -1 : 0;
}

static int attach_requested(struct live *l, const struct live_opts *o, char *err,
			    size_t errlen)
{
	for (int i = 0; i < o->npids; i++)
		if (watch(l, o->pids[i], false, err, errlen))
			return -1;
	if (!o->npids && proc_scan_qemu(attach_found, l) == 0)
		fprintf(stderr, "swack: no QEMU process yet; waiting for one to start\n");
	return 0;
}

int live_open(struct live *l, const struct live_opts *o, struct model *m,
	      const struct live_cbs *cbs, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->model = m;
	l->cbs = *cbs;
	l->follow_new = o->npids == 0;
	gate_log_reader_init(&l->gate_log);
	if (preflight(err, errlen))
		return -1;
	if (attach_open(&l->a, o->verbose, stderr, err, errlen))
		return -1;
	l->rt_limit = allow_rt();
	reader_priority(l);
	l->a.attached = on_attached;
	l->a.ctx = l;
	l->rb = ring_buffer__new(bpf_map__fd(l->a.skel->maps.events), on_ring, l, NULL);
	if (!l->rb) {
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (attach_requested(l, o, err, errlen))
		goto fail;
	gate_log_poll(&l->gate_log, on_gate_log, l, now_ns());
	return 0;
fail:
	live_close(l);
	return -1;
}

int live_poll(struct live *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* Batched events do not wake epoll: libbpf 1.1 reads nothing on timeout. */
	n = ring_buffer__consume(l->rb);
	gate_log_poll(&l->gate_log, on_gate_log, l, now_ns());
	model_advance(l->model, now_ns());
	/* Events wake the reader again before the last ones are read: one that
	 * says a migration starts is then seen at once, and keeps the hooks on. */
	if (arm_idle(&l->a)) {
		arm_quiet(&l->a);
		ring_buffer__consume(l->rb);
		arm_off(&l->a);
		reader_priority(l);
	}
	return n;
}

int live_drop_privileges(struct live *l, const struct live_opts *o, char *err, size_t errlen)
{
	static const cap_value_t all[] = { CAP_BPF, CAP_SYS_PTRACE, CAP_PERFMON, CAP_SYS_ADMIN };
	static const char *const names[] = { "cap_bpf", "cap_sys_ptrace", "cap_perfmon",
					     "cap_sys_admin", "cap_sys_nice" };
	cap_value_t caps[5];
	int n = !l->follow_new ? 2 : uprobe_multi() ? 3 : 4;
	char note[512], kept[96] = "";

	memcpy(caps, all, n * sizeof(caps[0]));
	if (live_keeps_nice(l))
		caps[n++] = CAP_SYS_NICE;
	if (env_drop(caps, n, o->user, err, errlen, note, sizeof(note)))
		return -1;
	if (note[0])
		fprintf(stderr, "swack: %s\n", note);
	for (int i = 0; i < n; i++)
		snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept), "%s%s", i ? ", " : "",
			 names[caps[i] == CAP_SYS_NICE ? 4 : i]);
	if (o->verbose && live_keeps_nice(l))
		fprintf(stderr, "swack: keeps cap_sys_nice: RLIMIT_RTPRIO cannot be raised here (no "
			"CAP_SYS_RESOURCE), and the reader waits at real-time priority while the "
			"kernel hooks are off\n");
	if (o->verbose)
		fprintf(stderr, "swack: attached: runs as uid %u with %s only, no_new_privs\n",
			(unsigned)getuid(), kept);
	return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void live_handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool live_stopped(void)
{
	return stop_requested;
}

void live_request_stop(void)
{
	stop_requested = 1;
}

/* Waits for the ring buffer without taking anything from it. */
static void wait_ring(struct live *l, int timeout_ms)
{
	struct pollfd p = { .fd = ring_buffer__epoll_fd(l->rb), .events = POLLIN };

	poll(&p, 1, timeout_ms);
}

static int run_once(struct live *l, const struct live_loop *o, int wait, double *next_tick)
{
	int n;

	if (o->lock) {
		wait_ring(l, wait);
		pthread_mutex_lock(o->lock);
		wait = 0;
	}
	n = live_poll(l, wait);
	if (n >= 0 && o->tick && now_sec() >= *next_tick) {
		o->tick(o->ctx);
		*next_tick = now_sec() + o->tick_ms / 1e3;
	}
	if (o->lock)
		pthread_mutex_unlock(o->lock);
	return n < 0 ? -1 : 0;
}

int live_run(struct live *l, const struct live_loop *o)
{
	double end = o->duration > 0 ? now_sec() + o->duration : 0, next_tick = 0;
	int wait = o->tick_ms > 0 && o->tick_ms < LIVE_READ_MS ? o->tick_ms : LIVE_READ_MS;

	while (!stop_requested && !(end && now_sec() >= end) &&
	       !(o->until_done && model_all_reported(l->model)))
		if (run_once(l, o, wait, &next_tick))
			return -1;
	/* What the programs wrote before the end is read, not left unaccounted. */
	if (o->lock)
		pthread_mutex_lock(o->lock);
	ring_buffer__consume(l->rb);
	if (o->lock)
		pthread_mutex_unlock(o->lock);
	return 0;
}

unsigned long long live_lost(struct live *l)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum = 0, vals[ncpu > 0 ? ncpu : 1];
	__u32 zero = 0;

	if (ncpu <= 0 || bpf_map__lookup_elem(l->a.skel->maps.lost, &zero, sizeof(zero), vals,
					      sizeof(vals), 0))
		return l->gate_log.lost;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum + l->gate_log.lost;
}

void live_close(struct live *l)
{
	ring_buffer__free(l->rb);
	l->rb = NULL;
	gate_log_reader_free(&l->gate_log);
	if (l->a.skel)
		attach_close(&l->a);
}
