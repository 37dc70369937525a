/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ring buffer the observation programs write their events into, and the
 * count of events it could not take.  One definition: tests/bench/storm.bpf.c
 * writes into a running swack's buffer through the same maps (reused by fd),
 * so the bench measures the recorder on exactly what swack's probes write.
 */
#ifndef SWACK_RING_H
#define SWACK_RING_H

/* 16 MiB: 100 ms of a million events a second, for a reader the host's
 * scheduler keeps waiting that long. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* A zeroed event in the ring buffer, or NULL (counted lost) when it is full. */
static __always_inline struct swack_event *ring_reserve(void)
{
	struct swack_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 zero = 0;
	__u64 *cnt;

	if (!e) {
		cnt = bpf_map_lookup_elem(&lost, &zero);
		if (cnt)
			(*cnt)++;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	return e;
}

/* Batched wake-ups: the event waits for the reader's next periodic read
 * unless 256 KiB already wait. */
#define WAKE_BYTES (256 << 10)

static __always_inline void ring_submit_batched(struct swack_event *e)
{
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKE_BYTES ?
			   BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#endif
