/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The event ABI shared by the BPF programs and user space.  Every probe, of
 * whatever kind, emits one struct swack_event into one ring buffer; the same
 * record is what a recording stores, so its layout is versioned.
 */
#ifndef SWACK_H
#define SWACK_H

#define SWACK_ABI_VERSION 1
#define SWACK_DEV_LEN 32
#define SWACK_STR_LEN 48
#define SWACK_NARGS 6
#define SWACK_MAX_PIDS 1024

/* What happened.  Numbers are part of the recording format: append only. */
enum swack_kind {
	SWACK_EV_NONE = 0,
	SWACK_EV_MIG_STATE = 1,     /* a0 old, a1 new (raw enum), str new name (USDT) */
	SWACK_EV_PENDING = 2,       /* a0 precopy, a1 compatible, a2 postcopy, a3 threshold or ~0 */
	SWACK_EV_DIRTY_SYNC = 3,    /* one dirty-bitmap sync; a0 bytes and a1 ns since the previous, a2 bytes/s */
	SWACK_EV_SWITCHOVER = 4,    /* decision to switch over; a0 pending bytes, a1 threshold or ~0 */
	SWACK_EV_TRANSFERRED = 5,   /* QEMU's bandwidth update: a0 bytes since the last update,
				     * a1 ms, a2 bw bytes/ms, a3 avail bw, a4 threshold (~0
				     * unknown); by symbols, a0 is what the channels carried in
				     * QEMU's window and a3, a4 are ~0 */
	SWACK_EV_VM_STOP = 6,       /* vCPUs about to stop; a0 target run state */
	SWACK_EV_VM_STOPPED = 7,    /* vCPUs stopped */
	SWACK_EV_VM_START = 8,      /* vCPUs about to resume */
	SWACK_EV_VM_RESUMED = 9,   /* vCPUs running again */
	SWACK_EV_RUNSTATE = 10,     /* a0 old, a1 new (raw), str new name (USDT) */
	SWACK_EV_SAVE_SETUP = 11,   /* source: savevm setup */
	SWACK_EV_SAVE_COMPLETE = 12,/* source: final save begins (flag END: done, a0 ret) */
	SWACK_EV_LOAD_BEGIN = 13,   /* destination: loadvm begins */
	SWACK_EV_LOAD_END = 14,     /* destination: loadvm done; a0 ret */
	SWACK_EV_CHECKPOINT = 15,   /* str checkpoint name */
	SWACK_EV_VMSTATE_SAVE = 16, /* dev idstr, str type, a0 instance, a1 downtime us */
	SWACK_EV_VMSTATE_LOAD = 17, /* as above */
	SWACK_EV_ACK_NEEDED = 18,   /* destination: a0 devices that must approve */
	SWACK_EV_ACK_APPROVE = 19,  /* destination: a0 remaining (or ~0), str approver */
	SWACK_EV_ACK_RECEIVED = 20, /* source: a0 pending after decrement or ~0 */
	SWACK_EV_SWITCHOVER_START = 21,
	SWACK_EV_COMPLETION_STOP = 22, /* migration_completion_vm_stop; a0 ret */
	SWACK_EV_EXEC = 23,         /* a process exec'd; str comm */
	SWACK_EV_EXIT = 24,         /* a watched process exited */
	SWACK_EV_QUERY_PENDING = 25,/* 11.1: a0 precopy, a1 stopcopy, a2 postcopy, a3 total,
				     * a4 ACKs this query asks, a5 ACKs pending in all */
	SWACK_EV_VFIO_PENDING = 26, /* dev; a0 precopy, a1 postcopy, a2 stop-copy size (exact)
				     * or ~0, a3 initial bytes, a4 dirty bytes; F_EXACT */
	SWACK_EV_VFIO_ITERATE = 27, /* dev; a0 initial bytes, a1 dirty bytes (QEMU's estimate) */
	SWACK_EV_VFIO_STATE = 28,   /* dev; str new state; a0 1 for the device state */
	SWACK_EV_VFIO_OP = 29,      /* dev; a0 enum swack_vfio_op, a1 and a2 its arguments */
	SWACK_EV_VFIO_IOCTL = 30,   /* kernel: a VFIO ioctl (type ';') of a watched process;
				     * a0 cmd, a1 fd, a2 flags, a3 payload at entry,
				     * a4 payload at exit, a5 return value (-errno);
				     * str: the name VFIO_GROUP_GET_DEVICE_FD was given;
				     * dev: the device, filled in by user space */
	SWACK_EV_VFIO_DATA = 31,    /* kernel: read (a2 0) or write (a2 1) on a migration
				     * data fd a0, a1 the return value */
	SWACK_EV_PAIR = 32,         /* user space: a0 source pid and a1 destination pid hold
				     * the two ends of one TCP connection */
	SWACK_EV_GATE_HOLD = 33,    /* swack gate: a hold placed; a0 max-hold ns, a1 origin
				     * (1 command, 2 policy), a2 value (0 automatic), str reason */
	SWACK_EV_GATE_RELEASE = 34, /* swack gate: a hold ended; a0 ns since placed, a1 queries
				     * raised, a2 queries held, a3 missed, a4 cause (1 command,
				     * 2 deadline, 3 policy, 4 gate exit, 5 process gone, 6 gate
				     * died: its gate run ended without releasing it), str reason */
	/* Background snapshots (write tracking with userfaultfd write-protect). */
	SWACK_EV_WT_START = 35,     /* ram_write_tracking_start; flag END at its return, a0 ret;
				     * USDT: one per RAMBlock, str its id, a1 page size,
				     * a2 host address, a3 length */
	SWACK_EV_WT_STOP = 36,      /* ram_write_tracking_stop; USDT: per RAMBlock, as above */
	SWACK_EV_SNAP_PROGRESS = 37,/* a save iteration while write tracking is on: a0 unprotect
				     * ioctls so far, a1 bytes unprotected so far (pages saved) */
	SWACK_EV_UFFD_IOCTL = 38,   /* kernel: a UFFDIO_* ioctl (type 0xaa) other than a
				     * successful resolve: a0 cmd, a1 fd, a2 range start, a3 range
				     * length, a4 mode (UFFDIO_API: features), a5 return
				     * value (-errno) */
	SWACK_EV_UFFD_FAULT = 39,   /* kernel: QEMU read a fault message off its userfaultfd:
				     * a0 address, a1 fault flags, a2 faulting tid (0 unknown) */
	SWACK_EV_UFFD_STALL = 40,   /* kernel: a thread that slept since its fault was woken by
				     * a UFFDIO_* ioctl of its process: a0 ns asleep, a1 its tid,
				     * a2 the ioctl's cmd, a3 range start, a4 range length;
				     * str its comm; pid/tid: the thread that resolved it */
	SWACK_EV_ACK_SENT = 41,     /* destination sent the (legacy) switchover ACK on its
				     * return path: migrate_send_rp_switchover_ack, symbols */
	SWACK_EV_VCPU_RUN = 42,     /* the first vCPU thread entering guest code after the VM
				     * was started: a0 how (enum swack_run_via), a1 ns since
				     * the start (vm_start, or vm_state_notify on USDT builds) */
	/* Postcopy (50 on; docs/PROBES-postcopy.md says where each comes from). */
	SWACK_EV_PC_STEP = 50,      /* a step of the switch to postcopy, a pause or a recovery:
				     * a0 enum swack_pc_step; flag END at a function's return,
				     * a1 its return value; str the USDT event's text argument */
	SWACK_EV_PC_REQUEST = 51,   /* destination sent a page request on its return path:
				     * a0 host address (0 unknown: the one its thread, QEMU's
				     * fault thread, read last), a1 offset in its RAMBlock
				     * (~0 unknown) */
	SWACK_EV_PC_REQ_RECV = 52,  /* source took a page request (QMP's postcopy-requests
				     * counts these): a0 offset, a1 length, str RAMBlock ("":
				     * the previous request's) */
	SWACK_EV_PC_FAULT = 53,     /* USDT: QEMU's fault thread took a missing fault: a0 host
				     * address, a1 offset in the RAMBlock, a2 faulting tid,
				     * str RAMBlock.  (Kernel side: SWACK_EV_UFFD_FAULT.) */
	SWACK_EV_PC_RESOLVE = 54,   /* kernel: a UFFDIO_COPY, ZEROPAGE or WAKE placed a page a
				     * fault QEMU had read was waiting for: a0 page address,
				     * a1 ns since QEMU read that fault, a2 faulting tid (0
				     * unknown), a3 the ioctl's cmd, a4 its length */
	SWACK_EV_PC_PROGRESS = 55,  /* kernel, at most every 100 ms while pages are placed, and
				     * at UNREGISTER: a0 UFFDIO_COPY pages, a1 ZEROPAGE pages,
				     * a2 bytes placed, a3 of those calls, the ones that
				     * resolved a fault QEMU had read, a4 WAKE calls; totals */
	SWACK_EV_PC_VCPU = 56,      /* a vCPU thread: a0 vCPU index, a1 tid (user space from the
				     * thread names "CPU n/...", or USDT
				     * postcopy_blocktime_tid_cpu_map) */
	SWACK_EV_PC_BLOCKTIME = 57, /* USDT: QEMU's own blocktime accounting: a0 enum
				     * swack_pc_bt; BEGIN a1 address, a2 time (us), a3 vCPU,
				     * a4 already faulted; END a1 address, a2 time (us),
				     * a3 vCPUs freed, a4 other threads freed; TOTAL a2 QEMU's
				     * total blocktime */
	SWACK_EV_PC_DISCARD = 58,   /* destination discarded pages the source dirtied again
				     * (ram_discard_range): a0 start, a1 length, str RAMBlock */
	SWACK_EV_PC_PAGE_REQ = 59,  /* USDT: QEMU's set of requested pages changed: a0 host
				     * address, a1 requests outstanding after it, a2 1 added,
				     * 0 resolved (postcopy_page_req_add / _del) */
	SWACK_EV_MAX
};

