// SPDX-License-Identifier: GPL-2.0
/*
 * Attach logic, kept apart from output logic.  One table says which program
 * goes on which symbol or USDT probe for which generation; the generation is
 * read off what the binary offers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "swack.skel.h"
#include "source/attach.h"
#include "source/binfile.h"
#include "source/usdt_args.h"
#include "swack.h"

#define G_SYM (1u << GEN_SYM_72 | 1u << GEN_SYM_8 | 1u << GEN_SYM_111)
#define G_USDT (1u << GEN_USDT | 1u << GEN_USDT_81 | 1u << GEN_USDT_111)
#define G_ALL (G_SYM | G_USDT)

struct uprobe_spec {
	const char *sym;
	const char *prog;
	bool ret;
	unsigned gens;
	bool optional;  /* a feature some builds lack: not listed as missing */
};

/* Uprobes by symbol: the only way into builds without USDT (Debian, Ubuntu). */
static const struct uprobe_spec uprobes[] = {
	{ "migrate_set_state", "up_migrate_set_state", false, G_SYM, false },
	{ "qemu_savevm_state_pending", "up_pending_72", false, 1u << GEN_SYM_72, false },
	{ "qemu_savevm_state_pending", "up_pending_ret", true, 1u << GEN_SYM_72, false },
	{ "qemu_savevm_state_pending_estimate", "up_pending_estimate", false, 1u << GEN_SYM_8, false },
	{ "qemu_savevm_state_pending_estimate", "up_pending_ret", true, 1u << GEN_SYM_8, false },
	{ "qemu_savevm_state_pending_exact", "up_pending_exact", false, 1u << GEN_SYM_8, false },
	{ "qemu_savevm_state_pending_exact", "up_pending_ret", true, 1u << GEN_SYM_8, false },
	{ "memory_global_dirty_log_sync", "up_dirty_sync", false, G_SYM, false },
	{ "vm_stop_force_state", "up_vm_stop_force_state", false, G_ALL, false },
	{ "vm_stop_force_state", "up_vm_stop_force_state_ret", true, G_SYM, false },
	{ "vm_start", "up_vm_start", false, G_SYM, false },
	{ "vm_start", "up_vm_start_ret", true, G_SYM, false },
	{ "runstate_set", "up_runstate_set", false, G_SYM, false },
	{ "qemu_savevm_state_setup", "up_save_setup", false, G_SYM, false },
	{ "qemu_savevm_state_complete_precopy", "up_save_complete", false, G_SYM, false },
	{ "qemu_savevm_state_complete_precopy", "up_save_complete_ret", true, G_SYM, false },
	{ "qemu_loadvm_state", "up_load_begin", false, G_SYM, false },
	{ "qemu_loadvm_state", "up_load_end", true, G_SYM, false },
	/* Background snapshots (QEMU 6.0+, Linux with userfaultfd write-protect). */
	{ "ram_write_tracking_start", "up_wt_start", false, G_SYM, true },
	{ "ram_write_tracking_start", "up_wt_start_ret", true, G_SYM, true },
	{ "ram_write_tracking_stop", "up_wt_stop", false, G_SYM, true },
	{ "qemu_savevm_state_iterate", "up_savevm_iterate", false, G_SYM, true },
};

struct usdt_spec {
	const char *probe;
	const char *prog;
	unsigned gens;
	__u64 cookie;   /* for programs that serve several probes */
	/* Where libbpf cannot parse the spec: the event, and each argument's
	 * place in it, for swack's own decoder.  kind 0: no fallback. */
	__u16 kind;
	__u8 dests[4];
	bool optional;  /* a feature some builds lack: not listed as missing */
};

#define USDT(probe, prog, gens) { probe, prog, gens, 0, 0, { 0 }, false }
#define VFIO(probe, op) { probe, "usdt_vfio_op", G_USDT, op, 0, { 0 }, false }
/* Background snapshots: QEMU 6.0 and later. */
#define WT(probe, stop) { probe, "usdt_wt_ramblock", G_USDT, stop, 0, { 0 }, true }

