// SPDX-License-Identifier: GPL-2.0
/*
 * Where the gate's state lives between commands: bpffs, the pinned maps and
 * the run lock.  `swack gate run` holds an exclusive flock on the pin
 * directory for as long as it runs; the kernel drops it when the process
 * ends, however it ends, so "is a gate running" never trusts a stale pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "gate/gate.h"
#include "source/gate_log.h"

#define BPFFS "/sys/fs/bpf"
#define BPF_FS_MAGIC_ 0xcafe4a11

static const char *const pins[] = {
	GATE_PIN_HOLDS, GATE_PIN_TARGETS, GATE_PIN_STATS, GATE_PIN_CTL, GATE_PIN_LOG,
};

int gate_bpffs_ready(bool *mounted, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;

	*mounted = false;
	if (statfs(BPFFS, &sfs) || sfs.f_type != BPF_FS_MAGIC_) {
		if (mount("bpf", BPFFS, "bpf", 0, "mode=0700")) {
			snprintf(err, errlen, "bpffs is not mounted at " BPFFS " and mounting it "
				 "failed (%s): run 'mount -t bpf bpf " BPFFS "' as root",
				 strerror(errno));
			return -1;
		}
		*mounted = true;
	}
	if (mkdir(GATE_PIN_DIR, GATE_PIN_DIR_MODE) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create " GATE_PIN_DIR ": %s", strerror(errno));
		return -1;
	}
	if (stat(GATE_PIN_DIR, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, GATE_PIN_DIR " is not a directory");
		return -1;
	}
	/* Only root may list it or touch the holds (0600 each); the search bit
	 * for all lets an observer that runs as nobody once attached open the
	 * log (0644) of a gate started after it. */
	if ((st.st_mode & 0777) != GATE_PIN_DIR_MODE && chmod(GATE_PIN_DIR, GATE_PIN_DIR_MODE)) {
		snprintf(err, errlen, "cannot set " GATE_PIN_DIR " to mode 0711: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int open_dir(void)
{
	return open(GATE_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static pid_t pinned_run_pid(void)
{
	struct gate_ctl c;
	__u32 zero = 0;
	int fd = bpf_obj_get(GATE_PIN_CTL);
	pid_t pid = 0;

	if (fd < 0)
		return 0;
	if (!bpf_map_lookup_elem(fd, &zero, &c))
		pid = (pid_t)c.run_pid;
	close(fd);
	return pid;
}

int gate_lock_run(char *err, size_t errlen)
{
	int fd = open_dir();

	if (fd < 0) {
		snprintf(err, errlen, "cannot open " GATE_PIN_DIR ": %s", strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK) {
		pid_t other = pinned_run_pid();

		if (other)
			snprintf(err, errlen, "another swack gate run (pid %d) is running: one "
				 "gate per host", other);
		else
			snprintf(err, errlen, "another swack gate run is running: one gate per host");
	} else {
		snprintf(err, errlen, "cannot lock " GATE_PIN_DIR ": %s", strerror(errno));
	}
	close(fd);
	return -1;
}

/* True while some swack gate run holds the lock. */
static bool gate_run_alive(void)
{
	int fd = open_dir();
	bool alive;

	if (fd < 0)
		return false;
	alive = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

int gate_orphans(struct gate_orphan *out, int max, pid_t *run_pid)
{
	int fd = bpf_obj_get(GATE_PIN_HOLDS), n = 0;
	__u32 key, next;

	*run_pid = pinned_run_pid();
	if (fd < 0)
		return 0;
	for (__u32 *prev = NULL; n < max && !bpf_map_get_next_key(fd, prev, &next); prev = &key) {
		key = next;
		out[n].pid = key;
		if (!bpf_map_lookup_elem(fd, &key, &out[n].h))
			n++;
	}
	close(fd);
	return n;
}

void gate_unpin_all(void)
{
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		unlink(pins[i]);
}

static bool any_pin(void)
{
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		if (access(pins[i], F_OK) == 0)
			return true;
	return false;
}

int gate_pins_open(struct gate_pins *p, char *err, size_t errlen)
{
	int *fds[] = { &p->holds, &p->targets, &p->stats, &p->ctl };
	__u32 zero = 0;

	memset(p, 0, sizeof(*p));
	p->holds = p->targets = p->stats = p->ctl = -1;
	if (!gate_run_alive()) {
		if (any_pin())
			snprintf(err, errlen, "no swack gate run is running (the maps in "
				 GATE_PIN_DIR " are left from one that was killed; holds in them "
				 "are enforced by nothing): start 'swack gate run -p PID' first");
		else
			snprintf(err, errlen, "no swack gate run is running: start 'swack gate "
				 "run -p PID' first");
		return -1;
	}
	/* The commands use the first four; gate_log is for the observers. */
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		*fds[i] = bpf_obj_get(pins[i]);
		if (*fds[i] < 0) {
			snprintf(err, errlen, "swack gate run is starting or stopping (%s: %s): "
				 "try again", pins[i], strerror(errno));
			gate_pins_close(p);
			return -1;
		}
	}
	if (bpf_map_lookup_elem(p->ctl, &zero, &p->c) || !p->c.run_pid) {
		snprintf(err, errlen, "swack gate run is starting: try again");
		gate_pins_close(p);
		return -1;
	}
	return 0;
}

void gate_pins_close(struct gate_pins *p)
{
	int *fds[] = { &p->holds, &p->targets, &p->stats, &p->ctl };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
