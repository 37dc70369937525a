/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policies of swack gate run, as decisions: given the facts of one watched
 * source (its newest migration in the model, the hold in force), a policy
 * says whether to place a hold, release it, or do nothing, and why.  It
 * never acts: the run loop (gate_run.c) does.
 */
#ifndef SWACK_GATE_POLICY_H
#define SWACK_GATE_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gate_abi.h"
#include "model/model.h"
#include "source/attach.h"

/* The policies given to gate run. */
struct gate_policy {
	bool until_acked;
	bool settle;
	char settle_dev[SWACK_DEV_LEN];
	uint64_t settle_ns;
	bool budget;
	uint64_t budget_ns;
};

/* What the policies keep per watched process. */
struct policy_state {
	uint32_t seq;               /* the migration a policy hold was placed for */
	bool held;                  /* a policy hold of ours is in force */
	int64_t ack_count;          /* per-device ACKs pending (11.1), -1 unknown */
	bool acked;                 /* legacy: the one ACK arrived */
	uint64_t zero_since;        /* --until-settled: initial bytes 0 since */
	uint32_t zero_regrowths;
};

/* What the run knows of the process when it asks. */
struct policy_facts {
	const struct mig *m;        /* its newest migration, as the source */
	const struct gate_hold *hold;   /* in force, or NULL */
	enum qemu_gen gen;          /* how the observation side attached it */
	uint64_t now;
	bool gate_pending_known;    /* QEMU's own pending bytes, read by the gate's probe */
	uint64_t gate_pending;
};

enum policy_do { POLICY_NOTHING, POLICY_PLACE, POLICY_RELEASE };

bool policy_any(const struct gate_policy *p);
void policy_init(struct policy_state *s);
/* Events of the process, in order: the latest ACK count is the one in force. */
void policy_event(struct policy_state *s, const struct swack_event *e);
/* The decision, with its reason in why (a hold's reason, or a release's). */
enum policy_do policy_decide(const struct gate_policy *p, struct policy_state *s,
			     const struct policy_facts *f, char *why, size_t len);

#endif