static const struct usdt_spec usdts[] = {
	USDT("migrate_set_state", "usdt_migrate_set_state", G_USDT),
	USDT("migrate_pending_estimate", "usdt_pending_estimate", G_USDT),
	USDT("migrate_pending_exact", "usdt_pending_exact", G_USDT),
	USDT("qemu_savevm_query_pending", "usdt_query_pending", 1u << GEN_USDT_111),
	USDT("migration_bitmap_sync_start", "usdt_dirty_sync", G_USDT),
	USDT("migration_thread_low_pending", "usdt_low_pending", G_USDT),
	USDT("migrate_transferred", "usdt_transferred", G_USDT),
	USDT("migration_completion_vm_stop", "usdt_completion_vm_stop", G_USDT),
	USDT("loadvm_state_switchover_ack_needed", "usdt_ack_needed", G_USDT),
	USDT("loadvm_approve_switchover", "usdt_approve_count", 1u << GEN_USDT_81),
	USDT("loadvm_approve_switchover", "usdt_approve_name", 1u << GEN_USDT_111),
	USDT("loadvm_approve_switchover_legacy", "usdt_approve_legacy", 1u << GEN_USDT_111),
	USDT("source_return_path_thread_switchover_acked", "usdt_acked", G_USDT),
	USDT("savevm_send_switchover_start", "usdt_switchover_start", G_USDT),
	USDT("vmstate_downtime_checkpoint", "usdt_checkpoint", G_USDT),
	USDT("vmstate_downtime_save", "usdt_vmstate_save", G_USDT),
	USDT("vmstate_downtime_load", "usdt_vmstate_load", G_USDT),
	USDT("vfio_state_pending_estimate", "usdt_vfio_pending_estimate", G_USDT),
	USDT("vfio_state_pending_exact", "usdt_vfio_pending_exact", G_USDT),
	USDT("vfio_save_iterate", "usdt_vfio_save_iterate", G_USDT),
	{ "vfio_migration_set_state", "usdt_vfio_state", G_USDT, 0, 0, { 0 }, false },
	{ "vfio_migration_set_device_state", "usdt_vfio_state", G_USDT, 1, 0, { 0 }, false },
	VFIO("vfio_save_setup", SWACK_VFIO_SAVE_SETUP),
	VFIO("vfio_save_block", SWACK_VFIO_SAVE_BLOCK),
	VFIO("vfio_save_complete_precopy", SWACK_VFIO_SAVE_COMPLETE),
	VFIO("vfio_load_state", SWACK_VFIO_LOAD_STATE),
	VFIO("vfio_load_state_device_data", SWACK_VFIO_LOAD_DEVICE_DATA),
	VFIO("vfio_save_complete_precopy_thread_start", SWACK_VFIO_SAVE_THREAD_START),
	VFIO("vfio_save_complete_precopy_thread_end", SWACK_VFIO_SAVE_THREAD_END),
	VFIO("vfio_load_state_device_buffer_incoming", SWACK_VFIO_BUF_INCOMING),
	VFIO("vfio_load_state_device_buffer_starved", SWACK_VFIO_BUF_STARVED),
	VFIO("vfio_load_state_device_buffer_load_start", SWACK_VFIO_BUF_LOAD_START),
	VFIO("vfio_load_state_device_buffer_load_end", SWACK_VFIO_BUF_LOAD_END),
	VFIO("vfio_load_bufs_thread_start", SWACK_VFIO_LOAD_THREAD_START),
	VFIO("vfio_load_bufs_thread_end", SWACK_VFIO_LOAD_THREAD_END),
	{ "runstate_set", "usdt_runstate_set", G_USDT, 0, SWACK_EV_RUNSTATE,
	  { SWACK_TO_A0, SWACK_TO_NONE, SWACK_TO_A1, SWACK_TO_STR }, false },
	USDT("vm_state_notify", "usdt_vm_state_notify", G_USDT),
	WT("ram_write_tracking_ramblock_start", 0),
	WT("ram_write_tracking_ramblock_stop", 1),
};

