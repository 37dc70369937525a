/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model: everything swack knows about migrations, built from events
 * alone, so that live views and replays of a recording agree.  Pure C.
 */
#ifndef SWACK_MODEL_H
#define SWACK_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "swack.h"

/* Migration states by name; QEMU's enum numbers differ between versions. */
enum mstate {
	MS_NONE, MS_SETUP, MS_ACTIVE, MS_PRE_SWITCHOVER, MS_DEVICE, MS_POSTCOPY,
	MS_COMPLETED, MS_FAILED, MS_CANCELLING, MS_CANCELLED, MS_OTHER,
	MS_POSTCOPY_PAUSED, MS_POSTCOPY_RECOVER,
};

#define MIG_MAX_STATES 24
#define MIG_MAX_DEVS 16
#define MIG_MAX_VMSTATES 64
#define MIG_MAX_CHECKPOINTS 24
#define MIG_MAX_ACKS 32

#define SERIES_MAX 128
#define DEV_MAX_STARVES 8

/* A value over time for timelines.  When full, every other sample is
 * dropped and only every stride-th later one kept, so a long migration keeps
 * its whole shape in bounded memory. */
struct sample {
	uint64_t ts;
	int64_t v;
	int64_t aux;                  /* a second figure at the same time, or 0 */
};

struct series {
	uint32_t n, stride, seen;
	struct sample s[SERIES_MAX];
};

void series_add(struct series *s, uint64_t ts, int64_t v, int64_t aux);

#define KDEV_STATES 8
#define KDEV_MAX_TRANS 16
#define KDEV_MAX_ERRS 8

/* A VFIO device as its migration ioctls show it (kernel tracepoints). */
struct kdev {
	bool seen;
	bool infov2;                  /* opted in to PRECOPY_INFOv2 (REINIT reports) */
	uint64_t mig_flags;           /* GET MIGRATION: STOP_COPY 1, P2P 2, PRE_COPY 4 */
	int state;                    /* enum vfio_device_mig_state, -1 unknown */
	uint64_t state_since;
	uint64_t state_ns[KDEV_STATES];
	struct { uint64_t ts; uint8_t from, to; } trans[KDEV_MAX_TRANS];
	uint32_t ntrans;
	uint64_t init, dirty, init_peak;
	uint32_t polls, reinits, regrowths;
	uint64_t stop_copy_estimate;  /* MIG_DATA_SIZE */
	uint64_t read[KDEV_STATES], written[KDEV_STATES];
	struct { uint64_t ts; uint32_t cmd, flags, target; int err; } errs[KDEV_MAX_ERRS];
	uint32_t nerrs;
};

/* A VFIO device as QEMU's trace events describe it. */
struct dev_state {
	char name[SWACK_DEV_LEN];
	uint64_t init, dirty;         /* last fresh values (vfio_state_pending_exact) */
	uint64_t init_peak;           /* highest initial bytes seen */
	uint64_t precopy, postcopy, stopcopy;
	uint32_t exact_samples;
	uint32_t regrowths;           /* initial bytes rising after they fell */
	uint64_t t_last_regrowth;
	uint64_t est_init, est_dirty; /* QEMU's running estimate (vfio_save_iterate) */
	char state[24], dev_state[24];
	uint64_t saved_bytes;         /* vfio_save_block */
	uint64_t loaded_bytes;        /* vfio_load_state_device_data */
	int64_t complete_ret;         /* vfio_save_complete_precopy */
	bool failed;
	/* multifd device state */
	uint32_t bufs_in, bufs_loaded, starved;
	struct { uint64_t ts, wait_ns; uint32_t idx; } starves[DEV_MAX_STARVES];
	uint64_t starved_ns;          /* starved until the awaited buffer came in */
	uint64_t t_save_thread[2], t_load_thread[2];
	int64_t save_thread_ret;
	/* kernel side: the VFIO migration uAPI calls themselves */
	struct kdev k;
	struct series init_s;         /* initial bytes over time (QEMU's or the kernel's) */
};

