// SPDX-License-Identifier: GPL-2.0
/*
 * What the gate checks before it touches a process, shared by gate run and
 * the commands: the target's pending-size query, its C library and glibc's
 * signal handler, the kernel's lockdown; and the durations they parse.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gate/gate.h"
#include "source/binfile.h"
#include "source/proc.h"

/* "30s", "1.5s", "500ms", "2m", "30" (seconds) -> ns; -1 when invalid. */
static int gate_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v, mult = 1e9;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mult = 60e9;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (v * mult > 1e18)
		return -1;
	*ns = (uint64_t)(v * mult + 0.5);
	return 0;
}

void gate_parse_max_hold(struct argp_state *state, const char *arg, uint64_t *ns)
{
	if (gate_parse_duration(arg, ns) || !*ns || *ns > GATE_LIMIT_MAX_NS)
		argp_error(state, "invalid --max-hold '%s': give a duration from 1ms to 1h, such "
			   "as 30s, 500ms or 2m", arg);
}

void gate_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.3fs", ns / 1e9);
}

const char *gate_gen_name(enum gate_gen g)
{
	switch (g) {
	case GATE_GEN_72: return "QEMU <=7.2";
	case GATE_GEN_8: return "QEMU 8.0-11.0";
	case GATE_GEN_111: return "QEMU 11.1+";
	default: return "unknown";
	}
}

/* In order of preference: a binary with a newer query may keep older names. */
static const struct { const char *sym; enum gate_gen gen; } queries[] = {
	{ "qemu_savevm_query_pending_iter", GATE_GEN_111 },
	{ "qemu_savevm_state_pending_exact", GATE_GEN_8 },
	{ "qemu_savevm_state_pending", GATE_GEN_72 },
};
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

/*
 * MigPendingData (QEMU 11.1) as the switchover-ack patch lays it out
 * (shared/PROBES.md section 3): precopy_bytes, postcopy_bytes, stopcopy_bytes,
 * the uint32_t switchover_ack_pending at 24, then the total at 32.  Taken from
 * the binary's DWARF where it has some: the gate raises the total (and the
 * precopy bytes) and must leave the ACK count alone.
 */
#define MPD_PRECOPY 0
#define MPD_TOTAL 32

static int mpd_layout(pid_t pid, const char *exe, uint64_t vaddr, struct gate_query *q,
		      char *err, size_t errlen)
{
	static const char *const members[] = { "precopy_bytes", "total_bytes",
					       "switchover_ack_pending" };
	long off[3];
	char why[160];

	q->mpd_precopy = MPD_PRECOPY;
	q->mpd_total = MPD_TOTAL;
	if (elf_param_struct_offsets(exe, vaddr, 1, members, 3, off, why, sizeof(why))) {
		snprintf(q->mpd_note, sizeof(q->mpd_note), "MigPendingData not known (%s): "
			 "assumed the switchover-ack patch's layout, precopy_bytes at %d, "
			 "total_bytes at %d", why, MPD_PRECOPY, MPD_TOTAL);
		return 0;
	}
	if (off[0] < 0 || off[1] < 0) {
		snprintf(err, errlen, "pid %d: the DWARF MigPendingData of %s has no %s member: "
			 "the gate cannot tell where QEMU keeps the pending bytes it must raise",
			 pid, q->sym, off[1] < 0 ? "total_bytes" : "precopy_bytes");
		return -1;
	}
	q->mpd_precopy = off[0];
	q->mpd_total = off[1];
	snprintf(q->mpd_note, sizeof(q->mpd_note), "MigPendingData from DWARF: precopy_bytes at "
		 "%ld, total_bytes at %ld (switchover_ack_pending at %ld, left alone)", off[0],
		 off[1], off[2]);
	return 0;
}

int gate_resolve(pid_t pid, struct gate_query *q, char *err, size_t errlen)
{
	const char *names[NQUERIES + 1];
	struct sym_loc locs[NQUERIES + 1];
	struct elf_info info = { 0 };
	char exe[64], path[4096];

	memset(q, 0, sizeof(*q));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	for (size_t i = 0; i < NQUERIES; i++)
		names[i] = queries[i].sym;
	names[NQUERIES] = "qemu_savevm_state_setup";
	if (elf_resolve(exe, names, NQUERIES + 1, locs, &info, err, errlen))
		return -1;
	q->setup = locs[NQUERIES].offset;
	for (size_t i = 0; i < NQUERIES; i++) {
		if (!locs[i].offset)
			continue;
		q->gen = queries[i].gen;
		q->offset = locs[i].offset;
		q->sym = queries[i].sym;
		return q->gen == GATE_GEN_111 ? mpd_layout(pid, exe, locs[i].vaddr, q, err, errlen) :
						0;
	}
	if (proc_exe_path(pid, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", exe);
	snprintf(err, errlen, "pid %d: %s has no pending-size query symbol "
		 "(qemu_savevm_state_pending, qemu_savevm_state_pending_exact or "
		 "qemu_savevm_query_pending_iter): the gate cannot hold its switchover (install "
		 "its debuginfo, or use a build with symbols)", pid, path);
	return -1;
}

/* The C library the process mapped, by the name glibc and musl give it. */
/* 0 and the C library's path; 1 while only the dynamic loader is mapped
 * (a process just exec'd); -1 when there is none. */
static int find_libc_once(pid_t pid, char *path, size_t len)
{
	char maps[64], line[4352];
	FILE *f;
	int ret = -1;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *base;

		if (!p)
			continue;
		p[strcspn(p, "\n")] = 0;
		base = strrchr(p, '/') + 1;
		if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) ||
		    !strncmp(base, "ld-musl", 7)) {
			snprintf(path, len, "%s", p);
			ret = 0;
			break;
		}
		if (!strncmp(base, "ld-linux", 8))
			ret = 1;
	}
	fclose(f);
	return ret;
}

