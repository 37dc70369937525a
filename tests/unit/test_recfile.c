// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the recording format: writer, reader, torn and corrupt files. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <cmocka.h>
#include "recfile_extra.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	char tmpl[7] = { 0 };

	/* mkdtemp's template ends in six 'X' characters. */
	memset(tmpl, 'X', 6);
	snprintf(dir, sizeof(dir), "/tmp/test_recfile.%s", tmpl);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/rec.swack", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

struct buf {
	unsigned char *p;
	size_t len;
};

static struct buf slurp(const char *p)
{
	struct buf b = { 0 };
	struct stat st;
	FILE *f = fopen(p, "rb");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	b.len = (size_t)st.st_size;
	b.p = malloc(b.len + 1);
	assert_non_null(b.p);
	assert_int_equal(fread(b.p, 1, b.len, f), b.len);
	fclose(f);
	return b;
}

static void spit(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A reader over bytes in memory, named "mem"; data must live until recr_close. */
static struct recr *mem_reader(const void *data, size_t len, char *err, size_t errlen)
{
	FILE *f;

	if (!len) {   /* fmemopen wants a size */
		spit(path, "", 0);
		return recr_open(path, err, errlen);
	}
	f = fmemopen((void *)data, len, "r");
	assert_non_null(f);
	return recr_fopen(f, true, "mem", err, errlen);
}

static struct swack_event make_event(unsigned i)
{
	struct swack_event e;

	memset(&e, 0, sizeof(e));
	e.ts = 1000000000ull + i * 1000ull;
	e.pid = 100 + i;
	e.tid = 200 + i;
	e.kind = SWACK_EV_PENDING;
	e.role = SWACK_ROLE_SRC;
	e.origin = SWACK_ORIGIN_UPROBE;
	e.flags = SWACK_F_EXACT;
	e.tx_bytes = 12345678ull * i;
	for (int k = 0; k < SWACK_NARGS; k++)
		e.a[k] = i * 10 + k;
	snprintf(e.dev, sizeof(e.dev), "dev%u", i);
	snprintf(e.str, sizeof(e.str), "state-%u", i);
	return e;
}

static const struct rec_process proc = {
	.ts = 42, .pid = 24200, .comm = "qemu-system-x86",
	.exe = "/usr/bin/qemu-system-x86_64", .generation = "QEMU <=7.2 (symbols)",
	.attach = "9459 functions from .dynsym, 0 USDT probes: 14 probes attached in "
		  "30.7 ms; missing: none",
	.vm = "web-1", .uuid = "5f0c3b1e-8a2d-4c6f-9e1b-2d3c4b5a6f70", .vm_via = "libvirt",
};

/* A recording: PROCESS, nev EVENTs, LOSS, CLOCK, (close: CLOCK, END). */
static void write_sample(unsigned nev, const char *reason)
{
	char err[512];
	struct rec_clock c = { .mono_ns = 5, .real_ns = 6, .tai_ns = 7, .width_ns = 8 };
	struct recw *w;

	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	if (!w)
		fail_msg("%s", err);
	assert_int_equal(recw_process(w, &proc), 0);
	for (unsigned i = 0; i < nev; i++) {
		struct swack_event e = make_event(i);

		assert_int_equal(recw_event(w, &e), 0);
	}
	assert_int_equal(recw_loss(w, 77, 5), 0);
	assert_int_equal(recw_clock_sample(w, &c), 0);
	assert_int_equal(recw_close(w, reason, err, sizeof(err)), 0);
}

/* Offsets of every record of a file, from the reader. */
static size_t record_offsets(const struct buf *b, __u64 *offs, size_t max)
{
	char err[256];
	struct recr *r = mem_reader(b->p, b->len, err, sizeof(err));
	struct rec_record rec;
	size_t n = 0;

	assert_non_null(r);
	while (recr_next(r, &rec) == 1) {
		assert_true(n < max);
		offs[n++] = rec.offset;
	}
	assert_int_equal(recr_status(r)->kind, REC_ENDED_CLEAN);
	recr_close(r);
	return n;
}

/* Records of each type in the file at path as it is now (the writer still open). */
static void count_in_file(unsigned counts[16])
{
	struct buf b = slurp(path);
	char err[256];
	struct recr *r = mem_reader(b.p, b.len, err, sizeof(err));
	struct rec_record rec;

	memset(counts, 0, 16 * sizeof(counts[0]));
	assert_non_null(r);
	while (recr_next(r, &rec) == 1)
		counts[rec.type < 16 ? rec.type : 15]++;
	recr_close(r);
	free(b.p);
}

/* A CLOCK record is a point of durability: everything before it is in the
 * file (written, and synced) once it is added; records after it are not yet. */
static void test_clock_syncs(void **state)
{
	struct rec_clock c = { .mono_ns = 5, .real_ns = 6, .tai_ns = 7, .width_ns = 8 };
	unsigned counts[16];
	char err[512];
	struct recw *w;

	(void)state;
	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(recw_process(w, &proc), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct swack_event e = make_event(i);

		assert_int_equal(recw_event(w, &e), 0);
	}
	count_in_file(counts);
	assert_int_equal(counts[REC_PACKED], 0);   /* buffered */
	assert_int_equal(recw_clock_sample(w, &c), 0);
	count_in_file(counts);
	assert_int_equal(counts[REC_PROCESS], 1);
	assert_int_equal(counts[REC_PACKED], 3);
	assert_int_equal(counts[REC_CLOCK], 1);
	{
		struct swack_event e = make_event(3);

		assert_int_equal(recw_event(w, &e), 0);
	}
	count_in_file(counts);
	assert_int_equal(counts[REC_PACKED], 3);
	assert_int_equal(recw_close(w, "done", err, sizeof(err)), 0);
	count_in_file(counts);
	assert_int_equal(counts[REC_PACKED], 4);
}

static void test_crc(void **state)
{
	(void)state;
	assert_int_equal(rec_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(rec_crc32(rec_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	assert_int_equal(rec_crc32(0, "", 0), 0);
}

static void test_round_trip(void **state)
{
	char err[256], text[2048];
	struct utsname u;
	struct recr *r;
	struct rec_record rec;
	struct rec_process p;
	struct rec_loss l;
	struct rec_clock c;
	struct rec_end_rec end;
	struct swack_event e, want;
	const struct rec_header *h;
	unsigned events = 0, clocks = 0;
	FILE *f;

	(void)state;
	write_sample(3, "migrations done");
	r = recr_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	h = recr_header(r);
	assert_int_equal(uname(&u), 0);
	assert_int_equal(h->version, REC_VERSION);
	assert_int_equal(h->header_len, REC_HEADER_LEN_V1);
	assert_int_equal(h->abi_version, SWACK_ABI_VERSION);
	assert_int_equal(h->event_size, sizeof(struct swack_event));
	assert_string_equal(h->host, u.nodename);
	assert_string_equal(h->kernel, u.release);
	assert_string_equal(h->machine, u.machine);
	assert_int_equal(strlen(h->boot_id), 36);
	assert_true(h->clock.mono_ns > 0 && h->clock.real_ns > 0);
	assert_true(h->clock.width_ns < 10000000);   /* a bracket, not a guess */
	assert_int_equal((h->clock.tai_ns - h->clock.real_ns) % 1000000000ll, 0);
	assert_int_equal(rec_header_check_abi(h, err, sizeof(err)), 0);

	assert_int_equal(recr_next(r, &rec), 1);
	assert_int_equal(rec.type, REC_PROCESS);
	assert_int_equal(rec.number, 1);
	assert_int_equal(rec.offset, REC_HEADER_LEN_V1);
	assert_int_equal(rec_decode_process(&rec, &p), 0);
	assert_int_equal(p.ts, 42);
	assert_int_equal(p.pid, 24200);
	assert_string_equal(p.comm, proc.comm);
	assert_string_equal(p.exe, proc.exe);
	assert_string_equal(p.generation, proc.generation);
	assert_string_equal(p.attach, proc.attach);
	assert_string_equal(p.vm, proc.vm);
	assert_string_equal(p.uuid, proc.uuid);
	assert_string_equal(p.vm_via, proc.vm_via);
	assert_int_equal(rec_decode_event(&rec, &e), -1);

	while (recr_next(r, &rec) == 1 && rec.type == REC_PACKED) {
		assert_int_equal(rec_decode_event(&rec, &e), 0);
		want = make_event(events++);
		assert_memory_equal(&e, &want, sizeof(e));
	}
	assert_int_equal(events, 3);
	assert_int_equal(rec.type, REC_LOSS);
	assert_int_equal(rec_decode_loss(&rec, &l), 0);
	assert_int_equal(l.ts, 77);
	assert_int_equal(l.lost, 5);
	while (recr_next(r, &rec) == 1 && rec.type == REC_CLOCK) {
		assert_int_equal(rec_decode_clock(&rec, &c), 0);
		if (!clocks++) {
			assert_int_equal(c.mono_ns, 5);
			assert_int_equal(c.real_ns, 6);
			assert_int_equal(c.tai_ns, 7);
			assert_int_equal(c.width_ns, 8);
		} else {
			assert_true(c.mono_ns > h->clock.mono_ns);   /* sampled at close */
		}
	}
	assert_int_equal(clocks, 2);
	assert_int_equal(rec.type, REC_END);
	assert_int_equal(rec_decode_end(&rec, &end), 0);
	assert_string_equal(end.reason, "migrations done");
	assert_int_equal(end.events, 3);
	assert_int_equal(end.lost, 5);
	assert_int_equal(recr_next(r, &rec), 0);
	assert_int_equal(recr_next(r, &rec), 0);

	const struct rec_status *s = recr_status(r);
	assert_int_equal(s->kind, REC_ENDED_CLEAN);
	assert_int_equal(s->records, 8);
	assert_int_equal(s->counts[REC_PACKED], 3);
	assert_int_equal(s->counts[REC_EVENT], 0);
	assert_int_equal(s->counts[REC_CLOCK], 2);
	assert_int_equal(s->counts[0], 0);
	assert_int_equal(s->lost, 5);
	assert_int_equal(s->trailing_bytes, 0);
	rec_status_describe(s, text, sizeof(text));
	assert_string_equal(text, "clean end (\"migrations done\"): 3 events, 5 lost, 8 records");

	f = fmemopen(text, sizeof(text), "w");
	rec_header_print(f, h);
	fclose(f);
	assert_non_null(strstr(text, "format:     swack recording version 2, little-endian"));
	assert_non_null(strstr(text, u.nodename));
	assert_non_null(strstr(text, h->boot_id));
	assert_non_null(strstr(text, "event ABI:  1, "));
	assert_non_null(strstr(text, " UTC\n"));
	assert_non_null(strstr(text, "clocks:     monotonic "));
	assert_non_null(strstr(text, " ns (tightest bracket "));
	assert_non_null(strstr(text, "TAI - UTC = "));
	recr_close(r);
}

/* Every prefix of a file: whole records up to the cut, then "cut" (or a header error). */
static void test_cut_everywhere(void **state)
{
	char err[256], text[512];
	__u64 offs[64];
	struct buf b;
	size_t n;

	(void)state;
	write_sample(4, "interrupted");
	b = slurp(path);
	n = record_offsets(&b, offs, 64);
	assert_int_equal(n, 9);
	for (size_t len = 0; len < b.len; len++) {
		struct recr *r = mem_reader(b.p, len, err, sizeof(err));
		struct rec_record rec;
		const struct rec_status *s;
		size_t whole = 0, got = 0;

		if (len < REC_HEADER_LEN_V1) {
			char want[64];

			assert_null(r);
			snprintf(want, sizeof(want), "truncated header (%zu of 280 bytes)", len);
			assert_non_null(strstr(err, want));
			continue;
		}
		assert_non_null(r);
		while (whole < n && offs[whole] + 12 <= len &&
		       (whole + 1 < n ? offs[whole + 1] : b.len) <= len)
			whole++;
		while (recr_next(r, &rec) == 1)
			got++;
		s = recr_status(r);
		assert_int_equal(got, whole);
		assert_int_equal(s->kind, REC_ENDED_CUT);
		assert_int_equal(s->records, whole);
		assert_int_equal(s->last_number, whole);
		assert_int_equal(s->last_offset, whole ? offs[whole - 1] : 0);
		assert_int_equal(s->good_bytes, whole ? offs[whole] : REC_HEADER_LEN_V1);
		assert_int_equal(s->good_bytes + s->torn_bytes, len);
		assert_false(s->zero_tail);
		rec_status_describe(s, text, sizeof(text));
		assert_int_equal(strncmp(text, "cut: no END record", 18), 0);
		if (len > offs[n - 1])      /* inside the last record: reads up to the one before */
			assert_int_equal(whole, n - 1);
		if (s->torn_bytes)
			assert_non_null(strstr(text, "torn tail of"));
		recr_close(r);
	}
	/* The example of the man page. */
	{
		struct recr *r = mem_reader(b.p, offs[n - 1] + 5, err, sizeof(err));
		struct rec_record rec;
		char want[128];

		while (recr_next(r, &rec) == 1)
			;
		rec_status_describe(recr_status(r), text, sizeof(text));
		snprintf(want, sizeof(want), "cut: no END record; last complete record 8 at byte "
			 "%llu; torn tail of 5 bytes dropped", (unsigned long long)offs[n - 2]);
		assert_string_equal(text, want);
		recr_close(r);
	}
	free(b.p);
}

static void read_all(const struct buf *b, const struct rec_status **s, struct recr **r)
{
	char err[256];
	struct rec_record rec;

	*r = mem_reader(b->p, b->len, err, sizeof(err));
	assert_non_null(*r);
	while (recr_next(*r, &rec) == 1)
		;
	*s = recr_status(*r);
}

/* Any single flipped bit of a record mid-file: corrupt at that record. */
static void test_flip_mid_file(void **state)
{
	__u64 offs[64];
	struct buf b;
	size_t n, victim = 3;   /* the third record: an EVENT */
	char text[512], want[128];

	(void)state;
	write_sample(20, "interrupted");
	b = slurp(path);
	n = record_offsets(&b, offs, 64);
	assert_int_equal(n, 25);
	for (__u64 at = offs[victim - 1]; at < offs[victim]; at++) {
		for (int bit = 0; bit < 8; bit++) {
			const struct rec_status *s;
			struct recr *r;

			b.p[at] ^= 1u << bit;
			read_all(&b, &s, &r);
			assert_int_equal(s->kind, REC_ENDED_CORRUPT);
			assert_int_equal(s->bad_offset, offs[victim - 1]);
			assert_int_equal(s->bad_number, victim);
			assert_int_equal(s->records, victim - 1);
			recr_close(r);
			b.p[at] ^= 1u << bit;
		}
	}
	/* A payload byte: the message. */
	b.p[offs[victim - 1] + 20] ^= 0x40;
	{
		const struct rec_status *s;
		struct recr *r;

		read_all(&b, &s, &r);
		rec_status_describe(s, text, sizeof(text));
		snprintf(want, sizeof(want), "corrupt at byte %llu (record 3): CRC mismatch (event "
			 "record, %llu bytes); 2 records read before it",
			 (unsigned long long)offs[victim - 1],
			 (unsigned long long)(offs[victim] - offs[victim - 1] - REC_FRAME));
		assert_string_equal(text, want);
		recr_close(r);
	}
	free(b.p);
}

static void expect_open_error(const void *data, size_t len, const char *msg)
{
	char err[256] = "";
	struct recr *r = mem_reader(data, len, err, sizeof(err));

	assert_null(r);
	if (!strstr(err, msg))
		fail_msg("error \"%s\", expected \"%s\"", err, msg);
}

static void put32(unsigned char *p, __u32 v) { memcpy(p, &v, 4); }

static void test_header_errors(void **state)
{
	char err[256], fifo[64];
	struct buf b;
	unsigned char *c;

	(void)state;
	write_sample(1, "interrupted");
	b = slurp(path);
	c = malloc(b.len);
	assert_non_null(c);

	expect_open_error("hello, world\n", 13, "mem: not a swack recording");
	expect_open_error("SWACK", 5, "mem: truncated header (5 of 280 bytes)");
	expect_open_error("SWACKX", 6, "mem: not a swack recording");
	expect_open_error("", 0, ": truncated header (0 of 280 bytes)");
	expect_open_error(b.p, 100, "mem: truncated header (100 of 280 bytes)");
	expect_open_error(b.p, 279, "mem: truncated header (279 of 280 bytes)");

	memcpy(c, b.p, b.len);
	c[0] = 'X';
	expect_open_error(c, b.len, "mem: not a swack recording");

	memcpy(c, b.p, b.len);
	put32(c + 12, 3);
	expect_open_error(c, b.len, "mem: unsupported version 3 (this swack reads 1 to 2)");
	put32(c + 12, 0);
	expect_open_error(c, b.len, "mem: unsupported version 0 (this swack reads 1 to 2)");

	memcpy(c, b.p, b.len);
	c[100] ^= 1;   /* in the host name */
	expect_open_error(c, b.len, "mem: corrupt header (CRC mismatch)");

	memcpy(c, b.p, b.len);
	put32(c + 16, 1000000);
	expect_open_error(c, b.len, "mem: corrupt header (header length 1000000)");

	memcpy(c, b.p, b.len);
	put32(c + 8, __builtin_bswap32(REC_ENDIAN_MARK));
	expect_open_error(c, b.len, "mem: recording written in the other byte order "
			  "(big-endian); this swack reads little-endian recordings");
	put32(c + 8, 7);
	expect_open_error(c, b.len, "mem: corrupt header (byte-order marker 00000007)");

	assert_null(recr_open("/nonexistent/rec.swack", err, sizeof(err)));
	assert_string_equal(err, "cannot open /nonexistent/rec.swack: No such file or directory");
	assert_null(recr_open("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: is a directory, not a recording: give the file swack "
			    "record wrote (save a stream to a file first)");
	/* A FIFO without a writer is refused at once, not waited on. */
	snprintf(fifo, sizeof(fifo), "/tmp/swack-test-fifo.%d", (int)getpid());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(recr_open(fifo, err, sizeof(err)));
	unlink(fifo);
	assert_non_null(strstr(err, ": is a FIFO, not a recording"));
	free(c);
	free(b.p);
}

/* A longer header (a compatible addition) is read; its extra bytes are passed over. */
static void test_longer_header(void **state)
{
	char err[256];
	struct buf b;
	unsigned char *c;
	size_t extra = 40, hl = REC_HEADER_LEN_V1 + extra;
	struct recr *r;
	struct rec_record rec;
	unsigned n = 0;

	(void)state;
	write_sample(2, "interrupted");
	b = slurp(path);
	c = calloc(1, b.len + extra);
	assert_non_null(c);
	memcpy(c, b.p, REC_HEADER_LEN_V1 - 4);
	memset(c + REC_HEADER_LEN_V1 - 4, 0xab, extra);
	put32(c + 16, (__u32)hl);
	put32(c + hl - 4, rec_crc32(0, c, hl - 4));
	memcpy(c + hl, b.p + REC_HEADER_LEN_V1, b.len - REC_HEADER_LEN_V1);
	r = mem_reader(c, b.len + extra, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(recr_header(r)->header_len, hl);
	while (recr_next(r, &rec) == 1)
		n++;
	assert_int_equal(n, 7);
	assert_int_equal(recr_status(r)->kind, REC_ENDED_CLEAN);
	recr_close(r);
	free(c);
	free(b.p);
}

static void test_unknown_type_ignored(void **state)
{
	char err[256];
	unsigned char blob[300];
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	struct rec_process p;
	struct swack_event e = make_event(1);
	unsigned seen[3] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)i;
	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(recw_raw(w, 99, blob, sizeof(blob)), 0);
	assert_int_equal(recw_raw(w, 0xffffffffu, NULL, 0), 0);
	assert_int_equal(recw_raw(w, REC_PROCESS, "abc", 3), 0);   /* malformed: ignored too */
	assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);

	r = recr_open(path, err, sizeof(err));
	assert_non_null(r);
	while (recr_next(r, &rec) == 1) {
		if (rec.type == REC_PACKED)
			seen[0]++;
		else if (rec.type == 99) {
			assert_int_equal(rec.len, sizeof(blob));
			assert_memory_equal(rec.payload, blob, sizeof(blob));
			assert_string_equal(rec_type_name(rec.type), "unknown");
			seen[1]++;
		} else if (rec.type == REC_PROCESS) {
			assert_int_equal(rec_decode_process(&rec, &p), -1);
			seen[2]++;
		}
	}
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
	assert_int_equal(recr_status(r)->kind, REC_ENDED_CLEAN);
	assert_int_equal(recr_status(r)->counts[0], 2);
	assert_int_equal(recr_status(r)->end.events, 2);
	recr_close(r);
}

/* A PROCESS record of a writer that did not record the VM identity (four
 * strings) still decodes, with the identity empty; a torn identity does not. */
static void test_process_without_identity(void **state)
{
	static const char old[] = "\x2a\0\0\0\0\0\0\0\x10\x27\0\0\0\0\0\0"
				  "qemu\0/usr/bin/qemu\0QEMU <=7.2 (symbols)\0attached\0";
	static const char torn[] = "\x2a\0\0\0\0\0\0\0\x10\x27\0\0\0\0\0\0"
				   "qemu\0/usr/bin/qemu\0QEMU <=7.2 (symbols)\0attached\0web-1";
	struct rec_record rec = { .type = REC_PROCESS, .payload = old, .len = sizeof(old) - 1 };
	struct rec_process p;

	(void)state;
	assert_int_equal(rec_decode_process(&rec, &p), 0);
	assert_int_equal(p.pid, 10000);
	assert_string_equal(p.attach, "attached");
	assert_string_equal(p.vm, "");
	assert_string_equal(p.uuid, "");
	assert_string_equal(p.vm_via, "");
	rec.payload = torn;
	rec.len = sizeof(torn) - 1;
	assert_int_equal(rec_decode_process(&rec, &p), -1);
}

static void test_sizes(void **state)
{
	char err[256];
	static unsigned char big[REC_MAX_PAYLOAD + 1];
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	struct buf b;
	__u64 offs[16];
	size_t n;
	const struct rec_status *s;

	(void)state;
	memset(big, 0x5a, sizeof(big));
	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_int_equal(recw_raw(w, 77, big, REC_MAX_PAYLOAD), 0);
	errno = 0;
	assert_int_equal(recw_raw(w, 77, big, REC_MAX_PAYLOAD + 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(recw_error(w), "");   /* not sticky */
	assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);

	r = recr_open(path, err, sizeof(err));
	assert_int_equal(recr_next(r, &rec), 1);
	assert_int_equal(rec.len, REC_MAX_PAYLOAD);
	recr_close(r);

	/* A damaged length is corruption, not a torn tail, even where it runs past the end. */
	b = slurp(path);
	n = record_offsets(&b, offs, 16);
	assert_int_equal(n, 3);
	b.p[offs[1] + 5] ^= 0x10;
	read_all(&b, &s, &r);
	assert_int_equal(s->kind, REC_ENDED_CORRUPT);
	assert_int_equal(s->bad_offset, offs[1]);
	assert_non_null(strstr(s->why, "bad record header (type 4, length 4128, check "));
	recr_close(r);
	free(b.p);
}

/* A crash can leave zeros where the last records should be: a cut, not corruption. */
static void test_zero_tail(void **state)
{
	__u64 offs[16];
	struct buf b;
	size_t n, cutlen;
	const struct rec_status *s;
	struct recr *r;
	char text[256];

	(void)state;
	write_sample(2, "interrupted");
	b = slurp(path);
	n = record_offsets(&b, offs, 16);
	cutlen = offs[n - 2];     /* before the last CLOCK */
	b.p = realloc(b.p, cutlen + 100000);
	assert_non_null(b.p);
	memset(b.p + cutlen, 0, 100000);
	b.len = cutlen + 100000;
	read_all(&b, &s, &r);
	assert_int_equal(s->kind, REC_ENDED_CUT);
	assert_true(s->zero_tail);
	assert_int_equal(s->torn_bytes, 100000);
	assert_int_equal(s->records, n - 2);
	rec_status_describe(s, text, sizeof(text));
	assert_non_null(strstr(text, "; zero-filled tail of 100000 bytes dropped"));
	recr_close(r);

	b.p[cutlen + 70000] = 1;  /* zeros, then data: a hole mid-file */
	read_all(&b, &s, &r);
	assert_int_equal(s->kind, REC_ENDED_CORRUPT);
	assert_int_equal(s->bad_offset, cutlen);
	assert_string_equal(s->why, "record type 0");
	recr_close(r);
	free(b.p);
}

static void test_trailing_after_end(void **state)
{
	struct buf b;
	const struct rec_status *s;
	struct recr *r;
	char text[256];

	(void)state;
	write_sample(1, "migrations done");
	b = slurp(path);
	b.p = realloc(b.p, b.len + 3);
	memcpy(b.p + b.len, "xyz", 3);
	b.len += 3;
	read_all(&b, &s, &r);
	assert_int_equal(s->kind, REC_ENDED_CLEAN);
	assert_int_equal(s->trailing_bytes, 3);
	rec_status_describe(s, text, sizeof(text));
	assert_string_equal(text, "clean end (\"migrations done\"): 1 event, 5 lost, 6 records; "
			    "3 bytes after END ignored");
	recr_close(r);
	free(b.p);
}

static off_t file_size(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

/* Buffered, but never more than RECW_FLUSH_RECORDS records or RECW_FLUSH_MS late. */
static void test_flush_policy(void **state)
{
	char err[256];
	struct swack_event e = make_event(1);
	struct recw *w;
	struct codec c;
	unsigned char packed[CODEC_MAX];
	off_t first, rec;

	(void)state;
	/* The first event packed against nothing, the same one again against itself. */
	codec_reset(&c);
	first = REC_FRAME + codec_encode(&c, &e, packed);
	rec = REC_FRAME + codec_encode(&c, &e, packed);
	assert_true(rec < first);
	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1);   /* header written (fsynced) */
	assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1);   /* buffered */
	assert_int_equal(recw_tick(w), 0);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1);   /* not due yet */
	usleep(RECW_FLUSH_MS * 1000 + 20000);
	assert_int_equal(recw_tick(w), 0);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1 + first);
	for (int i = 1; i < RECW_FLUSH_RECORDS; i++)
		assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1 + first);
	assert_int_equal(recw_event(w, &e), 0);                /* the 256th */
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1 + first + rec * RECW_FLUSH_RECORDS);
	assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(recw_flush(w, true), 0);              /* on demand */
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1 + first + rec * (1 + RECW_FLUSH_RECORDS));
	assert_int_equal(recw_bytes(w), REC_HEADER_LEN_V1 + first + rec * (1 + RECW_FLUSH_RECORDS));
	assert_int_equal(recw_events(w), 2 + RECW_FLUSH_RECORDS);
	assert_int_equal(recw_loss_total(w, 10), 0);
	assert_int_equal(recw_loss_total(w, 10), 0);   /* nothing new: no record */
	assert_int_equal(recw_loss_total(w, 12), 0);
	assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);
	{
		struct recr *r = recr_open(path, err, sizeof(err));
		struct rec_record x;

		while (recr_next(r, &x) == 1)
			;
		assert_int_equal(recr_status(r)->counts[REC_LOSS], 2);
		assert_int_equal(recr_status(r)->lost, 12);
		assert_int_equal(recr_status(r)->end.lost, 12);
		recr_close(r);
	}
}

