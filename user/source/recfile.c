// SPDX-License-Identifier: GPL-2.0
/*
 * Recordings: the format of docs/swack-data.5, its writer and its streaming reader.
 *
 * Writer: records are built in a buffer and written with one write() per batch of
 * whole records (at most 100 ms or 256 records late), so a crash leaves at most the
 * last record torn.  On ENOSPC the file is cut back to the last whole record and, at
 * close, the END record is written there if the space the torn bytes took allows it.
 * Reader: one bounded buffer (64 KiB + 12), stdio streaming, no mmap.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "source/recfile.h"

/* Header layout, version 1 (docs/swack-data.5). */
#define H_MAGIC 0
#define H_ENDIAN 8
#define H_VERSION 12
#define H_LEN 16
#define H_ABI 20
#define H_EVSIZE 24
#define H_FLAGS 28
#define H_CLOCK 32
#define H_HOST 64
#define H_KERNEL (H_HOST + REC_HOST_LEN)
#define H_MACHINE (H_KERNEL + REC_KERNEL_LEN)
#define H_BOOT_ID (H_MACHINE + REC_MACHINE_LEN)
#define H_RESERVED (H_BOOT_ID + REC_BOOT_ID_LEN)
#define H_CRC (H_RESERVED + 4)

_Static_assert(H_CRC + 4 == REC_HEADER_LEN_V1, "header layout");
_Static_assert(CODEC_MAX <= REC_MAX_PAYLOAD, "event too big");

#define CLOCK_PAYLOAD 32
#define LOSS_PAYLOAD 16
#define END_FIXED 24
#define PROCESS_FIXED 16
#define PROCESS_STR_MAX 9000    /* per string: seven fit in a record */

/* zlib's CRC-32 (IEEE 802.3), several bytes a step: the recorder pays it per event. */
__u32 rec_crc32(__u32 crc, const void *buf, size_t len)
{
	return (__u32)crc32_z(crc, buf, len);
}

/* The head check of a record whose type and length are the 6 bytes at head. */
static __u16 rec_head_check(const void *head)
{
	return (__u16)rec_crc32(0, head, 6);
}

/* Fields are in host order at any alignment. */
static void put32(unsigned char *p, __u32 v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, __u64 v) { memcpy(p, &v, 8); }
static void put16(unsigned char *p, __u16 v) { memcpy(p, &v, 2); }
static __u16 get16(const unsigned char *p) { __u16 v; memcpy(&v, p, 2); return v; }
static __u32 get32(const unsigned char *p) { __u32 v; memcpy(&v, p, 4); return v; }
static __u64 get64(const unsigned char *p) { __u64 v; memcpy(&v, p, 8); return v; }

static __u64 ts_ns(const struct timespec *t)
{
	return (__u64)t->tv_sec * 1000000000ull + (__u64)t->tv_nsec;
}

static __u64 mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_ns(&t);
}

/* ---- clocks and host facts ---- */

/* The tightest of a few monotonic brackets around a realtime read; 0 or -1 (errno). */
static int rec_clock_sample(struct rec_clock *c)
{
	struct timespec a, r, b, r2, tai;
	__u64 best = UINT64_MAX;
	__s64 off;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 8; i++) {
		if (clock_gettime(CLOCK_MONOTONIC, &a) || clock_gettime(CLOCK_REALTIME, &r) ||
		    clock_gettime(CLOCK_MONOTONIC, &b))
			return -1;
		__u64 w = ts_ns(&b) - ts_ns(&a);
		if (w < best) {
			best = w;
			c->mono_ns = ts_ns(&a) + w / 2;
			c->real_ns = (__s64)ts_ns(&r);
			c->width_ns = w;
		}
	}
	/*
	 * The kernel keeps CLOCK_TAI = CLOCK_REALTIME + a whole number of seconds:
	 * read the offset, round it, and apply it to the bracketed realtime read.
	 */
	if (clock_gettime(CLOCK_REALTIME, &r2) || clock_gettime(CLOCK_TAI, &tai)) {
		c->tai_ns = c->real_ns;
		return 0;
	}
	off = (__s64)ts_ns(&tai) - (__s64)ts_ns(&r2);
	off = (off + (off >= 0 ? 500000000ll : -500000000ll)) / 1000000000ll;
	c->tai_ns = c->real_ns + off * 1000000000ll;
	return 0;
}

/* src: a string, or a field of srclen bytes that may lack its NUL. */
static void copy_str(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t n = strnlen(src, len - 1 < srclen ? len - 1 : srclen);

	memset(dst, 0, len);
	memcpy(dst, src, n);
}

