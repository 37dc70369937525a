// SPDX-License-Identifier: GPL-2.0
/*
 * swack exporter: the model in Prometheus text exposition format (0.0.4),
 * served over HTTP from the same single thread that reads the ring buffer.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cli/commands.h"
#include "event/event.h"
#include "model/figures.h"
#include "source/args.h"
#include "source/env.h"
#include "source/live.h"
#include "util/clock.h"

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				   1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct exporter_env {
	struct live_opts live;
	const char *listen;
	int fd;
	struct model model;
	struct live *l;
	/* histogram of guest-visible downtime, counted as migrations end */
	unsigned long long hist[NBUCKETS], hcount;
	double hsum;
};

static const struct argp_option opts[] = {
	{ "listen", 'l', "ADDR:PORT", 0, "Serve /metrics there (default 127.0.0.1:9477)", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct exporter_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->live; break;
	case 'l': env->listen = arg; break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &live_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp argp = {
	opts, parse_opt, NULL,
	"Export the migration model to Prometheus: GET /metrics.\v"
	"Gauges: pending switchover ACKs, remaining bytes, bandwidth, VFIO initial and dirty "
	"bytes per device, background snapshot stalls, postcopy's blocked vCPUs, blocktime, "
	"fault latency p99, longest stall and outstanding requests; counters: regrowths, "
	"postcopy faults and page requests, migrations by role and result, lost events; a "
	"histogram of guest-visible downtime in seconds.",
	children, NULL, NULL,
};

static int open_listener(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;

	if (!colon || colon - spec >= (long)sizeof(host) || !atoi(colon + 1)) {
		snprintf(err, errlen, "invalid --listen '%s': give ADDR:PORT, e.g. 127.0.0.1:9477",
			 spec);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	sa.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "invalid address '%s' in --listen: give an IPv4 address",
			 host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void on_done(void *ctx, const struct mig *src, const struct mig *dst)
{
	struct exporter_env *env = ctx;
	int64_t ns = mig_guest_downtime_ns(src, dst);

	if (ns < 0)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		env->hist[i] += ns / 1e9 <= buckets[i];
	env->hcount++;
	env->hsum += ns / 1e9;
}

static void vm_metrics(FILE *f, const struct mig *g)
{
	struct vm_figures v;
	const char *role;

	mig_figures(g, &v);
	role = role_name(g->role);
	if (v.acks_pending >= 0)
		fprintf(f, "swack_switchover_acks_pending{pid=\"%u\",role=\"%s\"} %lld\n", g->pid,
			role, (long long)v.acks_pending);
	if (g->ack.sent)
		fprintf(f, "swack_switchover_acks_sent_total{pid=\"%u\",role=\"%s\"} %u\n", g->pid,
			role, g->ack.sent);
	fprintf(f, "swack_migration_remaining_bytes{pid=\"%u\",role=\"%s\"} %llu\n", g->pid, role,
		(unsigned long long)v.remaining);
	fprintf(f, "swack_migration_bandwidth_bytes_per_second{pid=\"%u\",role=\"%s\"} %llu\n",
		g->pid, role, (unsigned long long)v.bw);
	fprintf(f, "swack_migration_iterations{pid=\"%u\",role=\"%s\"} %u\n", g->pid, role,
		v.iterations);
	for (uint32_t i = 0; i < g->ndevs; i++) {
		const struct dev_state *d = &g->devs[i];
		const char *lbl = "{pid=\"%u\",role=\"%s\",device=\"%s\"} %llu\n";

		fprintf(f, "swack_vfio_initial_bytes");
		fprintf(f, lbl, g->pid, role, d->name,
			(unsigned long long)(d->k.polls ? d->k.init : d->init));
		fprintf(f, "swack_vfio_dirty_bytes");
		fprintf(f, lbl, g->pid, role, d->name,
			(unsigned long long)(d->k.polls ? d->k.dirty : d->dirty));
		fprintf(f, "swack_vfio_regrowths_total");
		fprintf(f, lbl, g->pid, role, d->name, (unsigned long long)dev_regrowths(d));
	}
}

/* A background snapshot: what its guest paid so far. */
static void snapshot_metrics(FILE *f, const struct mig *g)
{
	struct snap_stats st;

	if (!g->snap.seen)
		return;
	snap_stats(g, g->t_last, &st);
	fprintf(f, "swack_snapshot_write_faults{pid=\"%u\"} %u\n", g->pid, st.faults);
	fprintf(f, "swack_snapshot_stall_seconds{pid=\"%u\"} %.9f\n", g->pid, st.total / 1e9);
	fprintf(f, "swack_snapshot_stall_p99_seconds{pid=\"%u\"} %.9f\n", g->pid, st.p99 / 1e9);
	fprintf(f, "swack_snapshot_written_bytes{pid=\"%u\"} %lld\n", g->pid,
		(long long)(st.bytes > 0 ? st.bytes : 0));
}

/* Postcopy: what the destination's guest waited for so far, and the source's
 * side of it. */
static void postcopy_metrics(FILE *f, const struct mig *g)
{
	const char *role = role_name(g->role);
	/* while it runs, up to the scrape: a vCPU stuck on a page shows now */
	uint64_t per[PC_MAX_VCPUS], now = g->t_end ? g->t_last : now_ns();
	struct pc_stats st;

	if (!g->pc.seen)
		return;
	pc_stats(g, now, &st);
	fprintf(f, "swack_postcopy_page_requests_total{pid=\"%u\",role=\"%s\"} %u\n", g->pid,
		role, g->role == SWACK_ROLE_SRC ? st.requests_recv : st.requests);
	fprintf(f, "swack_postcopy_duration_seconds{pid=\"%u\",role=\"%s\"} %.9f\n", g->pid,
		role, st.duration_ns > 0 ? st.duration_ns / 1e9 : 0);
	fprintf(f, "swack_postcopy_paused_seconds{pid=\"%u\",role=\"%s\"} %.9f\n", g->pid, role,
		st.paused_ns / 1e9);
	if (st.bytes >= 0)
		fprintf(f, "swack_postcopy_sent_bytes{pid=\"%u\"} %lld\n", g->pid,
			(long long)st.bytes);
	if (g->role != SWACK_ROLE_DST)
		return;
	fprintf(f, "swack_postcopy_faults_total{pid=\"%u\"} %u\n", g->pid, st.faults);
	fprintf(f, "swack_postcopy_fault_latency_p99_seconds{pid=\"%u\"} %.9f\n", g->pid,
		st.p99 / 1e9);
	fprintf(f, "swack_postcopy_stall_max_seconds{pid=\"%u\"} %.9f\n", g->pid,
		st.stall_max / 1e9);
	fprintf(f, "swack_postcopy_background_pages_total{pid=\"%u\"} %llu\n", g->pid,
		(unsigned long long)st.background_pages);
	fprintf(f, "swack_postcopy_requests_outstanding{pid=\"%u\"} %lld\n", g->pid,
		(long long)g->pc.outstanding);
	if (st.blocktime_ns >= 0)
		fprintf(f, "swack_postcopy_blocktime_seconds{pid=\"%u\"} %.9f\n", g->pid,
			st.blocktime_ns / 1e9);
	if (st.blocked_now >= 0)
		fprintf(f, "swack_postcopy_blocked_vcpus{pid=\"%u\"} %d\n", g->pid, st.blocked_now);
	pc_vcpus_blocked(&g->pc, now, per);
	for (int v = 0; v < pc_vcpu_count(&g->pc); v++)
		fprintf(f, "swack_postcopy_vcpu_blocked_seconds{pid=\"%u\",vcpu=\"%d\"} %.9f\n",
			g->pid, v, per[v] / 1e9);
}

/* Processes swack gate holds now (1) or held and released (0). */
static void gate_metrics(FILE *f, const struct model *m)
{
	for (uint32_t i = 0; i < m->ngate; i++) {
		const struct gate_note *h = &m->gate[i];
		bool latest = true;

		for (uint32_t k = i + 1; k < m->ngate; k++)
			latest &= m->gate[k].pid != h->pid;
		if (latest)
			fprintf(f, "swack_gate_hold_active{pid=\"%u\"} %d\n", h->pid,
				!h->t_release);
	}
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void results(FILE *f, const struct model *m)
{
	static const char *const roles[] = { "src", "dst" };
	static const enum mstate ends[] = { MS_COMPLETED, MS_FAILED, MS_CANCELLED };

	help(f, "swack_migrations_total", "counter", "Migrations that ended, by role and result.");
	for (int r = 0; r < 2; r++)
		for (int k = 0; k < 3; k++) {
			unsigned n = 0;

			for (const struct mig *g = m->head; g; g = g->next)
				n += g->role == r + 1 && g->state == ends[k];
			fprintf(f, "swack_migrations_total{role=\"%s\",result=\"%s\"} %u\n", roles[r],
				mstate_name(ends[k]), n);
		}
}

static void histogram(FILE *f, const struct exporter_env *env)
{
	help(f, "swack_guest_downtime_seconds", "histogram",
	     "Guest-visible downtime: source vCPU stop to destination vCPU resume.");
	for (size_t i = 0; i < NBUCKETS; i++)
		fprintf(f, "swack_guest_downtime_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
			env->hist[i]);
	fprintf(f, "swack_guest_downtime_seconds_bucket{le=\"+Inf\"} %llu\n", env->hcount);
	fprintf(f, "swack_guest_downtime_seconds_sum %.9f\n", env->hsum);
	fprintf(f, "swack_guest_downtime_seconds_count %llu\n", env->hcount);
}

/* # HELP and # TYPE of the per-process metrics, in the order they are
 * written. */
static const struct { const char *name, *type, *text; } process_metrics[] = {
	{ "swack_switchover_acks_pending", "gauge",
	  "Switchover ACKs still pending." },
	{ "swack_switchover_acks_sent_total", "counter",
	  "Switchover ACKs the destination sent (legacy scheme)." },
	{ "swack_migration_remaining_bytes", "gauge",
	  "Bytes QEMU still has to send." },
	{ "swack_migration_bandwidth_bytes_per_second", "gauge",
	  "Measured bandwidth." },
	{ "swack_migration_iterations", "gauge",
	  "Dirty-bitmap syncs so far." },
	{ "swack_vfio_initial_bytes", "gauge",
	  "VFIO precopy initial bytes." },
	{ "swack_vfio_dirty_bytes", "gauge",
	  "VFIO precopy dirty bytes." },
	{ "swack_vfio_regrowths_total", "counter",
	  "Times initial bytes grew again." },
	{ "swack_snapshot_write_faults", "gauge",
	  "Background snapshot: guest writes that faulted on a page not yet saved." },
	{ "swack_snapshot_stall_seconds", "gauge",
	  "Background snapshot: time threads stalled on those faults, in all." },
	{ "swack_snapshot_stall_p99_seconds", "gauge",
	  "Background snapshot: 99th percentile of one stall." },
	{ "swack_snapshot_written_bytes", "gauge",
	  "Background snapshot: bytes written." },
	{ "swack_postcopy_page_requests_total", "counter",
	  "Postcopy: page requests the destination sent (dst) or the source took (src)." },
	{ "swack_postcopy_duration_seconds", "gauge",
	  "Postcopy: time since postcopy-active." },
	{ "swack_postcopy_paused_seconds", "gauge",
	  "Postcopy: time spent paused." },
	{ "swack_postcopy_sent_bytes", "gauge",
	  "Postcopy: bytes the source sent in it." },
	{ "swack_postcopy_faults_total", "counter",
	  "Postcopy: missing faults on the destination (a page still on the source)." },
	{ "swack_postcopy_fault_latency_p99_seconds", "gauge",
	  "Postcopy: 99th percentile of a fault's wait for its page." },
	{ "swack_postcopy_stall_max_seconds", "gauge",
	  "Postcopy: the longest wait for a page so far, one still waiting included." },
	{ "swack_postcopy_background_pages_total", "counter",
	  "Postcopy: pages placed with no fault waiting for them." },
	{ "swack_postcopy_requests_outstanding", "gauge",
	  "Postcopy: faulted pages requested and not placed yet." },
	{ "swack_postcopy_blocktime_seconds", "gauge",
	  "Postcopy: time every vCPU was blocked at once (QEMU's blocktime)." },
	{ "swack_postcopy_blocked_vcpus", "gauge",
	  "Postcopy: vCPUs waiting for a page now." },
	{ "swack_postcopy_vcpu_blocked_seconds", "gauge",
	  "Postcopy: time one vCPU spent waiting for pages." },
};

/* The latest migration of each process is its present state. */
static void metrics(FILE *f, struct exporter_env *env)
{
	const struct model *m = &env->model;

	for (size_t i = 0; i < sizeof(process_metrics) / sizeof(process_metrics[0]); i++)
		help(f, process_metrics[i].name, process_metrics[i].type, process_metrics[i].text);
	for (const struct mig *g = m->head; g; g = g->next) {
		const struct mig *later = g->next;

		while (later && later->pid != g->pid)
			later = later->next;
		if (!later) {
			vm_metrics(f, g);
			snapshot_metrics(f, g);
			postcopy_metrics(f, g);
		}
	}
	help(f, "swack_gate_hold_active", "gauge",
	     "1 while swack gate holds the process's switchover, 0 once released.");
	gate_metrics(f, m);
	results(f, m);
	histogram(f, env);
	help(f, "swack_events_lost_total", "counter", "Events the ring buffer dropped.");
	fprintf(f, "swack_events_lost_total %llu\n", live_lost(env->l));
}

static void serve(struct exporter_env *env, int c)
{
	char req[1024], *body = NULL;
	size_t len = 0;
	ssize_t n = read(c, req, sizeof(req) - 1);
	FILE *f = open_memstream(&body, &len);
	bool ok = n > 0 && (!strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET / ", 6));

	if (f) {
		if (ok)
			metrics(f, env);
		else
			fputs("swack exporter: GET /metrics\n", f);
		fclose(f);
		dprintf(c, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", ok ? "200 OK" :
			"404 Not Found", len);
		if (write(c, body, len) < 0)
			return;
	}
	free(body);
}

/* Scrapes are rare and small: answered between ring-buffer polls. */
static void tick(void *ctx)
{
	struct exporter_env *env = ctx;
	int c;

	while ((c = accept4(env->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(env, c);
		close(c);
	}
}

int cmd_exporter(int argc, char **argv)
{
	static const cap_value_t follow[] = { CAP_SYS_PTRACE, CAP_BPF, CAP_PERFMON,
					      CAP_SYS_ADMIN };
	struct exporter_env env = { .listen = "127.0.0.1:9477" };
	struct live_cbs cbs = { .ctx = &env };
	struct live_loop loop = { .tick_ms = 50, .tick = tick, .ctx = &env };
	struct live live;
	char err[512];

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	env.fd = open_listener(env.listen, err, sizeof(err));
	if (env.fd < 0) {
		fprintf(stderr, "swack exporter: %s\n", err);
		return 1;
	}
	live_handle_signals();
	model_init(&env.model, on_done, &env);
	env.l = &live;
	if (live_open(&live, &env.live, &env.model, &cbs, err, sizeof(err))) {
		fprintf(stderr, "swack exporter: %s\n", err);
		model_free(&env.model);
		close(env.fd);
		return 1;
	}
	if (!env_keep_caps(follow, env.live.npids ? 1 : 4) && env.live.verbose)
		fprintf(stderr, "swack: dropped every capability but %s\n", env.live.npids ?
			"cap_sys_ptrace" : "cap_sys_ptrace, cap_bpf, cap_perfmon, cap_sys_admin");
	fprintf(stderr, "swack exporter: serving http://%s/metrics\n", env.listen);
	live_run(&live, &loop);
	close(env.fd);
	live_close(&live);
	model_free(&env.model);
	return 0;
}
