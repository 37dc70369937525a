/* SPDX-License-Identifier: GPL-2.0 */
/* The end-of-migration summary, in text and JSON. */
#ifndef SWACK_SUMMARY_H
#define SWACK_SUMMARY_H
#include <stdio.h>
#include "model/model.h"

void summary_print_text(FILE *out, const struct mig *src, const struct mig *dst);
void summary_print_json(FILE *out, const struct mig *src, const struct mig *dst);

#endif