int rec_header_collect(struct rec_header *h, char *err, size_t errlen)
{
	struct utsname u;
	char id[64] = "";
	FILE *f;

	memset(h, 0, sizeof(*h));
	h->version = REC_VERSION;
	h->header_len = REC_HEADER_LEN_V1;
	h->abi_version = SWACK_ABI_VERSION;
	h->event_size = sizeof(struct swack_event);
	if (uname(&u)) {
		snprintf(err, errlen, "uname: %s", strerror(errno));
		return -1;
	}
	copy_str(h->host, sizeof(h->host), u.nodename, sizeof(u.nodename));
	copy_str(h->kernel, sizeof(h->kernel), u.release, sizeof(u.release));
	copy_str(h->machine, sizeof(h->machine), u.machine, sizeof(u.machine));
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = 0;
		fclose(f);
		id[strcspn(id, "\n")] = 0;
	}
	copy_str(h->boot_id, sizeof(h->boot_id), id, sizeof(id));
	if (rec_clock_sample(&h->clock)) {
		snprintf(err, errlen, "clock_gettime: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A string from a file, printed without the control characters it may hold. */
static const char *clean(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = 0;
	return dst;
}

int rec_header_check_abi(const struct rec_header *h, char *err, size_t errlen)
{
	if (h->abi_version == SWACK_ABI_VERSION && h->event_size == sizeof(struct swack_event))
		return 0;
	snprintf(err, errlen, "recording has event ABI %u (%u-byte events); this swack reads "
		 "ABI %u (%zu-byte events)", h->abi_version, h->event_size, SWACK_ABI_VERSION,
		 sizeof(struct swack_event));
	return -1;
}

static void header_encode(unsigned char *b, const struct rec_header *h)
{
	memset(b, 0, REC_HEADER_LEN_V1);
	memcpy(b + H_MAGIC, REC_MAGIC, 8);
	put32(b + H_ENDIAN, REC_ENDIAN_MARK);
	put32(b + H_VERSION, REC_VERSION);
	put32(b + H_LEN, REC_HEADER_LEN_V1);
	put32(b + H_ABI, h->abi_version);
	put32(b + H_EVSIZE, h->event_size);
	put32(b + H_FLAGS, 0);
	put64(b + H_CLOCK, h->clock.mono_ns);
	put64(b + H_CLOCK + 8, (__u64)h->clock.real_ns);
	put64(b + H_CLOCK + 16, (__u64)h->clock.tai_ns);
	put64(b + H_CLOCK + 24, h->clock.width_ns);
	copy_str((char *)b + H_HOST, REC_HOST_LEN, h->host, sizeof(h->host));
	copy_str((char *)b + H_KERNEL, REC_KERNEL_LEN, h->kernel, sizeof(h->kernel));
	copy_str((char *)b + H_MACHINE, REC_MACHINE_LEN, h->machine, sizeof(h->machine));
	copy_str((char *)b + H_BOOT_ID, REC_BOOT_ID_LEN, h->boot_id, sizeof(h->boot_id));
	put32(b + H_CRC, rec_crc32(0, b, H_CRC));
}

static void clock_decode(struct rec_clock *c, const unsigned char *p)
{
	c->mono_ns = get64(p);
	c->real_ns = (__s64)get64(p + 8);
	c->tai_ns = (__s64)get64(p + 16);
	c->width_ns = get64(p + 24);
}

static void clock_encode(unsigned char *p, const struct rec_clock *c)
{
	put64(p, c->mono_ns);
	put64(p + 8, (__u64)c->real_ns);
	put64(p + 16, (__u64)c->tai_ns);
	put64(p + 24, c->width_ns);
}

/* A NUL-terminated string field copied out, terminated even if the file's is not. */
static void str_decode(char *dst, const unsigned char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len - 1] = 0;
}

const char *rec_type_name(__u32 type)
{
	switch (type) {
	case REC_EVENT: return "event";
	case REC_PROCESS: return "process";
	case REC_LOSS: return "loss";
	case REC_CLOCK: return "clock";
	case REC_END: return "end";
	case REC_PACKED: return "event";
	default: return "unknown";
	}
}

/* ---- writer ---- */

#define WBUF_FLUSH 65536                       /* flush when this much is buffered */
#define WBUF_SIZE (WBUF_FLUSH + REC_FRAME + REC_MAX_PAYLOAD)
#define RESERVE_BYTES 4096                     /* preallocated past the end, for END */

struct recw {
	int fd;
	bool regular;              /* a regular file: pwrite, ftruncate, fallocate work */
	bool reserve;              /* fallocate KEEP_SIZE supported so far */
	char *name;
	unsigned char *buf;
	size_t used;
	unsigned nrec;             /* records buffered */
	__u64 first_ns;            /* when the oldest buffered record was appended */
	__u64 last_clock_ns;
	__u64 file_bytes;          /* header and whole records in the file */
	__u64 records;             /* records in the file */
	__u64 events;              /* EVENT records accepted */
	__u64 lost;                /* LOSS sum accepted */
	__u64 file_events;         /* EVENT records in the file */
	__u64 file_lost;           /* LOSS sum in the file */
	__u64 dropped;             /* records not written after a failure */
	struct codec codec;        /* what the next event is packed against */
	unsigned char packed[CODEC_MAX];
	int err;
	char msg[512];
	unsigned char scratch[REC_MAX_PAYLOAD];
};

static bool space_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

static void reserve_space(struct recw *w)
{
	if (!w->regular || !w->reserve)
		return;
	if (fallocate(w->fd, FALLOC_FL_KEEP_SIZE, (off_t)w->file_bytes, RESERVE_BYTES) &&
	    (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL || errno == ENODEV))
		w->reserve = false;
}

static void fail(struct recw *w, int e, const char *what)
{
	if (w->err)
		return;
	w->err = e;
	snprintf(w->msg, sizeof(w->msg), "%s %s: %s; kept %llu records (%llu bytes, %llu "
		 "events)", what, w->name, strerror(e), (unsigned long long)w->records,
		 (unsigned long long)w->file_bytes, (unsigned long long)w->file_events);
}

/* Counts the whole records in buf[0, n) as written; returns their length. */
static size_t account(struct recw *w, size_t n)
{
	size_t p = 0;

	while (p + REC_FRAME <= n) {
		__u32 type = get32(w->buf + p), len = get16(w->buf + p + 4);

		if (p + REC_FRAME + len > n)
			break;
		if (type == REC_EVENT || type == REC_PACKED)
			w->file_events++;
		else if (type == REC_LOSS && len >= LOSS_PAYLOAD)
			w->file_lost += get64(w->buf + p + 8 + 8);
		w->records++;
		p += REC_FRAME + len;
	}
	w->file_bytes += p;
	return p;
}

static int write_buf(struct recw *w)
{
	size_t done = 0;

	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			size_t whole = account(w, done);

			/* Records cut by the failure are dropped. */
			for (size_t p = whole; p + REC_FRAME <= w->used;
			     p += REC_FRAME + get16(w->buf + p + 4))
				w->dropped++;
			w->used = 0;
			w->nrec = 0;
			fail(w, e, "writing");
			return -1;
		}
		done += (size_t)n;
	}
	account(w, done);
	w->used = 0;
	w->nrec = 0;
	reserve_space(w);
	return 0;
}

