/* SPDX-License-Identifier: GPL-2.0 */
/* Which VFIO device an fd of a watched process belongs to. */
#ifndef SWACK_VFIO_FDS_H
#define SWACK_VFIO_FDS_H
#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "swack.h"

struct vfio_fd {
	int fd;
	char dev[SWACK_DEV_LEN];
};

struct vfio_fds {
	struct vfio_fd *fds;
	int n;
};

/* Learns from a VFIO kernel event and names its device in e->dev. */
void vfio_fds_note(struct vfio_fds *t, pid_t pid, struct swack_event *e);
void vfio_fds_free(struct vfio_fds *t);
/* Whether pid holds a VFIO device: a cdev node, a group node, or a device fd
 * VFIO_GROUP_GET_DEVICE_FD handed out. */
bool vfio_fds_held(pid_t pid);

#endif
