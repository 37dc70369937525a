/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The options that commands reading a source share, as argp children: a
 * command lists the ones it takes in its argp's children and points
 * state->child_inputs at its own structures on ARGP_KEY_INIT.
 */
#ifndef SWACK_ARGS_H
#define SWACK_ARGS_H
#include <argp.h>

/* -p PID|VM, --vm VM (both repeatable), -v.  Input: struct live_opts. */
extern const struct argp live_argp;
/* -u, -d SEC: how long a live command runs.  Input: struct live_loop. */
extern const struct argp live_until_argp;
/* -d SEC alone, for a command that runs until the migrations end anyway. */
extern const struct argp live_duration_argp;
/* -i FILE (repeatable) and FILE arguments.  Input: struct replay_inputs. */
extern const struct argp replay_argp;

#endif