static int sync_fd(struct recw *w)
{
	if (fsync(w->fd) && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
		fail(w, errno, "syncing");
		return -1;
	}
	return 0;
}

int recw_flush(struct recw *w, bool sync)
{
	if (w->err)
		return -1;
	if (w->used && write_buf(w))
		return -1;
	return sync ? sync_fd(w) : 0;
}

static void frame(unsigned char *p, __u32 type, const void *payload, __u32 len)
{
	put32(p, type);
	put16(p + 4, (__u16)len);
	put16(p + 6, rec_head_check(p));
	if (len && p + 8 != (const unsigned char *)payload)
		memcpy(p + 8, payload, len);
	put32(p + 8 + len, rec_crc32(0, p, 8 + (size_t)len));
}

static int maybe_flush(struct recw *w, __u64 now);

static int append(struct recw *w, __u32 type, const void *payload, __u32 len, bool flush_check)
{
	bool event = type == REC_EVENT || type == REC_PACKED;
	__u64 now;

	if (w->err) {
		w->dropped++;
		return -1;
	}
	if (len > REC_MAX_PAYLOAD || type == 0) {
		errno = EINVAL;
		return -1;
	}
	if (w->used + REC_FRAME + len > WBUF_SIZE && write_buf(w)) {
		w->dropped++;
		return -1;
	}
	frame(w->buf + w->used, type, payload, len);
	w->used += REC_FRAME + len;
	/* An event reads no clock (a million a second would pay 80 ns each here): the
	 * time rules are checked at the other records and at each recw_tick. */
	now = event && w->nrec ? 0 : mono_now();
	if (!w->nrec++)
		w->first_ns = now;
	if (event)
		w->events++;
	else if (type == REC_LOSS && len >= LOSS_PAYLOAD)
		w->lost += get64((const unsigned char *)payload + 8);
	else if (type == REC_CLOCK)
		w->last_clock_ns = now;
	if (!flush_check)
		return 0;
	if (event)
		return w->used >= WBUF_FLUSH || w->nrec >= RECW_FLUSH_RECORDS ? write_buf(w) : 0;
	return maybe_flush(w, now);
}