struct vmstate_time {
	char idstr[SWACK_DEV_LEN];
	uint32_t instance;
	int64_t us;
	bool iterable;
};

struct checkpoint {
	char name[32];
	uint64_t ts;
};

/* Switchover-ack, both schemes: legacy (one ACK, counted on the
 * destination) and per-device reusable (11.1, counted on the source). */
struct ack_state {
	bool seen;
	bool per_device;              /* 11.1 accounting on the source */
	/* destination */
	uint32_t needed;              /* loadvm_state_switchover_ack_needed */
	uint32_t approved;
	int64_t remaining;            /* legacy counter after the last approval, -1 unknown */
	uint64_t t_needed;
	uint32_t sent;                /* ACKs the destination sent (symbols: legacy ACK) */
	uint64_t t_sent;
	struct { char approver[SWACK_DEV_LEN]; uint64_t ts; } approvals[MIG_MAX_ACKS];
	uint32_t napprovals;
	/* source */
	uint32_t requested;           /* sum of the queries' switchover_ack_pending */
	uint32_t rerequests;          /* requested after an ACK had already come */
	uint32_t received;
	int64_t counter;              /* after the last ACK (11.1), -1 unknown */
	int64_t pending_total;        /* last total_switchover_ack_pending, -1 unknown */
	bool underflow;
	uint64_t req_ts[MIG_MAX_ACKS];/* one per requested ACK, for request-to-ACK times */
	uint64_t ack_ts[MIG_MAX_ACKS];
	/* the source converged (pending <= threshold) but did not switch over */
	uint32_t held;
	uint64_t t_held_first;
};

#define SNAP_HIST 32              /* log2 buckets of stall microseconds */
#define SNAP_WORST 5
#define SNAP_MAX_THREADS 32
#define SNAP_REGION_SHIFT 21      /* hot regions: 2 MiB of guest RAM */

/* A thread of the process that stalled on write-protect faults. */
struct snap_thread {
	uint32_t tid;
	char comm[16];
	uint32_t stalls;
	uint64_t stall_ns, max_ns;
};

struct snap_stall {
	uint64_t ts, ns;
	uint64_t addr;                /* the page released, 0 when a wider range was */
	uint32_t tid;
};

/* Faults per guest page (host virtual address >> 12), open addressing. */
struct snap_pages {
	struct { uint64_t page; uint32_t faults; } *slot;
	uint32_t cap, used;
};

#define SNAP_PAGE_SHIFT 12   /* write tracking works on 4 KiB pages */

/* How long after write tracking stops a snapshot still takes the stalls
 * released before the stop: a stall whose wake-up came first is reported by
 * the faulting thread's own switch on another CPU, and may reach the ring
 * buffer after the stop's event (microseconds after, in practice). */
#define SNAP_GRACE_NS 20000000ull

/* A background snapshot: write tracking with userfaultfd write-protect.
 * Every guest write to a page not yet saved faults and stalls the writing
 * thread until QEMU saves the page and releases it. */
struct snapshot {
	bool seen;                    /* write tracking began in this migration */
	int64_t start_ret;            /* ram_write_tracking_start's return; 0 fine */
	uint64_t t_start, t_stop;     /* write tracking on, off */
	bool closed;                  /* past t_stop + SNAP_GRACE_NS: reported */
	uint64_t unprotects;          /* releases so far (last progress event) */
	uint64_t bytes_unprotected;
	uint32_t msgs;                /* fault messages QEMU read off the userfaultfd */
	uint32_t stalls;              /* faults that stalled a thread: all of them */
	uint64_t stall_ns;
	uint32_t hist[SNAP_HIST];     /* stalls by log2(us): bucket b holds [2^b, 2^(b+1)) us,
				       * bucket 0 also below 1 us */
	uint64_t *ns;                 /* every stall, for exact percentiles */
	uint32_t nns, capns;
	struct snap_stall worst[SNAP_WORST];  /* longest first */
	uint32_t nworst;
	struct snap_thread threads[SNAP_MAX_THREADS];
	uint32_t nthreads;
	struct snap_pages pages;
	uint32_t ioctl_errors;
	int64_t last_error;           /* -errno of the last failed UFFDIO call */
};

