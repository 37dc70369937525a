// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "source/env.h"

static bool has_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

/*
 * BPF and uprobe perf events want CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN
 * covers both); reading another process's /proc/PID/exe and mem wants
 * CAP_SYS_PTRACE.
 */
int env_check_caps(char *err, size_t errlen)
{
	static const struct { cap_value_t cap; const char *name; } need[] = {
		{ CAP_BPF, "CAP_BPF" }, { CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	};
	cap_t caps = cap_get_proc();
	char missing[128] = "";
	bool admin;

	if (!caps) {
		snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	admin = has_cap(caps, CAP_SYS_ADMIN);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (has_cap(caps, need[i].cap) || (admin && need[i].cap != CAP_SYS_PTRACE))
			continue;
		size_t len = strlen(missing);
		snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? ", " : "",
			 need[i].name);
	}
	cap_free(caps);
	if (!missing[0])
		return 0;
	snprintf(err, errlen, "missing capability %s: run swack as root (sudo) or grant "
		 "cap_bpf,cap_perfmon,cap_sys_ptrace", missing);
	return -1;
}

int env_check_btf(char *err, size_t errlen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	snprintf(err, errlen, "kernel without BTF (/sys/kernel/btf/vmlinux: %s): swack needs a "
		 "kernel built with CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
	return -1;
}

/* The bounding set, so that nothing this process execs gets more; while
 * CAP_SETPCAP is still effective. */
static void drop_bound(const cap_value_t *keep, int n)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (int i = 0; i < n; i++)
			kept |= keep[i] == c;
		if (!kept && CAP_IS_SUPPORTED(c))
			cap_drop_bound(c);
	}
}

int env_keep_caps(const cap_value_t *keep, int n)
{
	cap_t caps = cap_init();
	int ret = -1;

	if (!caps)
		return -1;
	if (cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET))
		goto out;
	drop_bound(keep, n);
	ret = cap_set_proc(caps);
	cap_reset_ambient();
out:
	cap_free(caps);
	return ret;
}

/* Root becomes user, keeping its permitted capabilities across the switch
 * (PR_SET_KEEPCAPS) for env_keep_caps to narrow. */
static int become(const struct passwd *pw, char *err, size_t errlen)
{
	int e;

	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (setgroups(0, NULL) || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid)) {
		e = errno;
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		snprintf(err, errlen, "cannot switch to user %s: %s", pw->pw_name, strerror(e));
		errno = e;
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

int env_drop(const cap_value_t *keep, int n, const char *user, char *err, size_t errlen,
	     char *note, size_t notelen)
{
	const char *name = user ? user : "nobody";
	struct passwd *pw = getpwnam(name);
	char why[256];

	note[0] = 0;
	if (!pw) {
		snprintf(err, errlen, "no user '%s' to run as once attached: give one with "
			 "--user", name);
		return -1;
	}
	drop_bound(keep, n);
	/* Root switches; a caller that is not root already is someone. */
	if ((getuid() == 0 || user) && pw->pw_uid != getuid() && become(pw, why, sizeof(why))) {
		if (user || errno != EPERM) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		/* Root without CAP_SETUID (a service's bounding set): said, not hidden. */
		snprintf(note, notelen, "%s (no CAP_SETUID or CAP_SETGID): stays uid 0, with only "
			 "the capabilities it still needs", why);
	}
	if (env_keep_caps(keep, n) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot drop privileges: %s", strerror(errno));
		return -1;
	}
	return 0;
}