static int recw_clock(struct recw *w);

static int maybe_flush(struct recw *w, __u64 now)
{
	if (now - w->last_clock_ns >= RECW_CLOCK_MS * 1000000ull && recw_clock(w))
		return -1;
	if (w->used >= WBUF_FLUSH || w->nrec >= RECW_FLUSH_RECORDS ||
	    (w->nrec && now - w->first_ns >= RECW_FLUSH_MS * 1000000ull))
		return write_buf(w);
	return 0;
}

int recw_event(struct recw *w, const struct swack_event *e)
{
	if (w->err) {
		w->dropped++;
		return -1;
	}
	return append(w, REC_PACKED, w->packed, (__u32)codec_encode(&w->codec, e, w->packed),
		      true);
}

static size_t put_str(unsigned char *p, const char *s)
{
	size_t n = s ? strnlen(s, PROCESS_STR_MAX - 1) : 0;

	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return n + 1;
}

int recw_process(struct recw *w, const struct rec_process *p)
{
	unsigned char *b = w->scratch;
	size_t n = PROCESS_FIXED;

	put64(b, p->ts ? p->ts : mono_now());
	put32(b + 8, p->pid);
	put32(b + 12, 0);
	n += put_str(b + n, p->comm);
	n += put_str(b + n, p->exe);
	n += put_str(b + n, p->generation);
	n += put_str(b + n, p->attach);
	n += put_str(b + n, p->vm);
	n += put_str(b + n, p->uuid);
	n += put_str(b + n, p->vm_via);
	return append(w, REC_PROCESS, b, (__u32)n, true);
}

int recw_loss(struct recw *w, __u64 ts, __u64 lost)
{
	unsigned char b[LOSS_PAYLOAD];

	put64(b, ts ? ts : mono_now());
	put64(b + 8, lost);
	return append(w, REC_LOSS, b, sizeof(b), true);
}

int recw_loss_total(struct recw *w, __u64 total)
{
	if (w->err)
		return -1;
	return total > w->lost ? recw_loss(w, 0, total - w->lost) : 0;
}

/* Each CLOCK record is a point of durability: what came before it is
 * written and synced, so that a host crash or a power cut loses at most the
 * records since the last one (RECW_CLOCK_MS). */
int recw_clock_sample(struct recw *w, const struct rec_clock *c)
{
	unsigned char b[CLOCK_PAYLOAD];

	clock_encode(b, c);
	if (append(w, REC_CLOCK, b, sizeof(b), false))
		return -1;
	return recw_flush(w, true);
}

/* Samples the clocks now. */
static int recw_clock(struct recw *w)
{
	struct rec_clock c;

	if (rec_clock_sample(&c))
		return 0;
	w->last_clock_ns = c.mono_ns;   /* no recursion from the flush check */
	return recw_clock_sample(w, &c);
}

int recw_tick(struct recw *w)
{
	if (w->err)
		return -1;
	return maybe_flush(w, mono_now());
}

static size_t end_payload(unsigned char *b, __u64 events, __u64 lost, const char *reason)
{
	put64(b, mono_now());
	put64(b + 8, events);
	put64(b + 16, lost);
	return END_FIXED + put_str(b + END_FIXED, reason ? reason : "");
}

static int header_write(struct recw *w, const struct rec_header *h, char *err, size_t errlen)
{
	struct rec_header mine;
	unsigned char b[REC_HEADER_LEN_V1];
	size_t done = 0;

	if (!h) {
		if (rec_header_collect(&mine, err, errlen))
			return -1;
		h = &mine;
	}
	header_encode(b, h);
	w->last_clock_ns = mono_now();
	while (done < sizeof(b)) {
		ssize_t n = write(w->fd, b + done, sizeof(b) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "writing %s: %s", w->name, strerror(n < 0 ? errno : EIO));
			return -1;
		}
		done += (size_t)n;
	}
	w->file_bytes = sizeof(b);
	if (sync_fd(w)) {
		snprintf(err, errlen, "%s", w->msg);
		return -1;
	}
	reserve_space(w);
	return 0;
}

static struct recw *writer_new(int fd, const char *name)
{
	struct recw *w = calloc(1, sizeof(*w));
	struct stat st;

	if (!w)
		return NULL;
	w->buf = malloc(WBUF_SIZE);
	w->name = strdup(name);
	if (!w->buf || !w->name) {
		free(w->buf);
		free(w->name);
		free(w);
		return NULL;
	}
	w->fd = fd;
	codec_reset(&w->codec);
	w->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	w->reserve = true;
	return w;
}

