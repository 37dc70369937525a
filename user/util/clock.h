/* SPDX-License-Identifier: GPL-2.0 */
/* Now, on the clock BPF stamps events with (CLOCK_MONOTONIC, bpf_ktime_get_ns). */
#ifndef SWACK_CLOCK_H
#define SWACK_CLOCK_H

unsigned long long now_ns(void);
double now_sec(void);

#endif
