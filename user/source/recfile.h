/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recordings of `swack record`: the on-disk format (docs/swack-data.5), a writer
 * and a streaming reader.  A file is a header, then self-delimiting records:
 *
 *   u32 type, u16 payload length, u16 head check (low 16 bits of the CRC-32 of the
 *   6 bytes before it), payload, u32 CRC-32 of the 8 + length bytes before it
 *
 * in the byte order of the writing host (little-endian on every host swack runs on; the
 * header carries a marker).  The head check tells a damaged length (corruption) from
 * a record cut by the end of the file (a torn tail).  Pure C, no BPF: the unit tests
 * and the fuzzer link it alone.
 */
#ifndef SWACK_RECFILE_H
#define SWACK_RECFILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "swack.h"
#include "event/codec.h"

#define REC_MAGIC "SWACKREC"          /* 8 bytes, no NUL */
#define REC_VERSION 2                  /* the format version this code writes */
#define REC_VERSION_MIN 1              /* the oldest it reads: events whole, not packed */
#define REC_ENDIAN_MARK 0x01020304u    /* written in host order: 04 03 02 01 on little-endian */
#define REC_HEADER_LEN_V1 280          /* header size written by version 1 writers */
#define REC_HEADER_MAX 65536           /* larger header_len: corrupt */
#define REC_MAX_PAYLOAD 65535          /* a u16 length: no payload is larger */
#define REC_FRAME 12                   /* type, length, head check; CRC after the payload */

#define REC_HOST_LEN 72                /* header string fields, NUL-padded */
#define REC_KERNEL_LEN 72
#define REC_MACHINE_LEN 24
#define REC_BOOT_ID_LEN 40

/* Record types.  Numbers are part of the format: append only.  0 is never valid. */
enum rec_type {
	REC_EVENT = 1,     /* struct swack_event, verbatim (header.event_size bytes) */
	REC_PROCESS = 2,   /* a watched process and what was attached to it */
	REC_LOSS = 3,      /* events the ring buffer dropped since the previous LOSS */
	REC_CLOCK = 4,     /* a clock sample, for drift */
	REC_END = 5,       /* clean end */
	REC_PACKED = 6,    /* one event, packed against the ones before it (event/codec.h);
			    * version 2 writes these instead of EVENT records */
	REC_TYPES
};

/*
 * Clocks read together: mono_ns is CLOCK_MONOTONIC (the events' time base,
 * bpf_ktime_get_ns) at the CLOCK_REALTIME read real_ns, within +-width_ns/2: the
 * tightest of several monotonic brackets around the realtime read.  tai_ns is
 * CLOCK_TAI at the same instant (real_ns + the kernel's whole-second TAI offset).
 */
struct rec_clock {
	__u64 mono_ns;
	__s64 real_ns;
	__s64 tai_ns;
	__u64 width_ns;
};

struct rec_header {
	__u32 version;
	__u32 header_len;
	__u32 abi_version;                 /* SWACK_ABI_VERSION of the writer */
	__u32 event_size;                  /* sizeof(struct swack_event) of the writer */
	__u32 flags;                       /* 0 in version 1 */
	struct rec_clock clock;            /* at start */
	char host[REC_HOST_LEN];           /* uname nodename */
	char kernel[REC_KERNEL_LEN];       /* uname release */
	char machine[REC_MACHINE_LEN];     /* uname machine */
	char boot_id[REC_BOOT_ID_LEN];     /* /proc/sys/kernel/random/boot_id, "" if unknown */
};

/* PROCESS: strings are NUL-terminated in the file; decoded pointers point into the record. */
struct rec_process {
	__u64 ts;                          /* CLOCK_MONOTONIC ns when written */
	__u32 pid;
	const char *comm;
	const char *exe;                   /* executable path */
	const char *generation;            /* "QEMU <=7.2 (symbols)" */
	const char *attach;                /* the attach report line: attached, missing */
	/* Appended later: "" when unknown, and in recordings made before them. */
	const char *vm;                    /* VM name (-name, libvirt, KubeVirt namespace/name) */
	const char *uuid;                  /* VM UUID, lower case */
	const char *vm_via;                /* where they came from: "libvirt", "-name -uuid"... */
};

struct rec_loss {
	__u64 ts;                          /* CLOCK_MONOTONIC ns */
	__u64 lost;                        /* since the previous LOSS record */
};

struct rec_end_rec {
	__u64 ts;                          /* CLOCK_MONOTONIC ns */
	__u64 events;                      /* EVENT records written */
	__u64 lost;                        /* sum of the LOSS records */
	const char *reason;                /* "interrupted", "migrations done", "disk full" */
};

/* CRC-32 (IEEE 802.3, zlib's crc32): crc = rec_crc32(0, buf, len), chainable. */
__u32 rec_crc32(__u32 crc, const void *buf, size_t len);

/* This host's facts and a clock sample; 0, or -1 with a one-line reason. */
int rec_header_collect(struct rec_header *h, char *err, size_t errlen);
/* 0 if this swack can decode the recording's EVENT records, else -1 and why. */
int rec_header_check_abi(const struct rec_header *h, char *err, size_t errlen);

/* ---- writer ---- */

#define RECW_FORCE 1u                 /* overwrite an existing file (else O_EXCL) */
#define RECW_FLUSH_MS 100             /* buffered records reach the file within this
				       * (checked at recw_tick and at records but events) */
