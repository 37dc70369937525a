// SPDX-License-Identifier: GPL-2.0
/*
 * CTF 1.8: a directory with a TSDL `metadata` file and one binary stream,
 * one event class per swack event kind, all with the same fields.  The
 * clock is CLOCK_MONOTONIC with the recording's offset to realtime, so
 * babeltrace2 prints wall-clock times.  Fields are byte-aligned, little-endian.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "event/event.h"
#include "view/export.h"

#define CTF_MAGIC 0xC1FC1FC1u
/* The process records (who each QEMU is): an id far above the event kinds,
 * which are append-only and would otherwise meet it. */
#define CTF_PROCESS_ID 1000u
#define HEADER_BYTES (4 + 4 + 8 + 8 + 8 + 8)   /* magic, stream id, context */

static void metadata_event_class(FILE *f, unsigned kind)
{
	fprintf(f, "event {\n\tname = \"%s\";\n\tid = %u;\n\tstream_id = 0;\n"
		"\tfields := struct {\n\t\tuint32_t pid;\n\t\tuint32_t tid;\n"
		"\t\tuint8_t role;\n\t\tuint8_t origin;\n\t\tuint32_t flags;\n"
		"\t\tuint64_t tx_bytes;\n\t\tuint64_t a0;\n\t\tuint64_t a1;\n\t\tuint64_t a2;\n"
		"\t\tuint64_t a3;\n\t\tuint64_t a4;\n\t\tuint64_t a5;\n\t\tstring dev;\n"
		"\t\tstring str;\n\t};\n};\n\n", event_desc(kind)->name, kind);
}

/* A TSDL string literal (C's rules): quote and backslash escaped, any byte
 * outside printable ASCII as a three-digit octal escape, which, unlike \x,
 * cannot run into the digits after it. */
static void tsdl_str(FILE *f, const char *s, size_t max)
{
	fputc('"', f);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int write_metadata(const char *dir, const struct rec_header *h)
{
	char path[4096];
	int64_t offset = h->clock.real_ns - (int64_t)h->clock.mono_ns;
	FILE *f;

	snprintf(path, sizeof(path), "%s/metadata", dir);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "/* CTF 1.8 */\n\n"
		"typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
		"typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
		"typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
		"typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n\n"
		"trace {\n\tmajor = 1;\n\tminor = 8;\n\tbyte_order = le;\n"
		"\tpacket.header := struct {\n\t\tuint32_t magic;\n\t\tuint32_t stream_id;\n\t};\n};\n\n"
		"env {\n\thostname = ");
	tsdl_str(f, h->host, sizeof(h->host));
	fprintf(f, ";\n\tdomain = \"swack\";\n\tkernel_release = ");
	tsdl_str(f, h->kernel, sizeof(h->kernel));
	fprintf(f, ";\n\tboot_id = ");
	tsdl_str(f, h->boot_id, sizeof(h->boot_id));
	fprintf(f, ";\n};\n\n");
	fprintf(f, "clock {\n\tname = \"monotonic\";\n\tdescription = \"CLOCK_MONOTONIC\";\n"
		"\tfreq = 1000000000;\n\toffset_s = %lld;\n\toffset = %lld;\n};\n\n"
		"typealias integer { size = 64; align = 8; signed = false; "
		"map = clock.monotonic.value; } := uint64_clock_t;\n\n"
		"stream {\n\tid = 0;\n\tpacket.context := struct {\n"
		"\t\tuint64_clock_t timestamp_begin;\n\t\tuint64_clock_t timestamp_end;\n"
		"\t\tuint64_t content_size;\n\t\tuint64_t packet_size;\n\t};\n"
		"\tevent.header := struct {\n\t\tuint32_t id;\n\t\tuint64_clock_t timestamp;\n\t};\n};\n\n",
		(long long)(offset / 1000000000), (long long)(offset % 1000000000));
	for (unsigned k = 1; k < SWACK_EV_MAX; k++)
		metadata_event_class(f, k);
	fprintf(f, "event {\n\tname = \"process\";\n\tid = %u;\n\tstream_id = 0;\n"
		"\tfields := struct {\n\t\tuint32_t pid;\n\t\tstring comm;\n\t\tstring vm;\n"
		"\t\tstring uuid;\n\t\tstring vm_via;\n\t};\n};\n\n", CTF_PROCESS_ID);
	return fclose(f);
}

