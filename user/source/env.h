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

/* Keeps only the given capabilities (effective, permitted, bounding; none
 * inheritable or ambient); 0 or -1. */
#include <sys/capability.h>
int env_keep_caps(const cap_value_t *keep, int n);
/* After attaching: runs as user (NULL: nobody) when root, keeps only keep[]
 * and sets no_new_privs.  0, with a warning in note when root could not
 * switch (and stays uid 0 with keep[] only), or -1 with a one-line reason. */
int env_drop(const cap_value_t *keep, int n, const char *user, char *err, size_t errlen,
	     char *note, size_t notelen);

#endif
