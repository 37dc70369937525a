/* SPDX-License-Identifier: GPL-2.0 */
/* The end-of-migration summary, in text and JSON. */
#ifndef SWACK_SUMMARY_H
#define SWACK_SUMMARY_H
#include <stdio.h>
#include "model/model.h"
#include "source/recfile.h"

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst);
struct jw;
/* One JSON object: an item of the array j is in, or a line of its own. */
void summary_json(struct jw *j, const struct mig *src, const struct mig *dst);
/* A recording's process record as a comment line: "# FILE: pid N (comm)...". */
void process_print_text(FILE *out, const char *file, const struct rec_process *p, bool exe);

#endif
