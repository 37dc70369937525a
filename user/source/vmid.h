/*
 * Who a QEMU process is to its operators: the VM name and UUID it was started
 * with (-name guest=NAME or -name NAME, -uuid), the libvirt domain whose pid
 * file names it, or the KubeVirt VM (namespace/name) whose pod runs it.
 */
#ifndef SWACK_VMID_H
#define SWACK_VMID_H
#include <stddef.h>
#include <sys/types.h>
#include "model/model.h"

/* libvirt's run directory for QEMU domains; SWACK_LIBVIRT_RUN_DIR overrides it. */
#define VMID_LIBVIRT_RUN_DIR "/var/run/libvirt/qemu"

/* Fills id (pid always; name, uuid and via where found). */
void vmid_read(pid_t pid, struct vm_ident *id);
/* One phrase for attach lines: "vm web-1 uuid 5f0c... (libvirt)", or says that
 * the process carries no identity. */
void vmid_describe(const struct vm_ident *id, char *buf, size_t len);
/* The QEMU processes that key names (their VM's name, its UUID in any case,
 * or a KubeVirt VM's name without its namespace), into pids (at most max);
 * how many, or -1 with a one-line reason when none does. */
int vmid_find(const char *key, pid_t *pids, int max, char *err, size_t errlen);

#endif
