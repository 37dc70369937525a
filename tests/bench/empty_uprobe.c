// SPDX-License-Identifier: GPL-2.0
/*
 * Attaches the empty uprobe (entry, and with -r also return) to FUNC in the
 * process PID, then waits for stdin to close.  Baseline for tests/bench/run.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"

int main(int argc, char **argv)
{
	struct bpf_uprobe_opts opts = { .sz = sizeof(opts) };
	struct bpf_link *entry = NULL, *ret = NULL;
	struct empty_bpf *skel;
	char path[64], buf[16];
	int pid, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: empty_uprobe PID FUNC [-r]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	skel = empty_bpf__open_and_load();
	if (!skel)
		goto out;
	opts.func_name = argv[2];
	entry = bpf_program__attach_uprobe_opts(skel->progs.empty, pid, path, 0, &opts);
	if (argc > 3 && !strcmp(argv[3], "-r")) {
		opts.retprobe = true;
		ret = bpf_program__attach_uprobe_opts(skel->progs.empty, pid, path, 0, &opts);
	}
	if (!entry || (argc > 3 && !ret)) {
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
