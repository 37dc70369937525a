// SPDX-License-Identifier: GPL-2.0
/*
 * Packed events (codec.h).  One packed event:
 *
 *   varint  kind + 1 (0: the whole struct follows, as it is)
 *   u8      which fields follow: PID, TID, RO, FLAGS, TX, DEV, STR, WIDE
 *   varint  zigzag(ts - previous ts)
 *   varint  pid                      if PID (else the previous event's)
 *   varint  zigzag(tid - pid)        if TID (else pid after PID, the previous tid)
 *   u8      role | origin << 4       if RO (else the previous event's)
 *   varint  flags                    if FLAGS (else 0)
 *   varint  zigzag(tx - the process's previous tx_bytes)   if TX (else the same)
 *   u8, u8  two bits per argument, a0 first; the second byte (a4, a5) if WIDE:
 *           0 zero, 1 all ones, 2 varint zigzag(value), 3 varint zigzag(value -
 *           the same argument of the previous event of this kind)
 *   varints the arguments coded 2 or 3
 *   u8 + bytes  dev, if DEV (else the previous event of this kind's)
 *   u8 + bytes  str, if STR (likewise)
 *
 * zigzag folds a signed difference into an unsigned number (-1 -> 1, 1 -> 2),
 * so that a -errno or a step back costs a byte, not ten.
 */
#include <stdbool.h>
#include <string.h>
#include "event/codec.h"

#define F_PID 1u
#define F_TID 2u
#define F_RO 4u
#define F_FLAGS 8u
#define F_TX 16u
#define F_DEV 32u
#define F_STR 64u
#define F_WIDE 128u

enum { A_ZERO, A_ONES, A_VALUE, A_DELTA };

static __u64 zig(__u64 v) { return (v << 1) ^ (__u64)((__s64)v >> 63); }
static __u64 zag(__u64 v) { return (v >> 1) ^ (0 - (v & 1)); }

static size_t put_varint(unsigned char *p, __u64 v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Bounded reading: every get fails once the input is exhausted or malformed. */
struct in {
	const unsigned char *p, *end;
	int bad;
};

static __u64 get_varint(struct in *in)
{
	__u64 v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (in->p >= in->end)
			break;
		v |= (__u64)(*in->p & 0x7f) << shift;
		if (!(*in->p++ & 0x80))
			return v;
	}
	in->bad = 1;
	return 0;
}

static unsigned get_u8(struct in *in)
{
	if (in->p >= in->end) {
		in->bad = 1;
		return 0;
	}
	return *in->p++;
}

void codec_reset(struct codec *c)
{
	memset(c, 0, sizeof(*c));
}

/* The slot of pid's stream bytes, taken (round robin) if it has none. */
static unsigned tx_slot(struct codec *c, __u32 pid)
{
	unsigned i;

	for (i = 0; i < CODEC_PIDS; i++)
		if (c->tx_pid[i] == pid)
			return i;
	i = c->tx_next++ % CODEC_PIDS;
	c->tx_pid[i] = pid;
	c->tx[i] = 0;
	return i;
}

/* After each event, packed or whole: what the next one is packed against. */
static void remember(struct codec *c, const struct swack_event *e, unsigned slot)
{
	c->ts = e->ts;
	c->pid = e->pid;
	c->tid = e->tid;
	c->ro = (__u8)(e->role | e->origin << 4);
	c->tx[slot] = e->tx_bytes;
	if (e->kind < CODEC_KINDS) {
		struct codec_kind *k = &c->kinds[e->kind];

		memcpy(k->a, e->a, sizeof(k->a));
		memcpy(k->dev, e->dev, sizeof(k->dev));
		memcpy(k->str, e->str, sizeof(k->str));
	}
}

/* A string field the packing reproduces: its bytes after the string are 0. */
static bool plain_str(const char *s, size_t size)
{
	for (size_t i = strnlen(s, size); i < size; i++)
		if (s[i])
			return false;
	return true;
}

static bool packable(const struct swack_event *e)
{
	return e->role < 16 && e->origin < 16 && plain_str(e->dev, sizeof(e->dev)) &&
	       plain_str(e->str, sizeof(e->str));
}