/* Samples of the bytes a source sent, for its rate over the last second. */
#define RATE_SAMPLES 64
#define RATE_SAMPLE_NS 25000000ULL    /* at most one sample every 25 ms */
#define RATE_WINDOW_NS 1000000000ULL

struct rate_ring {
	uint64_t ts[RATE_SAMPLES], tx[RATE_SAMPLES];
	uint32_t n, next;
};

enum bw_source {
	BW_NONE,
	BW_QEMU,      /* QEMU's own figure: its last bandwidth window */
	BW_BYTES,     /* the stream's bytes over the last second of sending */
};

#define PC_MAX_VCPUS 64
#define PC_MAX_THREADS 16
#define PC_MAX_PAUSES 8
#define PC_MAX_FAULTS (1u << 20)   /* faults kept, for each one's figures */

/* One missing fault on a postcopy destination: the page a thread touched
 * before it arrived, from QEMU's read of the fault to the page placed. */
struct pc_fault {
	uint64_t t_read;              /* QEMU's fault thread read it */
	uint64_t t_request;           /* its page request went out, 0 none */
	uint64_t t_placed;            /* the page placed, 0 not yet */
	uint64_t stall_ns;            /* the faulting thread's sleep, 0 not measured */
	uint64_t page;                /* host virtual address of the page */
	uint32_t tid;                 /* the faulting thread, 0 unknown */
	uint32_t reader;              /* the thread that read it: QEMU's fault thread */
	int vcpu;                     /* its vCPU index, -1 not a vCPU or unknown */
};

/* A thread the destination's faults stalled: a vCPU, or another of QEMU's. */
struct pc_thread {
	uint32_t tid;
	int vcpu;                     /* -1: not a vCPU thread */
	char comm[16];
	uint32_t stalls;
	uint64_t blocked_ns, max_ns;
};

/* A stretch of time a vCPU spent blocked on missing pages. */
struct pc_span {
	uint64_t from, to;            /* to 0: still blocked */
	uint64_t page;                /* QEMU's accounting (USDT): the page it waits for */
	int vcpu;
	bool kernel;                  /* the thread's sleep, else QEMU's own accounting */
};

/* The destination's postcopy states (QEMU's PostcopyState), t_dst's index. */
enum { PCD_ADVISE = 1, PCD_DISCARD, PCD_LISTENING, PCD_RUNNING, PCD_END };

/* A postcopy pause (the connection lost, or migrate-pause) and its recovery. */
struct pc_pause {
	uint64_t t_pause;             /* state postcopy-paused */
	uint64_t t_recover;           /* migrate-recover (destination) or postcopy-recover */
	uint64_t t_resume;            /* postcopy-active again, 0 still paused */
};

/* Postcopy, either side: the switch to it, the destination's missing faults,
 * their page requests and resolutions, what the vCPUs waited for. */
