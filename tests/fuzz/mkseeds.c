// SPDX-License-Identifier: GPL-2.0
/*
 * Writes small valid recordings (and a few damaged ones) with the real writer, as
 * the fuzzer's seeds: mkseeds DIR.  Fixed host facts, so the seeds are reproducible
 * except for the times the writer samples itself (CLOCK at close, END).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../unit/recfile_extra.h"

static const char *dir;
static struct rec_header hdr;

static struct recw *start(const char *name)
{
	char path[4096], err[512];
	struct recw *w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = recw_open(path, RECW_FORCE, &hdr, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "mkseeds: %s\n", err);
		exit(1);
	}
	return w;
}

static void finish(struct recw *w, const char *reason)
{
	char err[512];

	if (recw_close(w, reason, err, sizeof(err))) {
		fprintf(stderr, "mkseeds: %s\n", err);
		exit(1);
	}
}

static struct swack_event event(unsigned kind, unsigned i)
{
	struct swack_event e;

	memset(&e, 0, sizeof(e));
	e.ts = 1000000000ull + i * 1000000ull;
	e.pid = 24200;
	e.tid = 24378;
	e.kind = (__u16)kind;
	e.role = SWACK_ROLE_SRC;
	e.origin = SWACK_ORIGIN_UPROBE;
	e.a[0] = i;
	snprintf(e.str, sizeof(e.str), "active");
	return e;
}

/* Offset of record k (1 for the first) of a seed, from the reader. */
static long offset_of(const char *name, unsigned k)
{
	char p[4096], err[512];
	struct rec_record rec;
	struct recr *r;
	long off = -1;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	r = recr_open(p, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "mkseeds: %s\n", err);
		exit(1);
	}
	while (recr_next(r, &rec) == 1)
		if (rec.number == k)
			off = (long)rec.offset;
	recr_close(r);
	return off;
}

/* A copy of name, cut to len bytes, or with one byte flipped at flip (if >= 0). */
static void variant(const char *name, const char *out, long len, long flip)
{
	char p[4096], q[4096];
	unsigned char buf[1 << 16];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(q, sizeof(q), "%s/%s", dir, out);
	f = fopen(p, "rb");
	n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	if (len >= 0 && (size_t)len < n)
		n = (size_t)len;
	if (flip >= 0 && (size_t)flip < n)
		buf[flip] ^= 0x20;
	f = fopen(q, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f)) {
		perror(q);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct rec_process proc = {
		.ts = 999, .pid = 24200, .comm = "qemu-system-x86",
		.exe = "/usr/bin/qemu-system-x86_64", .generation = "QEMU <=7.2 (symbols)",
		.attach = "14 probes attached in 30.7 ms; missing: none",
	};
	struct rec_clock c = { 2000000000ull, 1700000000000000000ll, 1700000037000000000ll, 40 };
	struct swack_event e;
	struct recw *w;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	dir = argv[1];
	hdr.version = REC_VERSION;
	hdr.header_len = REC_HEADER_LEN_V1;
	hdr.abi_version = SWACK_ABI_VERSION;
	hdr.event_size = sizeof(struct swack_event);
	hdr.clock = (struct rec_clock){ 1000000000ull, 1700000000000000000ll,
					1700000037000000000ll, 60 };
	snprintf(hdr.host, sizeof(hdr.host), "seedhost");
	snprintf(hdr.kernel, sizeof(hdr.kernel), "6.1.0-seed-amd64");
	snprintf(hdr.machine, sizeof(hdr.machine), "x86_64");
	snprintf(hdr.boot_id, sizeof(hdr.boot_id), "316459a3-17a5-44a6-856c-b91c467c1608");

	/* Header and END only. */
	finish(start("seed-empty"), "interrupted");

	/* One of each type. */
	w = start("seed-all-types");
	recw_process(w, &proc);
	e = event(SWACK_EV_MIG_STATE, 1);
	recw_event(w, &e);
	e = event(SWACK_EV_PENDING, 2);
	recw_event(w, &e);
	recw_loss(w, 1500000000ull, 3);
	recw_clock_sample(w, &c);
	finish(w, "migrations done");

	/* Unknown types, empty and not. */
	w = start("seed-unknown");
	recw_raw(w, REC_TYPES, "future", 6);
	recw_raw(w, 0x7fffffff, NULL, 0);
	e = event(SWACK_EV_VM_STOP, 3);
	recw_event(w, &e);
	finish(w, "disk full");

	/* No END: a writer killed, with and without a torn record. */
	variant("seed-all-types", "seed-cut-clean", offset_of("seed-all-types", 4), -1);
	variant("seed-all-types", "seed-cut-torn", offset_of("seed-all-types", 3) + 100, -1);
	variant("seed-all-types", "seed-corrupt", -1, offset_of("seed-all-types", 2) + 50);
	variant("seed-empty", "seed-header-only", REC_HEADER_LEN_V1, -1);
	return 0;
}
