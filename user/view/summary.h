/* SPDX-License-Identifier: GPL-2.0 */
/* The end-of-migration summary, in text and JSON. */
#ifndef SWACK_SUMMARY_H
#define SWACK_SUMMARY_H
#include <stdio.h>
#include "model/model.h"

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst);
struct jw;
/* One JSON object: an item of the array j is in, or a line of its own. */
void summary_json(struct jw *j, const struct mig *src, const struct mig *dst);

#endif