struct postcopy {
	bool seen;
	/* the switch, source */
	uint64_t t_cmd;               /* migrate-start-postcopy */
	uint64_t t_active;            /* postcopy-active */
	uint64_t tx_active;           /* bytes sent by then */
	uint64_t t_discard[2];        /* discard bitmap: begin, end */
	uint64_t t_listen_sent, t_run_sent;
	uint64_t t_package[2];        /* device state package: begin, sent */
	uint64_t t_complete;          /* the last of RAM sent */
	/* the destination */
	uint64_t t_dst[6];            /* postcopy_state_set ADVISE(1) .. END(5), first of each */
	uint64_t t_registered;        /* RAM registered for missing faults */
	uint32_t registered_blocks;
	uint64_t registered_bytes;
	uint32_t discards;            /* ranges discarded at the switch */
	uint64_t discard_bytes;
	/* page requests */
	uint32_t requests;            /* sent by the destination */
	uint32_t rerequests;          /* of those, for a page already requested */
	uint32_t requests_linked;     /* of those, the ones told apart as a fault's */
	uint32_t requests_recv;       /* taken by the source */
	/* faults */
	struct pc_fault *faults;
	uint32_t nfaults, capfaults;
	uint32_t faults_dropped;      /* beyond PC_MAX_FAULTS or memory */
	bool kernel_faults;           /* read off the userfaultfd: USDT ones only enrich */
	bool kernel_stalls;           /* vCPU stalls measured by the scheduler hooks */
	uint32_t unread_stalls;       /* sleeps on a page that arrived before QEMU read
				       * the fault: in blocked times, not in faults */
	struct snap_pages pages;      /* faults per page */
	uint32_t hist[SNAP_HIST];     /* fault latency by log2(us), as the snapshot's */
	struct pc_thread threads[PC_MAX_THREADS];
	uint32_t nthreads;
	struct { uint32_t tid; int vcpu; } vcpus[PC_MAX_VCPUS];  /* listed vCPU threads */
	uint32_t nvcpus;
	struct pc_span *spans;        /* every vCPU stall */
	uint32_t nspans, capspans;
	/* pages placed (kernel) */
	uint64_t copies, zeros, placed_bytes, placed_resolved, wakes;
	/* requests outstanding over time: v outstanding, aux faults so far */
	struct series outstanding_s;
	int64_t outstanding;
	struct pc_pause pauses[PC_MAX_PAUSES];
	uint32_t npauses;
	uint64_t qemu_blocktime;      /* USDT: QEMU's total, as it traced it, */
	bool have_qemu_blocktime;     /* if it did */
	/* the source at the switch: how far precopy had come */
	uint32_t iterations_at_switch;
	uint64_t pending_at_switch;
	uint64_t pending_first;       /* the first query's answer: about all of RAM */
	uint32_t uffd_errors;
	int64_t last_error;
};

struct mig_state_change {
	uint64_t ts;
	enum mstate state;
	char name[24];
};

struct mig {
	uint32_t pid;
	uint32_t seq;                 /* n-th migration seen of this pid (counting restarts
				       * once the model no longer holds any of its) */
	int role;                     /* enum swack_role */
	enum mstate state;
	int nstates;
	struct mig_state_change states[MIG_MAX_STATES];
	uint64_t t_first, t_end;      /* first event, terminal state */
	uint64_t t_last;              /* latest event */
	uint32_t iterations;          /* dirty-bitmap syncs */
	uint32_t queries;             /* pending-size queries */
	uint64_t pending, threshold;  /* last pending total and threshold */
	/* Progress: what each pass left (the first pending size after a dirty
	 * sync), its lowest so far, and passes since that low was last beaten. */
	bool after_sync;
	uint64_t pass_low;
	uint32_t passes_without_progress;
	uint64_t tx_first, tx_last;   /* process stream bytes at first/last event */
	uint64_t t_tx_last;           /* the last event that saw the count grow */
	uint64_t t_active;            /* state "active": setup done, RAM moves */
	struct rate_ring rate;        /* (time, bytes sent) samples for bytes over time */
	uint64_t qemu_bytes;          /* bytes QEMU itself counted (USDT), up to its
				       * last bandwidth update: short of the end */
	uint64_t t_qemu_last;         /* that update */
	uint64_t bw;                  /* current bandwidth, bytes per second: QEMU's
				       * figure where it has one, else bytes over time */
	enum bw_source bw_from;
	uint64_t t_switchover, t_stop, t_stopped, t_start, t_resumed;
	uint64_t t_run;               /* a vCPU entered guest code after the start */
	unsigned run_via;             /* how that was seen: enum swack_run_via */
	bool run_expected;            /* the start said a SWACK_EV_VCPU_RUN will come */
	uint64_t t_save_begin, t_save_end, t_load_begin, t_load_end;
	uint64_t t_dt_start, t_dt_end;/* QEMU's own downtime checkpoints */
	struct checkpoint checkpoints[MIG_MAX_CHECKPOINTS];
	uint32_t ncheckpoints;
	struct vmstate_time vmstates[MIG_MAX_VMSTATES];  /* saved (src) or loaded (dst) */
	uint32_t nvmstates;
	struct dev_state *devs;       /* as many as seen, up to MIG_MAX_DEVS */
	uint32_t ndevs, capdevs;
	struct ack_state ack;
	/* for timelines: v pending bytes, aux bytes sent so far */
	struct series pending_s;
	struct series iter_s;         /* dirty syncs: v bytes since the previous */
	struct series acks_s;         /* switchover ACKs still pending */
	struct snapshot snap;
	struct postcopy pc;
	const struct model *model;    /* for facts noted before the migration */
	struct mig *peer;
	enum { PAIR_NONE, PAIR_TCP, PAIR_TIME } paired_by;
	bool reported;
	bool drop;                    /* the model frees it at its next sweep */
	struct mig *next, *prev;      /* the migrations the model holds, in order of start */
	struct mig *hnext;            /* the pid hash's chain */
	struct mig *rnext;            /* the reported ones, in the order reported */
	struct mig *onext, *oprev;    /* the ones in progress, least recently fed first */
};

