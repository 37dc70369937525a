/* SPDX-License-Identifier: GPL-2.0 */
/* Facts about processes read from /proc. */
#ifndef SWACK_PROC_H
#define SWACK_PROC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_ENUM_MAX 40
#define PROC_ENUM_LEN 24

struct name_table {
	int n;
	char names[PROC_ENUM_MAX][PROC_ENUM_LEN];
};

/* A pid as given on the command line: a positive number; 0, or -1. */
int proc_parse_pid(const char *s, pid_t *pid);
bool proc_exists(pid_t pid);
/* When the process started (clock ticks since boot): tells a reused pid apart. */
uint64_t proc_start_time(pid_t pid);
int proc_comm(pid_t pid, char *buf, size_t len);
/* True when the process runs a QEMU system emulator. */
bool proc_is_qemu(pid_t pid);
int proc_exe_path(pid_t pid, char *buf, size_t len);
/* True when QEMU was started to receive a migration (-incoming). */
bool proc_incoming(pid_t pid);
/* True when the process has KVM vCPUs (anon_inode:kvm-vcpu descriptors). */
bool proc_uses_kvm(pid_t pid);
/* Calls fn for every QEMU process; returns how many. */
int proc_scan_qemu(void (*fn)(pid_t pid, void *ctx), void *ctx);
/* Calls fn for every thread of pid with its name; returns how many, or -errno. */
int proc_threads(pid_t pid, void (*fn)(pid_t tid, const char *comm, void *ctx), void *ctx);
/* Start of the mapping of the executable (load bias for PIE). */
uint64_t proc_exe_base(pid_t pid);
/* Checks the three words of a QEnumLookup and takes its array and size;
 * 0, or -EINVAL with the reason in why. */
int qenum_parse(const uint64_t w[3], uint64_t *array, int *size, char *why, size_t len);
/* Reads a QAPI QEnumLookup table (e.g. MigrationStatus_lookup) at addr, in
 * an executable loaded at bias (0: not PIE); 0, or -errno with the reason. */
int proc_read_enum(pid_t pid, uint64_t addr, uint64_t bias, struct name_table *t, char *why,
		   size_t len);
/* True when a and b hold the two ends of one TCP connection. */
bool proc_tcp_peers(pid_t a, pid_t b);
/* Address range of a kernel function's text: from its /proc/kallsyms entry
 * to the next symbol above it.  0, or -1 when it is not listed (or hidden). */
int kallsyms_range(const char *name, uint64_t *lo, uint64_t *hi);

#endif