/* What a SWACK_EV_PC_STEP is. */
enum swack_pc_step {
	/* source */
	SWACK_PC_START_CMD = 1,     /* migrate-start-postcopy (qmp_migrate_start_postcopy) */
	SWACK_PC_DISCARD_BITMAP,    /* ram_postcopy_send_discard_bitmap (END at its return) */
	SWACK_PC_LISTEN_SENT,       /* qemu_savevm_send_postcopy_listen */
	SWACK_PC_RUN_SENT,          /* qemu_savevm_send_postcopy_run */
	SWACK_PC_PACKAGE_SENT,      /* qemu_savevm_send_packaged: the device state (END at its
				     * return: QEMU's postcopy downtime ends) */
	SWACK_PC_COMPLETE,          /* the last of RAM sent (qemu_savevm_state_complete_postcopy) */
	SWACK_PC_RESUME_SENT,       /* qemu_savevm_send_postcopy_resume: a recovery resumes */
	SWACK_PC_PAUSE_CMD,         /* migrate-pause (either side) */
	/* destination */
	SWACK_PC_RECOVER_CMD = 16,  /* migrate-recover (qmp_migrate_recover) */
	SWACK_PC_DST_ADVISE,        /* postcopy_state_set(ADVISE) .. (END): the destination's */
	SWACK_PC_DST_DISCARD,       /* postcopy states, QEMU's PostcopyState + 16 */
	SWACK_PC_DST_LISTENING,
	SWACK_PC_DST_RUNNING,
	SWACK_PC_DST_END,
	SWACK_PC_DST_RESUME,        /* USDT loadvm_postcopy_handle_resume */
	SWACK_PC_STEP_MAX
};

