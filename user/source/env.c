// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
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

int env_keep_caps(const cap_value_t *keep, int n)
{
	cap_t caps = cap_init();
	int ret = -1;

	if (!caps)
		return -1;
	if (cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET))
		goto out;
	/* The bounding set too, so that nothing this process execs gets more. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (int i = 0; i < n; i++)
			kept |= keep[i] == c;
		if (!kept && CAP_IS_SUPPORTED(c))
			cap_drop_bound(c);
	}
	ret = cap_set_proc(caps);
out:
	cap_free(caps);
	return ret;
}
