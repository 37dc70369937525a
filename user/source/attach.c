// SPDX-License-Identifier: GPL-2.0
/*
 * Attach logic, kept apart from output logic.  One table says which program
 * goes on which symbol or USDT probe for which generation; the generation is
 * read off what the binary offers.
 */
#include <errno.h>
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
#include "source/codefacts.h"
#include "source/attach_plan.h"
#include "source/usdt_args.h"
#include "swack.h"
#include "util/clock.h"
#include "util/term.h"

#define G_SYM (1u << GEN_SYM_72 | 1u << GEN_SYM_8 | 1u << GEN_SYM_111)
#define G_USDT (1u << GEN_USDT | 1u << GEN_USDT_81 | 1u << GEN_USDT_111)
#define G_ALL (G_SYM | G_USDT)

struct uprobe_spec {
	const char *sym;
	const char *prog;
	bool ret;
	unsigned gens;
	bool optional;  /* a feature some builds lack: not listed as missing */
	__u64 cookie;   /* for programs that serve several functions */
};

/* Postcopy (every QEMU since 2.5 exports these): the cookie is the step. */
#define PC(sym, prog, ret, step) { sym, prog, ret, G_SYM, false, step }

/* Uprobes by symbol: the only way into builds without USDT (Debian, Ubuntu). */
static const struct uprobe_spec uprobes[] = {
	{ "migrate_set_state", "up_migrate_set_state", false, G_SYM, false, 0 },
	{ "qemu_savevm_state_pending", "up_pending_72", false, 1u << GEN_SYM_72, false, 0 },
	{ "qemu_savevm_state_pending", "up_pending_ret", true, 1u << GEN_SYM_72, false, 0 },
	{ "qemu_savevm_state_pending_estimate", "up_pending_estimate", false, 1u << GEN_SYM_8, false, 0 },
	{ "qemu_savevm_state_pending_estimate", "up_pending_ret", true, 1u << GEN_SYM_8, false, 0 },
	{ "qemu_savevm_state_pending_exact", "up_pending_exact", false, 1u << GEN_SYM_8, false, 0 },
	{ "qemu_savevm_state_pending_exact", "up_pending_ret", true, 1u << GEN_SYM_8, false, 0 },
	{ "memory_global_dirty_log_sync", "up_dirty_sync", false, G_SYM, false, 0 },
	{ "vm_stop_force_state", "up_vm_stop_force_state", false, G_ALL, false, 0 },
	{ "vm_stop_force_state", "up_vm_stop_force_state_ret", true, G_SYM, false, 0 },
	{ "vm_start", "up_vm_start", false, G_SYM, false, 0 },
	{ "vm_start", "up_vm_start_ret", true, G_SYM, false, 0 },
	{ "runstate_set", "up_runstate_set", false, G_SYM, false, 0 },
	{ "qemu_savevm_state_setup", "up_save_setup", false, G_SYM, false, 0 },
	{ "qemu_savevm_state_complete_precopy", "up_save_complete", false, G_SYM, false, 0 },
	{ "qemu_savevm_state_complete_precopy", "up_save_complete_ret", true, G_SYM, false, 0 },
	{ "qemu_loadvm_state", "up_load_begin", false, G_SYM, false, 0 },
	{ "qemu_loadvm_state", "up_load_end", true, G_SYM, false, 0 },
	/* Background snapshots (QEMU 6.0+, Linux with userfaultfd write-protect). */
	{ "ram_write_tracking_start", "up_wt_start", false, G_SYM, true, 0 },
	{ "ram_write_tracking_start", "up_wt_start_ret", true, G_SYM, true, 0 },
	{ "ram_write_tracking_stop", "up_wt_stop", false, G_SYM, true, 0 },
	{ "qemu_savevm_state_iterate", "up_savevm_iterate", false, G_SYM, true, 0 },
	/* Switchover-ack, legacy scheme (8.1-11.0; 8.0 has neither). */
	{ "qemu_loadvm_approve_switchover", "up_ack_approve", false, 1u << GEN_SYM_8, true, 0 },
	{ "migrate_send_rp_switchover_ack", "up_ack_sent", false, 1u << GEN_SYM_8, true, 0 },
	/* Postcopy: the switch, page requests and discards, pause and recovery. */
	PC("qmp_migrate_start_postcopy", "up_pc_step", false, SWACK_PC_START_CMD),
	PC("ram_postcopy_send_discard_bitmap", "up_pc_step", false, SWACK_PC_DISCARD_BITMAP),
	PC("ram_postcopy_send_discard_bitmap", "up_pc_step_ret", true, SWACK_PC_DISCARD_BITMAP),
	PC("qemu_savevm_send_postcopy_listen", "up_pc_step", false, SWACK_PC_LISTEN_SENT),
	PC("qemu_savevm_send_postcopy_run", "up_pc_step", false, SWACK_PC_RUN_SENT),
	PC("qemu_savevm_send_packaged", "up_pc_step", false, SWACK_PC_PACKAGE_SENT),
	PC("qemu_savevm_send_packaged", "up_pc_step_ret", true, SWACK_PC_PACKAGE_SENT),
	PC("qemu_savevm_state_complete_postcopy", "up_pc_step", false, SWACK_PC_COMPLETE),
	PC("qemu_savevm_send_postcopy_resume", "up_pc_step", false, SWACK_PC_RESUME_SENT),
	PC("qmp_migrate_pause", "up_pc_step", false, SWACK_PC_PAUSE_CMD),
	PC("qmp_migrate_recover", "up_pc_step", false, SWACK_PC_RECOVER_CMD),
	PC("postcopy_state_set", "up_pc_state", false, 0),
	/* it sets DISCARD itself, where postcopy_state_set may be inlined */
	PC("postcopy_ram_prepare_discard", "up_pc_step", false, SWACK_PC_DST_DISCARD),
	PC("migrate_send_rp_message_req_pages", "up_pc_req_msg", false, 0),
	PC("ram_save_queue_pages", "up_pc_queue_pages", false, 0),
	PC("ram_discard_range", "up_pc_discard", false, 0),
	/* QEMU's bandwidth window, where it does not trace its figure. */
	{ "qemu_file_reset_rate_limit", "up_rate_reset", false, 1u << GEN_SYM_72, false, 0 },
	{ "migration_rate_reset", "up_rate_reset", false,
	  1u << GEN_SYM_8 | 1u << GEN_SYM_111, false, 0 },
	/* TCG: where a vCPU enters guest code (the guest runs again after a start);
	 * KVM is seen from the KVM_RUN ioctl, whatever the binary offers. */
	{ "cpu_exec", "up_cpu_exec", false, G_ALL, true, 0 },
};