/* Fallback names where the process's own QAPI tables cannot be read (7.2). */
static const char *const mig_names_72[] = {
	"none", "setup", "cancelling", "cancelled", "active", "postcopy-active",
	"postcopy-paused", "postcopy-recover", "completed", "failed", "colo",
	"pre-switchover", "device", "wait-unplug",
};
static const char *const run_names_72[] = {
	"debug", "inmigrate", "internal-error", "io-error", "paused", "postmigrate",
	"prelaunch", "finish-migrate", "restore-vm", "running", "save-vm",
	"shutdown", "suspended", "watchdog", "guest-panicked", "colo",
};

const char *gen_name(enum qemu_gen g)
{
	static const char *const names[] = {
		[GEN_NONE] = "unknown",
		[GEN_SYM_72] = "QEMU <=7.2 (symbols)",
		[GEN_SYM_8] = "QEMU 8.0-11.0 (symbols)",
		[GEN_SYM_111] = "QEMU 11.1+ (symbols)",
		[GEN_USDT] = "QEMU dtrace build before 8.1 (USDT)",
		[GEN_USDT_81] = "QEMU 8.1-11.0 (USDT, legacy switchover-ack)",
		[GEN_USDT_111] = "QEMU 11.1+ (USDT, per-device switchover-ack)",
	};
	return names[g];
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int verbose_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

int attach_open(struct attacher *a, bool verbose, FILE *log, char *err, size_t errlen)
{
	struct bpf_program *kprogs[ATTACH_KERNEL_PROGS];
	uint64_t lo = 0, hi = 0;
	int ret;

	memset(a, 0, sizeof(*a));
	a->verbose = verbose;
	a->log = log;
	libbpf_set_print(verbose ? verbose_print : silent_print);
	a->skel = swack_bpf__open();
	if (a->skel) {
		/* Without it, faults are counted but stall times are not measured. */
		if (kallsyms_range("handle_userfault", &lo, &hi))
			fprintf(log, "swack: handle_userfault not in /proc/kallsyms: background "
				"snapshot stall times will not be measured\n");
		a->skel->rodata->uffd_wait_lo = lo;
		a->skel->rodata->uffd_wait_hi = hi;
		if (swack_bpf__load(a->skel)) {
			swack_bpf__destroy(a->skel);
			a->skel = NULL;
		}
	}
	if (!a->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot load the BPF programs: %s (rerun with -v for the "
			 "verifier log)", strerror(errno));
		return ret;
	}
	kprogs[0] = a->skel->progs.sendmsg_enter;
	kprogs[1] = a->skel->progs.sendmsg_exit;
	kprogs[2] = a->skel->progs.handle_exec;
	kprogs[3] = a->skel->progs.handle_exit;
	kprogs[4] = a->skel->progs.vfio_ioctl_enter;
	kprogs[5] = a->skel->progs.vfio_ioctl_exit;
	kprogs[6] = a->skel->progs.data_read_enter;
	kprogs[7] = a->skel->progs.data_read_exit;
	kprogs[8] = a->skel->progs.data_write_enter;
	kprogs[9] = a->skel->progs.data_write_exit;
	kprogs[10] = a->skel->progs.data_close;
	kprogs[11] = a->skel->progs.data_writev_enter;
	kprogs[12] = a->skel->progs.data_writev_exit;
	kprogs[13] = a->skel->progs.uffd_switch;
	kprogs[14] = a->skel->progs.uffd_waking;
	for (int i = 0; i < ATTACH_KERNEL_PROGS; i++) {
		a->kernel_links[i] = bpf_program__attach(kprogs[i]);
		if (!a->kernel_links[i]) {
			ret = -errno;
			snprintf(err, errlen, "cannot attach kernel program %s: %s",
				 bpf_program__name(kprogs[i]), strerror(errno));
			return ret;
		}
	}
	return 0;
}

/*
 * Closing a uprobe link waits for an RCU grace period, serialized in the
 * kernel: about 110 ms a link here, seconds for a few dozen.  A child holding
 * copies of the descriptors makes the last close its own: this process exits
 * at once and the probes go in the background, already disabled.
 */
static void release_in_background(void)
{
	pid_t parent = getpid();

	int null;

	if (fork() != 0)
		return;
	/* Whoever reads this process's output must not wait for the child. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	while (getppid() == parent)
		usleep(10000);
	_exit(0);
}

void attach_close(struct attacher *a)
{
	if (a->nbins)
		release_in_background();
	for (int i = 0; i < a->ntargets; i++)
		vfio_fds_free(&a->targets[i].vfio);
	for (int i = 0; i < a->nbins; i++)
		for (int k = 0; k < a->bins[i].nlinks; k++)
			bpf_link__destroy(a->bins[i].links[k]);
	for (int i = 0; i < ATTACH_KERNEL_PROGS; i++)
		bpf_link__destroy(a->kernel_links[i]);
	free(a->targets);
	free(a->bins);
	swack_bpf__destroy(a->skel);
	memset(a, 0, sizeof(*a));
}

struct target *attach_target(struct attacher *a, pid_t pid)
{
	for (int i = 0; i < a->ntargets; i++)
		if (a->targets[i].pid == pid)
			return &a->targets[i];
	return NULL;
}

static enum qemu_gen gen_from_usdt(const struct elf_info *info)
{
	const struct usdt_note *acked =
		elf_find_note(info, "source_return_path_thread_switchover_acked");

	if (!info->nnotes || !elf_find_note(info, "migrate_set_state"))
		return GEN_NONE;
	if (elf_find_note(info, "loadvm_approve_switchover_legacy") ||
	    elf_find_note(info, "qemu_savevm_query_pending") ||
	    (acked && acked->nargs == 1))
		return GEN_USDT_111;
	if (elf_find_note(info, "loadvm_state_switchover_ack_needed"))
		return GEN_USDT_81;
	return GEN_USDT;
}

static const char *const gen_syms[] = {
	"qemu_savevm_query_pending_iter", "qemu_savevm_state_pending_estimate",
	"qemu_savevm_state_pending",
};

static enum qemu_gen gen_from_syms(const struct sym_loc *locs)
{
	if (locs[0].offset)
		return GEN_SYM_111;
	if (locs[1].offset)
		return GEN_SYM_8;
	if (locs[2].offset)
		return GEN_SYM_72;
	return GEN_NONE;
}

static void add_missing(struct binary *b, const char *what)
{
	size_t len = strlen(b->missing);

	snprintf(b->missing + len, sizeof(b->missing) - len, "%s%s", len ? ", " : "", what);
}

static void add_decoded(struct binary *b, const char *what)
{
	size_t len = strlen(b->decoded);

	snprintf(b->decoded + len, sizeof(b->decoded) - len, "%s%s", len ? ", " : "", what);
}

static void add_link(struct binary *b, struct bpf_link *l, const char *what)
{
	if (!l || b->nlinks >= TARGET_MAX_LINKS) {
		add_missing(b, what);
		bpf_link__destroy(l);
		return;
	}
	b->links[b->nlinks++] = l;
}

/* pid -1: every process running the binary; BPF filters on the watched ones. */
static void attach_uprobes(struct attacher *a, struct binary *b, const char *exe,
			   const struct sym_loc *locs)
{
	for (size_t i = 0; i < sizeof(uprobes) / sizeof(uprobes[0]); i++) {
		const struct uprobe_spec *u = &uprobes[i];
		struct bpf_program *p;

		if (!(u->gens & (1u << b->gen)))
			continue;
		if (!locs[i].offset) {
			if (!u->optional)
				add_missing(b, u->sym);
			continue;
		}
		p = bpf_object__find_program_by_name(a->skel->obj, u->prog);
		add_link(b, bpf_program__attach_uprobe(p, u->ret, -1, exe, locs[i].offset),
			 u->sym);
	}
}

/* Link-time address of a global named in a RIP-relative argument spec: BPF
 * adds each process's load address (swack_proc.exe_base). */
static int resolve_global(void *ctx, const char *sym, uint64_t *addr)
{
	const char *exe = ctx;
	struct elf_info scratch = { 0 };
	struct sym_loc loc;
	char err[256];

	if (elf_resolve(exe, &sym, 1, &loc, &scratch, err, sizeof(err)) || !loc.vaddr)
		return -1;
	*addr = loc.vaddr;
	return 0;
}

/* Every site of the probe as a plain uprobe, its semaphore raised the way
 * libbpf does it, the decoded spec found through the attach cookie. */
static int attach_decoded(struct attacher *a, struct binary *b, const char *exe,
			  const struct elf_info *info, const struct usdt_note *n,
			  const struct usdt_spec *u, char *why, size_t len)
{
	struct swack_usdt_spec spec = { .kind = u->kind };
	__u64 cookie = ++a->cookies;

	if (usdt_args_parse(n->args, &spec, resolve_global, (void *)exe, why, len))
		return -1;
	for (int i = 0; i < spec.nargs && i < 4; i++)
		spec.args[i].dest = u->dests[i];
	if (bpf_map__update_elem(a->skel->maps.usdt_specs, &cookie, sizeof(cookie), &spec,
				 sizeof(spec), BPF_ANY)) {
		snprintf(why, len, "cannot store its spec: %s", strerror(errno));
		return -1;
	}
	for (; n; n = elf_next_note(info, n)) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie,
			    .ref_ctr_offset = n->sem_offset);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(a->skel->progs.usdt_decoded,
								     -1, exe, n->pc_offset, &opts);
		if (!l) {
			snprintf(why, len, "uprobe at 0x%llx: %s",
				 (unsigned long long)n->pc_offset, strerror(errno));
			return -1;
		}
		add_link(b, l, u->probe);
	}
	return 0;
}

