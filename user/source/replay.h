/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recorded event source: one or more recordings, merged in time.  Events
 * of a second host are moved onto the first recording's monotonic clock
 * through the realtime clock sampled in each header.
 */
#ifndef SWACK_REPLAY_H
#define SWACK_REPLAY_H
#include <stdbool.h>
#include <stdint.h>
#include "model/model.h"
#include "source/recfile.h"

#define REPLAY_MAX_FILES 8

struct replay_file {
	const char *path;
	struct recr *r;
	int64_t shift_ns;          /* added to this file's event times */
	bool same_clock;           /* same boot as the first file: no shift needed */
	struct swack_event next;   /* the next event of this file, when have_next */
	bool have_next;
};

struct replay {
	struct replay_file files[REPLAY_MAX_FILES];
	int nfiles;
	uint64_t uncertainty_ns;   /* of the alignment between the files' clocks */
	bool cross_host;           /* at least one file from another boot */
	struct model *model;       /* replay_run's: learns the processes' identities */
};

/* The recordings a command was given (source/args.h's replay_argp). */
struct replay_inputs {
	const char *paths[REPLAY_MAX_FILES];
	int n;
};

typedef void (*replay_event_fn)(void *ctx, const struct swack_event *e, int file);
typedef void (*replay_record_fn)(void *ctx, const struct rec_record *rec, int file);

/* Opens every file given (swack.data when none) and computes the alignment
 * (through realtime when the files come from different boots, or always with
 * realtime); 0, or -1 after saying why on stderr, after cmd's name. */
int replay_open(struct replay *rp, const struct replay_inputs *in, bool realtime,
		const char *cmd);
/* Feeds every event, in time order, to fn (and to m when not NULL); other
 * records go to other (optional).  Returns 0, or -1 if a file could not be read. */
int replay_run(struct replay *rp, struct model *m, replay_event_fn fn, replay_record_fn other,
	       void *ctx);
/* A file that did not end cleanly (cut, corrupt, a read error), one line each on
 * stderr after cmd's name; 1 if there was one, else 0.  Every reader exits
 * non-zero on it. */
int replay_damaged(struct replay *rp, const char *cmd);
/* How each file ended, one line each, on out. */
void replay_describe_ends(struct replay *rp, FILE *out);
void replay_close(struct replay *rp);

#endif