struct usdt_spec {
	const char *probe;
	const char *prog;
	unsigned gens;
	__u64 cookie;   /* for programs that serve several probes */
	bool optional;  /* a feature some builds lack: not listed as missing */
};

#define USDT(probe, prog, gens) { probe, prog, gens, 0, false }
#define VFIO(probe, op) { probe, "usdt_vfio_op", G_USDT, op, false }
/* Background snapshots: QEMU 6.0 and later. */
#define WT(probe, stop) { probe, "usdt_wt_ramblock", G_USDT, stop, true }
/* Postcopy steps, by enum swack_pc_step. */
#define PCS(probe, step) { probe, "usdt_pc_step", G_USDT, step, false }
/* QEMU's blocktime accounting as 10.1 reworked it (earlier builds name it
 * mark_postcopy_blocktime_*, with other arguments: not attached). */
#define PCBT(probe, prog, cookie) { probe, prog, G_USDT, cookie, true }

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
	{ "vfio_migration_set_state", "usdt_vfio_state", G_USDT, 0, false },
	{ "vfio_migration_set_device_state", "usdt_vfio_state", G_USDT, 1, false },
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
	USDT("runstate_set", "usdt_runstate_set", G_USDT),
	USDT("vm_state_notify", "usdt_vm_state_notify", G_USDT),
	WT("ram_write_tracking_ramblock_start", 0),
	WT("ram_write_tracking_ramblock_stop", 1),
	PCS("qmp_enter_migrate_start_postcopy", SWACK_PC_START_CMD),
	PCS("ram_postcopy_send_discard_bitmap", SWACK_PC_DISCARD_BITMAP),
	PCS("savevm_send_postcopy_listen", SWACK_PC_LISTEN_SENT),
	PCS("savevm_send_postcopy_run", SWACK_PC_RUN_SENT),
	PCS("qemu_savevm_send_packaged", SWACK_PC_PACKAGE_SENT),
	PCS("migration_completion_postcopy_end", SWACK_PC_COMPLETE),
	PCS("savevm_send_postcopy_resume", SWACK_PC_RESUME_SENT),
	PCS("qmp_enter_migrate_pause", SWACK_PC_PAUSE_CMD),
	PCS("qmp_enter_migrate_recover", SWACK_PC_RECOVER_CMD),
	PCS("loadvm_postcopy_handle_advise", SWACK_PC_DST_ADVISE),
	PCS("loadvm_postcopy_ram_handle_discard", SWACK_PC_DST_DISCARD),
	PCS("loadvm_postcopy_handle_listen", SWACK_PC_DST_LISTENING),
	PCS("loadvm_postcopy_handle_run", SWACK_PC_DST_RUNNING),
	PCS("postcopy_ram_incoming_cleanup_entry", SWACK_PC_DST_END),
	PCS("loadvm_postcopy_handle_resume", SWACK_PC_DST_RESUME),
	USDT("migrate_send_rp_message", "usdt_pc_request", G_USDT),
	USDT("migrate_handle_rp_req_pages", "usdt_pc_req_recv", G_USDT),
	USDT("postcopy_ram_fault_thread_request", "usdt_pc_fault", G_USDT),
	{ "postcopy_page_req_add", "usdt_pc_page_req", G_USDT, 1, false },
	{ "postcopy_page_req_del", "usdt_pc_page_req", G_USDT, 0, false },
	USDT("ram_discard_range", "usdt_pc_discard", G_USDT),
	PCBT("postcopy_blocktime_tid_cpu_map", "usdt_pc_vcpu", 0),
	PCBT("postcopy_blocktime_begin", "usdt_pc_blocktime", SWACK_PC_BT_BEGIN),
	PCBT("postcopy_blocktime_end", "usdt_pc_blocktime", SWACK_PC_BT_END),
	PCBT("postcopy_ram_incoming_cleanup_blocktime", "usdt_pc_blocktime", SWACK_PC_BT_TOTAL),
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

