// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
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
	memset(r, 0, sizeof(*r));
	r->fd = -1;
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

/* Follows the log pinned now, if it is not the one already followed. */
static void follow_pinned(struct gate_log_reader *r)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(GATE_PIN_LOG);
	bool first = !r->started;

	r->started = true;
	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.id == r->map_id) {
		close(fd);
		return;
	}
	gate_log_reader_close(r);
	r->fd = fd;
	r->map_id = info.id;
	r->next = first ? newest_seq(fd) + 1 : 1;
}

void gate_log_poll(struct gate_log_reader *r, gate_log_fn fn, void *ctx)
{
	struct gate_log_entry v;

	follow_pinned(r);
	if (r->fd < 0)
		return;
	while (!read_slot(r->fd, r->next, &v) && v.seq >= r->next) {
		if (v.seq > r->next) {
			/* Overwritten: the writer went round the ring since.
			 * Resume at the oldest entry that may still be there. */
			r->lost += v.seq - GATE_LOG_SLOTS + 1 - r->next;
			r->next = v.seq - GATE_LOG_SLOTS + 1;
			continue;
		}
		if (v.writer != (__u32)getpid())
			fn(ctx, &v.e);
		r->next++;
	}
}

void gate_log_reader_close(struct gate_log_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
