/* SPDX-License-Identifier: GPL-2.0 */
/* Arrays that double as they fill. */
#ifndef SWACK_GROW_H
#define SWACK_GROW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for item n of *items (*cap allocated, each size bytes), reallocating
 * to twice plus min; false when memory ran out (*items is left as it was). */
bool grow(void **items, uint32_t n, uint32_t *cap, size_t size, uint32_t min);

#endif
