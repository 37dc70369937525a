// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "event/vfio_uapi.h"

const char *vfio_mig_state_name(unsigned state)
{
	static const char *const names[VFIO_MIG_STATES] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
		"PRE_COPY", "PRE_COPY_P2P",
	};
	return state < VFIO_MIG_STATES ? names[state] : "?";
}

static const char *ioctl_name(uint64_t cmd)
{
	static const char *const names[] = {
		[0x64] = "GET_API_VERSION", [0x65] = "CHECK_EXTENSION", [0x66] = "SET_IOMMU",
		[0x67] = "GROUP_GET_STATUS", [0x68] = "GROUP_SET_CONTAINER",
		[0x69] = "GROUP_UNSET_CONTAINER", [0x6b] = "DEVICE_GET_INFO",
		[0x6c] = "DEVICE_GET_REGION_INFO", [0x6d] = "DEVICE_GET_IRQ_INFO",
		[0x6e] = "DEVICE_SET_IRQS", [0x6f] = "DEVICE_RESET",
		[0x76] = "DEVICE_BIND_IOMMUFD", [0x77] = "DEVICE_ATTACH_IOMMUFD_PT",
		[0x78] = "DEVICE_DETACH_IOMMUFD_PT", [0x80] = "IOMMU_DESTROY",
		[0x81] = "IOMMU_IOAS_ALLOC",
	};
	unsigned nr = cmd & 0xff;

	return nr < sizeof(names) / sizeof(names[0]) ? names[nr] : NULL;
}

static const char *feature_name(uint32_t feature)
{
	switch (feature) {
	case 6: return "DMA_LOGGING_START";
	case 7: return "DMA_LOGGING_STOP";
	case 8: return "DMA_LOGGING_REPORT";
	case SWACK_VFIO_FEATURE_MIGRATION: return "MIGRATION";
	case SWACK_VFIO_FEATURE_MIG_DEVICE_STATE: return "MIG_DEVICE_STATE";
	case SWACK_VFIO_FEATURE_MIG_DATA_SIZE: return "MIG_DATA_SIZE";
	case SWACK_VFIO_FEATURE_MIG_PRECOPY_INFOV2: return "MIG_PRECOPY_INFOv2";
	default: return NULL;
	}
}

bool vfio_is_feature(const struct swack_event *e, uint32_t how, uint32_t feature)
{
	return e->a[0] == SWACK_VFIO_DEVICE_FEATURE && e->a[2] == (how | feature);
}

uint32_t vfio_target_state(const struct swack_event *e)
{
	return (uint32_t)e->a[3];
}

int32_t vfio_data_fd(const struct swack_event *e)
{
	return (int32_t)(e->a[4] >> 32);
}

static void describe_feature(const struct swack_event *e, char *buf, size_t len)
{
	uint32_t flags = (uint32_t)e->a[2], f = flags & SWACK_VFIO_FEATURE_MASK;
	const char *how = flags & SWACK_VFIO_FEATURE_PROBE ? "PROBE" :
			  flags & SWACK_VFIO_FEATURE_SET ? "SET" : "GET";
	const char *name = feature_name(f);
	char fname[16];

	if (!name) {
		snprintf(fname, sizeof(fname), "feature %u", f);
		name = fname;
	}
	if (vfio_is_feature(e, SWACK_VFIO_FEATURE_SET, SWACK_VFIO_FEATURE_MIG_DEVICE_STATE))
		snprintf(buf, len, "SET MIG_DEVICE_STATE %s data_fd=%d",
			 vfio_mig_state_name(vfio_target_state(e)), vfio_data_fd(e));
	else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_GET, SWACK_VFIO_FEATURE_MIG_DATA_SIZE))
		snprintf(buf, len, "GET MIG_DATA_SIZE stop_copy_length=%llu",
			 (unsigned long long)e->a[4]);
	else if (vfio_is_feature(e, SWACK_VFIO_FEATURE_GET, SWACK_VFIO_FEATURE_MIGRATION))
		snprintf(buf, len, "GET MIGRATION flags=%#llx", (unsigned long long)e->a[4]);
	else
		snprintf(buf, len, "%s %s", how, name);
}

void vfio_describe(const struct swack_event *e, char *buf, size_t len)
{
	switch (e->a[0]) {
	case SWACK_VFIO_DEVICE_FEATURE:
		describe_feature(e, buf, len);
		break;
	case SWACK_VFIO_MIG_GET_PRECOPY_INFO:
		snprintf(buf, len, "MIG_GET_PRECOPY_INFO initial=%llu dirty=%llu%s",
			 (unsigned long long)e->a[3], (unsigned long long)e->a[4],
			 e->a[2] & SWACK_VFIO_PRECOPY_INFO_REINIT ? " REINIT" : "");
		break;
	case SWACK_VFIO_GROUP_GET_DEVICE_FD:
		snprintf(buf, len, "GROUP_GET_DEVICE_FD %.*s", SWACK_STR_LEN, e->str);
		break;
	default:
		if (ioctl_name(e->a[0]))
			snprintf(buf, len, "%s", ioctl_name(e->a[0]));
		else
			snprintf(buf, len, "ioctl %#llx", (unsigned long long)e->a[0]);
	}
}
