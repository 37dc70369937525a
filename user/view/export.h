/* SPDX-License-Identifier: GPL-2.0 */
/* Exporters: recorded events into other tools' formats. */
#ifndef SWACK_EXPORT_H
#define SWACK_EXPORT_H
#include <stdio.h>
#include "model/model.h"
#include "source/replay.h"

/* Each writes every event of rp (already opened) to out or into dir. */
int export_chrome(struct replay *rp, FILE *out, char *err, size_t errlen);
int export_ctf(struct replay *rp, const char *dir, char *err, size_t errlen);

#endif