static void attach_usdts(struct attacher *a, struct binary *b, const char *exe,
			 const struct elf_info *info)
{
	char what[512], why[160];

	for (size_t i = 0; i < sizeof(usdts) / sizeof(usdts[0]); i++) {
		const struct usdt_spec *u = &usdts[i];
		const struct usdt_note *n = elf_find_note(info, u->probe);
		struct bpf_program *p;

		if (!(u->gens & (1u << b->gen)))
			continue;
		snprintf(what, sizeof(what), "qemu:%s", u->probe);
		if (!n) {
			if (!u->optional)
				add_missing(b, what);
		} else if (n->parsable) {
			LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = u->cookie);

			p = bpf_object__find_program_by_name(a->skel->obj, u->prog);
			add_link(b, bpf_program__attach_usdt(p, -1, exe, "qemu", u->probe, &opts),
				 what);
		} else if (u->kind && !attach_decoded(a, b, exe, info, n, u, why, sizeof(why))) {
			add_decoded(b, u->probe);
		} else {
			snprintf(what, sizeof(what), "qemu:%s (argument spec '%s' %s)", u->probe,
				 n->args, u->kind ? why : "not decodable by libbpf 1.1");
			add_missing(b, what);
		}
	}
}

static void copy_table(struct name_table *t, const char *const *names, int n)
{
	t->n = n;
	for (int i = 0; i < n; i++)
		snprintf(t->names[i], PROC_ENUM_LEN, "%s", names[i]);
}

