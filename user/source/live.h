/* SPDX-License-Identifier: GPL-2.0 */
/* The live event source: BPF ring buffer -> normalized events -> model. */
#ifndef SWACK_LIVE_H
#define SWACK_LIVE_H
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "source/attach.h"
#include "source/gate_log.h"
#include "model/model.h"

#define LIVE_MAX_PIDS 64
/* Events do not wake their reader (bpf/swack.bpf.c, submit: a wake-up costs
 * more than the probe), but for a new process's exec: the loop reads the ring
 * buffer at least this often, which bounds how late an event is seen. */
#define LIVE_READ_MS 100

struct live_opts {
	pid_t pids[LIVE_MAX_PIDS];   /* none: every QEMU, now and later */
	int npids;
	bool verbose;
	const char *user;            /* --user: whom to run as once attached (nobody) */
};

typedef void (*live_event_fn)(void *ctx, const struct swack_event *e);
typedef void (*live_attach_fn)(void *ctx, const struct target *t, const char *exe,
			       const char *line);

/* What a view wants to hear of, besides the model's own callbacks. */
struct live_cbs {
	live_event_fn event;
	live_attach_fn attached;   /* optional */
	void *ctx;
};

struct live {
	struct attacher a;
	struct ring_buffer *rb;
	struct model *model;
	struct live_cbs cbs;
	bool follow_new;
	bool rt, rt_refused;      /* the reader's real-time priority (while disarmed) */
	bool rt_limit;            /* RLIMIT_RTPRIO allows it without CAP_SYS_NICE */
	struct gate_log_reader gate_log;   /* holds and releases of swack gate run */
};

/* How long a live command runs. */
struct live_loop {
	double duration;          /* seconds, 0: no limit */
	bool until_done;          /* until every migration seen was reported */
	int tick_ms;              /* call tick at least this often (0: never) */
	void (*tick)(void *ctx);  /* a view's periodic work; may call live_request_stop */
	void *ctx;
	/* Held while events are read into the model (and tick runs), never while
	 * waiting for them: another thread (an HTTP server) reads the model under it. */
	pthread_mutex_t *lock;
};

/* SIGINT and SIGTERM end the loop; live_stopped() says whether they did. */
void live_handle_signals(void);
bool live_stopped(void);
void live_request_stop(void);
/* Polls until the loop's end; 0, or -1 on a ring-buffer error. */
int live_run(struct live *l, const struct live_loop *o);

/* Checks the host, loads, attaches; 0 or -1 with a one-line reason. */
int live_open(struct live *l, const struct live_opts *o, struct model *m,
	      const struct live_cbs *cbs, char *err, size_t errlen);
/* Waits up to timeout_ms for events; negative on error. */
int live_poll(struct live *l, int timeout_ms);
/* Once attached (and the command's own files open): runs as o->user (nobody)
 * with no_new_privs, keeping only CAP_BPF (its maps, the gate's log) and
 * CAP_SYS_PTRACE (the watched processes' /proc and memory), and, watching
 * every QEMU, CAP_PERFMON to attach those started later (CAP_SYS_ADMIN too
 * where uprobes go in perf-event links), and CAP_SYS_NICE where live_keeps_nice.
 * 0, or -1 with a one-line reason. */
int live_drop_privileges(struct live *l, const struct live_opts *o, char *err, size_t errlen);
/* The reader must keep CAP_SYS_NICE to raise its priority again whenever the
 * kernel hooks go off: RLIMIT_RTPRIO could not be raised to 1 (no
 * CAP_SYS_RESOURCE), and root could raise it. */
bool live_keeps_nice(const struct live *l);
/* Events dropped so far (ring buffer, gate log). */
unsigned long long live_lost(struct live *l);
void live_close(struct live *l);

#endif