/* Called once per migration (pair) when its figures are final. */
typedef void (*model_done_fn)(void *ctx, const struct mig *src, const struct mig *dst);

/*
 * What the model holds, so that its memory follows the migrations in progress,
 * not a recording's length or a long run's: a migration in progress, and a
 * finished one (reported through model_done_fn) while it is the latest of its
 * process and among the MODEL_KEEP_FINISHED last reported; then it is freed.  A
 * view that needs a migration after its done call copies what it needs there, or
 * keeps a copy (mig_copy).  Beyond MODEL_MAX_OPEN migrations in
 * progress at once (no host runs as many), the one idle the longest is reported
 * as it stands and counted in evicted, which views say.
 */
#define MODEL_MAX_OPEN 1024
#define MODEL_KEEP_FINISHED 64
#define MODEL_HASH 1024               /* buckets of the pid hash */
#define MODEL_MAX_VMS 2048            /* process identities kept (model_note_vm) */

#define MODEL_MAX_HINTS 64
#define MODEL_MAX_FACTS 64
#define MODEL_MAX_GATE 32

/* A hold of swack gate (SWACK_EV_GATE_HOLD, then _RELEASE): it keeps QEMU
 * iterating, so it explains a late switchover. */
struct gate_note {
	uint32_t pid;
	uint64_t t_hold, t_release;   /* t_release 0 while in force */
	uint64_t max_ns;
	uint64_t raised, queries;     /* at the release */
	unsigned origin, cause;       /* as in the events */
	bool assumed;                 /* no release seen: ended here at its max-hold */
	char reason[SWACK_STR_LEN], release_reason[SWACK_STR_LEN];
};

struct dev_facts {
	uint32_t pid;
	char dev[SWACK_DEV_LEN];
	bool infov2;
	uint64_t mig_flags;
};

/* Who a process is to its operators: what QEMU was started with (-name,
 * -uuid) or what libvirt or KubeVirt call it.  Filled by the source layer:
 * at attach (live) or from the recording's process records (replay). */
#define VM_NAME_LEN 128
#define VM_UUID_LEN 40
#define VM_VIA_LEN 64

struct vm_ident {
	uint32_t pid;
	char name[VM_NAME_LEN];       /* "" unknown; KubeVirt: "namespace/name" */
	char uuid[VM_UUID_LEN];       /* "" unknown */
	char via[VM_VIA_LEN];         /* where they came from: "libvirt", "-name", ... */
};

struct model {
	struct dev_facts facts[MODEL_MAX_FACTS];
	uint32_t nfacts;
	struct mig *head, *tail;
	struct mig *rhead, *rtail;    /* reported, still held: oldest first */
	struct mig *ohead, *otail;    /* in progress: least recently fed first */
	/* Processes seen entering "inmigrate" before their migration began:
	 * destinations waiting for an incoming migration. */
	uint32_t incoming[MODEL_MAX_HINTS];
	uint32_t nincoming;
	struct gate_note gate[MODEL_MAX_GATE];   /* the latest holds, oldest dropped */
	uint32_t ngate;
	uint32_t nclosing;            /* snapshots stopped, in their grace */
	struct vm_ident *vms;         /* by pid; a later note for a pid replaces it */
	uint32_t nvms, capvms;
	uint32_t nmigs;               /* migrations seen in all */
	uint32_t nopen, nkept;        /* held now: not reported yet, reported */
	uint32_t evicted;             /* reported early: more than MODEL_MAX_OPEN in progress */
	uint32_t ended[3][MS_OTHER + 1];  /* reported, by role and final state */
	struct mig *hash[MODEL_HASH]; /* pid -> its latest migration */
	bool sweep;                   /* something was reported: free what is done with */
	model_done_fn done;
	void *ctx;
};

