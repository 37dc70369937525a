// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "source/proc.h"

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

static int read_mem(int fd, uint64_t addr, void *buf, size_t len)
{
	return pread(fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -EFAULT;
}

/*
 * QEnumLookup is { const char *const *array; ...; int size; } and gained a
 * special_features pointer in 6.0: take the size from whichever word holds a
 * small integer.
 */
int proc_read_enum(pid_t pid, uint64_t addr, struct name_table *t)
{
	uint64_t w[3], ptr;
	char path[64];
	int fd, size, ret = 0;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read_mem(fd, addr, w, sizeof(w))) {
		ret = -EFAULT;
		goto out;
	}
	size = (int)(w[1] < 4096 ? w[1] : (uint32_t)w[2]);
	if (size <= 0 || size > PROC_ENUM_MAX) {
		ret = -EINVAL;
		goto out;
	}
	for (int i = 0; i < size; i++) {
		if (read_mem(fd, w[0] + 8 * i, &ptr, 8) ||
		    read_mem(fd, ptr, t->names[i], PROC_ENUM_LEN - 1)) {
			ret = -EFAULT;
			goto out;
		}
		t->names[i][PROC_ENUM_LEN - 1] = 0;
	}
	t->n = size;
out:
	close(fd);
	return ret;
}

static int socket_inodes(pid_t pid, unsigned long *ino, int max)
{
	char path[64], link[96], target[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		ssize_t len;

		snprintf(link, sizeof(link), "%s/%.20s", path, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (sscanf(target, "socket:[%lu]", &ino[n]) == 1)
			n++;
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

int proc_tcp_links(pid_t pid, char keys[][64], int max)
{
	unsigned long ino[256];
	int nino = socket_inodes(pid, ino, 256), n = 0;
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