/* Raw tracepoints: their links go at once when swack exits (user/source/uprobes.c). */
static int attach_kernel(struct attacher *a, char *err, size_t errlen)
{
	struct bpf_program *kprogs[] = { a->skel->progs.handle_exec, a->skel->progs.handle_exit };

	for (size_t i = 0; i < sizeof(kprogs) / sizeof(kprogs[0]); i++) {
		struct bpf_link *l = bpf_program__attach(kprogs[i]);
		int ret = l ? link_set_add(&a->kernel_links, l) : -errno;

		if (ret) {
			bpf_link__destroy(l);
			snprintf(err, errlen, "cannot attach kernel program %s: %s",
				 bpf_program__name(kprogs[i]), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int attach_open(struct attacher *a, bool verbose, FILE *log, char *err, size_t errlen)
{
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
		uprobe_prepare(a->skel->obj);
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
	arm_init(&a->arm, a->skel->obj);
	return attach_kernel(a, err, errlen);
}

void attach_close(struct attacher *a)
{
	struct link_set *sets[a->nbins + 2];

	for (int i = 0; i < a->ntargets; i++)
		vfio_fds_free(&a->targets[i].vfio);
	sets[0] = &a->kernel_links;
	sets[1] = &a->arm.links;
	for (int i = 0; i < a->nbins; i++)
		sets[i + 2] = &a->bins[i].links;
	link_sets_destroy(sets, a->nbins + 2);
	free(a->targets);
	free(a->bins);
	free(a->specs);
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

static void attach_failed(void *ctx, const char *what, int err)
{
	char line[1200];

	snprintf(line, sizeof(line), "%s (attach: %s)", what, strerror(-err));
	add_missing(ctx, line);
}

/* Uprobes by symbol, pid -1: every process running the binary; BPF filters
 * on the watched ones. */
static void plan_uprobes(struct plan *pl, struct binary *b, const struct sym_loc *locs)
{
	for (size_t i = 0; i < sizeof(uprobes) / sizeof(uprobes[0]); i++) {
		const struct uprobe_spec *u = &uprobes[i];
		struct uprobe_site site = { .offset = locs[i].offset, .cookie = u->cookie };

		if (!(u->gens & (1u << b->gen)))
			continue;
		if (!locs[i].offset) {
			if (!u->optional)
				add_missing(b, u->sym);
			continue;
		}
		if (plan_add(pl, u->prog, u->ret, u->sym, &site, 1))
			add_missing(b, u->sym);
	}
}

/* Globals named by RIP-relative argument specs ("-4@current_run_state(%rip)"):
 * resolved with every other symbol, in the one pass over the binary's symbols. */
#define MAX_GLOBALS 32

struct globals {
	char name[MAX_GLOBALS][128];
	uint64_t vaddr[MAX_GLOBALS];
	int n;
};

static int note_global(void *ctx, const char *sym, uint64_t *addr)
{
	struct globals *g = ctx;

	*addr = 0;
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->name[i], sym))
			return 0;
	if (g->n < MAX_GLOBALS)
		snprintf(g->name[g->n++], sizeof(g->name[0]), "%s", sym);
	return 0;
}

/* Link-time address: BPF adds each process's load address (swack_proc.exe_base). */
static int find_global(void *ctx, const char *sym, uint64_t *addr)
{
	const struct globals *g = ctx;

	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->name[i], sym) && g->vaddr[i]) {
			*addr = g->vaddr[i];
			return 0;
		}
	return -1;
}

static bool usdt_wanted(const struct usdt_spec *u, enum qemu_gen gen)
{
	return u->gens & (1u << gen);
}

static void collect_globals(const struct elf_info *info, enum qemu_gen gen, struct globals *g)
{
	struct swack_usdt_spec scratch;
	char why[8];

	for (size_t i = 0; i < sizeof(usdts) / sizeof(usdts[0]); i++) {
		if (!usdt_wanted(&usdts[i], gen))
			continue;
		for (const struct usdt_note *n = elf_find_note(info, usdts[i].probe); n;
		     n = elf_next_note(info, n))
			usdt_args_parse(n->args, &scratch, note_global, g, why, sizeof(why));
	}
}

/* The index of spec in the usdt_specs map, where a site's attach cookie
 * points: identical specs share one. */
static int spec_index(struct attacher *a, const struct swack_usdt_spec *spec, char *why,
		      size_t len)
{
	struct swack_usdt_spec *specs;
	__u32 key;

	for (int i = 0; i < a->nspecs; i++)
		if (!memcmp(&a->specs[i], spec, sizeof(*spec)))
			return i;
	if (a->nspecs == SWACK_USDT_MAX_SPECS) {
		snprintf(why, len, "more than %d distinct argument specs", SWACK_USDT_MAX_SPECS);
		return -1;
	}
	specs = realloc(a->specs, (a->nspecs + 1) * sizeof(*specs));
	if (!specs) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	a->specs = specs;
	key = a->nspecs;
	if (bpf_map__update_elem(a->skel->maps.usdt_specs, &key, sizeof(key), spec,
				 sizeof(*spec), BPF_ANY)) {
		snprintf(why, len, "cannot store its argument spec: %s", strerror(errno));
		return -1;
	}
	a->specs[a->nspecs] = *spec;
	return a->nspecs++;
}

/* Every site of one probe: its place, semaphore and decoded spec. */
static int usdt_sites(struct attacher *a, const struct elf_info *info, const struct usdt_spec *u,
		      const struct globals *g, struct uprobe_site **out, size_t *nout, char *why,
		      size_t len)
{
	const struct usdt_note *n;
	size_t k = 0;

	*nout = 0;
	for (n = elf_find_note(info, u->probe); n; n = elf_next_note(info, n))
		(*nout)++;
	*out = calloc(*nout, sizeof(**out));
	if (!*out) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	for (n = elf_find_note(info, u->probe); n; n = elf_next_note(info, n), k++) {
		struct swack_usdt_spec spec = { .cookie = u->cookie };
		char what[160];
		int id;

		if (n->nargs < 0) {
			snprintf(why, len, "argument spec longer than %zu characters", sizeof(n->args));
			return -1;
		}
		if (usdt_args_parse(n->args, &spec, find_global, (void *)g, what, sizeof(what))) {
			snprintf(why, len, "argument spec '%s': %s", n->args, what);
			return -1;
		}
		id = spec_index(a, &spec, why, len);
		if (id < 0)
			return -1;
		(*out)[k] = (struct uprobe_site){ .offset = n->pc_offset, .ref_ctr = n->sem_offset,
						  .cookie = id };
	}
	return 0;
}

static void plan_usdts(struct attacher *a, struct plan *pl, struct binary *b,
		       const struct elf_info *info, const struct globals *g)
{
	for (size_t i = 0; i < sizeof(usdts) / sizeof(usdts[0]); i++) {
		const struct usdt_spec *u = &usdts[i];
		char what[640], why[512];
		struct uprobe_site *sites = NULL;
		size_t n;

		if (!usdt_wanted(u, b->gen))
			continue;
		snprintf(what, sizeof(what), "qemu:%s", u->probe);
		if (!elf_find_note(info, u->probe)) {
			if (!u->optional)
				add_missing(b, what);
		} else if (usdt_sites(a, info, u, g, &sites, &n, why, sizeof(why))) {
			snprintf(what + strlen(what), sizeof(what) - strlen(what), " (%s)", why);
			add_missing(b, what);
		} else if (plan_add(pl, u->prog, false, what, sites, n)) {
			add_missing(b, what);
		}
		free(sites);
	}
}

static void copy_table(struct name_table *t, const char *const *names, int n)
{
	t->n = n;
	for (int i = 0; i < n; i++)
		snprintf(t->names[i], PROC_ENUM_LEN, "%s", names[i]);
}

/* Where the process's own table cannot be read, the 7.2 table stands in,
 * and the attach line says so: later QEMUs number their states differently. */
static void read_table(struct target *t, uint64_t base, uint64_t vaddr, const char *sym,
		       struct name_table *out, const char *const *fallback, int nfallback)
{
	char why[160] = "not in the binary's symbols";
	size_t len = strlen(t->names_note);

	if (vaddr && !proc_read_enum(t->pid, base + vaddr, base, out, why, sizeof(why)))
		return;
	copy_table(out, fallback, nfallback);
	snprintf(t->names_note + len, sizeof(t->names_note) - len,
		 "; %s names: 7.2 table, could not read %s: %s",
		 out == &t->mig_names ? "state" : "run state", sym, why);
}

/* Only the tables that the attached probes' events need: migration states
 * come as numbers from the symbol generations' migrate_set_state, run states
 * from vm_stop_force_state and runstate_set by symbol; USDT probes carry names. */
#define NSYMS (sizeof(uprobes) / sizeof(uprobes[0]))

static unsigned names_needed(enum qemu_gen gen, const struct sym_loc *locs)
{
	unsigned need = 0;

	if ((1u << gen) & G_SYM)
		return NEED_MIG_NAMES | NEED_RUN_NAMES;
	for (size_t i = 0; i < NSYMS; i++)
		if (((1u << gen) & uprobes[i].gens) && locs[i].offset &&
		    !strcmp(uprobes[i].sym, "vm_stop_force_state"))
			need |= NEED_RUN_NAMES;
	return need;
}

static void read_names(struct target *t, const struct binary *b)
{
	uint64_t base = b->pie ? proc_exe_base(t->pid) : 0;

	t->names_note[0] = 0;
	if (b->names & NEED_MIG_NAMES)
		read_table(t, base, b->mig_lookup, "MigrationStatus_lookup", &t->mig_names,
			   mig_names_72, 14);
	if (b->names & NEED_RUN_NAMES)
		read_table(t, base, b->run_lookup, "RunState_lookup", &t->run_names, run_names_72,
			   16);
}

/* After the uprobe table: generation markers, enum tables, code facts. */
#define SYM_MIG_LOOKUP (NSYMS + 3)
#define SYM_RUN_LOOKUP (NSYMS + 4)
#define SYM_MIG_GET (NSYMS + 5)
#define NLOOKUPS (NSYMS + 6)

/* The one pass over the binary's symbols: the uprobe table, the generation
 * markers, the enum tables, the code facts, then the globals of RIP-relative
 * USDT arguments. */
#define NLOCS (NLOOKUPS + MAX_GLOBALS)

static int resolve_all(const char *exe, struct sym_loc *locs, struct globals *g,
		       struct elf_info *info, char *err, size_t errlen)
{
	const char *names[NLOCS];
	int ret;

	for (size_t i = 0; i < NSYMS; i++)
		names[i] = uprobes[i].sym;
	for (size_t i = 0; i < 3; i++)
		names[NSYMS + i] = gen_syms[i];
	names[SYM_MIG_LOOKUP] = "MigrationStatus_lookup";
	names[SYM_RUN_LOOKUP] = "RunState_lookup";
	names[SYM_MIG_GET] = "migrate_get_current";
	for (int i = 0; i < g->n; i++)
		names[NLOOKUPS + i] = g->name[i];
	ret = elf_resolve(exe, names, NLOOKUPS + g->n, locs, info, err, errlen);
	for (int i = 0; !ret && i < g->n; i++)
		g->vaddr[i] = locs[NLOOKUPS + i].vaddr;
	return ret;
}

static uint64_t sym_vaddr(const struct sym_loc *locs, const char *sym)
{
	for (size_t i = 0; i < NSYMS; i++)
		if (!strcmp(uprobes[i].sym, sym))
			return locs[i].vaddr;
	return 0;
}

/* 8.0-11.0 by symbols: the threshold of the switchover decision is in
 * QEMU's memory; where, the machine code says (source/codefacts.c). */
static void find_threshold(struct binary *b, const char *exe, const struct sym_loc *locs)
{
	const uint64_t queries[2] = { sym_vaddr(locs, "qemu_savevm_state_pending_estimate"),
				      sym_vaddr(locs, "qemu_savevm_state_pending_exact") };
	char why[200];

	if (code_facts_read(exe, locs[SYM_MIG_GET].vaddr, queries, &b->facts, why, sizeof(why))) {
		memset(&b->facts, 0, sizeof(b->facts));
		snprintf(b->facts_note, sizeof(b->facts_note), "; switchover threshold unknown "
			 "(%s): no switchover decision", why);
		return;
	}
	snprintf(b->facts_note, sizeof(b->facts_note), "; switchover threshold at "
		 "MigrationState+0x%x (machine code of %d call site%s)", b->facts.threshold_off,
		 b->facts.ncalls, b->facts.ncalls > 1 ? "s" : "");
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
	t->start = proc_start_time(pid);
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
		char esc[4 * sizeof(comm)];

		proc_comm(pid, comm, sizeof(comm));
		snprintf(err, errlen, "pid %d (%s) is not a QEMU system emulator: give the pid "
			 "of a qemu-system-* process", pid, term_escape(esc, sizeof(esc), comm,
									sizeof(comm)));
		return -EINVAL;
	}
	return 0;
}