/* What a SWACK_EV_PC_BLOCKTIME is. */
enum swack_pc_bt { SWACK_PC_BT_BEGIN = 1, SWACK_PC_BT_END = 2, SWACK_PC_BT_TOTAL = 3 };

/* Return-path message types (migration/migration.h): page requests. */
#define SWACK_RP_MSG_REQ_PAGES_ID 3
#define SWACK_RP_MSG_REQ_PAGES 4

/* The VFIO migration uAPI (include/uapi/linux/vfio.h): numbers only. */
#define SWACK_VFIO_TYPE 0x3b                 /* ';' */
#define SWACK_VFIO_GROUP_GET_DEVICE_FD 0x3b6a
#define SWACK_VFIO_DEVICE_FEATURE 0x3b75
#define SWACK_VFIO_MIG_GET_PRECOPY_INFO 0x3b79
#define SWACK_VFIO_FEATURE_GET (1u << 16)
#define SWACK_VFIO_FEATURE_SET (1u << 17)
#define SWACK_VFIO_FEATURE_PROBE (1u << 18)
#define SWACK_VFIO_FEATURE_MASK 0xffffu
#define SWACK_VFIO_FEATURE_MIGRATION 1
#define SWACK_VFIO_FEATURE_MIG_DEVICE_STATE 2
#define SWACK_VFIO_FEATURE_MIG_DATA_SIZE 9
#define SWACK_VFIO_FEATURE_MIG_PRECOPY_INFOV2 12
#define SWACK_VFIO_PRECOPY_INFO_REINIT 1u

