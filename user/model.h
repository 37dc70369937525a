/*
 * The model: everything swack knows about migrations, built from events
 * alone, so that live views and replays of a recording agree.  Pure C.
 */
#ifndef SWACK_MODEL_H
#define SWACK_MODEL_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "swack.h"

/* Migration states by name; QEMU's enum numbers differ between versions. */
enum mstate {
	MS_NONE, MS_SETUP, MS_ACTIVE, MS_PRE_SWITCHOVER, MS_DEVICE, MS_POSTCOPY,
	MS_COMPLETED, MS_FAILED, MS_CANCELLING, MS_CANCELLED, MS_OTHER,
};

#define MIG_MAX_STATES 24

struct mig_state_change {
	uint64_t ts;
	enum mstate state;
	char name[24];
};

struct mig {
	uint32_t pid;
	uint32_t seq;                 /* n-th migration seen of this pid */
	int role;                     /* enum swack_role */
	enum mstate state;
	int nstates;
	struct mig_state_change states[MIG_MAX_STATES];
	uint64_t t_first, t_end;      /* first event, terminal state */
	uint32_t iterations;          /* dirty-bitmap syncs */
	uint32_t queries;             /* pending-size queries */
	uint64_t pending, threshold;  /* last pending total and threshold */
	uint64_t tx_first, tx_last;   /* process TCP bytes at first/last event */
	uint64_t qemu_bytes;          /* bytes QEMU itself counted (USDT) */
	uint64_t bw;                  /* last measured, bytes per second */
	uint64_t t_switchover, t_stop, t_stopped, t_start, t_resumed;
	uint64_t t_save_begin, t_save_end, t_load_begin, t_load_end;
	uint64_t t_dt_start, t_dt_end;/* QEMU's own downtime checkpoints */
	struct mig *peer;
	enum { PAIR_NONE, PAIR_TCP, PAIR_TIME } paired_by;
	bool reported;
	struct mig *next;             /* all migrations, in order of start */
};

/* Called once per migration (pair) when its figures are final. */
typedef void (*model_done_fn)(void *ctx, const struct mig *src, const struct mig *dst);

struct model {
	struct mig *head, *tail;
	uint32_t nmigs;
	model_done_fn done;
	void *ctx;
};

void model_init(struct model *m, model_done_fn done, void *ctx);
void model_free(struct model *m);
void model_feed(struct model *m, const struct swack_event *e);
/* Source and destination processes known to be talking (same TCP connection). */
void model_pair(struct model *m, uint32_t src_pid, uint32_t dst_pid);
/* End of input: report what is still open. */
void model_flush(struct model *m);

enum mstate mstate_from_name(const char *name);
const char *mstate_name(enum mstate s);
bool mstate_terminal(enum mstate s);

/* Derived figures; negative when unknown. */
int64_t mig_total_ns(const struct mig *g);
int64_t mig_bytes(const struct mig *g);
int64_t mig_qemu_downtime_ns(const struct mig *src);
int64_t mig_guest_downtime_ns(const struct mig *src, const struct mig *dst);

#endif
