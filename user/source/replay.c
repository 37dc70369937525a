// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "source/replay.h"

/* The header's realtime minus monotonic clock; -1 when out of range. */
static int replay_clock_offset(const struct rec_header *h, int64_t *offset)
{
	/* A monotonic clock read as signed: beyond INT64_MAX it is no clock. */
	if (h->clock.mono_ns > (uint64_t)INT64_MAX ||
	    __builtin_sub_overflow(h->clock.real_ns, (int64_t)h->clock.mono_ns, offset))
		return -1;
	return 0;
}

/*
 * A monotonic time t of file i is t - mono_i + real_i in realtime, and
 * real_i - mono_i + mono_0 - real_0 on file 0's monotonic clock.  Each header
 * sample is good to within half its bracket; the realtime clocks of two hosts
 * are taken to agree (NTP, PTP), which no file can check.  The offsets were
 * checked when the files were opened; their difference may still overflow.
 */
static int align(struct replay *rp, bool realtime, char *why, size_t len)
{
	const struct rec_header *h0 = recr_header(rp->files[0].r);
	int64_t off0 = 0, off = 0;

	rp->uncertainty_ns = 0;
	replay_clock_offset(h0, &off0);
	for (int i = 1; i < rp->nfiles; i++) {
		struct replay_file *f = &rp->files[i];
		const struct rec_header *h = recr_header(f->r);
		uint64_t width = h->clock.width_ns / 2 + h0->clock.width_ns / 2;

		f->same_clock = !realtime && h0->boot_id[0] && !strcmp(h->boot_id, h0->boot_id);
		if (f->same_clock)
			continue;
		rp->cross_host = true;
		replay_clock_offset(h, &off);
		if (__builtin_sub_overflow(off, off0, &f->shift_ns)) {
			snprintf(why, len, "%s and %s: their clocks are too far apart to align "
				 "(corrupt header?)", rp->files[0].path, f->path);
			return -1;
		}
		if (width > rp->uncertainty_ns)
			rp->uncertainty_ns = width;
	}
	return 0;
}

/* An event time moved by shift, saturated at the ends of the clock. */
static uint64_t shifted(uint64_t ts, int64_t shift)
{
	uint64_t mag = shift < 0 ? -(uint64_t)shift : (uint64_t)shift;

	if (shift >= 0)
		return ts > UINT64_MAX - mag ? UINT64_MAX : ts + mag;
	return ts < mag ? 0 : ts - mag;
}

/* One file: readable, decodable by this swack, with clocks in range. */
static int open_one(struct replay_file *f, const char *path, char *why, size_t len)
{
	int64_t off;

	f->path = path;
	f->r = recr_open(path, why, len);
	if (!f->r || rec_header_check_abi(recr_header(f->r), why, len))
		return -1;
	if (replay_clock_offset(recr_header(f->r), &off)) {
		snprintf(why, len, "%s: corrupt header (clock sample out of range)", path);
		return -1;
	}
	return 0;
}

int replay_open(struct replay *rp, const struct replay_inputs *in, bool realtime,
		const char *cmd)
{
	static const char *const fallback = "swack.data";
	const char *const *paths = in->n ? in->paths : &fallback;
	int n = in->n ? in->n : 1, bad = 0;
	char why[256];

	memset(rp, 0, sizeof(*rp));
	for (int i = 0; i < n && i < REPLAY_MAX_FILES && !bad; i++) {
		bad = open_one(&rp->files[i], paths[i], why, sizeof(why));
		if (rp->files[i].r)
			rp->nfiles++;
	}
	if (bad || align(rp, realtime, why, sizeof(why))) {
		fprintf(stderr, "%s: %s\n", cmd, why);
		replay_close(rp);
		return -1;
	}
	return 0;
}

/* A process record tells the model who the process is (VM name, UUID). */
static void note_process(struct replay *rp, const struct rec_record *rec)
{
	struct rec_process p;
	struct vm_ident id = { 0 };

	if (!rp->model || rec->type != REC_PROCESS || rec_decode_process(rec, &p))
		return;
	id.pid = p.pid;
	snprintf(id.name, sizeof(id.name), "%s", p.vm);
	snprintf(id.uuid, sizeof(id.uuid), "%s", p.uuid);
	snprintf(id.via, sizeof(id.via), "%s", p.vm_via);
	model_note_vm(rp->model, &id);
}

/* The next event of file f into f->next; other records go to other. */
static void advance(struct replay *rp, int i, replay_record_fn other, void *ctx)
{
	struct replay_file *f = &rp->files[i];
	struct rec_record rec;

	f->have_next = false;
	while (recr_next(f->r, &rec) == 1) {
		if (rec.type != REC_EVENT && rec.type != REC_PACKED) {
			note_process(rp, &rec);
			if (other)
				other(ctx, &rec, i);
			continue;
		}
		if (rec_decode_event(&rec, &f->next))
			continue;
		f->next.ts = shifted(f->next.ts, f->shift_ns);
		f->have_next = true;
		return;
	}
}

static int earliest(const struct replay *rp)
{
	int best = -1;

	for (int i = 0; i < rp->nfiles; i++)
		if (rp->files[i].have_next &&
		    (best < 0 || rp->files[i].next.ts < rp->files[best].next.ts))
			best = i;
	return best;
}

int replay_run(struct replay *rp, struct model *m, replay_event_fn fn, replay_record_fn other,
	       void *ctx)
{
	int i;

	rp->model = m;
	for (i = 0; i < rp->nfiles; i++)
		advance(rp, i, other, ctx);
	while ((i = earliest(rp)) >= 0) {
		if (fn)
			fn(ctx, &rp->files[i].next, i);
		if (m)
			model_feed(m, &rp->files[i].next);
		advance(rp, i, other, ctx);
	}
	for (i = 0; i < rp->nfiles; i++)
		if (recr_status(rp->files[i].r)->kind == REC_ENDED_IOERR)
			return -1;
	return 0;
}

void replay_describe_ends(struct replay *rp, FILE *out)
{
	char line[512];

	for (int i = 0; i < rp->nfiles; i++) {
		rec_status_describe(recr_status(rp->files[i].r), line, sizeof(line));
		fprintf(out, "%s: %s\n", rp->files[i].path, line);
	}
}

int replay_damaged(struct replay *rp, const char *cmd)
{
	char line[512];
	int bad = 0;

	for (int i = 0; i < rp->nfiles; i++) {
		const struct rec_status *s = recr_status(rp->files[i].r);

		if (s->kind == REC_ENDED_CLEAN)
			continue;
		rec_status_describe(s, line, sizeof(line));
		fprintf(stderr, "%s: %s: %s; what came before it was read\n", cmd,
			rp->files[i].path, line);
		bad = 1;
	}
	return bad;
}

void replay_close(struct replay *rp)
{
	for (int i = 0; i < rp->nfiles; i++)
		recr_close(rp->files[i].r);
	rp->nfiles = 0;
}
