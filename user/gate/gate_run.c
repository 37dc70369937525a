// SPDX-License-Identifier: GPL-2.0
/*
 * swack gate run: loads the gate object, pins its maps, attaches the
 * pending-size query probes to the watched QEMU processes, seizes their
 * migration threads (ptrace actuator), reports every hold and release, and
 * evaluates the policies.  Everything it owns (links, ptrace attachment,
 * run lock) is released by the kernel when it dies, whatever kills it.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli/commands.h"
#include "event/event.h"
#include "gate.skel.h"
#include "gate/gate.h"
#include "gate/gate_policy.h"
#include "gate/gate_trace.h"
#include "model/model.h"
#include "source/args.h"
#include "source/env.h"
#include "source/gate_log.h"
#include "source/live.h"
#include "source/proc.h"
#include "source/uprobes.h"
#include "util/clock.h"
#include "util/term.h"

#define TICK_MS 20
#define RESCAN_NS 1000000000ULL

enum want_act { WANT_AUTO, WANT_PTRACE, WANT_WRITE };

struct gate_bpf;
struct ring_buffer;
struct bpf_link;

/* A process the gate probes. */
struct gate_tgt {
	pid_t pid;
	char comm[16];
	enum gate_gen gen;
	const char *sym;
	struct link_set links;         /* query entry, return; setup hint */
	bool hint;                     /* the setup hint is in place */
	struct policy_state pol;
};

/* A hold the run has reported as placed. */
struct gate_seen_hold {
	pid_t pid;
	uint64_t id;
};

struct gate_run {
	struct gate_bpf *skel;
	enum gate_actuator act;
	char lockdown[32];
	char act_why[256];
	int lockfd, epfd, sigfd;
	struct ring_buffer *rb;
	struct gate_tgt *tgts;
	int ntgts;
	pid_t *refused;             /* follow mode: processes refused once */
	int nrefused;
	struct gate_tracer tr;      /* the ptrace actuator */
	pid_t *unseizable;          /* threads that could not be seized: said once */
	int nunseizable;
	struct gate_seen_hold *holds;
	int nholds;
	bool follow_all, verbose;
	uint64_t max_ns;            /* --max-hold */
	uint64_t t0;
	uint64_t log_seq;           /* entries written to gate_log */
	struct gate_policy pol;
	bool live_on;
	struct live live;
	struct model model;
};

static void run_release(struct gate_run *g, pid_t pid, enum gate_cause cause,
			const char *reason);

struct run_opts {
	struct live_opts live;     /* -p, -v: the gate's targets, and its observer's */
	enum want_act want;
	struct gate_run *g;
};

/* ---- output -------------------------------------------------------------- */

