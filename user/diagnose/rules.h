/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a rule file sees: the helpers that build findings (finding.c) and
 * the rules the engine's table (diagnose.c) runs, by subject.  A rule reads
 * the model and the diagnosis, and adds findings; it never calls the engine.
 */
#ifndef SWACK_DIAGNOSE_RULES_H
#define SWACK_DIAGNOSE_RULES_H
#include "diagnose/diagnose.h"

/* A new finding (NULL once DIAG_MAX_FINDINGS are there), its text, evidence
 * and figures. */
struct finding *diag_add(struct diagnosis *d, const char *id, int score);
void diag_title(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_detail(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_advice(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_evidence(struct finding *f, const struct mig *g, uint64_t ts, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_figure(struct finding *f, const char *name, double v);
/* "12.3 MB", decimal units, into buf. */
const char *diag_bytes(char *buf, size_t len, double bytes);

/* diagnose_mig.c */
void diag_outcome_rules(struct diagnosis *d);
void diag_downtime_rules(struct diagnosis *d);
void diag_convergence_rules(struct diagnosis *d);
/* diagnose_ack.c, diagnose_dev.c, diagnose_gate.c, diagnose_snap.c */
void diag_ack_rules(struct diagnosis *d);
void diag_device_rules(struct diagnosis *d);
void diag_gate_rules(struct diagnosis *d);
void diag_snapshot_rules(struct diagnosis *d);
/* diagnose_postcopy.c */
void diag_postcopy_rules(struct diagnosis *d);

#endif