static void writer_free(struct recw *w)
{
	free(w->buf);
	free(w->name);
	free(w);
}

/* The same on an open descriptor (a pipe, stdout); name is for messages.  Takes fd. */
static struct recw *recw_fdopen(int fd, const char *name, const struct rec_header *h,
			 char *err, size_t errlen)
{
	struct recw *w = writer_new(fd, name);

	if (!w) {
		snprintf(err, errlen, "%s: out of memory", name);
		close(fd);
		return NULL;
	}
	if (header_write(w, h, err, errlen)) {
		close(fd);
		writer_free(w);
		return NULL;
	}
	return w;
}

/* The directory entry of a new file must reach the disk too. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

struct recw *recw_open(const char *path, unsigned flags, const struct rec_header *h,
		       char *err, size_t errlen)
{
	int oflags = O_WRONLY | O_CREAT | O_CLOEXEC |
		     (flags & RECW_FORCE ? O_TRUNC : O_EXCL);
	int fd = open(path, oflags, 0644);
	struct recw *w;

	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	w = recw_fdopen(fd, path, h, err, errlen);
	if (!w) {
		/* Only a file this call created is removed: never a device or an old file. */
		if (!(flags & RECW_FORCE))
			unlink(path);
		return NULL;
	}
	if (w->regular)
		sync_dir(path);
	return w;
}

/*
 * After a failure: END where the torn bytes (or the reservation) are, else cut there.
 * True if END is in the file.
 */
static bool end_after_failure(struct recw *w, const char *reason)
{
	unsigned char *b = w->scratch;
	size_t n, done = 0;

	if (!w->regular)
		return false;
	if (space_errno(w->err)) {
		n = end_payload(b + 8, w->file_events, w->file_lost, reason);
		frame(b, REC_END, b + 8, (__u32)n);   /* payload already in place */
		n += REC_FRAME;
		while (done < n) {
			ssize_t k = pwrite(w->fd, b + done, n - done, (off_t)(w->file_bytes + done));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			done += (size_t)k;
		}
		if (done == n && !ftruncate(w->fd, (off_t)(w->file_bytes + n)) && !fsync(w->fd)) {
			w->file_bytes += n;
			w->records++;
			return true;
		}
	}
	if (ftruncate(w->fd, (off_t)w->file_bytes) == 0)
		fsync(w->fd);
	return false;
}

int recw_close(struct recw *w, const char *reason, char *err, size_t errlen)
{
	int ret = 0;

	if (!w->err) {
		unsigned char *b = w->scratch;
		size_t n;

		recw_clock(w);
		n = end_payload(b, w->events, w->lost, reason);
		/* Then drop the reservation past the end (best effort). */
		if (!append(w, REC_END, b, (__u32)n, false) && !recw_flush(w, false) &&
		    w->regular && w->reserve && ftruncate(w->fd, (off_t)w->file_bytes))
			w->reserve = false;
		if (!w->err)
			sync_fd(w);
	}
	if (w->err) {
		size_t k = strlen(w->msg);
		bool end = end_after_failure(w, reason);

		snprintf(w->msg + k, sizeof(w->msg) - k, "; %llu later record%s dropped; %s",
			 (unsigned long long)w->dropped, w->dropped == 1 ? "" : "s",
			 end ? "END written after the kept ones" : "no END");
		ret = -1;
	}
	if (close(w->fd) && !w->err) {
		fail(w, errno, "closing");
		ret = -1;
	}
	if (ret)
		snprintf(err, errlen, "%s", w->msg);
	writer_free(w);
	return ret;
}

void recw_abandon(struct recw *w)
{
	if (w->regular)
		unlink(w->name);
	close(w->fd);
	writer_free(w);
}

const char *recw_error(const struct recw *w) { return w->err ? w->msg : ""; }
int recw_errno(const struct recw *w) { return w->err; }
__u64 recw_events(const struct recw *w) { return w->err ? w->file_events : w->events; }

/* ---- reader ---- */

#define RBUF_SIZE (REC_FRAME + REC_MAX_PAYLOAD > REC_HEADER_MAX ? \
		   REC_FRAME + REC_MAX_PAYLOAD : REC_HEADER_MAX)

struct recr {
	FILE *f;
	bool own;
	char *name;
	unsigned char *buf;        /* RBUF_SIZE: one record, or the header */
	__u64 pos;                 /* file offset of the next byte read */
	struct rec_header h;
	struct rec_status st;
	struct codec codec;        /* what the next packed event is unpacked against */
	struct swack_event event;  /* the last one */
};

