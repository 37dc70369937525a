// SPDX-License-Identifier: GPL-2.0
/*
 * When the kernel-side programs are attached.  A migration announces itself
 * through its first state change (QEMU's migrate_set_state, uprobe or USDT),
 * which the BPF side makes wake the reader at once while the hooks are off:
 * the hooks are in place within a fraction of a millisecond, before the
 * migration thread is even created.  Where the stream's setup began before
 * they were, swack says so: bytes sent before then are not counted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "swack.skel.h"
#include "source/arm.h"
#include "source/attach.h"
#include "model/model.h"
#include "util/clock.h"

/* The syscall programs first: a migration stream's first bytes come before
 * any stall of a snapshot's write tracking (each attach takes 0.5 to 1 ms). */
void arm_init(struct arm *m, struct bpf_object *obj)
{
	struct bpf_program *p;

	memset(m, 0, sizeof(*m));
	for (int pass = 0; pass < 2; pass++) {
		bpf_object__for_each_program(p, obj) {
			const char *sec = bpf_program__section_name(p);

			if (strncmp(sec, "tp_btf/", 7) || !strcmp(sec, "tp_btf/sched_process_exec") ||
			    !strcmp(sec, "tp_btf/sched_process_exit") ||
			    !strncmp(sec, "tp_btf/sys_", 11) != !pass || m->nprogs == ARM_MAX_PROGS)
				continue;
			m->progs[m->nprogs++] = p;
		}
	}
}

/* Whether a target needs them. */
static bool needed(const struct attacher *a)
{
	for (int i = 0; i < a->ntargets; i++)
		if (a->targets[i].needs)
			return true;
	return false;
}

/* The first process that needs them while they are off, for -v. */
static void note_why(struct attacher *a, const struct target *t, __u64 ts)
{
	if (a->arm.on || !t->needs)
		return;
	a->arm.why_pid = t->pid;
	a->arm.why = t->needs;
	a->arm.why_ts = ts;
}

/* Binaries without a migration-state probe never say when they migrate. */
static bool announces(const struct attacher *a, const struct target *t)
{
	return a->bins[t->bin].announces;
}

void arm_watched(struct attacher *a, struct target *t, bool at_exec)
{
	t->needs = at_exec ? NEED_STARTING : 0;
	if (!announces(a, t))
		t->needs |= NEED_ALWAYS;
	if (!at_exec && vfio_fds_held(t->pid))
		t->needs |= NEED_VFIO;
	note_why(a, t, 0);
}

static bool ends_migration(const struct swack_event *e)
{
	return e->kind == SWACK_EV_MIG_STATE && mstate_terminal(mstate_from_name(e->str));
}

/* Events only a migration or a snapshot makes. */
static bool in_migration(const struct swack_event *e)
{
	switch (e->kind) {
	case SWACK_EV_MIG_STATE:
		return mstate_from_name(e->str) != MS_NONE && !ends_migration(e);
	case SWACK_EV_PENDING: case SWACK_EV_QUERY_PENDING: case SWACK_EV_DIRTY_SYNC:
	case SWACK_EV_SAVE_SETUP: case SWACK_EV_LOAD_BEGIN: case SWACK_EV_WT_START:
	case SWACK_EV_SNAP_PROGRESS: case SWACK_EV_CHECKPOINT: case SWACK_EV_TRANSFERRED:
		return !(e->flags & SWACK_F_END);
	default:
		return false;
	}
}

/* QEMU has finished starting once it runs, pauses or migrates (not while it
 * enters "inmigrate" or "prelaunch", early in its start). */
static bool started(const struct swack_event *e)
{
	if (e->origin == SWACK_ORIGIN_KERNEL || e->kind == SWACK_EV_EXIT)
		return false;
	if (e->kind == SWACK_EV_RUNSTATE)
		return strcmp(e->str, "inmigrate") && strcmp(e->str, "prelaunch");
	return true;
}

/* Where the source's stream setup (or a snapshot's write tracking) began
 * before the hooks were in place, its first syscalls went unseen. */
static void check_late(struct attacher *a, const struct swack_event *e)
{
	const char *what;

	if (e->flags & SWACK_F_END)
		return;
	if (e->kind == SWACK_EV_SAVE_SETUP)
		what = "its migration stream's setup began";
	else if (e->kind == SWACK_EV_WT_START)
		what = "its write tracking began";
	else
		return;
	if (a->arm.on && e->ts >= a->arm.on_ns)
		return;
	fprintf(a->log, "swack: pid %u: warning: %s %.3f ms before swack's syscall hooks "
		"were armed: what it sent or registered before then is not counted\n", e->pid,
		what, a->arm.on ? (a->arm.on_ns - e->ts) / 1e6 : 0.0);
}