static void test_create_rules(void **state)
{
	char err[256];
	struct recw *w;

	(void)state;
	write_sample(1, "interrupted");
	assert_null(recw_open(path, 0, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, ": File exists"));
	assert_non_null(strstr(err, "cannot create "));
	w = recw_open(path, RECW_FORCE, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(file_size(path), REC_HEADER_LEN_V1);
	assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);
	assert_null(recw_open("/nonexistent/x.swack", 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "cannot create /nonexistent/x.swack: No such file or directory");
}

/* Disk full: at the header, and later.  /dev/full says ENOSPC to every write. */
static void test_enospc(void **state)
{
	char err[512];
	struct swack_event e = make_event(1);
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	int full, ret = 0, i;

	(void)state;
	assert_null(recw_open("/dev/full", 0, NULL, err, sizeof(err)));
	assert_string_equal(err, "cannot create /dev/full: File exists");
	assert_null(recw_open("/dev/full", RECW_FORCE, NULL, err, sizeof(err)));
	assert_string_equal(err, "writing /dev/full: No space left on device");
	assert_int_equal(access("/dev/full", F_OK), 0);   /* not removed */

	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	for (i = 0; i < 10; i++)
		assert_int_equal(recw_event(w, &e), 0);
	assert_int_equal(recw_flush(w, false), 0);
	/* The disk fills up now. */
	full = open("/dev/full", O_WRONLY);
	assert_true(full >= 0);
	assert_int_equal(dup2(full, recw_fileno(w)), recw_fileno(w));
	close(full);
	for (i = 0; i < 1000 && !ret; i++)
		ret = recw_event(w, &e);
	assert_int_equal(ret, -1);
	assert_int_equal(i, RECW_FLUSH_RECORDS);        /* failed at the first flush */
	assert_int_equal(recw_errno(w), ENOSPC);
	assert_non_null(strstr(recw_error(w), "No space left on device; kept 10 records ("));
	assert_non_null(strstr(recw_error(w), " bytes, 10 events)"));
	assert_int_equal(recw_events(w), 10);           /* in the file, not the 266 accepted */
	assert_int_equal(recw_event(w, &e), -1);        /* sticky */
	assert_int_equal(recw_flush(w, false), -1);
	assert_int_equal(recw_tick(w), -1);
	assert_int_equal(recw_close(w, "disk full", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No space left on device; kept 10 records ("));
	/* The 256 of the failed flush and the one refused after it; no END on /dev/full. */
	if (!strstr(err, "; 257 later records dropped; no END"))
		fail_msg("%s", err);

	/* What was written before is intact: 10 events, then a clean cut. */
	r = recr_open(path, err, sizeof(err));
	assert_non_null(r);
	i = 0;
	while (recr_next(r, &rec) == 1)
		i++;
	assert_int_equal(i, 10);
	assert_int_equal(recr_status(r)->kind, REC_ENDED_CUT);
	assert_int_equal(recr_status(r)->torn_bytes, 0);
	recr_close(r);
}

/* Strings from a file reach a terminal without their control characters. */
static void test_hostile_strings(void **state)
{
	char err[256], text[1024];
	struct rec_header h;
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	FILE *f;

	(void)state;
	assert_int_equal(rec_header_collect(&h, err, sizeof(err)), 0);
	snprintf(h.host, sizeof(h.host), "evil\033[2Jhost");
	unlink(path);
	w = recw_open(path, 0, &h, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(recw_raw(w, 0, "x", 1), -1);   /* type 0 is never written */
	assert_int_equal(recw_close(w, "bye\n\033[31m", err, sizeof(err)), 0);
	r = recr_open(path, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(recr_header(r)->host, "evil\033[2Jhost");
	f = fmemopen(text, sizeof(text), "w");
	rec_header_print(f, recr_header(r));
	fclose(f);
	assert_non_null(strstr(text, "host:       evil?[2Jhost ("));
	while (recr_next(r, &rec) == 1)
		;
	assert_string_equal(recr_status(r)->end_reason, "bye??[31m");
	recr_close(r);
}

/*
 * The fuzzer's corpus (tests/fuzz/corpus, from the source tree, or $SWACK_CORPUS) as
 * regression inputs: each file is refused with one line, or read to an ending whose
 * accounts add up.
 */
static void test_corpus(void **state)
{
	const char *cdir = getenv("SWACK_CORPUS") ? getenv("SWACK_CORPUS") : "tests/fuzz/corpus";
	DIR *d = opendir(cdir);
	struct dirent *de;
	unsigned files = 0, opened = 0;

	(void)state;
	if (!d)
		fail_msg("no corpus at %s: run from the source tree or set SWACK_CORPUS", cdir);
	while ((de = readdir(d))) {
		char p[4096], err[512], line[1024];
		struct rec_record rec;
		const struct rec_status *s;
		struct recr *r;
		__u64 next, n = 0;
		off_t size;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", cdir, de->d_name);
		size = file_size(p);
		files++;
		err[0] = 0;
		r = recr_open(p, err, sizeof(err));
		if (!r) {
			assert_true(err[0] && !strchr(err, '\n'));
			continue;
		}
		opened++;
		next = recr_header(r)->header_len;
		while (recr_next(r, &rec) == 1) {
			assert_int_equal(rec.number, ++n);
			assert_int_equal(rec.offset, next);
			next = rec.offset + REC_FRAME + rec.len;
			assert_true(next <= (__u64)size);
		}
		s = recr_status(r);
		assert_int_equal(s->records, n);
		assert_int_equal(s->good_bytes, next);
		if (s->kind == REC_ENDED_CLEAN)
			assert_int_equal(s->good_bytes + s->trailing_bytes, size);
		else if (s->kind == REC_ENDED_CUT)
			assert_int_equal(s->good_bytes + s->torn_bytes, size);
		else
			assert_int_equal(s->kind, REC_ENDED_CORRUPT);
		rec_status_describe(s, line, sizeof(line));
		assert_true(line[0] && !strchr(line, '\n'));
		recr_close(r);
	}
	closedir(d);
	assert_true(files > 0 && opened > 0);
}

/* xorshift64: reproducible variety. */
static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* An argument as events carry them: 0, ~0, small, a -errno, a size, an address. */
static __u64 rnd_arg(__u64 *s)
{
	switch (rnd(s) % 6) {
	case 0: return 0;
	case 1: return ~0ULL;
	case 2: return rnd(s) % 100;
	case 3: return (__u64)-(__s64)(rnd(s) % 134);
	case 4: return rnd(s) % (1ull << 31);
	default: return rnd(s);
	}
}

/* Events of every shape: any kind (some past the packed table), 20 processes
 * (more than the codec keeps), times that step back, strings of any length,
 * and some the packing must give up on (bytes after a string's end, a role
 * past 15). */
static struct swack_event rnd_event(__u64 *s, __u64 *ts)
{
	struct swack_event e;
	unsigned pick = rnd(s) % 16;

	memset(&e, 0, sizeof(e));
	*ts += rnd(s) % 3 ? rnd(s) % 5000000 : 0;
	e.ts = pick == 3 ? *ts - 1000 : *ts;
	e.pid = 1000 + rnd(s) % 20;
	e.tid = rnd(s) % 3 ? e.pid : e.pid + rnd(s) % 50;
	e.kind = (__u16)(pick == 5 ? 70 + rnd(s) % 5 : rnd(s) % SWACK_EV_MAX);
	e.role = (__u8)(pick == 7 ? 200 : rnd(s) % 3);
	e.origin = (__u8)(1 + rnd(s) % 3);
	e.flags = rnd(s) % 2 ? (__u32)(rnd(s) % 64) : 0;
	e.tx_bytes = (e.pid - 1000) * 1000000ull + *ts / 1000;
	for (int i = 0; i < SWACK_NARGS; i++)
		e.a[i] = rnd(s) % 3 ? rnd_arg(s) : 0;
	if (rnd(s) % 2)
		snprintf(e.dev, sizeof(e.dev), "0000:%02x:00.%u", (unsigned)(rnd(s) % 4), 1u);
	if (pick == 9)
		memset(e.str, 'x', sizeof(e.str));          /* no NUL at all */
	else if (rnd(s) % 2)
		snprintf(e.str, sizeof(e.str), "state-%u", (unsigned)(rnd(s) % 3));
	if (pick == 11)
		e.dev[SWACK_DEV_LEN - 1] = 'z';             /* after the string's NUL */
	return e;
}

/* Packed, unpacked: every event bit for bit, through the codec and a file. */
static void test_packed_exact(void **state)
{
	enum { N = 20000 };
	struct codec enc, dec;
	unsigned char buf[CODEC_MAX];
	struct swack_event *evs = calloc(N, sizeof(*evs)), got;
	__u64 s = 42, ts = 5000000000ull, bytes = 0, whole = 0;
	char err[256];
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	size_t n = 0;

	(void)state;
	assert_non_null(evs);
	codec_reset(&enc);
	codec_reset(&dec);
	for (size_t i = 0; i < N; i++) {
		size_t len;

		evs[i] = rnd_event(&s, &ts);
		len = codec_encode(&enc, &evs[i], buf);
		assert_true(len <= CODEC_MAX);
		whole += buf[0] == 0;
		bytes += len;
		assert_int_equal(codec_decode(&dec, buf, len, &got), 0);
		assert_memory_equal(&got, &evs[i], sizeof(got));
	}
	assert_true(whole > N / 20 && whole < N / 2);   /* both ways were taken */
	assert_true(bytes / N < sizeof(struct swack_event) / 2);

	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	for (size_t i = 0; i < N; i++) {
		if (i % 5000 == 0)
			assert_int_equal(recw_process(w, &proc), 0);   /* records between events */
		assert_int_equal(recw_event(w, &evs[i]), 0);
	}
	assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);
	r = recr_open(path, err, sizeof(err));
	assert_non_null(r);
	while (recr_next(r, &rec) == 1) {
		if (rec.type != REC_PACKED)
			continue;
		assert_true(n < N);
		assert_int_equal(rec_decode_event(&rec, &got), 0);
		assert_memory_equal(&got, &evs[n], sizeof(got));
		n++;
	}
	assert_int_equal(n, N);
	assert_int_equal(recr_status(r)->kind, REC_ENDED_CLEAN);
	assert_int_equal(recr_status(r)->end.events, N);
	recr_close(r);
	free(evs);
}

/* Truncated or garbled packings are refused, never read past their end. */
static void test_packed_malformed(void **state)
{
	struct codec enc, dec;
	unsigned char buf[CODEC_MAX], bad[CODEC_MAX + 8];
	struct swack_event e = make_event(3), got;
	size_t len;
	__u64 s = 7;

	(void)state;
	codec_reset(&enc);
	len = codec_encode(&enc, &e, buf);
	for (size_t cut = 0; cut < len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);   /* ASan sees any over-read */

		memcpy(copy, buf, cut);
		codec_reset(&dec);
		assert_int_equal(codec_decode(&dec, copy, cut, &got), -1);
		free(copy);
	}
	memcpy(bad, buf, len);
	bad[len] = 0;
	codec_reset(&dec);
	assert_int_equal(codec_decode(&dec, bad, len + 1, &got), -1);   /* a byte too many */
	memset(bad, 0xff, sizeof(bad));
	codec_reset(&dec);
	assert_int_equal(codec_decode(&dec, bad, sizeof(bad), &got), -1); /* endless varint */
	for (int i = 0; i < 100000; i++) {
		size_t n = rnd(&s) % sizeof(bad);

		for (size_t k = 0; k < n; k++)
			bad[k] = (unsigned char)rnd(&s);
		codec_reset(&dec);
		codec_decode(&dec, bad, n, &got);
	}
	/* In a file, with its CRC right: corruption at that record. */
	{
		char err[256], text[512];
		struct recw *w;
		const struct rec_status *st;
		struct recr *r;

		unlink(path);
		w = recw_open(path, 0, NULL, err, sizeof(err));
		assert_int_equal(recw_event(w, &e), 0);
		assert_int_equal(recw_raw(w, REC_PACKED, buf, (__u32)len - 1), 0);
		assert_int_equal(recw_close(w, "interrupted", err, sizeof(err)), 0);
		{
			struct buf b = slurp(path);

			read_all(&b, &st, &r);
			assert_int_equal(st->kind, REC_ENDED_CORRUPT);
			assert_int_equal(st->bad_number, 2);
			rec_status_describe(st, text, sizeof(text));
			snprintf(err, sizeof(err), "(record 2): malformed packed event (%zu bytes); 1 "
				 "record read before it", len - 1);
			if (!strstr(text, err))
				fail_msg("%s", text);
			recr_close(r);
			free(b.p);
		}
	}
}

/* Version 1 recordings (whole EVENT records) are still read. */
static void test_read_version1(void **state)
{
	char err[256];
	struct recw *w;
	struct recr *r;
	struct rec_record rec;
	struct swack_event e, got;
	struct buf b;
	unsigned n = 0;

	(void)state;
	unlink(path);
	w = recw_open(path, 0, NULL, err, sizeof(err));
	assert_non_null(w);
	for (unsigned i = 0; i < 5; i++) {
		e = make_event(i);
		assert_int_equal(recw_raw(w, REC_EVENT, &e, sizeof(e)), 0);
	}
	assert_int_equal(recw_close(w, "migrations done", err, sizeof(err)), 0);
	b = slurp(path);
	put32(b.p + 12, 1);
	put32(b.p + REC_HEADER_LEN_V1 - 4, rec_crc32(0, b.p, REC_HEADER_LEN_V1 - 4));
	r = mem_reader(b.p, b.len, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(recr_header(r)->version, 1);
	while (recr_next(r, &rec) == 1) {
		if (rec.type != REC_EVENT)
			continue;
		assert_int_equal(rec_decode_event(&rec, &got), 0);
		e = make_event(n++);
		assert_memory_equal(&got, &e, sizeof(e));
	}
	assert_int_equal(n, 5);
	rec_status_describe(recr_status(r), err, sizeof(err));
	assert_string_equal(err, "clean end (\"migrations done\"): 5 events, 0 lost, 7 records");
	recr_close(r);
	free(b.p);
}

static void test_abi_check(void **state)
{
	char err[256], want[256];
	struct rec_header h;

	(void)state;
	assert_int_equal(rec_header_collect(&h, err, sizeof(err)), 0);
	h.abi_version = 2;
	h.event_size = 176;
	assert_int_equal(rec_header_check_abi(&h, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "recording has event ABI 2 (176-byte events); this "
		 "swack reads ABI 1 (%zu-byte events)", sizeof(struct swack_event));
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_clock_syncs),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cut_everywhere),
		cmocka_unit_test(test_flip_mid_file),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_longer_header),
		cmocka_unit_test(test_unknown_type_ignored),
		cmocka_unit_test(test_process_without_identity),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_zero_tail),
		cmocka_unit_test(test_trailing_after_end),
		cmocka_unit_test(test_flush_policy),
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_abi_check),
		cmocka_unit_test(test_packed_exact),
		cmocka_unit_test(test_packed_malformed),
		cmocka_unit_test(test_read_version1),
	};
	return cmocka_run_group_tests_name("recfile", tests, setup, teardown);
}