#define CTF_MAX_PENDING 64

struct ctf {
	FILE *f;
	uint64_t first, last, bytes;
	/* Process records met before the first event: written with its time,
	 * since a stream's times never go back. */
	struct rec_process pending[CTF_MAX_PENDING];
	char *pending_buf[CTF_MAX_PENDING];
	int npending;
};

static void put(struct ctf *c, const void *p, size_t n)
{
	fwrite(p, 1, n, c->f);
	c->bytes += n;
}

static void put_str(struct ctf *c, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	put(c, s, n);
	put(c, "", 1);
}

static void put_process(struct ctf *c, const struct rec_process *p)
{
	__u32 id = CTF_PROCESS_ID;

	put(c, &id, 4);
	put(c, &c->last, 8);
	put(c, &p->pid, 4);
	put_str(c, p->comm, 16);
	put_str(c, p->vm, VM_NAME_LEN);
	put_str(c, p->uuid, VM_UUID_LEN);
	put_str(c, p->vm_via, VM_VIA_LEN);
}

static void flush_pending(struct ctf *c)
{
	for (int i = 0; i < c->npending; i++) {
		put_process(c, &c->pending[i]);
		free(c->pending_buf[i]);
	}
	c->npending = 0;
}

/* The record's strings live until the next record: a pending one keeps a copy. */
static void on_record(void *ctx, const struct rec_record *rec, int file)
{
	struct ctf *c = ctx;
	struct rec_process p;
	char *copy;

	(void)file;
	if (rec->type != REC_PROCESS || rec_decode_process(rec, &p))
		return;
	if (c->first) {
		put_process(c, &p);
		return;
	}
	if (c->npending == CTF_MAX_PENDING || !(copy = malloc(rec->len)))
		return;
	memcpy(copy, rec->payload, rec->len);
	struct rec_record own = *rec;

	own.payload = copy;
	rec_decode_process(&own, &c->pending[c->npending]);
	c->pending_buf[c->npending++] = copy;
}

static void on_event(void *ctx, const struct swack_event *e, int file)
{
	struct ctf *c = ctx;
	__u32 id = e->kind;

	(void)file;
	if (!c->first)
		c->first = e->ts;
	c->last = e->ts;
	flush_pending(c);
	put(c, &id, 4);
	put(c, &e->ts, 8);
	put(c, &e->pid, 4);
	put(c, &e->tid, 4);
	put(c, &e->role, 1);
	put(c, &e->origin, 1);
	put(c, &e->flags, 4);
	put(c, &e->tx_bytes, 8);
	put(c, e->a, sizeof(e->a));
	put_str(c, e->dev, sizeof(e->dev));
	put_str(c, e->str, sizeof(e->str));
}

/* One packet holds everything: its context is filled in at the end. */
static int write_header(struct ctf *c)
{
	__u32 magic = CTF_MAGIC, stream = 0;
	__u64 bits = c->bytes * 8;

	if (fseek(c->f, 0, SEEK_SET))
		return -1;
	fwrite(&magic, 4, 1, c->f);
	fwrite(&stream, 4, 1, c->f);
	fwrite(&c->first, 8, 1, c->f);
	fwrite(&c->last, 8, 1, c->f);
	fwrite(&bits, 8, 1, c->f);
	fwrite(&bits, 8, 1, c->f);
	return 0;
}

int export_ctf(struct replay *rp, const char *dir, char *err, size_t errlen)
{
	char path[4096], zero[HEADER_BYTES] = { 0 };
	struct ctf c = { 0 };
	int ret;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/stream_0", dir);
	c.f = fopen(path, "we");
	if (!c.f || write_metadata(dir, recr_header(rp->files[0].r))) {
		snprintf(err, errlen, "cannot write into %s: %s", dir, strerror(errno));
		if (c.f)
			fclose(c.f);
		return -1;
	}
	put(&c, zero, sizeof(zero));
	ret = replay_run(rp, NULL, on_event, on_record, &c);
	flush_pending(&c);
	if (write_header(&c) || fclose(c.f) || ret) {
		snprintf(err, errlen, "%s: %s", path, ret ? "cannot read the recording" :
			 strerror(errno));
		return -1;
	}
	return 0;
}