void arm_note(struct attacher *a, const struct swack_event *e)
{
	struct target *t = NULL;
	unsigned before;

	for (int i = 0; i < a->ntargets && !t; i++)
		if (a->targets[i].pid == (pid_t)e->pid)
			t = &a->targets[i];
	if (!t)
		return;
	before = t->needs;
	if (in_migration(e)) {
		t->needs |= NEED_MIGRATION;
		check_late(a, e);
	} else if (ends_migration(e)) {
		t->needs &= ~NEED_MIGRATION;
	}
	if ((t->needs & NEED_STARTING) && started(e))
		t->needs &= ~NEED_STARTING;
	/* Its last reason gone: does it hold a VFIO device (opened at its start, or
	 * hot-plugged while the hooks were off)? */
	if ((before & ~NEED_VFIO) && !(t->needs & ~NEED_VFIO))
		t->needs = vfio_fds_held(t->pid) ? NEED_VFIO : 0;
	if (!before)
		note_why(a, t, e->ts);
}

static void clear_map(struct bpf_map *m)
{
	char key[16], next[16];
	bool first = true;

	if (bpf_map__key_size(m) > sizeof(key))
		return;
	while (!bpf_map__get_next_key(m, first ? NULL : key, next, bpf_map__key_size(m))) {
		bpf_map__delete_elem(m, next, bpf_map__key_size(m), 0);
		first = false;
		memcpy(key, next, sizeof(key));
	}
}

/*
 * State the syscall and scheduler programs keep from a call's entry to its
 * exit, and the descriptors they learned: whatever happened while they were
 * off is unknown, so none of it is trusted (a channel's fd may have been
 * closed and reused).  Write tracking and a postcopy destination's
 * userfaultfd are noted again at their registration (none can be under way:
 * it would have kept them on).
 */
static void forget_kernel_state(struct attacher *a)
{
	struct swack_bpf *s = a->skel;
	struct bpf_map *maps[] = { s->maps.vfio_calls, s->maps.data_calls, s->maps.uffd_calls,
				   s->maps.chan_send, s->maps.stalls, s->maps.data_fds,
				   s->maps.channels, s->maps.pc_faults };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		clear_map(maps[i]);
	for (int i = 0; i < a->ntargets; i++) {
		struct swack_proc p;
		__u32 key = a->targets[i].pid;

		if (bpf_map__lookup_elem(s->maps.procs, &key, sizeof(key), &p, sizeof(p), 0) ||
		    !(p.wt_fd | p.pc_fd))
			continue;
		p.wt_fd = p.pc_fd = 0;
		bpf_map__update_elem(s->maps.procs, &key, sizeof(key), &p, sizeof(p), BPF_EXIST);
	}
}

static const char *why(unsigned needs)
{
	if (needs & NEED_MIGRATION)
		return "it migrates or snapshots";
	if (needs & NEED_ALWAYS)
		return "no probe announces its migrations";
	if (needs & NEED_VFIO)
		return "it holds a VFIO device";
	return "it is starting";
}

/* -v: who needed them, and how long after its event they were in place. */
static void say_armed(struct attacher *a, __u64 attach_ns)
{
	const struct arm *m = &a->arm;
	char after[64] = "";

	if (m->why_ts && m->on_ns > m->why_ts)
		snprintf(after, sizeof(after), " %.3f ms after its event,", (m->on_ns - m->why_ts) / 1e6);
	fprintf(a->log, "swack: kernel hooks armed for pid %d (%s):%s %d programs attached in "
		"%.3f ms\n", m->why_pid, why(m->why), after, m->nprogs,
		(m->on_ns - attach_ns) / 1e6);
}

int arm_sync(struct attacher *a, char *err, size_t errlen)
{
	struct arm *m = &a->arm;
	struct link_set *sets[] = { &m->links };
	__u64 t0;

	if (!needed(a))
		return 0;
	m->idle_ns = 0;
	if (m->on)
		return 0;
	forget_kernel_state(a);
	t0 = now_ns();
	for (int i = 0; i < m->nprogs; i++) {
		struct bpf_link *l = bpf_program__attach(m->progs[i]);
		int ret = l ? link_set_add(&m->links, l) : -errno;

		if (ret) {
			bpf_link__destroy(l);
			/* None half-armed: the next try attaches every program again. */
			link_sets_destroy(sets, 1);
			snprintf(err, errlen, "cannot attach kernel program %s: %s",
				 bpf_program__name(m->progs[i]), strerror(-ret));
			return ret;
		}
	}
	m->on = true;
	m->on_ns = now_ns();
	if (a->verbose)
		say_armed(a, t0);
	m->times++;
	a->skel->bss->armed = 1;
	return 0;
}

bool arm_idle(struct attacher *a)
{
	struct arm *m = &a->arm;
	__u64 now = now_ns();

	if (!m->on || needed(a)) {
		m->idle_ns = 0;
		return false;
	}
	if (!m->idle_ns)
		m->idle_ns = now;
	return now - m->idle_ns >= ARM_GRACE_MS * 1000000ull;
}

void arm_quiet(struct attacher *a)
{
	a->skel->bss->armed = 0;
}

void arm_off(struct attacher *a)
{
	struct arm *m = &a->arm;
	struct link_set *sets[] = { &m->links };

	if (needed(a)) {
		a->skel->bss->armed = 1;
		m->idle_ns = 0;
		return;
	}
	if (a->verbose)
		fprintf(a->log, "swack: kernel hooks disarmed: no watched process has needed them "
			"for %.1f s\n", (now_ns() - m->idle_ns) / 1e9);
	link_sets_destroy(sets, 1);
	m->on = false;
	m->idle_ns = 0;
}
