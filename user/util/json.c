// SPDX-License-Identifier: GPL-2.0
/* The JSON writer (util/json.h).  swack writes each stream from one thread,
 * so stdio's unlocked calls spare a lock per character. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util/json.h"
#include "util/term.h"

void jw_init(struct jw *j, FILE *out, int flags)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->flags = flags;
}

static bool needs_escape(const struct jw *j, unsigned char c)
{
	return c < 0x20 || c == 0x7f || c >= 0x80 || c == '"' || c == '\\' ||
	       ((j->flags & JSON_HTML) && (c == '<' || c == '>' || c == '&'));
}

static void u00(FILE *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	fputs_unlocked("\\u00", out);
	putc_unlocked(hex[c >> 4], out);
	putc_unlocked(hex[c & 15], out);
}

/* The string body, quoted: clean runs are written as they are.  UTF-8 stays;
 * control characters (C1 too: a terminal acts on them) are \u escapes, and a
 * byte that is not UTF-8 becomes the character of that number (Latin-1), so
 * that the text is always valid JSON. */
static void quoted(struct jw *j, const char *s, size_t max)
{
	FILE *out = j->out;
	size_t i = 0, run = 0, n = strnlen(s, max);

	putc_unlocked('"', out);
	while (i < n) {
		const unsigned char *u = (const unsigned char *)s + i;
		int len = *u >= 0x80 ? term_utf8_len(u, n - i) : 1;

		if (len > 1 || !needs_escape(j, *u)) {
			i += (size_t)len;
			continue;
		}
		fwrite_unlocked(s + run, 1, i - run, out);
		if (*u == '"' || *u == '\\') {
			putc_unlocked('\\', out);
			putc_unlocked(*u, out);
		} else if (*u == 0xc2 && n - i > 1 && u[1] >= 0x80 && u[1] <= 0x9f) {
			u00(out, u[1]);   /* a C1 control: its own code point */
			i++;
		} else {
			u00(out, *u);
		}
		run = ++i;
	}
	fwrite_unlocked(s + run, 1, i - run, out);
	putc_unlocked('"', out);
}

/* The comma, line break and key that come before any value. */
static void item(struct jw *j, const char *key)
{
	int d = j->depth;

	if (d > 0) {
		if (j->more[d])
			putc_unlocked(',', j->out);
		if (j->lines[d])
			putc_unlocked('\n', j->out);
		j->more[d] = true;
	}
	if (key) {
		quoted(j, key, (size_t)-1);
		putc_unlocked(':', j->out);
	}
}

static void begin(struct jw *j, const char *key, char c, bool lines)
{
	item(j, key);
	putc_unlocked(c, j->out);
	/* Deeper than any output of swack's: a bug, never a user's input. */
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		fprintf(stderr, "swack: JSON nested deeper than %d\n", JSON_MAX_DEPTH);
		abort();
	}
	j->depth++;
	j->more[j->depth] = false;
	j->lines[j->depth] = lines;
	j->close[j->depth] = c == '{' ? '}' : ']';
}

void jw_obj(struct jw *j, const char *key)
{
	begin(j, key, '{', false);
}

void jw_arr(struct jw *j, const char *key)
{
	begin(j, key, '[', false);
}

void jw_arr_lines(struct jw *j, const char *key)
{
	begin(j, key, '[', true);
}

void jw_end(struct jw *j)
{
	if (j->lines[j->depth])
		putc_unlocked('\n', j->out);
	putc_unlocked(j->close[j->depth], j->out);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		putc_unlocked('\n', j->out);
}

/* Decimal digits, as printf's %llu would give them, without its parsing. */
static void digits(FILE *out, uint64_t v)
{
	char buf[24];
	int n = sizeof(buf);

	do {
		buf[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite_unlocked(buf + n, 1, sizeof(buf) - n, out);
}

void jw_u64(struct jw *j, const char *key, uint64_t v)
{
	item(j, key);
	digits(j->out, v);
}

void jw_s64(struct jw *j, const char *key, int64_t v)
{
	item(j, key);
	if (v < 0)
		putc_unlocked('-', j->out);
	digits(j->out, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void jw_bool(struct jw *j, const char *key, bool v)
{
	item(j, key);
	fputs_unlocked(v ? "true" : "false", j->out);
}

void jw_null(struct jw *j, const char *key)
{
	item(j, key);
	fputs_unlocked("null", j->out);
}

void jw_fixed(struct jw *j, const char *key, double v, int decimals)
{
	item(j, key);
	if (isfinite(v))
		fprintf(j->out, "%.*f", decimals, v);
	else
		fputs_unlocked("null", j->out);   /* JSON has no NaN or infinity */
}

void jw_str(struct jw *j, const char *key, const char *s)
{
	jw_strn(j, key, s, (size_t)-1);
}

void jw_strn(struct jw *j, const char *key, const char *s, size_t max)
{
	item(j, key);
	quoted(j, s, max);
}
