/* SPDX-License-Identifier: GPL-2.0 */
/* Postcopy in text and JSON: the switch, the faults, the vCPUs' wait. */
#ifndef SWACK_POSTCOPY_VIEW_H
#define SWACK_POSTCOPY_VIEW_H
#include <stdio.h>
#include "model/model.h"

/* Indented lines under a summary; nothing when neither side went postcopy. */
void pc_print_text(FILE *out, const struct mig *src, const struct mig *dst);
struct jw;
/* "postcopy":{...} in a side's summary object (nothing without postcopy). */
void pc_json(struct jw *j, const struct mig *g);
/* "postcopy_switch":{...} (null without postcopy): the switch's phases. */
void pc_switch_json(struct jw *j, const struct mig *src, const struct mig *dst);
/* swackstat's row under a VM in postcopy: requests, faults and their rate,
 * fault latency p99, vCPUs blocked now; "" without postcopy. */
void pc_row(const struct mig *g, uint64_t now, char *buf, size_t len);
/* The same figures as one JSON line. */
void pc_row_json(FILE *out, const struct mig *g, uint64_t now);

#endif
