/* The live event source: BPF ring buffer -> normalized events -> model. */
#ifndef SWACK_LIVE_H
#define SWACK_LIVE_H
#include <stdbool.h>
#include <sys/types.h>
#include "attach.h"
#include "model.h"

#define LIVE_MAX_PIDS 64

struct live_opts {
	pid_t pids[LIVE_MAX_PIDS];   /* none: every QEMU, now and later */
	int npids;
	bool verbose;
};

typedef void (*live_event_fn)(void *ctx, const struct swack_event *e);

struct live {
	struct attacher a;
	struct ring_buffer *rb;
	struct model *model;
	live_event_fn on_event;
	void *ctx;
	bool follow_new;
};

/* Checks the host, loads, attaches; 0 or -1 with a one-line reason. */
int live_open(struct live *l, const struct live_opts *o, struct model *m,
	      live_event_fn fn, void *ctx, char *err, size_t errlen);
/* Waits up to timeout_ms for events; negative on error. */
int live_poll(struct live *l, int timeout_ms);
/* Events the ring buffer dropped so far. */
unsigned long long live_lost(struct live *l);
void live_close(struct live *l);

#endif
