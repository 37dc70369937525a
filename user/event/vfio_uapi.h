/* SPDX-License-Identifier: GPL-2.0 */
/* Decoding of the VFIO migration uAPI as the kernel events carry it. */
#ifndef SWACK_VFIO_UAPI_H
#define SWACK_VFIO_UAPI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "swack.h"

#define VFIO_MIG_STATES 8
enum { VFIO_STOP = 1, VFIO_RUNNING = 2, VFIO_STOP_COPY = 3, VFIO_RESUMING = 4,
       VFIO_PRE_COPY = 6, VFIO_PRE_COPY_P2P = 7 };

const char *vfio_mig_state_name(unsigned state);
/* The feature a DEVICE_FEATURE call names, e.g. "SET MIG_DEVICE_STATE". */
bool vfio_is_feature(const struct swack_event *e, uint32_t how, uint32_t feature);
/* A SET of MIG_DEVICE_STATE: the state asked for and the data fd returned. */
uint32_t vfio_target_state(const struct swack_event *e);
int32_t vfio_data_fd(const struct swack_event *e);
/* One line of text saying what a VFIO ioctl did. */
void vfio_describe(const struct swack_event *e, char *buf, size_t len);

#endif
