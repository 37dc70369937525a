// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "source/proc.h"

int proc_parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x7fffffff)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

bool proc_exists(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int proc_exe_path(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, buf, len - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* comm is cut at 15 characters; the executable's name is not. */
bool proc_is_qemu(pid_t pid)
{
	char exe[PATH_MAX];
	const char *base;

	if (proc_exe_path(pid, exe, sizeof(exe)))
		return false;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return !strncmp(base, "qemu-system-", 12) || !strncmp(base, "qemu-kvm", 8);
}

bool proc_incoming(pid_t pid)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) {
		buf[n] = 0;
		if (!strcmp(buf + i, "-incoming") || !strcmp(buf + i, "--incoming"))
			return true;
	}
	return false;
}

bool proc_uses_kvm(pid_t pid)
{
	char path[64], link[64];
	struct dirent *de;
	bool kvm = false;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!kvm && (de = readdir(d))) {
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		kvm = !strncmp(link, "anon_inode:kvm-vcpu", 19);
	}
	closedir(d);
	return kvm;
}

int proc_scan_qemu(void (*fn)(pid_t pid, void *ctx), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid != getpid() && proc_is_qemu(pid)) {
			fn(pid, ctx);
			n++;
		}
	}
	closedir(d);
	return n;
}

int proc_threads(pid_t pid, void (*fn)(pid_t tid, const char *comm, void *ctx), void *ctx)
{
	char path[64], comm[32];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			fn(tid, comm, ctx);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

uint64_t proc_exe_base(pid_t pid)
{
	char path[64], line[512], exe[PATH_MAX], file[PATH_MAX];
	unsigned long start, off;
	uint64_t base = 0;
	FILE *f;

	if (proc_exe_path(pid, exe, sizeof(exe)))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		file[0] = 0;
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &start, &off, file) < 2)
			continue;
		if (off == 0 && !strcmp(file, exe)) {
			base = start;
			break;
		}
	}
	fclose(f);
	return base;
}

/* Another process's memory through process_vm_readv: CAP_SYS_PTRACE suffices
 * (/proc/PID/mem would also want file permissions that a process that dropped
 * to nobody lacks).  What could be read: short at an unmapped page. */
static ssize_t peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return peek(pid, addr, buf, len) == (ssize_t)len ? 0 : -EFAULT;
}

/*
 * QEnumLookup, 6.0 through 11.1 (checked on Debian's 7.2 and 10.0 binaries):
 * { const char *const *array; <features pointer>; const int size; }, the
 * middle word a `const unsigned char *special_features` up to 9.0 and a
 * `const uint64_t *features` after, NULL for enums without feature flags.
 * Older QEMUs had { array; int size; }: its size sits in the middle word,
 * which no pointer can hold, so it is refused instead of misread.
 */
int qenum_parse(const uint64_t w[3], uint64_t *array, int *size, char *why, size_t len)
{
	int32_t n = (int32_t)(uint32_t)w[2];

	if (!w[0]) {
		snprintf(why, len, "its array pointer is NULL");
		return -EINVAL;
	}
	if (w[1] && w[1] < 4096) {
		snprintf(why, len, "second word %llu is neither NULL nor a pointer (a QEnumLookup "
			 "older than QEMU 6.0?)", (unsigned long long)w[1]);
		return -EINVAL;
	}
	if (n <= 0 || n > PROC_ENUM_MAX) {
		snprintf(why, len, "size %d out of range 1..%d", n, PROC_ENUM_MAX);
		return -EINVAL;
	}
	*array = w[0];
	*size = n;
	return 0;
}

/* A process caught at its exec has not been through ld.so yet: its PIE's
 * pointers still hold link-time addresses, below the load base. */
static uint64_t relocated(uint64_t ptr, uint64_t bias)
{
	return bias && ptr < bias ? ptr + bias : ptr;
}

static int read_names(pid_t pid, uint64_t array, int size, uint64_t bias,
		      struct name_table *t, char *why, size_t len)
{
	uint64_t ptr;
	ssize_t n;

	for (int i = 0; i < size; i++) {
		if (read_mem(pid, array + 8 * i, &ptr, 8)) {
			snprintf(why, len, "cannot read entry %d at 0x%llx", i,
				 (unsigned long long)(array + 8 * i));
			return -EFAULT;
		}
		ptr = relocated(ptr, bias);
		/* A name may end near the end of a mapping: read what there is. */
		n = peek(pid, ptr, t->names[i], PROC_ENUM_LEN - 1);

		if (n <= 0 || !memchr(t->names[i], 0, (size_t)n)) {
			snprintf(why, len, "entry %d at 0x%llx is not a string of under %d "
				 "characters", i, (unsigned long long)ptr, PROC_ENUM_LEN - 1);
			return -EFAULT;
		}
	}
	return 0;
}

