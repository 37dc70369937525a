/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON writer: streams values to a FILE as they are given, keys in
 * the order given, every string escaped.  No tree is built, so an event
 * costs what its fields cost to format.
 */
#ifndef SWACK_JSON_H
#define SWACK_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

enum json_flags {
	/* Also escape < > & so that the text can sit inside an HTML <script>. */
	JSON_HTML = 1,
};

struct jw {
	FILE *out;
	int flags;
	int depth;
	bool more[JSON_MAX_DEPTH];   /* the container at this depth has an item */
	bool lines[JSON_MAX_DEPTH];  /* its items each start a line */
	char close[JSON_MAX_DEPTH];  /* '}' or ']' */
};

void jw_init(struct jw *j, FILE *out, int flags);

/* key: the member's name inside an object, NULL inside an array or at the top. */
void jw_obj(struct jw *j, const char *key);
void jw_arr(struct jw *j, const char *key);
/* An array whose items each start a new line, and its ']' too. */
void jw_arr_lines(struct jw *j, const char *key);
/* Closes the innermost object or array; at the top, ends the line. */
void jw_end(struct jw *j);

void jw_u64(struct jw *j, const char *key, uint64_t v);
void jw_s64(struct jw *j, const char *key, int64_t v);
void jw_bool(struct jw *j, const char *key, bool v);
void jw_null(struct jw *j, const char *key);
/* v with this many decimals (printf's %.Nf). */
void jw_fixed(struct jw *j, const char *key, double v, int decimals);
void jw_str(struct jw *j, const char *key, const char *s);
/* At most max bytes of s: fixed-size fields need not end in a NUL. */
void jw_strn(struct jw *j, const char *key, const char *s, size_t max);

#endif