#define RECW_FLUSH_RECORDS 256        /* or after this many records */
#define RECW_CLOCK_MS 10000           /* a CLOCK record at least this often */

struct recw;

/*
 * Creates path (O_EXCL unless RECW_FORCE), writes the header (h, or this host's facts
 * when NULL) and fsyncs it and its directory.  NULL with a one-line reason on failure;
 * a file this call created is then removed.
 */
struct recw *recw_open(const char *path, unsigned flags, const struct rec_header *h,
		       char *err, size_t errlen);

/*
 * Appends return 0, or -1 once writing failed (disk full, I/O error): the writer then
 * keeps what is in the file, drops everything after, and recw_error() says why.
 * A record is either wholly in the file or absent (except a tail cut by a kill).
 */
int recw_event(struct recw *w, const struct swack_event *e);   /* packed */
int recw_process(struct recw *w, const struct rec_process *p);
int recw_loss(struct recw *w, __u64 ts, __u64 lost);        /* lost since the last LOSS */
int recw_loss_total(struct recw *w, __u64 total);           /* LOSS of total - sum so far, if > 0 */
int recw_clock_sample(struct recw *w, const struct rec_clock *c);
/* Writes what is buffered (and fsyncs when sync); 0 or -1. */
int recw_flush(struct recw *w, bool sync);
/* Call at least every 100 ms: flushes when due, adds CLOCK records; 0 or -1. */
int recw_tick(struct recw *w);
/*
 * Writes a CLOCK and an END record with reason (after a failure, tries END where the
 * torn records were, best effort), fsyncs, closes, frees.  0, or -1 with the reason.
 */
int recw_close(struct recw *w, const char *reason, char *err, size_t errlen);

/* A recording that must not stay (the command failed before recording
 * anything): closes it and removes the file.  */
void recw_abandon(struct recw *w);

const char *recw_error(const struct recw *w);   /* "" while all is well */
int recw_errno(const struct recw *w);           /* 0, or ENOSPC, EIO... */
/* Events accepted (all reach the file by close); after a failure, those in the file. */
__u64 recw_events(const struct recw *w);

/* ---- reader ---- */

struct rec_record {
	__u32 type;
	__u32 len;
	const void *payload;               /* valid until the next recr_next */
	const struct swack_event *event;   /* PACKED: unpacked by the reader, as long */
	__u64 number;                      /* 1 for the first record after the header */
	__u64 offset;                      /* byte offset of its type field */
};

enum rec_end_kind {
	REC_ENDED_NOT_YET = 0,             /* iteration not finished */
	REC_ENDED_CLEAN,                   /* END record read */
	REC_ENDED_CUT,                     /* end of file without END (a torn tail dropped?) */
	REC_ENDED_CORRUPT,                 /* bad record mid-file: reading stopped there */
	REC_ENDED_IOERR,                   /* read error */
};

struct rec_status {
	enum rec_end_kind kind;
	__u64 records;                     /* complete records read, END included */
	__u64 counts[REC_TYPES];           /* per known type; [0]: unknown types */
	__u64 last_number;                 /* last complete record, 0 if none */
	__u64 last_offset;                 /* its offset */
	__u64 good_bytes;                  /* file offset after the last complete record */
	__u64 torn_bytes;                  /* CUT: bytes of an incomplete last record dropped */
	bool zero_tail;                    /* CUT: the dropped tail was all zero bytes */
	__u64 bad_offset;                  /* CORRUPT, IOERR: where */
	__u64 bad_number;                  /* CORRUPT: the record number it would have had */
	__u64 trailing_bytes;              /* CLEAN: bytes after END, ignored */
	int err;                           /* IOERR: errno */
	char why[96];                      /* CORRUPT: "CRC mismatch (event record, 160 bytes)" */
	struct rec_end_rec end;            /* CLEAN: the END record (reason copied below) */
	char end_reason[256];              /* control characters replaced by '?' */
	__u64 lost;                        /* sum of the LOSS records read */
};

struct recr;

/* Opens and validates the header; NULL with a one-line reason. */
struct recr *recr_open(const char *path, char *err, size_t errlen);
/* The same on a stream; when own, recr_close (or a failed open) closes it. */
struct recr *recr_fopen(FILE *f, bool own, const char *name, char *err, size_t errlen);
const struct rec_header *recr_header(const struct recr *r);
/* 1 and the next record, or 0 at the end: see recr_status().  A packed event that
 * does not unpack is corruption: every later one is packed against it. */
int recr_next(struct recr *r, struct rec_record *rec);
const struct rec_status *recr_status(const struct recr *r);
/* How the file ended, one line: "clean end (\"reason\"): ...", "cut: ...", "corrupt at byte N
 * (record M): ...", "read error at byte N: ...". */
void rec_status_describe(const struct rec_status *s, char *buf, size_t len);
void recr_close(struct recr *r);

/*
 * Payload decoders: 0, or -1 if the payload does not have that type's layout.
 * Strings point into the record, as written (control characters included).
 * EVENT and PACKED: only when rec_header_check_abi() accepted the header.
 */
int rec_decode_event(const struct rec_record *rec, struct swack_event *e);
int rec_decode_process(const struct rec_record *rec, struct rec_process *p);
int rec_decode_loss(const struct rec_record *rec, struct rec_loss *l);
int rec_decode_end(const struct rec_record *rec, struct rec_end_rec *e);
const char *rec_type_name(__u32 type);  /* "event"..., "unknown" */

#endif
