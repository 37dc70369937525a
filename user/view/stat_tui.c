// SPDX-License-Identifier: GPL-2.0
/*
 * swackstat -T: a row per migrating VM and per device, sortable, with the
 * states an operator must see at a glance highlighted: converged but waiting
 * for a switchover ACK (reverse video), initial bytes that grew again
 * (yellow), expected downtime over QEMU's limit (red); the latest events at
 * the bottom.  Keys: s sort, h or ? help, q quit.
 */
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>
#include "event/event.h"
#include "view/postcopy_view.h"
#include "view/snapshot_view.h"
#include "view/stat.h"

#define LOG_LINES 64
#define MAX_ROWS 512

enum sort_key { SORT_PID, SORT_REMAINING, SORT_EXPECTED, SORT_PHASE, SORT_MAX };

static const char *const sort_names[SORT_MAX] = { "pid", "remaining", "expected downtime",
						  "phase" };

struct stat_tui {
	enum sort_key sort;
	bool help;
	char log[LOG_LINES][160];
	int nlog, loghead;
};

enum { PAIR_REGROW = 1, PAIR_OVER = 2, PAIR_TITLE = 3 };

struct stat_tui *stat_tui_open(void)
{
	struct stat_tui *t = calloc(1, sizeof(*t));

	if (!t || !initscr()) {
		free(t);
		return NULL;
	}
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_REGROW, COLOR_YELLOW, -1);
		init_pair(PAIR_OVER, COLOR_RED, -1);
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
	}
	return t;
}

void stat_tui_log(struct stat_tui *t, const char *line)
{
	snprintf(t->log[t->loghead], sizeof(t->log[0]), "%s", line);
	t->loghead = (t->loghead + 1) % LOG_LINES;
	if (t->nlog < LOG_LINES)
		t->nlog++;
}

static enum sort_key sort_by;

static int compare(const void *a, const void *b)
{
	const struct vm_figures *x = a, *y = b;

	switch (sort_by) {
	case SORT_REMAINING: return (y->remaining > x->remaining) - (y->remaining < x->remaining);
	case SORT_EXPECTED: return (y->expected_ms > x->expected_ms) - (y->expected_ms < x->expected_ms);
	case SORT_PHASE: return strcmp(x->phase, y->phase);
	default: return (x->pid > y->pid) - (x->pid < y->pid);
	}
}

static int collect(const struct model *m, struct vm_figures *rows)
{
	int n = 0;

	/* The latest migration of each process: older ones are history. */
	for (const struct mig *g = m->head; g && n < MAX_ROWS; g = g->next) {
		int k;

		for (k = 0; k < n && rows[k].pid != g->pid; k++)
			;
		mig_figures(g, &rows[k]);
		if (k == n)
			n++;
	}
	return n;
}

static int attr_of(const struct vm_figures *f)
{
	if (f->stalled)
		return A_REVERSE;
	if (f->over_budget)
		return COLOR_PAIR(PAIR_OVER) | A_BOLD;
	if (f->regrowths)
		return COLOR_PAIR(PAIR_REGROW);
	return A_NORMAL;
}

static void draw_row(int y, const struct vm_figures *f)
{
	char rem[16], bw[16], ini[16], dir[16], acks[24], e[16], d[16];

	snprintf(acks, sizeof(acks), f->acks_pending < 0 ? "-" : "%lld",
		 (long long)f->acks_pending);
	snprintf(e, sizeof(e), f->expected_ms < 0 ? "-" : "%.1f", f->expected_ms);
	snprintf(d, sizeof(d), f->downtime_ms < 0 ? "-" : "%.1f", f->downtime_ms);
	attron(attr_of(f));
	mvprintw(y, 0, "%7u %-4s %-15s %5u %10s %10s %4s %9s %9s %6u %8s %8s %-16s %s", f->pid,
		 role_name(f->role), f->phase, f->iterations,
		 human_bytes(f->remaining, rem, sizeof(rem)), human_bytes(f->bw, bw, sizeof(bw)),
		 acks, human_bytes(f->initial, ini, sizeof(ini)),
		 human_bytes(f->dirty, dir, sizeof(dir)), f->regrowths, e, d, f->vm,
		 f->stalled ? "STALLED: converged, waiting for ACK" :
		 f->over_budget ? "OVER BUDGET" : f->regrowths ? "regrowth" : "");
	attroff(attr_of(f));
	clrtoeol();
}

