/* SPDX-License-Identifier: GPL-2.0 */
/* The figures a dashboard shows for one migration, derived from the model. */
#ifndef SWACK_FIGURES_H
#define SWACK_FIGURES_H
#include <stdbool.h>
#include <stdint.h>
#include "model/model.h"

struct vm_figures {
	uint32_t pid;
	const char *vm;           /* the VM's name, "-" when unknown */
	int role;
	const char *phase;
	uint32_t iterations;
	uint64_t remaining;       /* last pending size */
	uint64_t bw;              /* bytes per second, 0 unknown */
	int64_t acks_pending;     /* -1 unknown */
	uint64_t initial, dirty;  /* summed over devices */
	uint32_t regrowths;
	uint32_t ndevs;
	double expected_ms;       /* remaining / bandwidth, -1 unknown */
	double limit_ms;          /* QEMU's downtime limit (threshold / bandwidth), -1 unknown */
	double downtime_ms;       /* at the end: guest-visible, else QEMU's; -1 unknown */
	bool ended;
	bool stalled;             /* converged but not switched over (waiting for an ACK) */
	bool over_budget;         /* expected downtime above the limit */
};

void mig_figures(const struct mig *g, struct vm_figures *f);
struct snap_stats {
	int64_t duration_ns;          /* setup to its end (or to now): QMP's total-time */
	int64_t tracking_ns;          /* write tracking on */
	int64_t bytes;                /* written to the snapshot's stream */
	int64_t paused_ns;            /* vCPUs stopped at its start, -1 unknown */
	uint32_t faults;
	double fault_rate;            /* faults per second of write tracking */
	uint64_t p50, p90, p99, max, total;
	uint64_t pages_saved;         /* bytes released by QEMU / 4 KiB */
};

/* A background snapshot's figures, up to now while it runs. */
void snap_stats(const struct mig *g, uint64_t now, struct snap_stats *s);
/* "12.3M": bytes in 1024-based units, into buf. */
const char *human_bytes(uint64_t v, char *buf, size_t len);

#endif
