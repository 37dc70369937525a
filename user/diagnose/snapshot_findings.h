/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a background snapshot cost its guest, as ranked findings: plain
 * structs and lines over the model, for swack report and swack diagnose.
 */
#ifndef SWACK_SNAPSHOT_FINDINGS_H
#define SWACK_SNAPSHOT_FINDINGS_H
#include "model/figures.h"
#include "model/model.h"

enum snap_severity { SNAP_INFO = 0, SNAP_WARN = 1, SNAP_BAD = 2 };

enum snap_finding_kind {
	SNAPF_START_FAILED,  /* write tracking never began, or a UFFDIO call failed */
	SNAPF_STALLS,        /* fault count, rate, stall percentiles and total */
	SNAPF_THREAD,        /* one thread's total stall against the tracking time */
	SNAPF_WORST,         /* the longest stall */
	SNAPF_HOT_REGION,    /* the 2 MiB of guest RAM with the most faults */
	SNAPF_REPEATS,       /* pages that faulted more than once */
};

struct snap_finding {
	enum snap_finding_kind kind;
	enum snap_severity severity;
	double score;                 /* within a severity, higher first */
	char line[224];               /* one line, with its numbers */
};

#define SNAP_MAX_FINDINGS (SNAP_MAX_THREADS + 6)

struct snap_findings {
	struct snap_finding f[SNAP_MAX_FINDINGS];  /* worst first */
	int n;
	enum snap_severity worst;
	char advice[256];             /* what to do about the first finding */
};

/* Stall p99 at or above these: a warning, a problem. */
#define SNAP_P99_WARN_NS 1000000ull
#define SNAP_P99_BAD_NS 10000000ull
/* A thread stalled this share of the write-tracking time: warning, problem. */
#define SNAP_THREAD_WARN_PCT 1.0
#define SNAP_THREAD_BAD_PCT 10.0

/* Findings on g's snapshot, ranked; n is 0 when g was not a snapshot. */
void snap_findings(const struct mig *g, uint64_t now, struct snap_findings *out);
const char *snap_severity_name(enum snap_severity s);

#endif
