// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/term.h"

int term_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	int len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, hi = c == 0xc2 ? 0x9f : 0xbf, lo = c == 0xc2 ? 0xa0 : 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return len;
}

/* How s[0] goes out: into out (up to 4 bytes, or \xNN), its length in s. */
static int one(const unsigned char *s, size_t n, bool keep_lines, char *out, int *used)
{
	static const char hex[] = "0123456789abcdef";
	int len = s[0] < 0x20 || s[0] == 0x7f ? 0 : term_utf8_len(s, n);

	if (keep_lines && (s[0] == '\n' || s[0] == '\t'))
		len = 1;
	if (len > 0) {
		memcpy(out, s, (size_t)len);
		*used = len;
		return len;
	}
	out[0] = '\\', out[1] = 'x', out[2] = hex[s[0] >> 4], out[3] = hex[s[0] & 15];
	*used = 1;
	return 4;
}

char *term_escape(char *out, size_t outlen, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max), o = 0;
	char tmp[4];
	int used;

	for (size_t i = 0; i < n && outlen; i += (size_t)used) {
		int k = one(u + i, n - i, false, tmp, &used);

		if (o + (size_t)k >= outlen)
			break;
		memcpy(out + o, tmp, (size_t)k);
		o += (size_t)k;
	}
	if (outlen)
		out[o] = 0;
	return out;
}

void term_put(FILE *f, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max);
	char tmp[4];
	int used;

	for (size_t i = 0; i < n; i += (size_t)used)
		fwrite(tmp, 1, (size_t)one(u + i, n - i, false, tmp, &used), f);
}

/* The filtered stdout: what it is given, escaped, straight to the descriptor
 * (no second buffer to flush at exit); a character cut between two writes
 * waits for the next. */
static struct {
	int fd;
	unsigned char carry[4];
	size_t ncarry;
} tf = { .fd = -1 };

static int write_all(const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(tf.fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int filter_bytes(const unsigned char *s, size_t n)
{
	char out[4096 + 8];
	size_t o = 0;
	int used;

	for (size_t i = 0; i < n; i += (size_t)used) {
		if (s[i] >= 0x80 && term_utf8_len(s + i, n - i) < 0) {
			memcpy(tf.carry, s + i, n - i);
			tf.ncarry = n - i;
			break;
		}
		o += (size_t)one(s + i, n - i, true, out + o, &used);
		if (o >= 4096) {
			if (write_all(out, o))
				return -1;
			o = 0;
		}
	}
	return write_all(out, o);
}

static ssize_t filter_write(void *cookie, const char *buf, size_t n)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t i = 0;

	(void)cookie;
	/* A character cut at the end of the last write: completed first. */
	while (tf.ncarry && i < n) {
		unsigned char c[4];
		size_t k;

		tf.carry[tf.ncarry++] = u[i++];
		if (tf.ncarry < 4 && term_utf8_len(tf.carry, tf.ncarry) < 0)
			continue;
		k = tf.ncarry;
		memcpy(c, tf.carry, k);
		tf.ncarry = 0;
		if (filter_bytes(c, k))
			return -1;
	}
	return filter_bytes(u + i, n - i) ? -1 : (ssize_t)n;
}

/* A character still cut at the very end: its bytes, escaped. */
static int filter_close(void *cookie)
{
	char out[20];
	size_t o = 0;

	(void)cookie;
	for (size_t i = 0; i < tf.ncarry; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", tf.carry[i]);
	tf.ncarry = 0;
	write_all(out, o);
	return close(tf.fd);
}

void term_filter_stdout(bool lines)
{
	int mode = lines || isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF;
	cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	FILE *f;

	if (tf.fd >= 0)
		return;
	fflush(stdout);
	tf.fd = dup(STDOUT_FILENO);
	if (tf.fd < 0)
		return;
	f = fopencookie(NULL, "w", io);
	if (!f) {
		close(tf.fd);
		tf.fd = -1;
		return;
	}
	setvbuf(f, NULL, mode, 0);
	stdout = f;
}