void model_init(struct model *m, model_done_fn done, void *ctx);
void model_free(struct model *m);
void model_feed(struct model *m, const struct swack_event *e);
/* Control characters (from a command line or a recording) become '?'. */
void vm_ident_sanitize(struct vm_ident *v);
/* The identity of a process; a sanitized copy is kept. */
void model_note_vm(struct model *m, const struct vm_ident *id);
/* NULL when nothing was noted for pid. */
const struct vm_ident *model_vm(const struct model *m, uint32_t pid);
/* The migration's VM name, or NULL when unknown. */
const char *mig_vm_name(const struct mig *g);
/* "vm": NAME, "uuid": UUID members of the open JSON object (null where unknown). */
struct jw;
void vm_json(struct jw *j, const struct model *m, uint32_t pid);
/* "; vm NAME" (or "; vm A -> B" when the two sides differ) after a head line;
 * nothing when neither side is known.  Either may be NULL. */
void mig_print_vm_text(FILE *out, const struct mig *src, const struct mig *dst);
/* The latest migration of pid the model holds, or NULL. */
struct mig *model_latest(const struct model *m, uint32_t pid);
/* When migrations were evicted (MODEL_MAX_OPEN), the sentence that says so into
 * buf, and true; false otherwise.  Every view that reads the model prints it. */
bool model_evicted_note(const struct model *m, char *buf, size_t len);
/* Migrations reported so far with that role (enum swack_role) and final state. */
uint32_t model_ended(const struct model *m, int role, enum mstate s);
/* A copy of g the caller owns (without its links to other migrations; its gate
 * holds are still the model's), to free with mig_free; NULL when out of memory. */
struct mig *mig_copy(const struct mig *g);
void mig_free(struct mig *g);
/* True once migrations were seen and every one was reported. */
bool model_all_reported(const struct model *m);
/* The holds of g's process that began before g ended; up to max, in order. */
int mig_gate_holds(const struct mig *g, const struct gate_note **out, int max);
/* End of input: report what is still open. */
void model_flush(struct model *m);
/* Time passed with no event (a live source's clock, CLOCK_MONOTONIC):
 * reports the snapshots whose grace after write tracking's stop ended, and
 * ends the holds past their max-hold with no release seen (a gate that was
 * killed logs none), as of their max-hold. */
void model_advance(struct model *m, uint64_t now_ns);

/* Parts of the model, one file each. */
void vfio_apply(struct mig *g, const struct swack_event *e);
void kdev_apply(struct mig *g, const struct swack_event *e);
/* Before a migration: facts a device states at start-up (opt-in, flags). */
void kdev_note_facts(struct model *m, const struct swack_event *e);
/* One device, both views: regrowths from the ioctls when they were seen. */
uint32_t dev_regrowths(const struct dev_state *d);
/* Time the device spent in a state, up to now for the current one. */
uint64_t kdev_state_ns(const struct dev_state *d, int state, uint64_t now);
struct dev_state *mig_dev(struct mig *g, const char *name);
void ack_apply(struct mig *g, const struct swack_event *e);
void snap_apply(struct mig *g, const struct swack_event *e);
void snap_free(struct mig *g);
bool snap_tracking(const struct mig *g);
/* A snapshot event for g: one of its own, before write tracking stopped. */
bool snap_takes(const struct mig *g, const struct swack_event *e);
void pc_apply(struct mig *g, const struct swack_event *e);
void pc_free(struct mig *g);
void downtime_apply(struct mig *g, const struct swack_event *e);

