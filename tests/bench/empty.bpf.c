// SPDX-License-Identifier: GPL-2.0
/* The baseline: an empty uprobe, what any probe on a function costs at least. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int empty(void *ctx)
{
	return 0;
}