static size_t put_str(unsigned char *p, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	p[0] = (unsigned char)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

/* Each argument's code, and its value into out when it has one. */
static size_t put_args(const struct swack_event *e, const struct codec_kind *k,
		       unsigned char *codes, unsigned char *out)
{
	size_t n = 0;

	for (int i = 0; i < SWACK_NARGS; i++) {
		__u64 v = e->a[i], d;
		unsigned code = A_VALUE;

		if (!v) {
			code = A_ZERO;
		} else if (v == ~0ULL) {
			code = A_ONES;
		} else if (k && zig(v - k->a[i]) < zig(v)) {
			code = A_DELTA;
			d = zig(v - k->a[i]);
			n += put_varint(out + n, d);
		} else {
			n += put_varint(out + n, zig(v));
		}
		codes[i / 4] |= (unsigned char)(code << (i % 4 * 2));
	}
	return n;
}

size_t codec_encode(struct codec *c, const struct swack_event *e, unsigned char *out)
{
	const struct codec_kind *k = e->kind < CODEC_KINDS ? &c->kinds[e->kind] : NULL;
	unsigned slot = tx_slot(c, e->pid), what = 0;
	unsigned char codes[2] = { 0, 0 }, args[SWACK_NARGS * 10];
	size_t n, nargs;
	__u32 ref_tid = e->pid != c->pid ? e->pid : c->tid;
	__u8 ro = (__u8)(e->role | e->origin << 4);

	if (!packable(e)) {
		out[0] = 0;
		memcpy(out + 1, e, sizeof(*e));
		remember(c, e, slot);
		return 1 + sizeof(*e);
	}
	n = put_varint(out, (__u64)e->kind + 1);
	what |= e->pid != c->pid ? F_PID : 0;
	what |= e->tid != ref_tid ? F_TID : 0;
	what |= ro != c->ro ? F_RO : 0;
	what |= e->flags ? F_FLAGS : 0;
	what |= e->tx_bytes != c->tx[slot] ? F_TX : 0;
	what |= !k || memcmp(e->dev, k->dev, sizeof(e->dev)) ? F_DEV : 0;
	what |= !k || memcmp(e->str, k->str, sizeof(e->str)) ? F_STR : 0;
	what |= e->a[4] || e->a[5] ? F_WIDE : 0;
	out[n++] = (unsigned char)what;
	n += put_varint(out + n, zig(e->ts - c->ts));
	if (what & F_PID)
		n += put_varint(out + n, e->pid);
	if (what & F_TID)
		n += put_varint(out + n, zig((__u64)e->tid - e->pid));
	if (what & F_RO)
		out[n++] = ro;
	if (what & F_FLAGS)
		n += put_varint(out + n, e->flags);
	if (what & F_TX)
		n += put_varint(out + n, zig(e->tx_bytes - c->tx[slot]));
	nargs = put_args(e, k, codes, args);
	out[n++] = codes[0];
	if (what & F_WIDE)
		out[n++] = codes[1];
	memcpy(out + n, args, nargs);
	n += nargs;
	if (what & F_DEV)
		n += put_str(out + n, e->dev, sizeof(e->dev));
	if (what & F_STR)
		n += put_str(out + n, e->str, sizeof(e->str));
	remember(c, e, slot);
	return n;
}

static void get_str(struct in *in, char *dst, size_t size)
{
	size_t n = get_u8(in);

	if (n > size || n > (size_t)(in->end - in->p)) {
		in->bad = 1;
		return;
	}
	memset(dst, 0, size);
	memcpy(dst, in->p, n);
	in->p += n;
}

static void get_args(struct in *in, const struct codec_kind *k, const unsigned char *codes,
		     struct swack_event *e)
{
	for (int i = 0; i < SWACK_NARGS; i++) {
		unsigned code = codes[i / 4] >> (i % 4 * 2) & 3;

		if (code == A_ONES)
			e->a[i] = ~0ULL;
		else if (code == A_VALUE)
			e->a[i] = zag(get_varint(in));
		else if (code == A_DELTA && k)
			e->a[i] = k->a[i] + zag(get_varint(in));
		else if (code == A_DELTA)
			in->bad = 1;
	}
}

static int decode_whole(struct codec *c, struct in *in, struct swack_event *e)
{
	if ((size_t)(in->end - in->p) != sizeof(*e))
		return -1;
	memcpy(e, in->p, sizeof(*e));
	remember(c, e, tx_slot(c, e->pid));
	return 0;
}

int codec_decode(struct codec *c, const unsigned char *p, size_t len, struct swack_event *e)
{
	struct in in = { p, p + len, 0 };
	__u64 kind = get_varint(&in);
	unsigned what, slot, ro;
	unsigned char codes[2] = { 0, 0 };
	const struct codec_kind *k;

	memset(e, 0, sizeof(*e));
	if (in.bad)
		return -1;
	if (kind == 0)
		return decode_whole(c, &in, e);
	if (kind - 1 > 0xffff)
		return -1;
	e->kind = (__u16)(kind - 1);
	k = e->kind < CODEC_KINDS ? &c->kinds[e->kind] : NULL;
	what = get_u8(&in);
	e->ts = c->ts + zag(get_varint(&in));
	e->pid = what & F_PID ? (__u32)get_varint(&in) : c->pid;
	e->tid = what & F_TID ? (__u32)(e->pid + zag(get_varint(&in))) :
		 what & F_PID ? e->pid : c->tid;
	ro = what & F_RO ? get_u8(&in) : c->ro;
	e->role = ro & 15;
	e->origin = ro >> 4;
	e->flags = what & F_FLAGS ? (__u32)get_varint(&in) : 0;
	slot = tx_slot(c, e->pid);
	e->tx_bytes = c->tx[slot] + (what & F_TX ? zag(get_varint(&in)) : 0);
	codes[0] = (unsigned char)get_u8(&in);
	if (what & F_WIDE)
		codes[1] = (unsigned char)get_u8(&in);
	get_args(&in, k, codes, e);
	if (what & F_DEV)
		get_str(&in, e->dev, sizeof(e->dev));
	else if (k)
		memcpy(e->dev, k->dev, sizeof(e->dev));
	if (what & F_STR)
		get_str(&in, e->str, sizeof(e->str));
	else if (k)
		memcpy(e->str, k->str, sizeof(e->str));
	if (in.bad || in.p != in.end)
		return -1;
	remember(c, e, slot);
	return 0;
}
