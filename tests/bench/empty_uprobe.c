// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the empty uprobe (entry, and with -r also return) to FUNC in the
 * process PID, prints "attached", then waits for stdin to close.  With -m in
 * multi-uprobe links, the kind swack attaches on kernels that have them (so
 * that the baseline differs from swack by the program alone), else in
 * perf-event links.  Baseline for tests/bench/probe.sh.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"

static struct bpf_link *attach(struct bpf_program *p, int pid, const char *path,
			       const char *func, bool ret, bool multi)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret);
	LIBBPF_OPTS(bpf_uprobe_multi_opts, m, .retprobe = ret);

	if (multi)
		return bpf_program__attach_uprobe_multi(p, pid, path, func, &m);
	return bpf_program__attach_uprobe_opts(p, pid, path, 0, &o);
}

int main(int argc, char **argv)
{
	struct bpf_link *entry = NULL, *ret = NULL;
	bool want_ret = false, multi = false;
	struct empty_bpf *skel;
	char path[64], buf[16];
	int pid, rc = 1;

	for (int i = 3; i < argc; i++) {
		want_ret |= !strcmp(argv[i], "-r");
		multi |= !strcmp(argv[i], "-m");
	}
	if (argc < 3) {
		fprintf(stderr, "usage: empty_uprobe PID FUNC [-r] [-m]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	skel = empty_bpf__open();
	if (!skel)
		goto out;
	if (multi)
		bpf_program__set_expected_attach_type(skel->progs.empty, BPF_TRACE_UPROBE_MULTI);
	if (empty_bpf__load(skel))
		goto out;
	entry = attach(skel->progs.empty, pid, path, argv[2], false, multi);
	if (want_ret)
		ret = attach(skel->progs.empty, pid, path, argv[2], true, multi);
	if (!entry || (want_ret && !ret)) {
		fprintf(stderr, "empty_uprobe: attach %s: %s\n", argv[2], strerror(errno));
		goto out;
	}
	printf("attached\n");
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin))
		;
	rc = 0;
out:
	bpf_link__destroy(ret);
	bpf_link__destroy(entry);
	empty_bpf__destroy(skel);
	return rc;
}
