/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packed events: a struct swack_event written against the events before it
 * (docs/swack-data.5, PACKED records).  Times, pids and stream bytes as
 * differences, arguments as zero, all-ones, a value or a difference from the
 * previous event of the same kind, strings only when they change: 15 to 30
 * bytes where the struct has 160.  Any event the packing cannot reproduce
 * bit for bit goes whole.  Encoder and decoder keep the same state, reset at
 * the start of a recording.  Pure C.
 */
#ifndef SWACK_CODEC_H
#define SWACK_CODEC_H
#include <stddef.h>
#include <linux/types.h>
#include "swack.h"

#define CODEC_KINDS 64          /* kinds below this are packed against their last event */
#define CODEC_PIDS 16           /* processes whose stream bytes are kept */
/* Bytes one packed event takes at most. */
#define CODEC_MAX (10 + sizeof(struct swack_event))

struct codec_kind {
	__u64 a[SWACK_NARGS];
	char dev[SWACK_DEV_LEN];
	char str[SWACK_STR_LEN];
};

struct codec {
	__u64 ts;
	__u32 pid, tid;
	__u8 ro;                            /* role | origin << 4 */
	__u32 tx_pid[CODEC_PIDS];
	__u64 tx[CODEC_PIDS];
	unsigned tx_next;                   /* slot a new process takes */
	struct codec_kind kinds[CODEC_KINDS];
};

void codec_reset(struct codec *c);
/* Packs e into out (CODEC_MAX bytes); returns the length. */
size_t codec_encode(struct codec *c, const struct swack_event *e, unsigned char *out);
/* Unpacks the len bytes at p, which must be exactly one event; 0, or -1 if
 * they are not (the state is then unusable). */
int codec_decode(struct codec *c, const unsigned char *p, size_t len, struct swack_event *e);

#endif
