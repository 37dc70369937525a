/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text from a recording or a traced process, on its way to a terminal: no
 * byte of it may act on the terminal.  Control characters (C0, DEL, C1) and
 * bytes that are not UTF-8 are shown as \xNN; UTF-8 text stays as it is.
 */
#ifndef SWACK_TERM_H
#define SWACK_TERM_H
#include <stddef.h>
#include <stdio.h>

/* Bytes of the UTF-8 character at s (n bytes there): 1 to 4, 0 when none
 * starts there (C1 controls, U+0080 to U+009F, count as none), -1 when one
 * is cut short by n. */
int term_utf8_len(const unsigned char *s, size_t n);
/* s (at most max bytes, up to its NUL) escaped for one line, line breaks and
 * tabs included, into out (always NUL-terminated, cut at a whole character);
 * returns out. */
char *term_escape(char *out, size_t outlen, const char *s, size_t max);
/* The same, written to f. */
void term_put(FILE *f, const char *s, size_t max);
/* From now on, standard output goes through the same escaping (line breaks
 * and tabs kept): what a view prints cannot act on the terminal, whichever
 * string it forgot.  Line-buffered if lines (a live view) or a terminal, else
 * fully.  Once per process; not for a full-screen view. */
#include <stdbool.h>
void term_filter_stdout(bool lines);

#endif