/* Reads up to n bytes; the count, short only at end of file or on error (r->f's). */
static size_t rd(struct recr *r, void *p, size_t n)
{
	size_t got = n ? fread(p, 1, n, r->f) : 0;

	r->pos += got;
	return got;
}

static void reader_free(struct recr *r)
{
	if (r->own && r->f)
		fclose(r->f);
	free(r->buf);
	free(r->name);
	free(r);
}

static int header_read(struct recr *r, char *err, size_t errlen)
{
	unsigned char *b = r->buf;
	size_t n = rd(r, b, 20);
	__u32 mark, version, len;

	if (ferror(r->f)) {
		snprintf(err, errlen, "%s: read error: %s", r->name, strerror(errno));
		return -1;
	}
	if (memcmp(b, REC_MAGIC, n < 8 ? n : 8)) {
		snprintf(err, errlen, "%s: not a swack recording", r->name);
		return -1;
	}
	if (n < 20) {
		snprintf(err, errlen, "%s: truncated header (%zu of %d bytes)", r->name, n,
			 REC_HEADER_LEN_V1);
		return -1;
	}
	mark = get32(b + H_ENDIAN);
	if (mark != REC_ENDIAN_MARK) {
		if (mark == __builtin_bswap32(REC_ENDIAN_MARK))
			snprintf(err, errlen, "%s: recording written in the other byte order (%s); "
				 "this swack reads %s recordings", r->name,
				 __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "big-endian" :
				 "little-endian", __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
				 "little-endian" : "big-endian");
		else
			snprintf(err, errlen, "%s: corrupt header (byte-order marker %08x)",
				 r->name, mark);
		return -1;
	}
	version = get32(b + H_VERSION);
	if (version < REC_VERSION_MIN || version > REC_VERSION) {
		snprintf(err, errlen, "%s: unsupported version %u (this swack reads %d to %d)",
			 r->name, version, REC_VERSION_MIN, REC_VERSION);
		return -1;
	}
	len = get32(b + H_LEN);
	if (len < REC_HEADER_LEN_V1 || len > REC_HEADER_MAX) {
		snprintf(err, errlen, "%s: corrupt header (header length %u)", r->name, len);
		return -1;
	}
	n += rd(r, b + 20, len - 20);
	if (ferror(r->f)) {
		snprintf(err, errlen, "%s: read error: %s", r->name, strerror(errno));
		return -1;
	}
	if (n < len) {
		snprintf(err, errlen, "%s: truncated header (%zu of %u bytes)", r->name, n, len);
		return -1;
	}
	if (rec_crc32(0, b, len - 4) != get32(b + len - 4)) {
		snprintf(err, errlen, "%s: corrupt header (CRC mismatch)", r->name);
		return -1;
	}
	r->h.version = version;
	r->h.header_len = len;
	r->h.abi_version = get32(b + H_ABI);
	r->h.event_size = get32(b + H_EVSIZE);
	r->h.flags = get32(b + H_FLAGS);
	if (r->h.event_size == 0 || r->h.event_size > REC_MAX_PAYLOAD) {
		snprintf(err, errlen, "%s: corrupt header (event size %u)", r->name,
			 r->h.event_size);
		return -1;
	}
	clock_decode(&r->h.clock, b + H_CLOCK);
	str_decode(r->h.host, b + H_HOST, REC_HOST_LEN);
	str_decode(r->h.kernel, b + H_KERNEL, REC_KERNEL_LEN);
	str_decode(r->h.machine, b + H_MACHINE, REC_MACHINE_LEN);
	str_decode(r->h.boot_id, b + H_BOOT_ID, REC_BOOT_ID_LEN);
	r->st.good_bytes = len;
	return 0;
}

struct recr *recr_fopen(FILE *f, bool own, const char *name, char *err, size_t errlen)
{
	struct recr *r = calloc(1, sizeof(*r));

	if (!r || !(r->buf = malloc(RBUF_SIZE)) || !(r->name = strdup(name))) {
		snprintf(err, errlen, "%s: out of memory", name);
		if (r)
			free(r->buf);
		free(r);
		if (own)
			fclose(f);
		return NULL;
	}
	r->f = f;
	r->own = own;
	codec_reset(&r->codec);
	if (header_read(r, err, errlen)) {
		reader_free(r);
		return NULL;
	}
	return r;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       "not a regular file";
}

/* Only regular files: a FIFO without a writer would block every reader (at the
 * open already, hence O_NONBLOCK), and a device has no end. */
struct recr *recr_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is %s, not a recording: give the file swack record "
			 "wrote (save a stream to a file first)", path,
			 file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return recr_fopen(f, true, path, err, errlen);
}

const struct rec_header *recr_header(const struct recr *r) { return &r->h; }
const struct rec_status *recr_status(const struct recr *r) { return &r->st; }