static int find_libc(pid_t pid, char *path, size_t len)
{
	int ret;

	/* The loader maps the libraries within milliseconds of exec. */
	for (int i = 0; (ret = find_libc_once(pid, path, len)) == 1 && i < 100; i++)
		usleep(10000);
	return ret ? -1 : 0;
}

/* "2.36" from glibc's banner ("... release version 2.36."), or "". */
static void glibc_version(const char *file, char *out, size_t len)
{
	static const char key[] = "release version ";
	struct stat st;
	const char *p;
	void *m;
	int fd;

	out[0] = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	p = memmem(m, st.st_size, key, sizeof(key) - 1);
	if (p) {
		size_t i = 0;

		p += sizeof(key) - 1;
		while (i + 1 < len && p + i < (char *)m + st.st_size &&
		       (isdigit((unsigned char)p[i]) || p[i] == '.'))
			i++;
		snprintf(out, len, "%.*s", (int)i, p);
		if (i && out[i - 1] == '.')
			out[i - 1] = 0;
	}
	munmap(m, st.st_size);
}

/* Bit sig-1 of a signal mask line of /proc/PID/status. */
static int status_sigbit(pid_t pid, const char *field, int sig)
{
	char path[64], line[256];
	unsigned long long mask;
	size_t flen = strlen(field);
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':' &&
		    sscanf(line + flen + 1, "%llx", &mask) == 1) {
			ret = (mask >> (sig - 1)) & 1;
			break;
		}
	fclose(f);
	return ret;
}

int gate_check_libc(pid_t pid, char *what, size_t whatlen, char *err, size_t errlen)
{
	static const char *const names[] = { "gnu_get_libc_version" };
	struct elf_info info = { 0 };
	struct sym_loc loc;
	char libc[4096], file[4200], ver[32];

	if (find_libc(pid, libc, sizeof(libc))) {
		snprintf(err, errlen, "pid %d maps no C library the gate knows (libc.so.6): the "
			 "ptrace actuator relies on glibc's signal 33 (SIGSETXID), so it refuses "
			 "this process", pid);
		return -1;
	}
	/* The path as the process sees it, through its root. */
	snprintf(file, sizeof(file), "/proc/%d/root%s", pid, libc);
	if (elf_resolve(file, names, 1, &loc, &info, err, errlen) || !loc.offset) {
		snprintf(err, errlen, "pid %d: its C library %s is not glibc (no "
			 "gnu_get_libc_version): the ptrace actuator relies on glibc's signal 33 "
			 "(SIGSETXID), so it refuses this process", pid, libc);
		return -1;
	}
	glibc_version(file, ver, sizeof(ver));
	snprintf(what, whatlen, "glibc%s%s (signal %d is SIGSETXID%s)", ver[0] ? " " : "", ver,
		 GATE_SIGNAL, gate_check_handler(pid, err, errlen) ? ", handler installed at "
		 "the first thread" : ", handled");
	return 0;
}

/* glibc installs its SIGSETXID handler when the process creates its first
 * thread, so it is checked again before seizing the thread that queries. */
int gate_check_handler(pid_t pid, char *err, size_t errlen)
{
	if (status_sigbit(pid, "SigCgt", GATE_SIGNAL) == 1 &&
	    status_sigbit(pid, "SigIgn", GATE_SIGNAL) == 0)
		return 0;
	snprintf(err, errlen, "pid %d: glibc's handler for signal %d (SIGSETXID) is not "
		 "installed (SigCgt in /proc/%d/status): a signal in flight when the gate dies "
		 "could kill it, so the gate does not seize its threads", pid, GATE_SIGNAL, pid);
	return -1;
}

void gate_lockdown(char *buf, size_t len)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char *a, *b;

	/* A fresh machine may not have securityfs mounted: the lockdown mode
	 * must not depend on whether an earlier tool mounted it. */
	if (!f && errno == ENOENT &&
	    !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		f = fopen("/sys/kernel/security/lockdown", "re");
	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		a = strchr(line, '[');
		b = a ? strchr(a, ']') : NULL;
		if (a && b)
			snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
	}
	fclose(f);
}
