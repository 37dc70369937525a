// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include "util/grow.h"

bool grow(void **items, uint32_t n, uint32_t *cap, size_t size, uint32_t min)
{
	void *p;

	if (n < *cap)
		return true;
	p = realloc(*items, (*cap * 2 + min) * size);
	if (!p)
		return false;
	*items = p;
	*cap = *cap * 2 + min;
	return true;
}