/* Channels (pid << 32 | fd) left by an earlier process of that pid: a
 * process that exits closes no descriptor by close(). */
static void forget_channels(struct attacher *a, pid_t pid)
{
	const struct bpf_map *m = a->skel->maps.channels;
	__u64 cur, next, stale[64];
	bool first = true;
	int n = 0;

	/* Collect, then delete: deleting the cursor would restart the walk. */
	while (n < 64 && !bpf_map__get_next_key(m, first ? NULL : &cur, &next, sizeof(next))) {
		if ((__u32)(next >> 32) == (__u32)pid)
			stale[n++] = next;
		cur = next;
		first = false;
	}
	for (int i = 0; i < n; i++)
		bpf_map__delete_elem(m, &stale[i], sizeof(stale[i]), 0);
}

static int watch_pid(struct attacher *a, pid_t pid, const struct binary *b)
{
	struct swack_proc p = { .role = proc_incoming(pid) ? SWACK_ROLE_DST : 0,
				.run_probe = b->tcg_entry || proc_uses_kvm(pid),
				.exe_base = b->pie ? proc_exe_base(pid) : 0 };
	__u32 key = pid;

	if (b->facts.mig_ptr) {
		p.mig_ptr = p.exe_base + b->facts.mig_ptr;
		p.threshold_off = b->facts.threshold_off;
	}
	forget_channels(a, pid);
	return bpf_map__update_elem(a->skel->maps.procs, &key, sizeof(key), &p, sizeof(p),
				    BPF_ANY);
}

