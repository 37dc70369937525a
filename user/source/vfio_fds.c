// SPDX-License-Identifier: GPL-2.0
/*
 * Device identity for the kernel-side VFIO events.  Device fds are named
 * from their node, the way QEMU found them: a cdev /dev/vfio/devices/vfioN
 * through /sys/class/vfio-dev/vfioN/device, or the name given to
 * VFIO_GROUP_GET_DEVICE_FD.  Data fds inherit the name of the device fd whose
 * MIG_DEVICE_STATE call returned them.  A cdev path found under another root
 * (a container's, or a test's) is resolved under that same root.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "source/vfio_fds.h"
#include "event/vfio_uapi.h"

#define CDEV_DIR "/dev/vfio/devices/vfio"

/* The device of a cdev node (/dev/vfio/devices/vfioN) through sysfs. */
static int vfio_cdev_device(const char *path, char *dev, size_t len)
{
	const char *at = strstr(path, CDEV_DIR);
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if (!at)
		return -1;
	snprintf(link, sizeof(link), "%.*s/sys/class/vfio-dev/vfio%s/device", (int)(at - path),
		 path, at + strlen(CDEV_DIR));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -1;
	target[n] = 0;
	snprintf(dev, len, "%s", basename(target));
	return 0;
}

static struct vfio_fd *lookup(struct vfio_fds *t, int fd)
{
	for (int i = 0; i < t->n; i++)
		if (t->fds[i].fd == fd)
			return &t->fds[i];
	return NULL;
}

static void set_name(struct vfio_fds *t, int fd, const char *dev)
{
	struct vfio_fd *f = lookup(t, fd);

	if (!f) {
		f = realloc(t->fds, (t->n + 1) * sizeof(*f));
		if (!f)
			return;
		t->fds = f;
		f = &t->fds[t->n++];
		f->fd = fd;
	}
	snprintf(f->dev, sizeof(f->dev), "%.*s", SWACK_DEV_LEN - 1, dev);
}

/* Where fd of pid leads.  /proc/PID/fd wants the owner's uid; a swack that
 * runs as nobody once attached (with CAP_SYS_PTRACE) borrows the descriptor
 * instead, names it through its own /proc/self/fd and lets it go. */
static ssize_t fd_target(pid_t pid, int fd, char *target, size_t len)
{
	char path[64];
	ssize_t n;
	int pidfd, mine;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, target, len);
	if (n >= 0 || errno != EACCES)
		return n;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	if (mine < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mine);
	n = readlink(path, target, len);
	close(mine);
	return n;
}

/* An fd seen for the first time: what node is it? */
static const char *resolve(struct vfio_fds *t, pid_t pid, int fd)
{
	char target[PATH_MAX], dev[SWACK_DEV_LEN];
	ssize_t n;

	n = fd_target(pid, fd, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = 0;
	if (vfio_cdev_device(target, dev, sizeof(dev)))
		return NULL;
	set_name(t, fd, dev);
	return lookup(t, fd)->dev;
}

static const char *name_of(struct vfio_fds *t, pid_t pid, int fd)
{
	struct vfio_fd *f = lookup(t, fd);

	return f ? f->dev : resolve(t, pid, fd);
}

void vfio_fds_note(struct vfio_fds *t, pid_t pid, struct swack_event *e)
{
	const char *dev;
	int fd = (int)e->a[e->kind == SWACK_EV_VFIO_DATA ? 0 : 1];

	if (e->kind == SWACK_EV_VFIO_IOCTL && e->a[0] == SWACK_VFIO_GROUP_GET_DEVICE_FD &&
	    (int64_t)e->a[5] >= 0) {
		set_name(t, (int)e->a[5], e->str);
		snprintf(e->dev, sizeof(e->dev), "%.*s", SWACK_DEV_LEN - 1, e->str);
		return;
	}
	dev = name_of(t, pid, fd);
	if (!dev)
		return;
	snprintf(e->dev, sizeof(e->dev), "%s", dev);
	if (e->kind == SWACK_EV_VFIO_IOCTL && !e->a[5] && vfio_data_fd(e) >= 0 &&
	    vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_DEVICE_STATE))
		set_name(t, vfio_data_fd(e), e->dev);
}

/* A group node is /dev/vfio/N (the container, /dev/vfio/vfio, is not one). */
static bool vfio_node(const char *target)
{
	const char *g = strstr(target, "/dev/vfio/");

	if (strstr(target, CDEV_DIR) || !strcmp(target, "anon_inode:[vfio-device]"))
		return true;
	if (!g || !isdigit((unsigned char)g[10]))
		return false;
	for (g += 10; isdigit((unsigned char)*g); g++)
		;
	return !*g;
}

/* Its descriptors are listed from /proc/PID/fdinfo, which CAP_SYS_PTRACE
 * opens to a swack running as nobody (/proc/PID/fd does not). */
bool vfio_fds_held(pid_t pid)
{
	char path[64], target[PATH_MAX];
	struct dirent *d;
	bool held = false;
	DIR *dir;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!held && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		n = fd_target(pid, atoi(d->d_name), target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		held = vfio_node(target);
	}
	closedir(dir);
	return held;
}

void vfio_fds_free(struct vfio_fds *t)
{
	free(t->fds);
	t->fds = NULL;
	t->n = 0;
}
