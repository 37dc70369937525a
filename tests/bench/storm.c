// SPDX-License-Identifier: GPL-2.0
/*
 * storm SWACK_PID EVENT_PID RATE SECONDS: fires events into the ring buffer of
 * the running swack SWACK_PID (its "events" and "lost" maps, found through
 * its file descriptors), as process EVENT_PID's, RATE a second (RATE x SECONDS
 * events; 0: as fast as the kernel takes them, for SECONDS); prints one JSON line: events fired,
 * written, refused by a full buffer, the time taken.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "storm.skel.h"

/* Events a run fires at most: a run holds its CPU, as a burst of probes
 * would not (1,000 take about half a millisecond). */
#define BATCH 1000

struct storm {
	__u32 n;
	__u32 pid;
	__u64 seq, made, failed, tx;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A map of process pid, by name, as a new descriptor; -1 if none. */
static int map_of(int pid, const char *name)
{
	char dir[64], path[512], line[256];
	struct dirent *d;
	DIR *fds;
	int fd = -1;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	fds = opendir(dir);
	while (fds && fd < 0 && (d = readdir(fds))) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info), id = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "map_id: %u", &id);
		if (f)
			fclose(f);
		if (!id)
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd >= 0 && (bpf_map_get_info_by_fd(fd, &info, &len) || strcmp(info.name, name))) {
			close(fd);
			fd = -1;
		}
	}
	if (fds)
		closedir(fds);
	return fd;
}

int main(int argc, char **argv)
{
	struct storm s = { 0 };
	/* A syscall program's context is copied back into ctx_in. */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &s, .ctx_size_in = sizeof(s));
	struct storm_bpf *skel;
	double rate, secs, t0;
	int ev, lost, prog;

	if (argc != 5) {
		fprintf(stderr, "usage: storm SWACK_PID EVENT_PID RATE SECONDS\n");
		return 2;
	}
	s.pid = (__u32)atoi(argv[2]);
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	ev = map_of(atoi(argv[1]), "events");
	lost = map_of(atoi(argv[1]), "lost");
	skel = storm_bpf__open();
	if (ev < 0 || lost < 0 || !skel || bpf_map__reuse_fd(skel->maps.events, ev) ||
	    bpf_map__reuse_fd(skel->maps.lost, lost) || storm_bpf__load(skel)) {
		fprintf(stderr, "storm: no ring buffer of swack pid %s to fill: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	prog = bpf_program__fd(skel->progs.storm);
	t0 = now();
	/* At a rate: exactly rate x seconds events, however long the host takes to
	 * let them out (the time printed says). */
	while (rate > 0 ? (double)s.seq < rate * secs : now() - t0 < secs) {
		double due = rate > 0 ? fmin(rate * (now() - t0), rate * secs) - (double)s.seq : BATCH;

		if (due < 1) {
			usleep(100);
			continue;
		}
		s.n = due > BATCH ? BATCH : (__u32)due;
		if (bpf_prog_test_run_opts(prog, &o)) {
			fprintf(stderr, "storm: test run: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("{\"fired\":%llu,\"made\":%llu,\"failed\":%llu,\"seconds\":%.3f}\n",
	       (unsigned long long)s.seq, (unsigned long long)s.made,
	       (unsigned long long)s.failed, now() - t0);
	storm_bpf__destroy(skel);
	return 0;
}
