/* SPDX-License-Identifier: GPL-2.0 */
/* swack stat / swackstat: the dashboard views over the model. */
#ifndef SWACK_STAT_H
#define SWACK_STAT_H
#include <stdbool.h>
#include <stdio.h>
#include "model/figures.h"
#include "model/model.h"

struct stat_view {
	bool devices;     /* -d: a line per device */
	bool json;
	FILE *out;
	uint64_t t0;      /* event time origin */
	/* Migrations whose end was shown, by pid and seq (never by address: the
	 * model frees what it is done with), of those the model still holds. */
	struct stat_shown { uint32_t pid, seq; } *shown;
	int nshown, capshown;
};

/* One interval: a line per migrating VM (and per device with -d); a
 * migration that ended shows once more, with its downtime. */
void stat_print_interval(struct stat_view *v, const struct model *m, uint64_t now);
void stat_print_header(struct stat_view *v);

/* Full-screen view (ncurses); returns 0 when the user quit. */
struct stat_tui;
struct stat_tui *stat_tui_open(void);
/* Redraws; handles keys; false once the user asked to quit. */
bool stat_tui_update(struct stat_tui *t, const struct model *m, bool redraw);
void stat_tui_log(struct stat_tui *t, const char *line);
void stat_tui_close(struct stat_tui *t);

#endif
