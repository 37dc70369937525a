/* SPDX-License-Identifier: GPL-2.0 */
/* The replay builds of the fuzz targets (FUZZ_REPLAY): one input file, whole. */
#ifndef SWACK_REPLAY_FILE_H
#define SWACK_REPLAY_FILE_H
#include <stdio.h>
#include <stdlib.h>

/* The bytes of path (*len of them; freed by the caller), or NULL after perror. */
static unsigned char *replay_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f) {
		perror(path);
		return NULL;
	}
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	return buf;
}

#endif