/* Downtime broken into consecutive phases, from QEMU's checkpoints. */
enum phase {
	PH_STOP, PH_ITERABLE, PH_NON_ITERABLE, PH_FINAL_SAVE, PH_SRC_TAIL, PH_TRANSFER_LOAD,
	PH_DST_START, PH_VCPU_START, PH_MAX
};

struct breakdown {
	int64_t ns[PH_MAX];          /* -1 where the checkpoints are missing */
	int64_t total_ns;            /* first to last checkpoint of the window */
	bool both_sides;
	bool from_checkpoints;       /* QEMU's checkpoints, else function probes (7.2) */
};

const char *phase_name(enum phase p);
void mig_breakdown(const struct mig *src, const struct mig *dst, struct breakdown *b);
/* The n slowest vmstates of g into out (sorted, slowest first); returns how many. */
int mig_top_vmstates(const struct mig *g, struct vmstate_time *out, int n);
int64_t mig_vmstates_us(const struct mig *g, bool iterable);
/* How long the source stayed converged without switching over. */
int64_t ack_held_ns(const struct mig *g);
/* Request-to-ACK time of the i-th ACK the source received, or -1. */
int64_t ack_latency_ns(const struct mig *src, uint32_t i);

/* How the source's pending bytes moved against what it sent: whether it
 * converged (pending at or below the threshold) and, when the figures allow,
 * the rate the guest dirtied memory at. */
struct convergence {
	bool known;                   /* at least two pending samples */
	bool converged;
	uint64_t first, last;         /* pending bytes */
	uint64_t threshold;
	int64_t span_ns;              /* the span the rates are measured over */
	int64_t sent;                 /* bytes sent in that span, -1 unknown */
	int64_t bw_Bps;               /* sent / span, else QEMU's last figure; -1 unknown */
	int64_t dirty_Bps;            /* sent less what pending fell by; -1 unknown */
};

void mig_convergence(const struct mig *g, struct convergence *c);
/* QEMU's downtime limit as its threshold implies (threshold / QEMU's own
 * bandwidth figure), or -1. */
int64_t mig_downtime_limit_ns(const struct mig *g);
/* Pending ACKs as the side counts them, or -1 when it does not. */
int64_t mig_acks_pending(const struct mig *g);
/* A background snapshot's figures, derived; times in ns. */
struct snap_region {
	uint64_t addr;                /* host virtual address of the region or page */
	uint32_t faults;
};

/* Exact q[i]-quantiles (0..1) of the stall times into out[i], with one sort; 0
 * without stalls. */
void snap_quantiles(const struct snapshot *s, const double *q, uint64_t *out, int n);
/* Regions of 1 << shift bytes with the most faults, most first. */
int snap_hot_regions(const struct snapshot *s, unsigned shift, struct snap_region *out, int n);
/* Pages that faulted more than once, most first. */
int snap_repeat_pages(const struct snapshot *s, struct snap_region *out, int n);
/* Histogram bucket of a stall. */
int snap_bucket(uint64_t ns);
/* The same over any fault table and values, for postcopy too. */
void fault_pages_note(struct snap_pages *p, uint64_t addr);
int fault_pages_hot(const struct snap_pages *p, unsigned shift, struct snap_region *out, int n);
int fault_pages_repeats(const struct snap_pages *p, struct snap_region *out, int n);
void values_quantiles(const uint64_t *v, uint32_t nv, const double *q, uint64_t *out, int n);

/* Postcopy, derived.  A vCPU's index from its thread name ("CPU 3/TCG",
 * "CPU 0/KVM": QEMU's names with -name ...,debug-threads=on), or -1. */
int pc_vcpu_of_comm(const char *comm);

/* The switch to postcopy, in consecutive phases that add up to the pause the
 * guest saw (source stop to destination resume); -1 where a mark is missing. */
enum pc_phase {
	PCP_STOP, PCP_ITERABLE, PCP_DISCARD, PCP_DEVICES, PCP_PACKAGE, PCP_DST_START, PCP_MAX
};