static int draw_devices(int y, int maxy, const struct mig *g)
{
	char ini[16], dir[16];

	for (uint32_t i = 0; i < g->ndevs && y < maxy; i++, y++) {
		const struct dev_state *d = &g->devs[i];

		attron(dev_regrowths(d) ? COLOR_PAIR(PAIR_REGROW) : A_DIM);
		mvprintw(y, 0, "          device %-16s initial %9s dirty %9s regrowths %u",
			 d->name, human_bytes(d->k.polls ? d->k.init : d->init, ini, sizeof(ini)),
			 human_bytes(d->k.polls ? d->k.dirty : d->dirty, dir, sizeof(dir)),
			 dev_regrowths(d));
		attroff(dev_regrowths(d) ? COLOR_PAIR(PAIR_REGROW) : A_DIM);
		clrtoeol();
	}
	return y;
}

static int draw_under(int y, int maxy, const char *row)
{
	if (!row[0] || y >= maxy)
		return y;
	mvprintw(y, 0, "          %s", row);
	clrtoeol();
	return y + 1;
}

/* A snapshot's row, or postcopy's, under the VM. */
static int draw_snapshot(int y, int maxy, const struct mig *g)
{
	char row[160];

	snap_row(g, g->t_last, row, sizeof(row));
	y = draw_under(y, maxy, row);
	pc_row(g, g->t_last, row, sizeof(row));
	return draw_under(y, maxy, row);
}

static void draw_log(struct stat_tui *t, int from, int rows)
{
	int n = t->nlog < rows ? t->nlog : rows;

	attron(COLOR_PAIR(PAIR_TITLE));
	mvprintw(from, 0, "recent events");
	attroff(COLOR_PAIR(PAIR_TITLE));
	clrtoeol();
	for (int i = 0; i < n; i++) {
		int k = (t->loghead - n + i + LOG_LINES) % LOG_LINES;

		mvprintw(from + 1 + i, 0, "%.*s", COLS - 1, t->log[k]);
		clrtoeol();
	}
}

static void draw_help(void)
{
	mvprintw(2, 4, "swackstat: one row per migrating VM, one per device under it");
	mvprintw(3, 4, "reverse video: converged but waiting for a switchover ACK");
	mvprintw(4, 4, "red: expected downtime above QEMU's limit; yellow: initial bytes grew");
	mvprintw(6, 4, "s: sort (pid, remaining, expected downtime, phase)   q: quit   h: help");
}

static void draw(struct stat_tui *t, const struct model *m)
{
	static struct vm_figures rows[MAX_ROWS];
	int n = collect(m, rows), y = 2, logrows = LINES / 4;

	erase();
	attron(COLOR_PAIR(PAIR_TITLE) | A_BOLD);
	mvprintw(0, 0, "swackstat  %d VMs  sort: %s  (s: sort, h: help, q: quit)", n,
		 sort_names[t->sort]);
	attroff(COLOR_PAIR(PAIR_TITLE) | A_BOLD);
	mvprintw(1, 0, "%7s %-4s %-15s %5s %10s %10s %4s %9s %9s %6s %8s %8s %-16s", "PID",
		 "ROLE", "PHASE", "ITER", "REMAINING", "BW/s", "ACKS", "INITIAL", "DIRTY", "REGROW",
		 "EXP_MS", "DOWN_MS", "VM");
	if (t->help) {
		draw_help();
		refresh();
		return;
	}
	sort_by = t->sort;
	qsort(rows, n, sizeof(rows[0]), compare);
	for (int i = 0; i < n && y < LINES - logrows - 1; i++) {
		const struct mig *g = model_latest(m, rows[i].pid);

		draw_row(y++, &rows[i]);
		y = draw_devices(y, LINES - logrows - 1, g);
		y = draw_snapshot(y, LINES - logrows - 1, g);
	}
	draw_log(t, LINES - logrows - 1, logrows);
	refresh();
}

bool stat_tui_update(struct stat_tui *t, const struct model *m, bool redraw)
{
	int c;

	while ((c = getch()) != ERR) {
		if (c == 'q' || c == 'Q')
			return false;
		if (c == 's')
			t->sort = (t->sort + 1) % SORT_MAX;
		if (c == 'h' || c == '?')
			t->help = !t->help;
		if (c == KEY_RESIZE)
			clear();
		redraw = true;
	}
	if (redraw)
		draw(t, m);
	return true;
}

void stat_tui_close(struct stat_tui *t)
{
	endwin();
	free(t);
}