static void read_names(struct target *t, uint64_t mig_vaddr, uint64_t run_vaddr)
{
	uint64_t base = proc_exe_base(t->pid);

	if (!mig_vaddr || proc_read_enum(t->pid, base + mig_vaddr, &t->mig_names))
		copy_table(&t->mig_names, mig_names_72, 14);
	if (!run_vaddr || proc_read_enum(t->pid, base + run_vaddr, &t->run_names))
		copy_table(&t->run_names, run_names_72, 16);
}

#define NSYMS (sizeof(uprobes) / sizeof(uprobes[0]))

/* Symbol look-ups: the uprobe table, then generation markers, then enum tables. */
static int resolve_all(const char *exe, struct sym_loc *locs, struct elf_info *info,
		       char *err, size_t errlen)
{
	const char *names[NSYMS + 5];

	for (size_t i = 0; i < NSYMS; i++)
		names[i] = uprobes[i].sym;
	for (size_t i = 0; i < 3; i++)
		names[NSYMS + i] = gen_syms[i];
	names[NSYMS + 3] = "MigrationStatus_lookup";
	names[NSYMS + 4] = "RunState_lookup";
	return elf_resolve(exe, names, NSYMS + 5, locs, info, err, errlen);
}

static struct target *new_target(struct attacher *a, pid_t pid)
{
	struct target *t = realloc(a->targets, (a->ntargets + 1) * sizeof(*t));

