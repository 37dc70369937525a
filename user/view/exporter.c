// SPDX-License-Identifier: GPL-2.0
/*
 * swack exporter: the model in Prometheus text exposition format (0.0.4),
 * served over HTTP by GNU libmicrohttpd from a thread of its own, with its own
 * limits on connections, request size and idle time; the main thread reads the
 * ring buffer on its own schedule, and both take the model's lock only to
 * change it or to write a scrape.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cli/commands.h"
#include "event/event.h"
#include "model/figures.h"
#include "source/args.h"
#include "source/live.h"
#include "util/clock.h"
#include "util/grow.h"

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				   1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* What no client can exceed: connections at once (each idle one closed after
 * IDLE_S seconds), and the memory of one connection, its request headers
 * included (a larger request is refused with 431). */
#define MAX_CONNECTIONS 4096
#define IDLE_S 10
#define CONNECTION_MEMORY 16384

struct gate_count {
	uint32_t pid;
	unsigned long long holds, expired;
};

struct exporter_env {
	struct live_opts live;
	const char *listen;
	struct sockaddr_in addr;
	int fd;
	struct MHD_Daemon *httpd;
	pthread_mutex_t lock;      /* the model, the gate counts, the histogram */
	uint32_t evicted;          /* said so far */
	struct model model;
	struct live *l;
	/* histogram of guest-visible downtime, counted as migrations end */
	unsigned long long hist[NBUCKETS], hcount;
	double hsum;
	struct gate_count *gates;
	uint32_t ngates, capgates;
};

static const struct argp_option opts[] = {
	{ "listen", 'l', "ADDR:PORT", 0, "Serve /metrics there (default 127.0.0.1:9477)", 0 },
	{ 0 },
};

/* ADDR:PORT, an IPv4 address and a port from 1 to 65535, nothing else. */
static void parse_listen(struct argp_state *state, const char *spec, struct sockaddr_in *sa)
{
	const char *colon = strrchr(spec, ':');
	char host[INET_ADDRSTRLEN], *end;
	unsigned long port;

	if (!colon || colon == spec || colon - spec >= (long)sizeof(host) || !colon[1])
		argp_error(state, "invalid --listen '%s': give ADDR:PORT, e.g. 127.0.0.1:9477",
			   spec);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] < '0' || colon[1] > '9' || !port || port > 65535)
		argp_error(state, "invalid port in --listen '%s': give a number from 1 to 65535",
			   spec);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		argp_error(state, "invalid address '%s' in --listen: give an IPv4 address", host);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct exporter_env *env = state->input;

	switch (key) {
	case ARGP_KEY_INIT: state->child_inputs[0] = &env->live; break;
	case 'l': env->listen = arg; break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	case ARGP_KEY_END: parse_listen(state, env->listen, &env->addr); break;
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
	"histogram of guest-visible downtime in seconds.  Served by GNU libmicrohttpd: "
	"at most 4096 connections, each closed after 10 s idle, 16 KiB per request.",
	children, NULL, NULL,
};

