/* SPDX-License-Identifier: GPL-2.0 */
/* A background snapshot in text and JSON: summary lines, stall histogram, findings. */
#ifndef SWACK_SNAPSHOT_VIEW_H
#define SWACK_SNAPSHOT_VIEW_H
#include <stdio.h>
#include "model/model.h"

/* Indented lines under a summary: stalls, histogram, threads, hot memory. */
void snap_print_text(FILE *out, const struct mig *g);
/* The ranked findings and their advice line. */
void snap_print_findings(FILE *out, const struct mig *g);
struct jw;
/* "snapshot":{...} in a summary object (nothing when g is no snapshot). */
void snap_json(struct jw *j, const struct mig *g);
/* swackstat's row under a snapshotting VM: duration so far, bytes written,
 * faults and stall p99; "" when g is no snapshot. */
void snap_row(const struct mig *g, uint64_t now, char *buf, size_t len);
/* The same figures as one JSON line. */
void snap_row_json(FILE *out, const struct mig *g, uint64_t now);
/* A log2 histogram of microseconds (SNAP_HIST buckets), bcc style, headed label. */
void hist_print_text(FILE *out, const char *label, const uint32_t *hist);
/* The same as a JSON array at key: {from, to, count} for each bucket used. */
void hist_json(struct jw *j, const char *key, const uint32_t *hist);

#endif