/* What a SWACK_EV_VFIO_OP is: the QEMU trace event it comes from. */
enum swack_vfio_op {
	SWACK_VFIO_SAVE_SETUP = 1,         /* a1 data buffer size */
	SWACK_VFIO_SAVE_BLOCK,             /* a1 data size */
	SWACK_VFIO_SAVE_COMPLETE,          /* a1 ret */
	SWACK_VFIO_LOAD_STATE,             /* a1 data (section type) */
	SWACK_VFIO_LOAD_DEVICE_DATA,       /* a1 bytes, a2 ret */
	SWACK_VFIO_SAVE_THREAD_START,      /* a2 instance id (multifd device state) */
	SWACK_VFIO_SAVE_THREAD_END,        /* a1 ret */
	SWACK_VFIO_BUF_INCOMING,           /* a1 buffer index */
	SWACK_VFIO_BUF_STARVED,            /* a1 buffer index the loader waits for */
	SWACK_VFIO_BUF_LOAD_START,         /* a1 buffer index */
	SWACK_VFIO_BUF_LOAD_END,           /* a1 buffer index */
	SWACK_VFIO_LOAD_THREAD_START,
	SWACK_VFIO_LOAD_THREAD_END,
	SWACK_VFIO_OP_MAX
};

/* The userfaultfd uAPI (include/uapi/linux/userfaultfd.h): numbers only. */
#define SWACK_UFFD_TYPE 0xaa
#define SWACK_UFFDIO_REGISTER 0x00        /* _IOC_NR of each command */
#define SWACK_UFFDIO_UNREGISTER 0x01
#define SWACK_UFFDIO_WAKE 0x02
#define SWACK_UFFDIO_COPY 0x03
#define SWACK_UFFDIO_ZEROPAGE 0x04
#define SWACK_UFFDIO_WRITEPROTECT 0x06
#define SWACK_UFFDIO_CONTINUE 0x07
#define SWACK_UFFDIO_API 0x3f
#define SWACK_UFFDIO_REGISTER_MODE_MISSING 1u
#define SWACK_UFFDIO_REGISTER_MODE_WP 2u
#define SWACK_UFFDIO_WP_MODE_WP 1u         /* protect; without it: unprotect */
#define SWACK_UFFDIO_WP_MODE_DONTWAKE 2u
#define SWACK_UFFD_MSG_SIZE 32
#define SWACK_UFFD_EVENT_PAGEFAULT 0x12
#define SWACK_UFFD_PAGEFAULT_FLAG_WRITE 1u
#define SWACK_UFFD_PAGEFAULT_FLAG_WP 2u

/* How SWACK_EV_VCPU_RUN saw a vCPU enter guest code. */
enum swack_run_via {
	SWACK_RUN_TCG = 1,          /* cpu_exec (uprobe by symbol): TCG */
	SWACK_RUN_KVM = 2,          /* the KVM_RUN ioctl (syscall tracepoint) */
};

#define SWACK_KVM_RUN 0xae80        /* _IO(KVMIO 0xae, 0x80) */

/* Who emitted it: the attach method, so a reader knows what to trust. */
enum swack_origin {
	SWACK_ORIGIN_UPROBE = 1,
	SWACK_ORIGIN_USDT = 2,
	SWACK_ORIGIN_KERNEL = 3,
};

enum swack_role {
	SWACK_ROLE_UNKNOWN = 0,
	SWACK_ROLE_SRC = 1,
	SWACK_ROLE_DST = 2,
};

/* flags */
#define SWACK_F_EXACT   (1u << 0)   /* PENDING: exact query (vs estimate) */
#define SWACK_F_END     (1u << 1)   /* event marks the end of a span */
#define SWACK_F_NOOP    (1u << 2)   /* MIG_STATE: compare-and-set would fail */
#define SWACK_F_NOTHRESH (1u << 3)  /* PENDING: threshold not known here */
#define SWACK_F_FINAL   (1u << 4)   /* QUERY_PENDING: the query at switchover */
#define SWACK_F_UNCOUNTED (1u << 5) /* ACK_APPROVE: remaining count not readable (symbols) */
#define SWACK_F_RUN_NEXT (1u << 6)  /* VM_START, VM_RESUMED: this start gets a
				     * SWACK_EV_VCPU_RUN (which may precede VM_RESUMED) */