/* Bound before attaching: a port in use is said at once. */
static int open_listener(const struct exporter_env *env, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&env->addr, sizeof(env->addr)) || listen(fd, 128)) {
		snprintf(err, errlen, "cannot listen on %s: %s", env->listen, strerror(errno));
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

static bool model_has_hold_of(const struct model *m, uint32_t pid)
{
	for (uint32_t i = 0; i < m->ngate; i++)
		if (m->gate[i].pid == pid)
			return true;
	return false;
}

/* Holds counted per process as they come: the model keeps only the latest
 * MODEL_MAX_GATE holds, and a process none of them is of is forgotten here too,
 * so that an exporter's uptime does not grow the table. */
static struct gate_count *gate_count(struct exporter_env *env, uint32_t pid)
{
	struct gate_count *g;
	uint32_t kept = 0;

	for (uint32_t i = 0; i < env->ngates; i++)
		if (env->gates[i].pid == pid)
			return &env->gates[i];
	for (uint32_t i = 0; i < env->ngates; i++)
		if (model_has_hold_of(&env->model, env->gates[i].pid))
			env->gates[kept++] = env->gates[i];
	env->ngates = kept;
	if (!grow((void **)&env->gates, env->ngates, &env->capgates, sizeof(*g), 16))
		return NULL;
	g = &env->gates[env->ngates++];
	*g = (struct gate_count){ .pid = pid };
	return g;
}

static void on_event(void *ctx, const struct swack_event *e)
{
	struct gate_count *g;

	if (e->kind != SWACK_EV_GATE_HOLD && e->kind != SWACK_EV_GATE_RELEASE)
		return;
	g = gate_count(ctx, e->pid);
	if (!g)
		return;
	if (e->kind == SWACK_EV_GATE_HOLD)
		g->holds++;
	else if (e->a[4] == 2 /* deadline */)
		g->expired++;
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* NAME{pid="..",vm="..",uuid="..",role=".."EXTRA} VALUE: every per-VM series
 * carries the same identity labels, so that rules can join them as they are. */
static void sample(FILE *f, const char *name, const struct model *m, uint32_t pid,
		   const char *role, const char *extra, double v)
{
	const struct vm_ident *id = model_vm(m, pid);

	fprintf(f, "%s{pid=\"%u\",vm=\"", name, pid);
	label_value(f, id ? id->name : "");
	fputs("\",uuid=\"", f);
	label_value(f, id ? id->uuid : "");
	fputc('"', f);
	if (role)
		fprintf(f, ",role=\"%s\"", role);
	/* Counts and bytes exactly, seconds to the nanosecond. */
	if (v == (double)(long long)v && v > -9e15 && v < 9e15)
		fprintf(f, "%s} %lld\n", extra ? extra : "", (long long)v);
	else
		fprintf(f, "%s} %.9f\n", extra ? extra : "", v);
}

#define MIG(name, g, v) sample(f, name, (g)->model, (g)->pid, role_name((g)->role), NULL, v)

/* Events are stamped CLOCK_MONOTONIC; Prometheus wants Unix time. */
static double unix_time(uint64_t mono_ns)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return r.tv_sec + r.tv_nsec / 1e9 - ((m.tv_sec * 1e9 + m.tv_nsec) - (double)mono_ns) / 1e9;
}

static void progress_metrics(FILE *f, const struct mig *g)
{
	struct vm_figures v;

	mig_figures(g, &v);
	MIG("swack_migration_active", g, !mstate_terminal(g->state));
	if (v.acks_pending >= 0)
		MIG("swack_switchover_acks_pending", g, v.acks_pending);
	if (g->ack.sent)
		MIG("swack_switchover_acks_sent_total", g, g->ack.sent);
	MIG("swack_migration_remaining_bytes", g, v.remaining);
	if (g->threshold)
		MIG("swack_migration_threshold_bytes", g, g->threshold);
	MIG("swack_migration_bandwidth_bytes_per_second", g, v.bw);
	MIG("swack_migration_iterations", g, v.iterations);
	MIG("swack_migration_passes_without_progress", g, g->passes_without_progress);
	if (g->role == SWACK_ROLE_SRC) {
		MIG("swack_switchover_held_seconds", g, ack_held_ns(g) / 1e9);
		MIG("swack_switchover_ack_underflow", g, g->ack.underflow);
	}
	if (g->t_end)
		MIG("swack_migration_end_timestamp_seconds", g, unix_time(g->t_end));
}

/* The downtime of an ended migration, on the side that knows it: the source
 * (with its destination's resume when both are watched), or a destination
 * whose source this host does not watch has none to tell. */
static void downtime_metrics(FILE *f, const struct mig *g)
{
	const struct mig *dst = g->peer;
	struct breakdown b;
	char extra[48];

	if (!g->t_end || g->role != SWACK_ROLE_SRC || g->snap.seen)
		return;
	if (mig_guest_downtime_ns(g, dst) >= 0)
		MIG("swack_migration_guest_downtime_seconds", g, mig_guest_downtime_ns(g, dst) / 1e9);
	if (mig_qemu_downtime_ns(g) >= 0)
		MIG("swack_migration_qemu_downtime_seconds", g, mig_qemu_downtime_ns(g) / 1e9);
	if (mig_downtime_limit_ns(g) >= 0)
		MIG("swack_migration_downtime_limit_seconds", g, mig_downtime_limit_ns(g) / 1e9);
	mig_breakdown(g, dst, &b);
	for (int p = 0; p < PH_MAX; p++) {
		if (b.ns[p] < 0)
			continue;
		snprintf(extra, sizeof(extra), ",phase=\"%s\"", phase_name(p));
		sample(f, "swack_migration_downtime_phase_seconds", g->model, g->pid,
		       role_name(g->role), extra, b.ns[p] / 1e9);
	}
}

static void device_metrics(FILE *f, const struct mig *g)
{
	char extra[SWACK_DEV_LEN + 16];

	for (uint32_t i = 0; i < g->ndevs; i++) {
		const struct dev_state *d = &g->devs[i];

		snprintf(extra, sizeof(extra), ",device=\"%s\"", d->name);
		sample(f, "swack_vfio_initial_bytes", g->model, g->pid, role_name(g->role), extra,
		       d->k.polls ? d->k.init : d->init);
		sample(f, "swack_vfio_dirty_bytes", g->model, g->pid, role_name(g->role), extra,
		       d->k.polls ? d->k.dirty : d->dirty);
		sample(f, "swack_vfio_regrowths_total", g->model, g->pid, role_name(g->role), extra,
		       dev_regrowths(d));
	}
}

/* A background snapshot: what its guest paid so far. */
static void snapshot_metrics(FILE *f, const struct mig *g)
{
	struct snap_stats st;

	if (!g->snap.seen)
		return;
	snap_stats(g, g->t_last, &st);
	MIG("swack_snapshot_active", g, !mstate_terminal(g->state));
	MIG("swack_snapshot_write_faults", g, st.faults);
	MIG("swack_snapshot_stall_seconds", g, st.total / 1e9);
	MIG("swack_snapshot_stall_p99_seconds", g, st.p99 / 1e9);
	MIG("swack_snapshot_stall_max_seconds", g, st.max / 1e9);
	MIG("swack_snapshot_written_bytes", g, st.bytes > 0 ? st.bytes : 0);
}

/* Postcopy: what the destination's guest waited for so far, and the source's
 * side of it. */
static void postcopy_metrics(FILE *f, const struct mig *g)
{
	/* while it runs, up to the scrape: a vCPU stuck on a page shows now */
	uint64_t per[PC_MAX_VCPUS], now = g->t_end ? g->t_last : now_ns();
	struct pc_stats st;
	char extra[32];

	if (!g->pc.seen)
		return;
	pc_stats(g, now, &st);
	MIG("swack_postcopy_page_requests_total", g,
	    g->role == SWACK_ROLE_SRC ? st.requests_recv : st.requests);
	MIG("swack_postcopy_duration_seconds", g, st.duration_ns > 0 ? st.duration_ns / 1e9 : 0);
	MIG("swack_postcopy_paused_seconds", g, st.paused_ns / 1e9);
	if (st.bytes >= 0)
		MIG("swack_postcopy_sent_bytes", g, st.bytes);
	if (g->role != SWACK_ROLE_DST)
		return;
	MIG("swack_postcopy_faults_total", g, st.faults);
	MIG("swack_postcopy_fault_latency_p99_seconds", g, st.p99 / 1e9);
	MIG("swack_postcopy_stall_max_seconds", g, st.stall_max / 1e9);
	MIG("swack_postcopy_background_pages_total", g, st.background_pages);
	MIG("swack_postcopy_requests_outstanding", g, g->pc.outstanding);
	if (st.blocktime_ns >= 0)
		MIG("swack_postcopy_blocktime_seconds", g, st.blocktime_ns / 1e9);
	if (st.blocked_now >= 0)
		MIG("swack_postcopy_blocked_vcpus", g, st.blocked_now);
	pc_vcpus_blocked(&g->pc, now, per);
	for (int v = 0; v < pc_vcpu_count(&g->pc); v++) {
		snprintf(extra, sizeof(extra), ",vcpu=\"%d\"", v);
		sample(f, "swack_postcopy_vcpu_blocked_seconds", g->model, g->pid,
		       role_name(g->role), extra, per[v] / 1e9);
	}
}

/* The latest hold of each process: in force (1) or released (0), its age and
 * its max-hold; and every hold counted, with those that reached the deadline. */
static void gate_metrics(FILE *f, const struct exporter_env *env, uint64_t now)
{
	const struct model *m = &env->model;

	for (uint32_t i = 0; i < m->ngate; i++) {
		const struct gate_note *h = &m->gate[i];
		bool latest = true;

		for (uint32_t k = i + 1; k < m->ngate; k++)
			latest &= m->gate[k].pid != h->pid;
		if (!latest)
			continue;
		sample(f, "swack_gate_hold_active", m, h->pid, NULL, NULL, !h->t_release);
		sample(f, "swack_gate_hold_seconds", m, h->pid, NULL, NULL,
		       ((h->t_release ? h->t_release : now) - h->t_hold) / 1e9);
		sample(f, "swack_gate_hold_max_seconds", m, h->pid, NULL, NULL, h->max_ns / 1e9);
	}
	for (uint32_t i = 0; i < env->ngates; i++) {
		sample(f, "swack_gate_holds_total", m, env->gates[i].pid, NULL, NULL,
		       env->gates[i].holds);
		sample(f, "swack_gate_holds_expired_total", m, env->gates[i].pid, NULL, NULL,
		       env->gates[i].expired);
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
		for (int k = 0; k < 3; k++)
			fprintf(f, "swack_migrations_total{role=\"%s\",result=\"%s\"} %u\n", roles[r],
				mstate_name(ends[k]), model_ended(m, r + 1, ends[k]));
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

/* MODEL_MAX_GATE as text, for the help line that names it. */
#define TEXT_OF(n) #n
#define TEXT(n) TEXT_OF(n)
#define HOLDS_KEPT TEXT(MODEL_MAX_GATE)

static const struct { const char *name, *type, *text; } families[] = {
	{ "swack_migration_active", "gauge", "1 while the migration is in progress." },
	{ "swack_switchover_acks_pending", "gauge", "Switchover ACKs still pending." },
	{ "swack_switchover_acks_sent_total", "counter",
	  "Switchover ACKs the destination sent (legacy scheme)." },
	{ "swack_migration_remaining_bytes", "gauge", "Bytes QEMU still has to send." },
	{ "swack_migration_threshold_bytes", "gauge",
	  "QEMU's switchover threshold: it switches over once remaining bytes are at or under it." },
	{ "swack_migration_bandwidth_bytes_per_second", "gauge", "Measured bandwidth." },
	{ "swack_migration_iterations", "gauge", "Dirty-bitmap syncs so far." },
	{ "swack_migration_passes_without_progress", "gauge",
	  "Passes since what a pass left to send last fell: the guest dirties as fast as it moves." },
	{ "swack_switchover_held_seconds", "gauge",
	  "How long the source stayed converged without switching over (waiting for an ACK)." },
	{ "swack_switchover_ack_underflow", "gauge",
	  "1 once more switchover ACKs came than were requested." },
	{ "swack_migration_end_timestamp_seconds", "gauge", "When the migration ended." },
	{ "swack_migration_guest_downtime_seconds", "gauge",
	  "Guest-visible downtime of the ended migration: source vCPU stop to destination resume." },
	{ "swack_migration_qemu_downtime_seconds", "gauge",
	  "Downtime QEMU reports for the ended migration (source side)." },
	{ "swack_migration_downtime_limit_seconds", "gauge",
	  "QEMU's downtime limit, as its threshold over its bandwidth implies." },
	{ "swack_migration_downtime_phase_seconds", "gauge",
	  "The ended migration's downtime by phase, consecutive, from QEMU's checkpoints." },
	{ "swack_vfio_initial_bytes", "gauge", "VFIO precopy initial bytes." },
	{ "swack_vfio_dirty_bytes", "gauge", "VFIO precopy dirty bytes." },
	{ "swack_vfio_regrowths_total", "counter", "Times initial bytes grew again." },
	{ "swack_snapshot_active", "gauge", "1 while the background snapshot runs." },
	{ "swack_snapshot_write_faults", "gauge",
	  "Background snapshot: guest writes that faulted on a page not yet saved." },
	{ "swack_snapshot_stall_seconds", "gauge",
	  "Background snapshot: time threads stalled on those faults, in all." },
	{ "swack_snapshot_stall_p99_seconds", "gauge",
	  "Background snapshot: 99th percentile of one stall." },
	{ "swack_snapshot_stall_max_seconds", "gauge", "Background snapshot: the longest stall." },
	{ "swack_snapshot_written_bytes", "gauge", "Background snapshot: bytes written." },
	{ "swack_gate_hold_active", "gauge",
	  "1 while swack gate holds the process's switchover, 0 once released." },
	{ "swack_gate_hold_seconds", "gauge", "Age of the latest hold (to its release, if released)." },
	{ "swack_gate_hold_max_seconds", "gauge", "The latest hold's max-hold." },
	{ "swack_gate_holds_total", "counter",
	  "Holds placed on the process (counted from the exporter's start while one of the last "
	  HOLDS_KEPT " holds is the process's)." },
	{ "swack_gate_holds_expired_total", "counter",
	  "Holds that reached their max-hold: released by the deadline, not by their condition." },
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

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		help(f, families[i].name, families[i].type, families[i].text);
	for (const struct mig *g = m->head; g; g = g->next) {
		if (model_latest(m, g->pid) != g)
			continue;
		progress_metrics(f, g);
		downtime_metrics(f, g);
		device_metrics(f, g);
		snapshot_metrics(f, g);
		postcopy_metrics(f, g);
	}
	gate_metrics(f, env, now_ns());
	results(f, m);
	histogram(f, env);
	help(f, "swack_events_lost_total", "counter", "Events the ring buffer dropped.");
	fprintf(f, "swack_events_lost_total %llu\n", live_lost(env->l));
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body,
			     size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A whole request (headers read, any body passed over): the metrics, written
 * under the model's lock, or why not. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **state)
{
	struct exporter_env *env = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool found = !strcmp(url, "/metrics") || !strcmp(url, "/");
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version, (void)upload;
	if (!*state) {
		*state = env;   /* first call: headers only */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	if (get && found) {
		pthread_mutex_lock(&env->lock);
		metrics(f, env);
		pthread_mutex_unlock(&env->lock);
	} else {
		fputs("swack exporter: GET /metrics\n", f);
	}
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(c, !get ? MHD_HTTP_METHOD_NOT_ALLOWED : found ? MHD_HTTP_OK :
		     MHD_HTTP_NOT_FOUND, body, len);
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
	struct exporter_env *env = cls;

	if (!env->live.verbose)
		return;
	fputs("swack exporter: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* Each connection takes a descriptor: as many as the limit allows, if the
 * hard limit does. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < MAX_CONNECTIONS + 256) {
		r.rlim_cur = r.rlim_max < MAX_CONNECTIONS + 256 ? r.rlim_max : MAX_CONNECTIONS + 256;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* Started once the privileges are dropped: its thread starts with what is
 * left (capabilities are per thread). */
static int serve(struct exporter_env *env, char *err, size_t errlen)
{
	raise_fd_limit();
	env->httpd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				      NULL, on_request, env,
				      MHD_OPTION_EXTERNAL_LOGGER, http_log, env,
				      MHD_OPTION_LISTEN_SOCKET, env->fd,
				      MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_S,
				      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				      MHD_OPTION_END);
	if (!env->httpd) {
		snprintf(err, errlen, "cannot start the HTTP server on %s: %s", env->listen,
			 strerror(errno));
		return -1;
	}
	env->fd = -1;   /* the server's now: it closes it when it stops */
	return 0;
}

/* Between ring-buffer reads, under the lock: what the model had to drop. */
static void tick(void *ctx)
{
	struct exporter_env *env = ctx;
	char note[256];

	if (env->model.evicted != env->evicted &&
	    model_evicted_note(&env->model, note, sizeof(note))) {
		env->evicted = env->model.evicted;
		fprintf(stderr, "swack exporter: %s\n", note);
	}
}

int cmd_exporter(int argc, char **argv)
{
	struct exporter_env env = { .listen = "127.0.0.1:9477", .fd = -1,
				    .lock = PTHREAD_MUTEX_INITIALIZER };
	struct live_cbs cbs = { .event = on_event, .ctx = &env };
	struct live_loop loop = { .tick_ms = 1000, .tick = tick, .ctx = &env, .lock = &env.lock };
	struct live live;
	char err[512];
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 2;
	/* A client gone before its reply is read is the server's business. */
	signal(SIGPIPE, SIG_IGN);
	env.fd = open_listener(&env, err, sizeof(err));
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
	/* Listening already: the port may be below 1024. */
	if (live_drop_privileges(&live, &env.live, err, sizeof(err)) ||
	    serve(&env, err, sizeof(err))) {
		fprintf(stderr, "swack exporter: %s\n", err);
		goto out;
	}
	fprintf(stderr, "swack exporter: serving http://%s/metrics\n", env.listen);
	ret = live_run(&live, &loop) ? 1 : 0;
	MHD_stop_daemon(env.httpd);
out:
	if (env.fd >= 0)
		close(env.fd);
	live_close(&live);
	model_free(&env.model);
	free(env.gates);
	return ret;
}