static void report_target(struct attacher *a, const struct target *t, const struct binary *b,
			  double ms, bool reused)
{
	char line[4400], exe[4096], vm[320], comm[4 * sizeof(t->comm)];

	snprintf(line, sizeof(line), "%s; watched in %.1f ms", b->report, ms);
	if (reused)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 ", probes of its binary already in place (%d process%s)", b->users,
			 b->users > 1 ? "es" : "");
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s", t->names_note);
	if (b->links.n)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "; %d %s", b->links.n,
			 uprobe_mode());
	/* The identity is not part of line: a recording keeps it in its own fields. */
	vmid_describe(&t->vm, vm, sizeof(vm));
	/* A process names itself (prctl): its name is escaped for the terminal. */
	fprintf(a->log, "swack: pid %d (%s): %s; %s\n", t->pid,
		term_escape(comm, sizeof(comm), t->comm, sizeof(t->comm)), line, vm);
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

/* Neither USDT probes nor symbols: the kernel side (VFIO ioctls,
 * userfaultfd, bytes sent) needs nothing from the binary. */
static void describe_kernel_only(struct binary *b, pid_t pid, const char *exe)
{
	char path[4096];

	if (proc_exe_path(pid, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", exe);
	snprintf(b->report, sizeof(b->report), "warning: %.3000s has neither QEMU USDT probes nor "
		 "QEMU function symbols: watched on the kernel side only (VFIO ioctls, "
		 "userfaultfd, bytes sent), without migration states, iterations or downtime; "
		 "install its debuginfo (the distribution's debug symbols package; or set "
		 "DEBUGINFOD_URLS for swack to fetch it), or use a build with symbols", path);
}

static void describe_binary(struct binary *b, const struct elf_info *info)
{
	snprintf(b->report, sizeof(b->report), "%s, %zu functions from %s, %zu USDT probes: "
		 "%d probes attached; missing: %s%s", gen_name(b->gen), info->nsyms, info->symsrc,
		 info->nnotes, b->nprobes, b->missing[0] ? b->missing : "none", b->facts_note);
}

static void attach_binary(struct attacher *a, struct binary *b, const char *exe,
			  const struct elf_info *info, const struct sym_loc *locs,
			  const struct globals *g)
{
	struct plan *pl = calloc(1, sizeof(*pl));

	if (!pl) {
		add_missing(b, "every probe (out of memory)");
		return;
	}
	if (b->gen >= GEN_USDT)
		plan_usdts(a, pl, b, info, g);
	plan_uprobes(pl, b, locs);
	b->nprobes = plan_attach(pl, a->skel->obj, exe, &b->links, attach_failed, b);
	b->tcg_entry = plan_placed(pl, "up_cpu_exec");
	b->announces = plan_placed(pl, "up_migrate_set_state") ||
		       plan_placed(pl, "usdt_migrate_set_state");
	plan_free(pl);
	free(pl);
}

/* First process of a binary: what it offers, and the probes, for everyone. */
static int new_binary(struct attacher *a, pid_t pid, const char *exe, const struct stat *st,
		      char *err, size_t errlen)
{
	struct sym_loc locs[NLOCS];
	struct globals g = { .n = 0 };
	struct elf_info info;
	enum qemu_gen gen;
	struct binary *b;
	int ret;

	ret = elf_open_info(exe, &info, err, errlen);
	if (ret)
		goto out;
	gen = gen_from_usdt(&info);
	collect_globals(&info, gen, &g);
	ret = resolve_all(exe, locs, &g, &info, err, errlen);
	if (ret)
		goto out;
	b = realloc(a->bins, (a->nbins + 1) * sizeof(*b));
	ret = -ENOMEM;
	if (!b)
		goto out;
	a->bins = b;
	b = &a->bins[a->nbins];
	memset(b, 0, sizeof(*b));
	b->gen = gen != GEN_NONE ? gen : gen_from_syms(&locs[NSYMS]);
	b->dev = st->st_dev;
	b->ino = st->st_ino;
	b->pie = info.pie;
	b->mig_lookup = locs[SYM_MIG_LOOKUP].vaddr;
	b->run_lookup = locs[SYM_RUN_LOOKUP].vaddr;
	b->names = names_needed(b->gen, locs);
	if (b->gen == GEN_SYM_8)
		find_threshold(b, exe, locs);
	if (b->gen == GEN_NONE) {
		describe_kernel_only(b, pid, exe);
	} else {
		attach_binary(a, b, exe, &info, locs, &g);
		describe_binary(b, &info);
	}
	ret = a->nbins++;
out:
	elf_free_info(&info);
	return ret;
}

int attach_pid(struct attacher *a, pid_t pid, bool at_exec, char *err, size_t errlen)
{
	double t0 = now_sec();
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
	read_names(t, &a->bins[bin]);
	/* Before the attach line: once it is out, the process is watched. */
	arm_watched(a, t, at_exec);
	if (arm_sync(a, err, errlen))
		fprintf(a->log, "swack: %s\n", err);
	report_target(a, t, &a->bins[bin], (now_sec() - t0) * 1e3, reused);
	return 0;
}

void attach_forget(struct attacher *a, pid_t pid)
{
	struct target *t = attach_target(a, pid);
	__u32 key = pid;

	if (!t)
		return;
	/* The binary's probes stay until swack exits: detaching them would stall
	 * this thread for the kernel's grace periods (tens of milliseconds; seconds
	 * with per-probe links), and the next QEMU is often the same binary. */
	a->bins[t->bin].users--;
	bpf_map__delete_elem(a->skel->maps.procs, &key, sizeof(key), 0);
	bpf_map__delete_elem(a->skel->maps.txbytes, &key, sizeof(key), 0);
	forget_channels(a, pid);
	vfio_fds_free(&t->vfio);
	*t = a->targets[--a->ntargets];
}

void attach_exec(struct attacher *a, pid_t pid)
{
	struct target *t = attach_target(a, pid);

	if (t && t->start != proc_start_time(pid))
		attach_forget(a, pid);
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