	if (!t)
		return NULL;
	a->targets = t;
	t = &a->targets[a->ntargets++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	proc_comm(pid, t->comm, sizeof(t->comm));
	vmid_read(pid, &t->vm);
	return t;
}

static int check_pid(pid_t pid, char *err, size_t errlen)
{
	char comm[32] = "";

	if (!proc_exists(pid)) {
		snprintf(err, errlen, "no process with pid %d", pid);
		return -ESRCH;
	}
	if (!proc_is_qemu(pid)) {
		proc_comm(pid, comm, sizeof(comm));
		snprintf(err, errlen, "pid %d (%s) is not a QEMU system emulator: give the pid "
			 "of a qemu-system-* process", pid, comm);
		return -EINVAL;
	}
	return 0;
}

static int watch_pid(struct attacher *a, pid_t pid, const struct binary *b)
{
	struct swack_proc p = { .role = proc_incoming(pid) ? SWACK_ROLE_DST : 0,
				.exe_base = b->pie ? proc_exe_base(pid) : 0 };
	__u32 key = pid;

	return bpf_map__update_elem(a->skel->maps.procs, &key, sizeof(key), &p, sizeof(p),
				    BPF_ANY);
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void report_target(struct attacher *a, const struct target *t, const struct binary *b,
			  double ms, bool reused)
{
	char line[4400], exe[4096], vm[320];

	snprintf(line, sizeof(line), "%s; watched in %.1f ms", b->report, ms);
	if (reused)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 ", probes of its binary already in place (%d process%s)", b->users,
			 b->users > 1 ? "es" : "");
	vmid_describe(&t->vm, vm, sizeof(vm));
	fprintf(a->log, "swack: pid %d (%s): %s; %s\n", t->pid, t->comm, line, vm);
	if (!a->attached)
		return;
	if (proc_exe_path(t->pid, exe, sizeof(exe)))
		snprintf(exe, sizeof(exe), "/proc/%d/exe", t->pid);
	a->attached(a->ctx, t, exe, line);
}

static int find_binary(struct attacher *a, const struct stat *st)
{
	for (int i = 0; i < a->nbins; i++)
		if (a->bins[i].dev == st->st_dev && a->bins[i].ino == st->st_ino)
			return i;
	return -1;
}

static int no_probes(pid_t pid, const char *exe, char *err, size_t errlen)
{
	char path[4096];

	if (proc_exe_path(pid, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", exe);
	snprintf(err, errlen, "pid %d: %s has neither QEMU USDT probes nor QEMU function "
		 "symbols (install its debuginfo, or use a build with symbols)", pid, path);
	return -ENOENT;
}

static void describe_binary(struct binary *b, const struct elf_info *info)
{
	snprintf(b->report, sizeof(b->report), "%s, %zu functions from %s, %zu USDT probes: "
		 "%d probes attached%s%s; missing: %s", gen_name(b->gen), info->nsyms,
		 info->symsrc, info->nnotes, b->nlinks,
		 b->decoded[0] ? "; argument specs decoded by swack: " : "", b->decoded,
		 b->missing[0] ? b->missing : "none");
}

/* First process of a binary: what it offers, and the probes, for everyone. */
static int new_binary(struct attacher *a, pid_t pid, const char *exe, const struct stat *st,
		      char *err, size_t errlen)
{
	struct sym_loc locs[NSYMS + 5];
	struct elf_info info;
	struct binary *b;
	int ret;

	ret = elf_open_info(exe, &info, err, errlen);
	if (!ret)
		ret = resolve_all(exe, locs, &info, err, errlen);
	if (ret)
		goto out;
	b = realloc(a->bins, (a->nbins + 1) * sizeof(*b));
	ret = -ENOMEM;
	if (!b)
		goto out;
	a->bins = b;
	b = &a->bins[a->nbins];
	memset(b, 0, sizeof(*b));
	b->gen = gen_from_usdt(&info);
	if (b->gen == GEN_NONE)
		b->gen = gen_from_syms(&locs[NSYMS]);
	ret = b->gen == GEN_NONE ? no_probes(pid, exe, err, errlen) : 0;
	if (ret)
		goto out;
	b->dev = st->st_dev;
	b->ino = st->st_ino;
	b->pie = info.pie;
	b->mig_lookup = locs[NSYMS + 3].vaddr;
	b->run_lookup = locs[NSYMS + 4].vaddr;
	if (b->gen >= GEN_USDT)
		attach_usdts(a, b, exe, &info);
	attach_uprobes(a, b, exe, locs);
	describe_binary(b, &info);
	ret = a->nbins++;
out:
	elf_free_info(&info);
	return ret;
}

int attach_pid(struct attacher *a, pid_t pid, char *err, size_t errlen)
{
	double t0 = mono_ms();
	struct stat st;
	struct target *t;
	char exe[64];
	int ret, bin;
	bool reused;

	if (attach_target(a, pid))
		return 0;
	ret = check_pid(pid, err, errlen);
	if (ret)
		return ret;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, &st)) {
		snprintf(err, errlen, "pid %d: cannot read %s: %s", pid, exe, strerror(errno));
		return -errno;
	}
	bin = find_binary(a, &st);
	reused = bin >= 0;
	if (bin < 0)
		bin = new_binary(a, pid, exe, &st, err, errlen);
	if (bin < 0)
		return bin;
	t = new_target(a, pid);
	if (!t)
		return -ENOMEM;
	ret = watch_pid(a, pid, &a->bins[bin]);
	if (ret) {
		snprintf(err, errlen, "pid %d: cannot watch: %s", pid, strerror(-ret));
		a->ntargets--;
		return ret;
	}
	t->bin = bin;
	t->gen = a->bins[bin].gen;
	a->bins[bin].users++;
	read_names(t, a->bins[bin].mig_lookup, a->bins[bin].run_lookup);
	report_target(a, t, &a->bins[bin], mono_ms() - t0, reused);
	return 0;
}

void attach_forget(struct attacher *a, pid_t pid)
{
	struct target *t = attach_target(a, pid);
	__u32 key = pid;

	if (!t)
		return;
	/* The binary's probes stay until swack exits: detaching them would stall
	 * this thread for seconds, and the next QEMU is often the same binary. */
	a->bins[t->bin].users--;
	bpf_map__delete_elem(a->skel->maps.procs, &key, sizeof(key), 0);
	bpf_map__delete_elem(a->skel->maps.txbytes, &key, sizeof(key), 0);
	vfio_fds_free(&t->vfio);
	*t = a->targets[--a->ntargets];
}

static void name_of(const struct name_table *t, __u64 v, char *out)
{
	if (v < (__u64)t->n)
		snprintf(out, SWACK_STR_LEN, "%s", t->names[v]);
	else
		snprintf(out, SWACK_STR_LEN, "#%llu", (unsigned long long)v);
}

void attach_normalize(struct attacher *a, struct swack_event *e)
{
	struct target *t;

	t = attach_target(a, e->pid);
	if (!t)
		return;
	if (e->kind == SWACK_EV_VFIO_IOCTL || e->kind == SWACK_EV_VFIO_DATA) {
		vfio_fds_note(&t->vfio, t->pid, e);
		return;
	}
	if (e->origin != SWACK_ORIGIN_UPROBE || e->str[0])
		return;
	if (e->kind == SWACK_EV_MIG_STATE)
		name_of(&t->mig_names, e->a[1], e->str);
	else if (e->kind == SWACK_EV_RUNSTATE)
		name_of(&t->run_names, e->a[1], e->str);
	else if (e->kind == SWACK_EV_VM_STOP)
		name_of(&t->run_names, e->a[0], e->str);
}
