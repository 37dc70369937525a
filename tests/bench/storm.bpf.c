// SPDX-License-Identifier: GPL-2.0
/*
 * A source of events not bound by uprobe traps: run with BPF_PROG_TEST_RUN,
 * it writes n events into a running swack's ring buffer (the map reused by
 * fd), the way swack's probes do: the same reservation, the same loss count
 * when the buffer is full, the same batched wake-ups.  The events are a
 * migration's commonest: pending-size queries, dirty syncs, a VFIO device's
 * pending sizes, userfaultfd faults, bandwidth updates.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "swack.h"
#include "ring.h"

char LICENSE[] SEC("license") = "GPL";

struct storm {
	__u32 n;          /* events to fire */
	__u32 pid;        /* as the events of this process */
	__u64 seq;        /* events fired so far, over all runs */
	__u64 made;       /* written, over all runs */
	__u64 failed;     /* refused by a full buffer, over all runs */
	__u64 tx;         /* stream bytes "sent" */
};

static void fill(struct swack_event *e, struct storm *s)
{
	__u64 i = s->seq, r = i * 0x9e3779b97f4a7c15ULL;

	e->ts = bpf_ktime_get_ns();
	e->pid = s->pid;
	e->tid = s->pid + 1 + (i & 1);
	e->role = SWACK_ROLE_SRC;
	e->origin = SWACK_ORIGIN_UPROBE;
	s->tx += 4096 + (r >> 52);
	e->tx_bytes = s->tx;
	switch (i % 10) {
	case 0: case 1: case 2: case 3:
		e->kind = SWACK_EV_PENDING;
		e->flags = SWACK_F_EXACT;
		e->a[0] = 536870912 - (i % 100000) * 4096;
		e->a[3] = 3000000;
		e->a[4] = ~0ULL;
		break;
	case 4:
		e->kind = SWACK_EV_DIRTY_SYNC;
		e->a[0] = 8000000 + (r >> 44);
		e->a[1] = 100000000 + (r >> 40);
		e->a[2] = e->a[0] * 10;
		break;
	case 5: case 6:
		e->kind = SWACK_EV_VFIO_PENDING;
		e->origin = SWACK_ORIGIN_USDT;
		e->flags = SWACK_F_EXACT;
		e->a[0] = 4194304 - (i % 1000) * 4096;
		e->a[2] = 134217728;
		e->a[3] = e->a[0];
		e->a[4] = 262144;
		__builtin_memcpy(e->dev, "0000:3b:00.1", 13);
		break;
	case 7: case 8:
		e->kind = SWACK_EV_UFFD_FAULT;
		e->origin = SWACK_ORIGIN_KERNEL;
		e->a[0] = 0x7f07e0000000ULL + ((r >> 35) & ~4095ULL);
		e->a[1] = 3;
		e->a[2] = s->pid + 3;
		break;
	default:
		e->kind = SWACK_EV_TRANSFERRED;
		e->origin = SWACK_ORIGIN_USDT;
		e->a[0] = 10000000 + (r >> 42);
		e->a[1] = 100;
		e->a[2] = e->a[0] / 100;
		e->a[4] = 30000000;
		break;
	}
}

static long one(__u64 index, void *ctx)
{
	struct storm *s = ctx;
	struct swack_event *e = ring_reserve();

	s->seq++;
	if (!e) {
		s->failed++;
		return 0;
	}
	fill(e, s);
	s->made++;
	ring_submit_batched(e);
	return 0;
}

SEC("syscall")
int storm(struct storm *ctx)
{
	struct storm s = *ctx;

	bpf_loop(s.n & 0xffffff, one, &s, 0);   /* a 64-bit argument: no stray high bits */
	*ctx = s;
	return 0;
}
