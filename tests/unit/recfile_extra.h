/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What only the tests, the fuzz harness and the seed maker use of the
 * recording format (recfile_extra.c): never part of swack.
 */
#ifndef SWACK_RECFILE_EXTRA_H
#define SWACK_RECFILE_EXTRA_H
#include "source/recfile.h"

/* The header as text, one fact a line (control characters in its strings as '?'). */
void rec_header_print(FILE *out, const struct rec_header *h);
/* Any type: -1 and EINVAL (not sticky) for type 0 or len > REC_MAX_PAYLOAD. */
int recw_raw(struct recw *w, __u32 type, const void *payload, __u32 len);
int recw_fileno(const struct recw *w);
__u64 recw_bytes(const struct recw *w);         /* bytes in the file (whole records) */
int rec_decode_clock(const struct rec_record *rec, struct rec_clock *c);

#endif