int proc_read_enum(pid_t pid, uint64_t addr, uint64_t bias, struct name_table *t, char *why,
		   size_t len)
{
	uint64_t w[3], array;
	ssize_t got = peek(pid, addr, w, sizeof(w));
	int size, ret = 0;

	memset(t, 0, sizeof(*t));
	if (got < 0 && errno != EFAULT) {
		ret = -errno;
		snprintf(why, len, "pid %d's memory: %s", pid, strerror(errno));
		return ret;
	}
	if (got != (ssize_t)sizeof(w)) {
		ret = -EFAULT;
		snprintf(why, len, "cannot read 24 bytes at 0x%llx", (unsigned long long)addr);
	}
	if (!ret)
		ret = qenum_parse(w, &array, &size, why, len);
	if (!ret)
		ret = read_names(pid, relocated(array, bias), size, bias, t, why, len);
	if (!ret)
		t->n = size;
	return ret;
}

/* The inode of each open file of pid, from /proc/PID/fdinfo (readable with
 * CAP_SYS_PTRACE alone; /proc/PID/fd wants its owner's uid): sockets among
 * them are matched against the TCP table. */
static int fd_inodes(pid_t pid, unsigned long *ino, int max)
{
	char path[64], file[96], line[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%.20s", path, de->d_name);
		f = fopen(file, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "ino: %lu", &ino[n]) == 1) {
				n++;
				break;
			}
		fclose(f);
	}
	closedir(d);
	return n;
}

static bool has_inode(const unsigned long *ino, int n, unsigned long want)
{
	for (int i = 0; i < n; i++)
		if (ino[i] == want)
			return true;
	return false;
}

static int scan_tcp_file(const char *path, const unsigned long *ino, int nino,
			 char keys[][64], int n, int max)
{
	char line[512], local[64], remote[64];
	unsigned long inode;
	unsigned st;
	FILE *f = fopen(path, "re");

	if (!f)
		return n;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*s %*s %lu",
			   local, remote, &st, &inode) != 4)
			continue;
		if (st == 1 /* ESTABLISHED */ && has_inode(ino, nino, inode))
			snprintf(keys[n++], 64, "%.30s>%.30s", local, remote);
	}
	fclose(f);
	return n;
}

/* Connected TCP endpoints of pid as "laddr:lport>raddr:rport" keys. */
static int proc_tcp_links(pid_t pid, char keys[][64], int max)
{
	unsigned long ino[4096];
	int nino = fd_inodes(pid, ino, 4096), n = 0;
	char path[64];

	if (!nino)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", pid);
	n = scan_tcp_file(path, ino, nino, keys, n, max);
	snprintf(path, sizeof(path), "/proc/%d/net/tcp6", pid);
	return scan_tcp_file(path, ino, nino, keys, n, max);
}

/* The same connection seen from the other end swaps local and remote. */
static void swap_key(const char *key, char *out, size_t len)
{
	const char *gt = strchr(key, '>');

	if (!gt) {
		out[0] = 0;
		return;
	}
	snprintf(out, len, "%s>%.*s", gt + 1, (int)(gt - key), key);
}

bool proc_tcp_peers(pid_t a, pid_t b)
{
	char ka[32][64], kb[32][64], sw[64];
	int na = proc_tcp_links(a, ka, 32), nb = proc_tcp_links(b, kb, 32);

	for (int i = 0; i < na; i++) {
		swap_key(ka[i], sw, sizeof(sw));
		for (int j = 0; j < nb; j++)
			if (!strcmp(sw, kb[j]))
				return true;
	}
	return false;
}

int kallsyms_range(const char *name, uint64_t *lo, uint64_t *hi)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	unsigned long long addr;
	char sym[256], type;

	*lo = *hi = 0;
	if (!f)
		return -1;
	while (fscanf(f, "%llx %c %255s%*[^\n]", &addr, &type, sym) == 3) {
		if (*lo && addr > *lo) {
			*hi = addr;
			break;
		}
		if (!*lo && addr && !strcmp(sym, name))
			*lo = addr;
	}
	fclose(f);
	if (!*hi)
		*lo = 0;
	return *lo ? 0 : -1;
}

/* Field 22 of /proc/PID/stat, in clock ticks since boot; 0 when unreadable.
 * The comm (field 2) may hold spaces and parentheses: count from the last ')'. */
uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* To the blank before field 22, from the one before field 3 (state). */
	for (int f = 3; p && f <= 22; f++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%llu", &start);
	return start;
}