struct swack_event {
	__u64 ts;          /* CLOCK_MONOTONIC, ns (bpf_ktime_get_ns) */
	__u32 pid;         /* tgid */
	__u32 tid;
	__u16 kind;        /* enum swack_kind */
	__u8 role;         /* enum swack_role, as BPF knew it */
	__u8 origin;       /* enum swack_origin */
	__u32 flags;
	__u64 tx_bytes;    /* migration stream bytes the process had sent when the event
			    * fired: what its migration channels carried (sockets, pipes,
			    * files whose first bytes are QEMU's stream magic, or written
			    * by its migration threads) */
	__u64 a[SWACK_NARGS];
	char dev[SWACK_DEV_LEN];
	char str[SWACK_STR_LEN];
};

/* Per-process configuration written by user space before attaching. */
struct swack_proc {
	__u8 role;         /* learned role, updated by the probes */
	__u8 run_probe;    /* user space: a vCPU's entry into guest code is visible
			    * (cpu_exec attached, or a KVM process) */
	__u8 pad[6];
	__u64 run_wait;    /* the VM was started at this time and no vCPU ran since; 0 none */
	__u64 rate_ts;     /* start of QEMU's current bandwidth window (symbols), */
	__u64 rate_tx;     /* and the stream bytes sent then */
	__u64 sync_ts;     /* at the previous dirty sync: time, */
	__u64 sync_tx;     /* and stream bytes sent */
	__u64 exe_base;    /* load address of the executable (PIE), 0 otherwise */
	/* Background snapshots, kept by the probes. */
	__u32 wt_fd;       /* userfaultfd registered for write-protect, plus 1; 0 none */
	__u32 pad2;
	__u64 unprot_calls;/* UFFDIO ioctls that released protection or resolved a fault */
	__u64 unprot_bytes;/* bytes they covered */
	/* QEMU 8.0-11.0 by symbols: the switchover threshold, read from memory at
	 * *mig_ptr + threshold_off (MigrationState.threshold_size); 0: unknown. */
	__u64 mig_ptr;     /* run-time address of QEMU's MigrationState pointer */
	__u64 threshold_off;
	/* Postcopy destination, kept by the probes. */
	__u32 pc_fd;       /* userfaultfd registered for missing faults, plus 1; 0 none */
	__u32 pad3;
	__u64 pc_copies;   /* pages placed by UFFDIO_COPY, */
	__u64 pc_zeros;    /* by UFFDIO_ZEROPAGE, */
	__u64 pc_bytes;    /* bytes they placed, */
	__u64 pc_resolved; /* of those calls, the ones a fault QEMU had read waited for, */
	__u64 pc_wakes;    /* UFFDIO_WAKE calls */
	__u64 pc_sent_ts;  /* last SWACK_EV_PC_PROGRESS, */
	__u64 pc_sent_calls; /* and pc_copies + pc_zeros + pc_wakes then */
	/* Postcopy source: it queries its pending size in a tight loop. */
	__u32 pc_src;      /* 1 from the switch to the next migration's setup */
	__u32 pad4;
	__u64 pc_pending_ts; /* the last query it reported */
};

/*
 * USDT argument specs, decoded by swack from the binary's notes for every
 * site of every probe it attaches (user/source/usdt_args.c).  A USDT program
 * finds its site's spec in the usdt_specs map, at the index its attach cookie
 * gives.
 */
enum swack_arg_kind {
	SWACK_ARG_CONST = 0,     /* val */
	SWACK_ARG_REG = 1,       /* the register at reg_off in struct pt_regs */
	SWACK_ARG_REG_DEREF = 2, /* memory at register + val */
	SWACK_ARG_ABS_DEREF = 3, /* memory at val + the process's exe_base (RIP-relative) */
	SWACK_ARG_SIB_DEREF = 4, /* memory at register + index register * scale + val */
};

#define SWACK_USDT_MAX_ARGS 12
#define SWACK_USDT_MAX_SPECS 4096

struct swack_usdt_arg {
	__s64 val;
	__u16 reg_off;
	__u8 kind;       /* enum swack_arg_kind */
	__u8 size;       /* 1, 2, 4 or 8 bytes */
	__u8 is_signed;
	__u8 idx_off;    /* SIB: the index register's offset in struct pt_regs */
	__u8 scale;      /* SIB: 1, 2, 4 or 8 */
	__u8 pad;
};

struct swack_usdt_spec {
	__u64 cookie;    /* the attach table's value, for programs that serve several probes */
	__u8 nargs;
	__u8 pad[7];
	struct swack_usdt_arg args[SWACK_USDT_MAX_ARGS];
};

#endif /* SWACK_H */