void recr_close(struct recr *r)
{
	if (r)
		reader_free(r);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int io_error(struct recr *r, __u64 off)
{
	r->st.kind = REC_ENDED_IOERR;
	r->st.err = errno ? errno : EIO;
	r->st.bad_offset = off;
	return 0;
}

static int corrupt(struct recr *r, __u64 off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int corrupt(struct recr *r, __u64 off, const char *fmt, ...)
{
	va_list ap;

	r->st.kind = REC_ENDED_CORRUPT;
	r->st.bad_offset = off;
	r->st.bad_number = r->st.last_number + 1;
	va_start(ap, fmt);
	vsnprintf(r->st.why, sizeof(r->st.why), fmt, ap);
	va_end(ap);
	return 0;
}

static int cut(struct recr *r, __u64 off, bool zero)
{
	r->st.kind = REC_ENDED_CUT;
	r->st.torn_bytes = r->pos - off;
	r->st.zero_tail = zero && r->st.torn_bytes;
	return 0;
}

/*
 * A record starting with type 0: the zeros a crash can leave at the end of a file
 * (size updated, data not), if nothing but zeros follows; else corruption.
 */
static int zero_or_corrupt(struct recr *r, __u64 off, size_t have)
{
	bool zero = all_zero(r->buf, have);

	while (zero) {
		size_t n = rd(r, r->buf, RBUF_SIZE);

		if (ferror(r->f))
			return io_error(r, r->pos);
		if (!n)
			return cut(r, off, true);
		zero = all_zero(r->buf, n);
	}
	return corrupt(r, off, "record type 0");
}

int recr_next(struct recr *r, struct rec_record *rec)
{
	unsigned char *b = r->buf;
	__u64 off = r->pos;
	__u32 type, len;
	bool known;
	size_t n;

	if (r->st.kind != REC_ENDED_NOT_YET)
		return 0;
	errno = 0;
	n = rd(r, b, 8);
	if (ferror(r->f))
		return io_error(r, off);
	if (n < 8)
		return cut(r, off, all_zero(b, n));
	type = get32(b);
	len = get16(b + 4);
	if (type == 0)
		return zero_or_corrupt(r, off, 8);
	if (get16(b + 6) != rec_head_check(b))
		return corrupt(r, off, "bad record header (type %u, length %u, check %04x)",
			       type, len, get16(b + 6));
	n = rd(r, b + 8, (size_t)len + 4);
	if (ferror(r->f))
		return io_error(r, off);
	if (n < (size_t)len + 4)
		return cut(r, off, false);
	if (rec_crc32(0, b, 8 + (size_t)len) != get32(b + 8 + len))
		return corrupt(r, off, "CRC mismatch (%s record, %u bytes)",
			       rec_type_name(type), len);

	rec->type = type;
	rec->len = len;
	rec->payload = b + 8;
	rec->offset = off;
	rec->number = r->st.last_number + 1;
	rec->event = NULL;
	/* Version 1 knew no packed events: there, type 6 is unknown, and ignored. */
	known = type < REC_TYPES && (type != REC_PACKED || r->h.version >= 2);
	if (type == REC_PACKED && known) {
		if (codec_decode(&r->codec, b + 8, len, &r->event))
			return corrupt(r, off, "malformed packed event (%u bytes)", len);
		rec->event = &r->event;
	}

	if (type == REC_END) {
		struct rec_end_rec e;

		if (rec_decode_end(rec, &e))
			return corrupt(r, off, "malformed END record");
		r->st.end = e;
		r->st.end.reason = clean(r->st.end_reason, sizeof(r->st.end_reason), e.reason);
		r->st.kind = REC_ENDED_CLEAN;
	} else if (type == REC_LOSS) {
		struct rec_loss l;

		if (!rec_decode_loss(rec, &l))
			r->st.lost += l.lost;
	}
	r->st.records++;
	r->st.counts[known ? type : 0]++;
	r->st.last_number = rec->number;
	r->st.last_offset = off;
	r->st.good_bytes = r->pos;
	if (r->st.kind == REC_ENDED_CLEAN) {
		/* Nothing follows END; count what does, without keeping it. */
		unsigned char tmp[4096];
		__u64 start = r->pos;

		while (rd(r, tmp, sizeof(tmp)))
			;
		r->st.trailing_bytes = r->pos - start;
		/* The record stays valid: the payload is in b, untouched. */
	}
	return 1;
}

#define ULL(x) ((unsigned long long)(x))

static const char *pl(__u64 n)
{
	return n == 1 ? "" : "s";
}

void rec_status_describe(const struct rec_status *s, char *buf, size_t len)
{
	char extra[192] = "";
	size_t k = 0;

	switch (s->kind) {
	case REC_ENDED_NOT_YET:
		snprintf(buf, len, "not read to the end (%llu record%s so far)", ULL(s->records),
			 pl(s->records));
		break;
	case REC_ENDED_CLEAN:
		if (s->end.events != s->counts[REC_EVENT] + s->counts[REC_PACKED])
			k += snprintf(extra, sizeof(extra), "; END counts %llu event%s but %llu "
				      "were read", ULL(s->end.events), pl(s->end.events),
				      ULL(s->counts[REC_EVENT] + s->counts[REC_PACKED]));
		if (s->trailing_bytes)
			snprintf(extra + k, sizeof(extra) - k, "; %llu byte%s after END ignored",
				 ULL(s->trailing_bytes), pl(s->trailing_bytes));
		snprintf(buf, len, "clean end (\"%s\"): %llu event%s, %llu lost, %llu record%s%s",
			 s->end_reason, ULL(s->end.events), pl(s->end.events), ULL(s->end.lost),
			 ULL(s->records), pl(s->records), extra);
		break;
	case REC_ENDED_CUT:
		if (s->torn_bytes)
			snprintf(extra, sizeof(extra), "; %s tail of %llu byte%s dropped",
				 s->zero_tail ? "zero-filled" : "torn", ULL(s->torn_bytes),
				 pl(s->torn_bytes));
		if (!s->records)
			snprintf(buf, len, "cut: no END record, no complete record after the "
				 "header%s", extra);
		else
			snprintf(buf, len, "cut: no END record; last complete record %llu at byte "
				 "%llu%s", ULL(s->last_number), ULL(s->last_offset), extra);
		break;
	case REC_ENDED_CORRUPT:
		snprintf(buf, len, "corrupt at byte %llu (record %llu): %s; %llu record%s read "
			 "before it", ULL(s->bad_offset), ULL(s->bad_number), s->why,
			 ULL(s->records), pl(s->records));
		break;
	case REC_ENDED_IOERR:
		snprintf(buf, len, "read error at byte %llu: %s; %llu record%s read before it",
			 ULL(s->bad_offset), strerror(s->err), ULL(s->records), pl(s->records));
		break;
	}
}

/* ---- payload decoders ---- */

int rec_decode_event(const struct rec_record *rec, struct swack_event *e)
{
	if (rec->type == REC_PACKED && rec->event) {
		*e = *rec->event;
		return 0;
	}
	if (rec->type != REC_EVENT || rec->len != sizeof(*e))
		return -1;
	memcpy(e, rec->payload, sizeof(*e));
	return 0;
}

/* The next NUL-terminated string at *p, within end; NULL if it runs past. */
static const char *next_str(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p, *z;

	if (s >= end || !(z = memchr(s, 0, (size_t)(end - s))))
		return NULL;
	*p = z + 1;
	return (const char *)s;
}

int rec_decode_process(const struct rec_record *rec, struct rec_process *p)
{
	const unsigned char *b = rec->payload, *end = b + rec->len, *s = b + PROCESS_FIXED;

	if (rec->type != REC_PROCESS || rec->len < PROCESS_FIXED)
		return -1;
	p->ts = get64(b);
	p->pid = get32(b + 8);
	if (!(p->comm = next_str(&s, end)) || !(p->exe = next_str(&s, end)) ||
	    !(p->generation = next_str(&s, end)) || !(p->attach = next_str(&s, end)))
		return -1;
	p->vm = p->uuid = p->vm_via = "";
	if (s == end)
		return 0;   /* written before the VM identity was recorded */
	if (!(p->vm = next_str(&s, end)) || !(p->uuid = next_str(&s, end)) ||
	    !(p->vm_via = next_str(&s, end)))
		return -1;
	return 0;   /* strings a later version appends are ignored */
}

int rec_decode_loss(const struct rec_record *rec, struct rec_loss *l)
{
	const unsigned char *b = rec->payload;

	if (rec->type != REC_LOSS || rec->len < LOSS_PAYLOAD)
		return -1;
	l->ts = get64(b);
	l->lost = get64(b + 8);
	return 0;
}

int rec_decode_end(const struct rec_record *rec, struct rec_end_rec *e)
{
	const unsigned char *b = rec->payload, *s = b + END_FIXED;

	if (rec->type != REC_END || rec->len < END_FIXED + 1)
		return -1;
	e->ts = get64(b);
	e->events = get64(b + 8);
	e->lost = get64(b + 16);
	if (!(e->reason = next_str(&s, b + rec->len)))
		return -1;
	return 0;
}
