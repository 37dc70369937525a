/* SPDX-License-Identifier: GPL-2.0 */
/* The host's prerequisites: privilege and BTF (tracefs is not one: raw
 * tracepoints and uprobe links need none). */
#ifndef SWACK_ENV_H
#define SWACK_ENV_H
#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with a one-line message saying what is missing and what to do. */
int env_check_caps(char *err, size_t errlen);
int env_check_btf(char *err, size_t errlen);

/* Keeps only the given capabilities (effective, permitted, bounding); 0 or -1. */
#include <sys/capability.h>
int env_keep_caps(const cap_value_t *keep, int n);

#endif
