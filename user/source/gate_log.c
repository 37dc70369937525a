// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "gate_abi.h"
#include "source/gate_log.h"

int gate_log_append(int fd, __u64 seq, const struct swack_event *e)
{
	struct gate_log_entry v = { .writer = getpid(), .seq = seq, .e = *e };
	__u32 key = seq % GATE_LOG_SLOTS;

	return bpf_map_update_elem(fd, &key, &v, BPF_F_LOCK) ? -errno : 0;
}

void gate_log_reader_init(struct gate_log_reader *r)
{
	struct statfs sfs;

	memset(r, 0, sizeof(*r));
	r->fd = r->dirfd = -1;
	/* No bpffs yet: mounted as swack gate run would (root only), so that the
	 * directory can be opened now, while this command may still. */
	if ((statfs("/sys/fs/bpf", &sfs) || sfs.f_type != 0xcafe4a11 /* BPF_FS_MAGIC */) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return;
	if (mkdir(GATE_PIN_DIR, GATE_PIN_DIR_MODE) && errno != EEXIST)
		return;
	r->dirfd = open(GATE_PIN_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The log pinned now, read-only: through the directory opened at the start. */
static int open_log(const struct gate_log_reader *r)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);

	if (r->dirfd < 0)
		return bpf_obj_get_opts(GATE_PIN_LOG, &o);
	o.path_fd = r->dirfd;
	o.file_flags |= BPF_F_PATH_FD;
	return bpf_obj_get_opts("gate_log", &o);
}

static int read_slot(int fd, __u64 seq, struct gate_log_entry *v)
{
	__u32 key = seq % GATE_LOG_SLOTS;

	return bpf_map_lookup_elem_flags(fd, &key, v, BPF_F_LOCK);
}

static __u64 newest_seq(int fd)
{
	struct gate_log_entry v;
	__u64 max = 0;

	for (__u64 i = 0; i < GATE_LOG_SLOTS; i++)
		if (!read_slot(fd, i, &v) && v.seq > max)
			max = v.seq;
	return max;
}

static void reader_close(struct gate_log_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Follows the log pinned now, if it is not the one already followed. */
static void follow_pinned(struct gate_log_reader *r)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = open_log(r);
	bool first = !r->started;

	r->started = true;
	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.id == r->map_id) {
		close(fd);
		return;
	}
	reader_close(r);
	r->fd = fd;
	r->map_id = info.id;
	r->next = first ? newest_seq(fd) + 1 : 1;
}

/* The holds in force as the entries handed out say. */
static void track(struct gate_log_reader *r, const struct gate_log_entry *v)
{
	int i = 0;

	r->writer = v->writer;
	while (i < r->nopen && r->open[i].pid != v->e.pid)
		i++;
	if (v->e.kind == SWACK_EV_GATE_RELEASE && i < r->nopen)
		r->open[i] = r->open[--r->nopen];
	else if (v->e.kind == SWACK_EV_GATE_HOLD && (i < r->nopen || r->nopen < GATE_LOG_OPEN)) {
		r->open[i].pid = v->e.pid;
		r->open[i].ts = v->e.ts;
		r->nopen += i == r->nopen;
	}
}

/* The writer ended without releasing what it held: nothing enforces those
 * holds any more (its programs went with it). */
static void writer_died(struct gate_log_reader *r, gate_log_fn fn, void *ctx, __u64 now)
{
	if (!r->nopen || !r->writer || kill((pid_t)r->writer, 0) == 0 || errno != ESRCH)
		return;
	for (int i = 0; i < r->nopen; i++) {
		struct swack_event e = { .pid = r->open[i].pid, .tid = r->open[i].pid,
					 .kind = SWACK_EV_GATE_RELEASE, .ts = now };

		e.a[0] = now > r->open[i].ts ? now - r->open[i].ts : 0;
		e.a[4] = 6;   /* gate died */
		snprintf(e.str, sizeof(e.str), "swack gate run %u died holding it", r->writer);
		fn(ctx, &e);
	}
	r->nopen = 0;
}

void gate_log_poll(struct gate_log_reader *r, gate_log_fn fn, void *ctx, __u64 now_ns)
{
	struct gate_log_entry v;

	follow_pinned(r);
	if (r->fd < 0) {
		writer_died(r, fn, ctx, now_ns);
		return;
	}
	while (!read_slot(r->fd, r->next, &v) && v.seq >= r->next) {
		if (v.seq > r->next) {
			/* Overwritten: the writer went round the ring since.
			 * Resume at the oldest entry that may still be there. */
			r->lost += v.seq - GATE_LOG_SLOTS + 1 - r->next;
			r->next = v.seq - GATE_LOG_SLOTS + 1;
			continue;
		}
		if (v.writer != (__u32)getpid()) {
			track(r, &v);
			fn(ctx, &v.e);
		}
		r->next++;
	}
	writer_died(r, fn, ctx, now_ns);
}

void gate_log_reader_free(struct gate_log_reader *r)
{
	reader_close(r);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = -1;
}