struct pc_switch {
	int64_t request_ns;           /* migrate-start-postcopy to the source's stop, -1 */
	int64_t ns[PCP_MAX];
	int64_t pause_ns;             /* source stop to destination resume, -1 unknown */
};

const char *pc_phase_name(enum pc_phase p);
void pc_switch_breakdown(const struct mig *src, const struct mig *dst, struct pc_switch *s);

struct pc_stats {
	int64_t duration_ns;          /* postcopy-active to completed (or now), -1 */
	int64_t bytes;                /* source: sent in that time, -1 unknown */
	int64_t paused_ns;            /* postcopy paused in all */
	uint32_t faults, requests, requests_recv, resolved, repeat_pages;
	int64_t unrequested;          /* resolved faults that needed no request (the page
				       * had arrived when QEMU read them); -1 unknown */
	double fault_rate;            /* faults per second of postcopy */
	uint64_t p50, p90, p99, max;  /* fault latency */
	uint64_t stall_max;           /* the longest wait for a page: max, or longer a fault
				       * still waiting at now (a running migration only) */
	uint64_t latency_total;
	int64_t blocktime_ns;         /* all listed vCPUs blocked at once, -1 unknown */
	int nvcpus;                   /* vCPUs listed (0: none, so no blocktime) */
	int blocked_now;              /* vCPUs waiting for a page at 'now', -1 unknown */
	uint64_t background_pages;    /* placed without a fault waiting for them */
};

/* g's postcopy figures (either side), up to now while it runs. */
void pc_stats(const struct mig *g, uint64_t now, struct pc_stats *st);
/* One fault's latency as the guest felt it: the thread's stall where it was
 * measured, else QEMU's read to the page placed; 0 while unresolved. */
uint64_t pc_fault_latency(const struct pc_fault *f);
/* Fault latencies by log2(us) into hist[SNAP_HIST], as the snapshot's stalls. */
void pc_latency_hist(const struct postcopy *pc, uint32_t *hist);
/* Each vCPU's blocked time (the union of its stalls, those still open ending
 * at now) into per_vcpu[PC_MAX_VCPUS]. */
void pc_vcpus_blocked(const struct postcopy *pc, uint64_t now, uint64_t *per_vcpu);
/* The highest vCPU index known, plus one (listed or seen stalling). */
int pc_vcpu_count(const struct postcopy *pc);

enum mstate mstate_from_name(const char *name);
const char *mstate_name(enum mstate s);
bool mstate_terminal(enum mstate s);

/* Derived figures; negative when unknown. */
int64_t mig_total_ns(const struct mig *g);
int64_t mig_bytes(const struct mig *g);
/* True when mig_bytes comes from QEMU's own count (no stream bytes seen),
 * which stops at QEMU's last bandwidth update. */
bool mig_bytes_from_qemu(const struct mig *g);
/* Bytes over the time the migration sent them: from "active" (or its first
 * event) to the last byte (QEMU's count: to its last update); bytes per
 * second, 0 when nothing moved. */
uint64_t mig_avg_bw(const struct mig *g);
const char *bw_source_name(enum bw_source s);
/* Keeps a (time, bytes) sample, at most one every RATE_SAMPLE_NS. */
void rate_sample(struct rate_ring *r, uint64_t ts, uint64_t tx);
/* Bytes per second from the sample a RATE_WINDOW_NS before `now` (or the
 * oldest, when the samples span less) to (now, tx_now); 0 unknown. */
uint64_t rate_over_window(const struct rate_ring *r, uint64_t now, uint64_t tx_now);
int64_t mig_qemu_downtime_ns(const struct mig *src);
int64_t mig_guest_downtime_ns(const struct mig *src, const struct mig *dst);
/* Where the guest runs again on the destination: a vCPU's first entry into
 * guest code, else the end of vm_start (or its USDT notification); 0 unknown. */
static inline uint64_t mig_resume_ts(const struct mig *dst)
{
	return dst->t_run ? dst->t_run : dst->t_resumed;
}

#endif