static void run_line(struct gate_run *g, pid_t pid, pid_t tid, const char *name,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void run_line(struct gate_run *g, pid_t pid, pid_t tid, const char *name,
		     const char *fmt, ...)
{
	uint64_t now = now_ns();
	va_list ap;

	printf("%12.6f %7u/%-7u %-3s %-18s ", now >= g->t0 ? (now - g->t0) / 1e9 : 0.0,
	       (unsigned)pid, (unsigned)tid, "-", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void emit(struct gate_run *g, struct swack_event *e)
{
	struct mig *m = NULL;

	if (!e->ts)
		e->ts = now_ns();
	if (!e->tid)
		e->tid = e->pid;
	/* The role as the observation side knows it, where it runs. */
	if (g->live_on)
		m = model_latest(&g->model, e->pid);
	e->role = m ? m->role : SWACK_ROLE_UNKNOWN;
	event_print_text(stdout, e, g->t0);
	if (gate_log_append(bpf_map__fd(g->skel->maps.gate_log), ++g->log_seq, e))
		fprintf(stderr, "swack gate: cannot write gate_log: %s\n", strerror(errno));
}

/* ---- targets ------------------------------------------------------------- */

static struct gate_tgt *run_tgt(struct gate_run *g, pid_t pid)
{
	for (int i = 0; i < g->ntgts; i++)
		if (g->tgts[i].pid == pid)
			return &g->tgts[i];
	return NULL;
}

static bool refused(struct gate_run *g, pid_t pid)
{
	for (int i = 0; i < g->nrefused; i++)
		if (g->refused[i] == pid)
			return true;
	return false;
}

static void note_refused(struct gate_run *g, pid_t pid)
{
	pid_t *r = realloc(g->refused, (g->nrefused + 1) * sizeof(*r));

	if (r) {
		g->refused = r;
		g->refused[g->nrefused++] = pid;
	}
}

/* Checks made before anything is loaded: clear refusals come first. */
static int check_target(struct gate_run *g, pid_t pid, struct gate_query *q, char *libc,
			size_t libclen, char *err, size_t errlen)
{
	char comm[32] = "";

	if (!proc_exists(pid)) {
		snprintf(err, errlen, "no process with pid %d", pid);
		return -1;
	}
	if (!proc_is_qemu(pid)) {
		proc_comm(pid, comm, sizeof(comm));
		snprintf(err, errlen, "pid %d (%s) is not a QEMU system emulator: give the pid of "
			 "a qemu-system-* process", pid, comm);
		return -1;
	}
	if (gate_resolve(pid, q, err, errlen))
		return -1;
	libc[0] = 0;
	if (g->act == GATE_ACT_PTRACE && gate_check_libc(pid, libc, libclen, err, errlen))
		return -1;
	return 0;
}

/* Entry and return of the query, and the thread hint where it helps: one
 * multi-uprobe link each, for this process only. */
static int attach_query(struct gate_run *g, struct gate_tgt *tg, const struct gate_query *q,
			char *err, size_t errlen)
{
	static const char *const entry_progs[] = {
		[GATE_GEN_72] = "gate_enter_72", [GATE_GEN_8] = "gate_enter_8",
		[GATE_GEN_111] = "gate_enter_111",
	};
	struct uprobe_site query = { .offset = q->offset }, setup = { .offset = q->setup };
	struct bpf_program *entry = bpf_object__find_program_by_name(g->skel->obj,
								     entry_progs[q->gen]);
	struct bpf_program *ret = g->act == GATE_ACT_WRITE ? g->skel->progs.gate_return_write :
							     g->skel->progs.gate_return;
	char exe[64];
	int e;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", tg->pid);
	e = uprobe_attach(&tg->links, entry, false, tg->pid, exe, &query, 1);
	if (!e)
		e = uprobe_attach(&tg->links, ret, true, tg->pid, exe, &query, 1);
	if (e) {
		snprintf(err, errlen, "pid %d: cannot attach to %s: %s", tg->pid, q->sym,
			 strerror(-e));
		link_sets_destroy((struct link_set *[]){ &tg->links }, 1);
		return -1;
	}
	/* Optional: finds the migration thread before its first query. */
	tg->hint = q->setup && g->act == GATE_ACT_PTRACE &&
		   !uprobe_attach(&tg->links, g->skel->progs.gate_thread_hint, false, tg->pid, exe,
				  &setup, 1);
	return 0;
}

static int add_target(struct gate_run *g, pid_t pid, char *err, size_t errlen)
{
	uint64_t t = now_ns();
	struct gate_target gt = { 0 };
	struct gate_query q;
	struct gate_tgt *tg;
	char libc[128];
	__u32 key = pid;

	if (run_tgt(g, pid))
		return 0;
	if (check_target(g, pid, &q, libc, sizeof(libc), err, errlen))
		return -1;
	tg = realloc(g->tgts, (g->ntgts + 1) * sizeof(*tg));
	if (!tg) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->tgts = tg;
	tg = &g->tgts[g->ntgts];
	memset(tg, 0, sizeof(*tg));
	tg->pid = pid;
	tg->gen = q.gen;
	tg->sym = q.sym;
	policy_init(&tg->pol);
	proc_comm(pid, tg->comm, sizeof(tg->comm));
	gt.gen = q.gen;
	gt.mpd_precopy = q.mpd_precopy;
	gt.mpd_total = q.mpd_total;
	gt.attached_ns = t;
	if (bpf_map__update_elem(g->skel->maps.gate_targets, &key, sizeof(key), &gt, sizeof(gt),
				 BPF_ANY)) {
		snprintf(err, errlen, "pid %d: cannot watch: %s", pid, strerror(errno));
		return -1;
	}
	if (attach_query(g, tg, &q, err, errlen)) {
		bpf_map__delete_elem(g->skel->maps.gate_targets, &key, sizeof(key), 0);
		return -1;
	}
	g->ntgts++;
	fprintf(stderr, "swack gate: pid %d (%s): %s, gate on %s (entry and return)%s in %.1f ms"
		"%s%s%s%s; %d %s\n", pid, tg->comm, gate_gen_name(q.gen), q.sym,
		tg->hint ? ", thread hint on qemu_savevm_state_setup" : "",
		(now_ns() - t) / 1e6, libc[0] ? "; " : "", libc, q.mpd_note[0] ? "; " : "",
		q.mpd_note, tg->links.n, uprobe_mode());
	return 0;
}

static void drop_target(struct gate_run *g, struct gate_tgt *t)
{
	__u32 key = t->pid;

	run_release(g, t->pid, GATE_CAUSE_GONE, "the process exited");
	link_sets_destroy((struct link_set *[]){ &t->links }, 1);
	bpf_map__delete_elem(g->skel->maps.gate_targets, &key, sizeof(key), 0);
	bpf_map__delete_elem(g->skel->maps.gate_stats, &key, sizeof(key), 0);
	trace_drop(&g->tr, t->pid);
	if (g->verbose)
		fprintf(stderr, "swack gate: pid %d exited\n", t->pid);
	*t = g->tgts[--g->ntgts];
}

static void scan_one(pid_t pid, void *ctx)
{
	struct gate_run *g = ctx;
	char err[512];

	if (run_tgt(g, pid) || refused(g, pid))
		return;
	if (add_target(g, pid, err, sizeof(err))) {
		fprintf(stderr, "swack gate: %s\n", err);
		note_refused(g, pid);
	}
}

/* ---- holds --------------------------------------------------------------- */

static int holds_fd(struct gate_run *g)
{
	return bpf_map__fd(g->skel->maps.gate_holds);
}

/* The hold in force on pid, or false. */
static bool run_hold_of(struct gate_run *g, pid_t pid, struct gate_hold *h)
{
	__u32 key = pid;

	return !bpf_map_lookup_elem(holds_fd(g), &key, h) && h->state == GATE_HOLD_ACTIVE &&
	       now_ns() < h->deadline;
}

static struct gate_seen_hold *seen(struct gate_run *g, pid_t pid)
{
	for (int i = 0; i < g->nholds; i++)
		if (g->holds[i].pid == pid)
			return &g->holds[i];
	return NULL;
}

static void report_hold(struct gate_run *g, pid_t pid, const struct gate_hold *h)
{
	struct swack_event e = { .pid = pid, .kind = SWACK_EV_GATE_HOLD };
	struct gate_seen_hold *s = seen(g, pid), *n;

	if (!s) {
		n = realloc(g->holds, (g->nholds + 1) * sizeof(*n));
		if (!n)
			return;
		g->holds = n;
		s = &g->holds[g->nholds++];
		s->pid = pid;
	}
	s->id = h->id;
	/* When it was placed, not when this loop noticed: BPF enforced it from then. */
	e.ts = h->id;
	e.a[0] = h->deadline - h->id;
	e.a[1] = h->origin;
	e.a[2] = h->value;
	snprintf(e.str, sizeof(e.str), "%.*s", SWACK_STR_LEN - 1, h->reason);
	emit(g, &e);
	/* Stop times count from the hold on: forget those before. */
	trace_take_median(&g->tr, pid, &(uint32_t){ 0 });
}

static void report_release(struct gate_run *g, pid_t pid, uint64_t id, enum gate_cause cause,
			   const char *reason)
{
	struct swack_event e = { .pid = pid, .kind = SWACK_EV_GATE_RELEASE };
	struct gate_seen_hold *s = seen(g, pid);
	struct gate_stats st = { 0 };
	__u32 key = pid;
	uint32_t n = 0;
	uint64_t med = trace_take_median(&g->tr, pid, &n);

	if (bpf_map__lookup_elem(g->skel->maps.gate_stats, &key, sizeof(key), &st, sizeof(st), 0) ||
	    st.hold_id != id)
		memset(&st, 0, sizeof(st));
	e.a[0] = now_ns() - id;
	e.ts = id + e.a[0];
	e.a[1] = st.enforced;
	e.a[2] = st.queries;
	e.a[3] = st.missed;
	e.a[4] = cause;
	e.a[5] = med;
	snprintf(e.str, sizeof(e.str), "%.*s", SWACK_STR_LEN - 1, reason);
	emit(g, &e);
	if (n && g->act == GATE_ACT_PTRACE)
		run_line(g, pid, pid, "gate_cost", "held_queries=%u stopped_us_median=%.1f", n,
			 med / 1e3);
	if (s)
		*s = g->holds[--g->nholds];
}

/* Ends the hold on pid, reports it with its cause; no-op without one. */
static void run_release(struct gate_run *g, pid_t pid, enum gate_cause cause,
			const char *reason)
{
	struct gate_hold h;
	__u32 key = pid;

	if (bpf_map_lookup_elem(holds_fd(g), &key, &h))
		return;
	/* BPF ignores it from here on; report, then forget it. */
	bpf_map_delete_elem(holds_fd(g), &key);
	if (!seen(g, pid) || seen(g, pid)->id != h.id)
		report_hold(g, pid, &h);
	report_release(g, pid, h.id, cause, reason);
}

/* A hold placed by the run itself (policies). */
static int run_place_hold(struct gate_run *g, pid_t pid, const char *reason)
{
	struct gate_hold h = { 0 };
	__u32 key = pid;

	h.id = now_ns();
	h.deadline = h.id + g->max_ns;
	h.state = GATE_HOLD_ACTIVE;
	h.origin = GATE_BY_POLICY;
	h.by_pid = getpid();
	/* A policy's reason may be longer than the map's: cut, as BPF keeps it. */
	snprintf(h.reason, sizeof(h.reason), "%.*s", (int)sizeof(h.reason) - 1, reason);
	if (bpf_map_update_elem(holds_fd(g), &key, &h, BPF_ANY))
		return -1;
	report_hold(g, pid, &h);
	return 0;
}

/* The holds map against what was reported: new holds, releases by command,
 * deadlines passed, holds on processes the gate does not watch. */
static void sync_holds(struct gate_run *g)
{
	__u32 key, next, *prev = NULL;
	uint64_t now = now_ns();
	char why[GATE_REASON_LEN + 32];

	while (!bpf_map_get_next_key(holds_fd(g), prev, &next)) {
		struct gate_seen_hold *s;
		struct gate_hold h;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(holds_fd(g), &key, &h))
			continue;
		s = seen(g, key);
		if (!s || s->id != h.id) {
			if (s)    /* replaced by a newer hold: the old one ended */
				report_release(g, key, s->id, GATE_CAUSE_COMMAND, "replaced by a new hold");
			report_hold(g, key, &h);
		}
		if (h.state == GATE_HOLD_RELEASED) {
			snprintf(why, sizeof(why), "%s", h.release);
			run_release(g, key, GATE_CAUSE_COMMAND, why);
			prev = NULL;   /* the map changed under the iteration */
		} else if (now >= h.deadline) {
			gate_fmt_ns(why, sizeof(why), h.deadline - h.id);
			snprintf(why + strlen(why), sizeof(why) - strlen(why), " max-hold reached");
			run_release(g, key, GATE_CAUSE_DEADLINE, why);
			prev = NULL;
		} else if (!run_tgt(g, key)) {
			run_release(g, key, GATE_CAUSE_GONE, "not watched by this gate");
			prev = NULL;
		}
	}
	/* Deleted behind our back (bpftool): report them as ended. */
	for (int i = 0; i < g->nholds; i++) {
		struct gate_hold h;

		key = g->holds[i].pid;
		if (bpf_map_lookup_elem(holds_fd(g), &key, &h)) {
			report_release(g, key, g->holds[i].id, GATE_CAUSE_COMMAND,
				       "removed from the map");
			i--;
		}
	}
}

/* ---- policies and the actuator ------------------------------------------- */

/* What the policies decide from: the model, the hold, QEMU's own answer. */
static void facts(struct gate_run *g, struct gate_tgt *t, struct gate_hold *h,
		  struct policy_facts *f)
{
	struct target *ot = attach_target(&g->live.a, t->pid);
	struct gate_target gt = { 0 };
	__u32 key = t->pid;

	f->hold = run_hold_of(g, t->pid, h) ? h : NULL;
	f->gen = ot ? ot->gen : GEN_NONE;
	f->now = now_ns();
	bpf_map__lookup_elem(g->skel->maps.gate_targets, &key, sizeof(key), &gt, sizeof(gt), 0);
	f->gate_pending_known = gt.last_pending_ns != 0;
	f->gate_pending = gt.last_pending;
}

static void apply_policy(struct gate_run *g, struct gate_tgt *t)
{
	struct policy_facts f = { .m = model_latest(&g->model, t->pid) };
	enum policy_do d;
	struct gate_hold h;
	char why[128];

	if (!f.m || f.m->role == SWACK_ROLE_DST)
		return;
	facts(g, t, &h, &f);
	d = policy_decide(&g->pol, &t->pol, &f, why, sizeof(why));
	if (d == POLICY_PLACE) {
		t->pol.held = !run_place_hold(g, t->pid, why);
		if (!t->pol.held)
			return;
		/* The hold just placed is weighed at once: a migration that needs
		 * none is released in the same tick. */
		facts(g, t, &h, &f);
		d = policy_decide(&g->pol, &t->pol, &f, why, sizeof(why));
	}
	if (d == POLICY_RELEASE)
		run_release(g, t->pid, GATE_CAUSE_POLICY, why);
}

/* Every stop the ptrace actuator has to serve, and its first failure. */
static void reap(struct gate_run *g)
{
	trace_reap(&g->tr);
	if (!g->tr.err_new)
		return;
	g->tr.err_new = false;
	run_line(g, g->tr.err_pid, g->tr.err_tid, "gate_error", "what=\"%s\"", g->tr.err);
}

/* ---- gate ring buffer ---------------------------------------------------- */

static bool unseizable(struct gate_run *g, pid_t tid)
{
	for (int i = 0; i < g->nunseizable; i++)
		if (g->unseizable[i] == tid)
			return true;
	return false;
}

static void note_unseizable(struct gate_run *g, pid_t tid)
{
	pid_t *u = realloc(g->unseizable, (g->nunseizable + 1) * sizeof(*u));

	if (u) {
		g->unseizable = u;
		g->unseizable[g->nunseizable++] = tid;
	}
}

static int on_msg(void *ctx, void *data, size_t len)
{
	struct gate_run *g = ctx;
	const struct gate_msg *m = data;
	struct gate_tgt *t;
	char err[256];

	if (len < sizeof(*m))
		return 0;
	t = run_tgt(g, m->pid);
	switch (m->type) {
	case GATE_MSG_THREAD:
		if (!t || g->act != GATE_ACT_PTRACE || trace_seized(&g->tr, m->tid) ||
		    unseizable(g, m->tid))
			break;
		if (trace_seize(&g->tr, m->pid, m->tid, err, sizeof(err))) {
			/* A short-lived thread may be gone already: not worth a line. */
			if (g->verbose || !strstr(err, "is gone"))
				run_line(g, m->pid, m->tid, "gate_error", "what=\"%s\"", err);
			note_unseizable(g, m->tid);
		} else {
			run_line(g, m->pid, m->tid, "gate_seized", "thread=%u seen_at=%s", m->tid,
				 m->a0 ? t->sym : "qemu_savevm_state_setup");
		}
		break;
	case GATE_MSG_MISSED:
		run_line(g, m->pid, m->tid, "gate_missed", "thread=%u (not seized yet: this query "
			 "was not held)", m->tid);
		break;
	case GATE_MSG_FAILED:
		run_line(g, m->pid, m->tid, "gate_error", "what=\"%s refused: %s\"",
			 g->act == GATE_ACT_WRITE ? "bpf_probe_write_user" :
			 "bpf_send_signal_thread", strerror((int)-m->a0));
		break;
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

static int silent(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l, (void)f, (void)ap;
	return 0;
}

static int loud(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	return vfprintf(stderr, f, ap);
}

static struct gate_bpf *try_load(enum gate_actuator act, int *err)
{
	struct gate_bpf *s = gate_bpf__open();

	if (!s) {
		*err = errno;
		return NULL;
	}
	s->rodata->gate_tgid = getpid();
	s->rodata->actuator = act;
	bpf_program__set_autoload(s->progs.gate_return_write, act == GATE_ACT_WRITE);
	bpf_program__set_autoload(s->progs.gate_return, act == GATE_ACT_PTRACE);
	uprobe_prepare(s->obj);
	if (gate_bpf__load(s)) {
		*err = errno;
		gate_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/* Where the kernel allows bpf_probe_write_user, BPF writes the value itself;
 * under lockdown it refuses the program, and the ptrace actuator is used. */
static int load(struct gate_run *g, enum want_act want, char *err, size_t errlen)
{
	bool locked;
	int e = 0;

	gate_lockdown(g->lockdown, sizeof(g->lockdown));
	locked = strcmp(g->lockdown, "none") && strcmp(g->lockdown, "unknown");
	if (want == WANT_WRITE || (want == WANT_AUTO && !locked)) {
		g->skel = try_load(GATE_ACT_WRITE, &e);
		if (g->skel) {
			g->act = GATE_ACT_WRITE;
			snprintf(g->act_why, sizeof(g->act_why), "the kernel allows "
				 "bpf_probe_write_user (lockdown %s)", g->lockdown);
			return 0;
		}
		if (want == WANT_WRITE) {
			snprintf(err, errlen, "the kernel refuses bpf_probe_write_user (%s; lockdown "
				 "%s): use --actuator ptrace or auto", strerror(e), g->lockdown);
			return -1;
		}
		snprintf(g->act_why, sizeof(g->act_why), "the kernel refused bpf_probe_write_user "
			 "(%s)", strerror(e));
	} else if (want == WANT_PTRACE) {
		snprintf(g->act_why, sizeof(g->act_why), "chosen with --actuator ptrace");
	} else {
		snprintf(g->act_why, sizeof(g->act_why), "kernel lockdown '%s' refuses "
			 "bpf_probe_write_user", g->lockdown);
	}
	g->act = GATE_ACT_PTRACE;
	g->skel = try_load(GATE_ACT_PTRACE, &e);
	if (!g->skel) {
		snprintf(err, errlen, "cannot load the gate's BPF programs: %s (rerun with -v for "
			 "the verifier log)", strerror(e));
		return -1;
	}
	return 0;
}

static int pin_maps(struct gate_run *g, char *err, size_t errlen)
{
	struct { struct bpf_map *m; const char *path; } p[] = {
		{ g->skel->maps.gate_holds, GATE_PIN_HOLDS },
		{ g->skel->maps.gate_targets, GATE_PIN_TARGETS },
		{ g->skel->maps.gate_stats, GATE_PIN_STATS },
		{ g->skel->maps.gate_ctl, GATE_PIN_CTL },
		{ g->skel->maps.gate_log, GATE_PIN_LOG },
	};
	struct gate_ctl c = { .run_pid = getpid(), .actuator = g->act, .started_ns = g->t0,
			      .default_max_ns = g->max_ns };
	__u32 zero = 0;

	snprintf(c.lockdown, sizeof(c.lockdown), "%.15s", g->lockdown);
	if (bpf_map__update_elem(g->skel->maps.gate_ctl, &zero, sizeof(zero), &c, sizeof(c),
				 BPF_ANY)) {
		snprintf(err, errlen, "cannot write gate_ctl: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (bpf_map__pin(p[i].m, p[i].path) ||
		    chmod(p[i].path, p[i].m == g->skel->maps.gate_log ? GATE_PIN_LOG_MODE : 0600)) {
			snprintf(err, errlen, "cannot pin %s: %s", p[i].path, strerror(errno));
			return -1;
		}
	return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static int setup_fds(struct gate_run *g, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	g->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.gate_events), on_msg, g, NULL);
	if (g->sigfd < 0 || g->epfd < 0 || !g->rb) {
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	ev.data.u32 = 0;
	epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->sigfd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(g->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(g->rb), &ev);
	if (g->live_on) {
		ev.data.u32 = 2;
		epoll_ctl(g->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(g->live.rb), &ev);
	}
	return 0;
}

/* True when the loop must end. */
static bool on_signals(struct gate_run *g)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(g->sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD)
			stop = true;
	reap(g);
	return stop;
}

static void tick(struct gate_run *g, uint64_t *next_scan)
{
	uint64_t now = now_ns();

	/* Holds first: a deadline that passed is reported as such even when
	 * the process it held is gone by now. */
	sync_holds(g);
	for (int i = 0; i < g->ntgts; i++)
		if (!proc_exists(g->tgts[i].pid)) {
			drop_target(g, &g->tgts[i]);
			i--;
		}
	if (g->follow_all && now >= *next_scan) {
		proc_scan_qemu(scan_one, g);
		*next_scan = now + RESCAN_NS;
	}
	if (g->live_on) {
		live_poll(&g->live, 0);
		for (int i = 0; i < g->ntgts; i++)
			apply_policy(g, &g->tgts[i]);
	}
	fflush(stdout);
}

static void loop(struct gate_run *g)
{
	uint64_t next_tick = 0, next_scan = now_ns() + RESCAN_NS;

	for (;;) {
		struct epoll_event evs[8];
		uint64_t now = now_ns();
		int timeout = next_tick > now ? (int)((next_tick - now) / 1000000) + 1 : 0;
		int n = epoll_wait(g->epfd, evs, 8, timeout);
		bool stop = false;

		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0)
				stop |= on_signals(g);
			else if (evs[i].data.u32 == 1)
				ring_buffer__consume(g->rb);
			else
				live_poll(&g->live, 0);
		}
		/* Stops first: a held thread waits for us. */
		reap(g);
		if (stop)
			return;
		if (now_ns() >= next_tick) {
			tick(g, &next_scan);
			next_tick = now_ns() + TICK_MS * 1000000ULL;
		}
	}
}

static void shutdown_gate(struct gate_run *g)
{
	/* Releases first: BPF stops raising at once; then serve any stop that
	 * was already on its way, then let go of everything.  Holds that ended
	 * meanwhile (a deadline, a command) are reported with their own cause. */
	sync_holds(g);
	for (int i = 0; i < g->ntgts; i++)
		run_release(g, g->tgts[i].pid, GATE_CAUSE_EXIT, "swack gate run exiting");
	fflush(stdout);
	reap(g);
	gate_unpin_all();
	if (g->ntgts) {
		struct link_set *sets[g->ntgts];

		for (int i = 0; i < g->ntgts; i++)
			sets[i] = &g->tgts[i].links;
		link_sets_destroy(sets, g->ntgts);
		reap(g);
	}
	if (g->tr.raised)
		fprintf(stderr, "swack gate: %llu held queries raised%s\n",
			(unsigned long long)g->tr.raised,
			g->tr.poke_errors ? " (some writes failed: see gate_error lines)" : "");
}

/* ---- options ------------------------------------------------------------- */

static const struct argp_option opts[] = {
	{ "until-acked", 'a', NULL, 0, "Policy: hold each migration until every switchover ACK "
	  "it waits for was granted", 0 },
	{ "until-settled", 's', "DEV:MS", 0, "Policy: hold until device DEV's precopy initial "
	  "bytes stayed at 0, with no regrowth, for MS milliseconds", 0 },
	{ "downtime-budget", 'b', "MS", 0, "Policy: hold until the predicted downtime "
	  "(remaining bytes plus the devices' stop-copy sizes, over the measured bandwidth) "
	  "is at most MS milliseconds", 0 },
	{ "max-hold", 'm', "DURATION", 0, "Deadline of policy holds, and the default of "
	  "'gate hold' (default 30s; at most 1h)", 0 },
	{ "actuator", 'A', "auto|ptrace|write", 0, "How a held query is raised (default auto: "
	  "write where the kernel allows bpf_probe_write_user, ptrace otherwise)", 0 },
	{ 0 },
};

static uint64_t parse_ms(const char *s, struct argp_state *state, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0 || v > 3.6e6 || (*end && strcmp(end, "ms")))
		argp_error(state, "invalid %s '%s': give milliseconds > 0", what, s);
	return (uint64_t)(v * 1e6 + 0.5);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct run_opts *o = state->input;
	struct gate_run *g = o->g;
	char *colon;

	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &o->live; break;
	case 'a': g->pol.until_acked = true; break;
	case 's':
		colon = strrchr(arg, ':');
		if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(g->pol.settle_dev))
			argp_error(state, "invalid --until-settled '%s': give DEV:MS, such as "
				   "0000:3b:00.1:500", arg);
		snprintf(g->pol.settle_dev, sizeof(g->pol.settle_dev), "%.*s", (int)(colon - arg),
			 arg);
		g->pol.settle_ns = parse_ms(colon + 1, state, "--until-settled time");
		g->pol.settle = true;
		break;
	case 'b':
		g->pol.budget_ns = parse_ms(arg, state, "--downtime-budget");
		g->pol.budget = true;
		break;
	case 'm':
		gate_parse_max_hold(state, arg, &g->max_ns);
		break;
	case 'A':
		if (!strcmp(arg, "auto"))
			o->want = WANT_AUTO;
		else if (!strcmp(arg, "ptrace"))
			o->want = WANT_PTRACE;
		else if (!strcmp(arg, "write"))
			o->want = WANT_WRITE;
		else
			argp_error(state, "invalid --actuator '%s': auto, ptrace or write", arg);
		break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &live_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, NULL,
	"Own the switchover gate: attach to the pending-size query of the QEMU processes, "
	"report every hold and release, and apply the policies given.  Holds are placed "
	"with 'swack gate hold' (or by a policy) and always end by themselves at their "
	"deadline.  Runs in the foreground until interrupted; when it ends, however it "
	"ends, every hold is gone and QEMU proceeds.",
	children, NULL, NULL,
};

/* ---- swack gate run ------------------------------------------------------ */

static void live_event(void *ctx, const struct swack_event *e)
{
	struct gate_tgt *t = run_tgt(ctx, e->pid);

	if (t)
		policy_event(&t->pol, e);
}

/* The holds of a gate run that died (SIGKILL): nothing enforces them since,
 * and no release was logged; logged now, first in the new log, with cause
 * "gate died" (or "command" for one released that it did not report). */
static void release_orphans(struct gate_run *g, const struct gate_orphan *o, int n,
			    pid_t dead)
{
	uint64_t now = now_ns();

	for (int i = 0; i < n; i++) {
		struct swack_event e = { .pid = o[i].pid, .kind = SWACK_EV_GATE_RELEASE,
					 .ts = now };
		bool released = o[i].h.state == GATE_HOLD_RELEASED;

		e.a[0] = now > o[i].h.id ? now - o[i].h.id : 0;
		e.a[4] = released ? GATE_CAUSE_COMMAND : GATE_CAUSE_DIED;
		if (released)
			snprintf(e.str, sizeof(e.str), "%.*s", SWACK_STR_LEN - 1, o[i].h.release);
		else
			snprintf(e.str, sizeof(e.str), "swack gate run %d died holding it", dead);
		emit(g, &e);
	}
}

static int start(struct gate_run *g, struct run_opts *o, char *err, size_t errlen)
{
	struct gate_orphan *orphans;
	int norphans;
	pid_t dead;
	bool mounted;
	char libc[128];

	if (env_check_caps(err, errlen) || env_check_btf(err, errlen))
		return -1;
	/* Refuse bad pids before touching anything, with the actuator that
	 * load() will most likely pick. */
	gate_lockdown(g->lockdown, sizeof(g->lockdown));
	g->act = o->want == WANT_WRITE || (o->want == WANT_AUTO && (!strcmp(g->lockdown, "none") ||
		 !strcmp(g->lockdown, "unknown"))) ? GATE_ACT_WRITE : GATE_ACT_PTRACE;
	for (int i = 0; i < o->live.npids; i++) {
		struct gate_query q;

		if (check_target(g, o->live.pids[i], &q, libc, sizeof(libc), err, errlen))
			return -1;
	}
	if (gate_bpffs_ready(&mounted, err, errlen))
		return -1;
	/* Said only under -v, as for tracefs: whether an earlier run left bpffs
	 * mounted must not change what a run prints. */
	if (mounted && g->verbose)
		fprintf(stderr, "swack gate: mounted bpffs at /sys/fs/bpf\n");
	g->lockfd = gate_lock_run(err, errlen);
	if (g->lockfd < 0)
		return -1;
	orphans = calloc(GATE_MAX_PIDS, sizeof(*orphans));
	norphans = orphans ? gate_orphans(orphans, GATE_MAX_PIDS, &dead) : 0;
	gate_unpin_all();   /* left by a gate that was killed: enforced by nothing */
	libbpf_set_print(g->verbose ? loud : silent);
	if (load(g, o->want, err, errlen) || pin_maps(g, err, errlen)) {
		free(orphans);
		return -1;
	}
	release_orphans(g, orphans, norphans, dead);
	free(orphans);
	g->tr.acts_fd = bpf_map__fd(g->skel->maps.gate_acts);
	fprintf(stderr, "swack gate: actuator %s: %s; holds pinned in " GATE_PIN_HOLDS "\n",
		g->act == GATE_ACT_WRITE ? "write (bpf_probe_write_user)" :
		"ptrace (bpf_send_signal_thread(33) + PTRACE_POKEDATA)", g->act_why);
	for (int i = 0; i < o->live.npids; i++)
		if (add_target(g, o->live.pids[i], err, errlen))
			return -1;
	if (g->follow_all && proc_scan_qemu(scan_one, g) == 0)
		fprintf(stderr, "swack gate: no QEMU process yet; waiting for one to start\n");
	if (policy_any(&g->pol)) {
		struct live_cbs cbs = { .event = live_event, .ctx = g };

		model_init(&g->model, NULL, NULL);
		if (live_open(&g->live, &o->live, &g->model, &cbs, err, errlen))
			return -1;
		g->live_on = true;
		libbpf_set_print(g->verbose ? loud : silent);
	}
	return setup_fds(g, err, errlen);
}

/* Started: the run keeps uid 0 (it owns the pins it removes at its end) and
 * only what it still does: seize the threads of its processes and poke their
 * memory (CAP_SYS_PTRACE), its maps and the log (CAP_BPF), and, following
 * every QEMU, attach those started later (CAP_PERFMON, CAP_SYS_ADMIN), and
 * where RLIMIT_RTPRIO cannot be raised, its reader's priority (CAP_SYS_NICE,
 * source/live.h). */
static int drop_privileges(struct gate_run *g, char *err, size_t errlen)
{
	cap_value_t caps[5] = { CAP_SYS_PTRACE, CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN };
	bool nice = live_keeps_nice(&g->live);
	int n = g->follow_all ? 4 : 2;

	if (nice)
		caps[n++] = CAP_SYS_NICE;
	if (env_keep_caps(caps, n) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot drop privileges: %s", strerror(errno));
		return -1;
	}
	if (g->verbose)
		fprintf(stderr, "swack gate: started: keeps cap_sys_ptrace, cap_bpf%s%s only, "
			"no_new_privs\n", g->follow_all ? ", cap_perfmon, cap_sys_admin" : "",
			nice ? ", cap_sys_nice" : "");
	return 0;
}

int gate_cmd_run(int argc, char **argv)
{
	struct gate_run g = { .lockfd = -1, .epfd = -1, .sigfd = -1,
			      .max_ns = GATE_DEFAULT_MAX_NS };
	struct run_opts o = { .want = WANT_AUTO, .g = &g };
	char err[512];
	int ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return 2;
	if (o.live.user) {
		fprintf(stderr, "swack gate run: --user: the gate keeps uid 0 (it owns the pinned "
			"maps); it drops every capability it no longer needs\n");
		return 2;
	}
	term_filter_stdout(true);
	g.verbose = o.live.verbose;
	g.follow_all = o.live.npids == 0;
	g.t0 = now_ns();
	if (start(&g, &o, err, sizeof(err)) || drop_privileges(&g, err, sizeof(err))) {
		fprintf(stderr, "swack gate run: %s\n", err);
		ret = 1;
	} else {
		loop(&g);
	}
	if (g.skel)
		shutdown_gate(&g);
	ring_buffer__free(g.rb);
	gate_bpf__destroy(g.skel);
	if (g.epfd >= 0)
		close(g.epfd);
	if (g.sigfd >= 0)
		close(g.sigfd);
	/* Before live_close: it hands its descriptors to a child that outlives
	 * us, and the run lock must not go with them. */
	if (g.lockfd >= 0)
		close(g.lockfd);
	if (g.live_on) {
		live_close(&g.live);
		model_free(&g.model);
	}
	trace_free(&g.tr);
	free(g.tgts);
	free(g.unseizable);
	free(g.holds);
	free(g.refused);
	return ret;
}
