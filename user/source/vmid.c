// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "source/proc.h"
#include "source/vmid.h"

#define CMDLINE_MAX (256 * 1024)   /* libvirt's command lines run to tens of KB */

/* The whole of a small /proc or run-directory file, NUL-terminated; NULL if unreadable. */
static char *slurp(const char *path, size_t max, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap && cap < max) {
			char *b = realloc(buf, cap * 2 + 1);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		if (n == cap)
			break;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static bool uuid_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == 0 || s[36] == '<';
}

static void set_uuid(struct vm_ident *id, const char *s)
{
	if (!uuid_valid(s))
		return;
	for (int i = 0; i < 36; i++)
		id->uuid[i] = (char)tolower((unsigned char)s[i]);
	id->uuid[36] = 0;
}

/*
 * QEMU's option syntax: "guest=NAME,process=P,debug-threads=on", or NAME as
 * the first, implied, parameter; ",," is a literal comma.
 */
static void name_from_opts(const char *v, char *out, size_t len)
{
	for (bool first = true; *v; first = false) {
		char item[VM_NAME_LEN + 16];
		size_t n = 0;

		for (; *v && !(v[0] == ',' && v[1] != ','); v++) {
			v += v[0] == ',';   /* ",," */
			if (n < sizeof(item) - 1)
				item[n++] = *v;
		}
		item[n] = 0;
		v += *v == ',';
		if (!strncmp(item, "guest=", 6))
			snprintf(out, len, "%.*s", (int)len - 1, item + 6);
		else if (first && !strchr(item, '='))
			snprintf(out, len, "%.*s", (int)len - 1, item);
	}
}

static bool is_opt(const char *arg, const char *name)
{
	return arg[0] == '-' && !strcmp(arg + (arg[1] == '-' ? 2 : 1), name);
}

static void from_cmdline(pid_t pid, struct vm_ident *id)
{
	char path[64], *buf;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	buf = slurp(path, CMDLINE_MAX, &n);
	if (!buf)
		return;
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		const char *arg = buf + i, *next = arg + strlen(arg) + 1;

		if (next >= buf + n)
			break;
		if (is_opt(arg, "name"))
			name_from_opts(next, id->name, sizeof(id->name));
		else if (is_opt(arg, "uuid"))
			set_uuid(id, next);
	}
	free(buf);
	if (id->name[0] || id->uuid[0])
		snprintf(id->via, sizeof(id->via), "%s%s%s", id->name[0] ? "-name" : "",
			 id->name[0] && id->uuid[0] ? " " : "", id->uuid[0] ? "-uuid" : "");
}

static const char *libvirt_dir(void)
{
	const char *d = getenv("SWACK_LIBVIRT_RUN_DIR");

	return d && *d ? d : VMID_LIBVIRT_RUN_DIR;
}

/* The domain's UUID from its status XML (<domstatus><domain><uuid>). */
static void uuid_from_xml(const char *dir, const char *dom, struct vm_ident *id)
{
	char path[4096], *xml, *d, *u;

	snprintf(path, sizeof(path), "%s/%s.xml", dir, dom);
	xml = slurp(path, 4 << 20, NULL);
	if (!xml)
		return;
	d = strstr(xml, "<domain ");
	u = d ? strstr(d, "<uuid>") : NULL;
	if (u)
		set_uuid(id, u + 6);
	free(xml);
}

/* libvirt writes each running domain's QEMU pid to DIR/NAME.pid. */
static bool from_libvirt(pid_t pid, struct vm_ident *id)
{
	const char *dir = libvirt_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[4096], *s;

		if (len < 5 || strcmp(de->d_name + len - 4, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		s = slurp(path, 64, NULL);
		found = s && atoi(s) == pid;
		free(s);
		if (!found)
			continue;
		snprintf(id->name, sizeof(id->name), "%.*s", (int)(len - 4), de->d_name);
		uuid_from_xml(dir, id->name, id);
		snprintf(id->via, sizeof(id->via), "libvirt");
	}
	closedir(d);
	return found;
}

/*
 * KubeVirt runs QEMU in a virt-launcher pod (a "kubepods" cgroup), through the
 * pod's own libvirt, whose domain (and QEMU's -name guest=) is NAMESPACE_NAME;
 * a namespace has no '_', so the first one splits them.
 */
static void from_kubevirt(pid_t pid, struct vm_ident *id)
{
	char path[64], *cg, *us;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	cg = slurp(path, 64 * 1024, NULL);
	if (!cg)
		return;
	us = strchr(id->name, '_');
	if (strstr(cg, "/kubepods") && us && us != id->name && us[1]) {
		*us = '/';
		snprintf(id->via, sizeof(id->via), "kubevirt (pod cgroup, -name)");
	}
	free(cg);
}

void vmid_read(pid_t pid, struct vm_ident *id)
{
	char uuid[VM_UUID_LEN];

	memset(id, 0, sizeof(*id));
	id->pid = (uint32_t)pid;
	from_cmdline(pid, id);
	snprintf(uuid, sizeof(uuid), "%s", id->uuid);
	if (from_libvirt(pid, id)) {
		if (!id->uuid[0])
			snprintf(id->uuid, sizeof(id->uuid), "%s", uuid);
	} else {
		from_kubevirt(pid, id);
	}
	vm_ident_sanitize(id);
}

void vmid_describe(const struct vm_ident *id, char *buf, size_t len)
{
	if (!id->name[0] && !id->uuid[0]) {
		snprintf(buf, len, "vm unnamed (no -name, -uuid or libvirt domain)");
		return;
	}
	snprintf(buf, len, "vm %s%s%s (%s)", id->name[0] ? id->name : "unnamed",
		 id->uuid[0] ? " uuid " : "", id->uuid, id->via);
}

static bool vmid_matches(const struct vm_ident *id, const char *key)
{
	const char *slash = strchr(id->name, '/');

	if (!*key)
		return false;
	return !strcmp(id->name, key) || (id->uuid[0] && !strcasecmp(id->uuid, key)) ||
	       (slash && !strcmp(slash + 1, key));
}

struct find_ctx {
	const char *key;
	pid_t *pids;
	int n, max;
};

static void find_one(pid_t pid, void *ctx)
{
	struct find_ctx *f = ctx;
	struct vm_ident id;

	vmid_read(pid, &id);
	if (f->n < f->max && vmid_matches(&id, f->key))
		f->pids[f->n++] = pid;
}

int vmid_find(const char *key, pid_t *pids, int max, char *err, size_t errlen)
{
	struct find_ctx f = { .key = key, .pids = pids, .max = max };

	proc_scan_qemu(find_one, &f);
	if (!f.n) {
		snprintf(err, errlen, "no QEMU process is VM '%s' (by -name, -uuid, libvirt or "
			 "KubeVirt): give a running VM's name or UUID, or a pid", key);
		return -1;
	}
	return f.n;
}
