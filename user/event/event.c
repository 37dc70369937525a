// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "util/term.h"
#include "event/event.h"
#include "event/vfio_uapi.h"
#include "util/json.h"

#define U(l, s) { l, s, FMT_U64 }
#define S(l, s) { l, s, FMT_S64 }
#define T(l, s) { l, s, FMT_STR }
#define O(l, s) { l, s, FMT_U64_OPT }
#define X(l, s) { l, s, FMT_TEXT }

static const struct event_desc descs[SWACK_EV_MAX] = {
	[SWACK_EV_MIG_STATE] = { "mig_state", { T("state", F_STR) } },
	[SWACK_EV_PENDING] = { "pending", { U("precopy", F_A0), U("compat", F_A1),
		U("postcopy", F_A2), O("threshold", F_A3), O("size", F_A4) } },
	[SWACK_EV_DIRTY_SYNC] = { "dirty_sync", { U("bytes", F_A0), U("ns", F_A1),
		U("bw_Bps", F_A2), U("tx_bytes", F_TX) } },
	[SWACK_EV_SWITCHOVER] = { "switchover", { U("pending", F_A0), O("threshold", F_A1) } },
	[SWACK_EV_TRANSFERRED] = { "transferred", { U("bytes", F_A0), U("time_ms", F_A1),
		U("bw_bytes_ms", F_A2), O("avail_bw", F_A3), O("threshold", F_A4) } },
	[SWACK_EV_VM_STOP] = { "vm_stop", { T("runstate", F_STR) } },
	[SWACK_EV_VM_STOPPED] = { "vm_stopped", { T("reason", F_STR) } },
	[SWACK_EV_VM_START] = { "vm_start", { { 0 } } },
	[SWACK_EV_VM_RESUMED] = { "vm_resumed", { T("reason", F_STR) } },
	[SWACK_EV_RUNSTATE] = { "runstate", { T("state", F_STR), O("old", F_A0),
		U("new", F_A1) } },
	[SWACK_EV_SAVE_SETUP] = { "save_setup", { { 0 } } },
	[SWACK_EV_SAVE_COMPLETE] = { "save_complete", { S("ret", F_A0) } },
	[SWACK_EV_LOAD_BEGIN] = { "load_begin", { { 0 } } },
	[SWACK_EV_LOAD_END] = { "load_end", { S("ret", F_A0) } },
	[SWACK_EV_CHECKPOINT] = { "checkpoint", { T("name", F_STR) } },
	[SWACK_EV_VMSTATE_SAVE] = { "vmstate_save", { T("type", F_STR), T("idstr", F_DEV),
		U("instance", F_A0), S("downtime_us", F_A1) } },
	[SWACK_EV_VMSTATE_LOAD] = { "vmstate_load", { T("type", F_STR), T("idstr", F_DEV),
		U("instance", F_A0), S("downtime_us", F_A1) } },
	[SWACK_EV_ACK_NEEDED] = { "ack_needed", { U("devices", F_A0) } },
	[SWACK_EV_ACK_APPROVE] = { "ack_approve", { O("remaining", F_A0),
		T("approver", F_STR) } },
	[SWACK_EV_ACK_RECEIVED] = { "ack_received", { O("pending", F_A0) } },
	[SWACK_EV_ACK_SENT] = { "ack_sent", { { 0 } } },
	[SWACK_EV_SWITCHOVER_START] = { "switchover_start", { { 0 } } },
	[SWACK_EV_COMPLETION_STOP] = { "completion_vm_stop", { S("ret", F_A0) } },
	[SWACK_EV_EXEC] = { "exec", { T("comm", F_STR) } },
	[SWACK_EV_EXIT] = { "exit", { { 0 } } },
	[SWACK_EV_VFIO_PENDING] = { "vfio_pending", { T("dev", F_DEV), U("initial", F_A3),
		U("dirty", F_A4), O("stopcopy", F_A2), U("precopy", F_A0), U("postcopy", F_A1) } },
	[SWACK_EV_VFIO_ITERATE] = { "vfio_iterate", { T("dev", F_DEV), U("initial", F_A0),
		U("dirty", F_A1) } },
	[SWACK_EV_VFIO_STATE] = { "vfio_state", { T("dev", F_DEV), T("state", F_STR),
		U("device", F_A0) } },
	[SWACK_EV_VFIO_OP] = { "vfio", { T("dev", F_DEV), { "op", F_A0, FMT_VFIO_OP },
		S("arg1", F_A1), S("arg2", F_A2) } },
	[SWACK_EV_VFIO_IOCTL] = { "vfio_ioctl", { T("dev", F_DEV), { "call", F_A0, FMT_VFIO_IOCTL },
		U("fd", F_A1), S("ret", F_A5) } },
	[SWACK_EV_VFIO_DATA] = { "vfio_data", { T("dev", F_DEV), U("fd", F_A0), S("ret", F_A1),
		U("write", F_A2) } },
	[SWACK_EV_PAIR] = { "pair", { U("src", F_A0), U("dst", F_A1) } },
	[SWACK_EV_GATE_HOLD] = { "gate_hold", { X("reason", F_STR),
		{ "origin", F_A1, FMT_GATE_ORIGIN }, { "max_hold", F_A0, FMT_NS },
		U("value", F_A2) } },
	[SWACK_EV_GATE_RELEASE] = { "gate_release", { X("reason", F_STR),
		{ "cause", F_A4, FMT_GATE_CAUSE }, { "held", F_A0, FMT_NS }, U("raised", F_A1),
		U("queries", F_A2), U("missed", F_A3) } },
	[SWACK_EV_QUERY_PENDING] = { "query_pending", { U("precopy", F_A0), U("stopcopy", F_A1),
		U("postcopy", F_A2), U("total", F_A3), U("ack_pending", F_A4),
		U("ack_pending_total", F_A5) } },
	[SWACK_EV_WT_START] = { "write_tracking_start", { S("ret", F_A0), T("block", F_STR) } },
	[SWACK_EV_WT_STOP] = { "write_tracking_stop", { T("block", F_STR) } },
	[SWACK_EV_SNAP_PROGRESS] = { "snapshot_progress", { U("unprotects", F_A0),
		U("bytes_unprotected", F_A1), U("written", F_TX) } },
	[SWACK_EV_UFFD_IOCTL] = { "uffd_ioctl", { { "cmd", F_A0, FMT_UFFD_CMD }, U("fd", F_A1),
		{ "start", F_A2, FMT_HEX }, U("len", F_A3), U("mode", F_A4), S("ret", F_A5) } },
	[SWACK_EV_UFFD_FAULT] = { "uffd_fault", { { "addr", F_A0, FMT_HEX }, U("flags", F_A1),
		U("ptid", F_A2) } },
	[SWACK_EV_UFFD_STALL] = { "uffd_stall", { U("ns", F_A0), U("thread", F_A1),
		T("comm", F_STR), { "by", F_A2, FMT_UFFD_CMD }, { "start", F_A3, FMT_HEX },
		U("len", F_A4) } },
	[SWACK_EV_VCPU_RUN] = { "vcpu_run", { { "via", F_A0, FMT_RUN_VIA },
		{ "after_start", F_A1, FMT_NS_MS } } },
	[SWACK_EV_PC_STEP] = { "postcopy_step", { { "step", F_A0, FMT_PC_STEP }, S("ret", F_A1),
		T("what", F_STR) } },
	[SWACK_EV_PC_REQUEST] = { "postcopy_request", { { "addr", F_A0, FMT_HEX },
		{ "offset", F_A1, FMT_HEX_OPT } } },
	[SWACK_EV_PC_REQ_RECV] = { "postcopy_req_recv", { T("block", F_STR),
		{ "offset", F_A0, FMT_HEX }, U("len", F_A1) } },
	[SWACK_EV_PC_FAULT] = { "postcopy_fault", { { "addr", F_A0, FMT_HEX }, T("block", F_STR),
		{ "offset", F_A1, FMT_HEX }, U("thread", F_A2) } },
	[SWACK_EV_PC_RESOLVE] = { "postcopy_resolve", { { "addr", F_A0, FMT_HEX }, U("ns", F_A1),
		U("thread", F_A2), { "by", F_A3, FMT_UFFD_CMD }, U("len", F_A4) } },
	[SWACK_EV_PC_PROGRESS] = { "postcopy_progress", { U("copies", F_A0), U("zeropages", F_A1),
		U("bytes", F_A2), U("resolved", F_A3), U("wakes", F_A4) } },
	[SWACK_EV_PC_VCPU] = { "postcopy_vcpu", { U("vcpu", F_A0), U("thread", F_A1) } },
	[SWACK_EV_PC_BLOCKTIME] = { "postcopy_blocktime", { { "what", F_A0, FMT_PC_BT },
		{ "addr", F_A1, FMT_HEX }, U("time", F_A2), S("cpu", F_A3), S("n", F_A4) } },
	[SWACK_EV_PC_DISCARD] = { "postcopy_discard", { T("block", F_STR),
		{ "start", F_A0, FMT_HEX }, U("len", F_A1) } },
	[SWACK_EV_PC_PAGE_REQ] = { "postcopy_page_req", { { "addr", F_A0, FMT_HEX },
		U("outstanding", F_A1), U("added", F_A2) } },
};

static const struct event_desc unknown = { "unknown", { U("a0", F_A0), U("a1", F_A1) } };

const struct event_desc *event_desc(unsigned kind)
{
	if (kind >= SWACK_EV_MAX || !descs[kind].name)
		return &unknown;
	return &descs[kind];
}

static const char *vfio_op_name(unsigned op)
{
	static const char *const names[SWACK_VFIO_OP_MAX] = {
		[SWACK_VFIO_SAVE_SETUP] = "save_setup",
		[SWACK_VFIO_SAVE_BLOCK] = "save_block",
		[SWACK_VFIO_SAVE_COMPLETE] = "save_complete_precopy",
		[SWACK_VFIO_LOAD_STATE] = "load_state",
		[SWACK_VFIO_LOAD_DEVICE_DATA] = "load_device_data",
		[SWACK_VFIO_SAVE_THREAD_START] = "save_thread_start",
		[SWACK_VFIO_SAVE_THREAD_END] = "save_thread_end",
		[SWACK_VFIO_BUF_INCOMING] = "buffer_incoming",
		[SWACK_VFIO_BUF_STARVED] = "buffer_starved",
		[SWACK_VFIO_BUF_LOAD_START] = "buffer_load_start",
		[SWACK_VFIO_BUF_LOAD_END] = "buffer_load_end",
		[SWACK_VFIO_LOAD_THREAD_START] = "load_thread_start",
		[SWACK_VFIO_LOAD_THREAD_END] = "load_thread_end",
	};
	return op < SWACK_VFIO_OP_MAX && names[op] ? names[op] : "unknown";
}

const char *gate_origin_name(unsigned origin)
{
	return origin == 1 ? "command" : origin == 2 ? "policy" : "unknown";
}

const char *gate_cause_name(unsigned cause)
{
	static const char *const names[] = { "unknown", "command", "deadline", "policy",
					     "gate-exit", "process-gone", "gate-died" };

	return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "unknown";
}

/* SWACK_EV_PC_STEP a0, by name ("migrate-start-postcopy", "listening"...). */
static const char *pc_step_name(unsigned step)
{
	static const char *const names[SWACK_PC_STEP_MAX] = {
		[SWACK_PC_START_CMD] = "migrate-start-postcopy",
		[SWACK_PC_DISCARD_BITMAP] = "discard-bitmap",
		[SWACK_PC_LISTEN_SENT] = "listen-sent",
		[SWACK_PC_RUN_SENT] = "run-sent",
		[SWACK_PC_PACKAGE_SENT] = "package-sent",
		[SWACK_PC_COMPLETE] = "complete",
		[SWACK_PC_RESUME_SENT] = "resume-sent",
		[SWACK_PC_PAUSE_CMD] = "migrate-pause",
		[SWACK_PC_RECOVER_CMD] = "migrate-recover",
		[SWACK_PC_DST_ADVISE] = "advise",
		[SWACK_PC_DST_DISCARD] = "discard",
		[SWACK_PC_DST_LISTENING] = "listening",
		[SWACK_PC_DST_RUNNING] = "running",
		[SWACK_PC_DST_END] = "end",
		[SWACK_PC_DST_RESUME] = "resume",
	};
	return step < SWACK_PC_STEP_MAX && names[step] ? names[step] : "unknown";
}

static const char *pc_bt_name(unsigned what)
{
	return what == SWACK_PC_BT_BEGIN ? "begin" : what == SWACK_PC_BT_END ? "end" :
	       what == SWACK_PC_BT_TOTAL ? "total" : "unknown";
}

static const char *uffd_cmd_name(unsigned cmd)
{
	switch (cmd & 0xff) {
	case SWACK_UFFDIO_REGISTER: return "REGISTER";
	case SWACK_UFFDIO_UNREGISTER: return "UNREGISTER";
	case SWACK_UFFDIO_WAKE: return "WAKE";
	case SWACK_UFFDIO_COPY: return "COPY";
	case SWACK_UFFDIO_ZEROPAGE: return "ZEROPAGE";
	case SWACK_UFFDIO_WRITEPROTECT: return "WRITEPROTECT";
	case SWACK_UFFDIO_CONTINUE: return "CONTINUE";
	case SWACK_UFFDIO_API: return "API";
	default: return "unknown";
	}
}

const char *run_via_name(unsigned via)
{
	return via == SWACK_RUN_TCG ? "cpu_exec" : via == SWACK_RUN_KVM ? "KVM_RUN" : "unknown";
}

const char *role_name(int role)
{
	return role == SWACK_ROLE_SRC ? "src" : role == SWACK_ROLE_DST ? "dst" : "-";
}

static __u64 field_u64(const struct swack_event *e, enum field_src src)
{
	return src == F_TX ? e->tx_bytes : e->a[src - F_A0];
}

static const char *field_str(const struct swack_event *e, enum field_src src)
{
	return src == F_DEV ? e->dev : e->str;
}

static size_t str_max(enum field_src src)
{
	return src == F_DEV ? SWACK_DEV_LEN : SWACK_STR_LEN;
}

/* Free text (a hold's reason) is quoted, so that the line still splits on
 * blanks into NAME=VALUE pairs. */
/* In quotes: a quote inside becomes an apostrophe, control characters \xNN. */
static void print_text_value(FILE *out, const char *s, size_t max)
{
	char esc[4 * 128 + 1];

	term_escape(esc, sizeof(esc), s, max < 128 ? max : 128);
	for (char *q = esc; (q = strchr(q, '"')); )
		*q = '\'';
	fprintf(out, "\"%s\"", esc);
}

/* A field's value by name, when it is one (a name table's entry), or NULL. */
static const char *field_name(const struct field *f, __u64 v)
{
	switch (f->fmt) {
	case FMT_UFFD_CMD: return uffd_cmd_name(v);
	case FMT_VFIO_OP: return vfio_op_name(v);
	case FMT_GATE_CAUSE: return gate_cause_name(v);
	case FMT_GATE_ORIGIN: return gate_origin_name(v);
	case FMT_RUN_VIA: return run_via_name(v);
	case FMT_PC_STEP: return pc_step_name(v);
	case FMT_PC_BT: return pc_bt_name(v);
	default: return NULL;
	}
}

static void print_field(FILE *out, const struct swack_event *e, const struct field *f)
{
	__u64 v;

	if (f->fmt == FMT_STR || f->fmt == FMT_TEXT) {
		const char *s = field_str(e, f->src);

		if (!s[0])
			return;
		fprintf(out, " %s=", f->label);
		if (f->fmt == FMT_TEXT)
			print_text_value(out, s, str_max(f->src));
		else
			term_put(out, s, str_max(f->src));
		return;
	}
	v = field_u64(e, f->src);
	if ((f->fmt == FMT_U64_OPT || f->fmt == FMT_HEX_OPT) && v == ~0ULL)
		return;
	if (f->fmt == FMT_VFIO_IOCTL) {
		char what[128];

		vfio_describe(e, what, sizeof(what));
		fprintf(out, " %s=", f->label);
		print_text_value(out, what, sizeof(what));
	} else if (field_name(f, v)) {
		fprintf(out, " %s=%s", f->label, field_name(f, v));
	} else if (f->fmt == FMT_HEX || f->fmt == FMT_HEX_OPT) {
		fprintf(out, " %s=0x%llx", f->label, (unsigned long long)v);
	} else if (f->fmt == FMT_NS) {
		fprintf(out, " %s=%.3fs", f->label, v / 1e9);
	} else if (f->fmt == FMT_NS_MS) {
		fprintf(out, " %s=%.3fms", f->label, v / 1e6);
	} else if (f->fmt == FMT_S64) {
		fprintf(out, " %s=%lld", f->label, (long long)v);
	} else {
		fprintf(out, " %s=%llu", f->label, (unsigned long long)v);
	}
}

/* JSON keeps numbers as numbers: hex addresses and durations in ns too. */
static void field_json(struct jw *j, const struct swack_event *e, const struct field *f)
{
	__u64 v;

	if (f->fmt == FMT_STR || f->fmt == FMT_TEXT) {
		const char *s = field_str(e, f->src);

		if (s[0])
			jw_strn(j, f->label, s, str_max(f->src));
		return;
	}
	v = field_u64(e, f->src);
	if ((f->fmt == FMT_U64_OPT || f->fmt == FMT_HEX_OPT) && v == ~0ULL)
		return;
	if (f->fmt == FMT_VFIO_IOCTL) {
		char what[128];

		vfio_describe(e, what, sizeof(what));
		jw_str(j, f->label, what);
	} else if (field_name(f, v)) {
		jw_str(j, f->label, field_name(f, v));
	} else if (f->fmt == FMT_S64) {
		jw_s64(j, f->label, (int64_t)v);
	} else {
		jw_u64(j, f->label, v);
	}
}

/* The flags the text line names. */
#define PRINTED_FLAGS (SWACK_F_EXACT | SWACK_F_FINAL | SWACK_F_END | SWACK_F_NOOP)

void event_print_text(FILE *out, const struct swack_event *e, __u64 t0)
{
	const struct event_desc *d = event_desc(e->kind);
	double t = e->ts >= t0 ? (e->ts - t0) / 1e9 : 0;

	/* Pad the name only where fields follow: no trailing blanks. */
	fprintf(out, d->fields[0].label || (e->flags & PRINTED_FLAGS) ?
		"%12.6f %7u/%-7u %-3s %-18s" :
		"%12.6f %7u/%-7u %-3s %s", t, e->pid, e->tid, role_name(e->role), d->name);
	for (int i = 0; i < EVENT_MAX_FIELDS && d->fields[i].label; i++)
		print_field(out, e, &d->fields[i]);
	if (e->flags & SWACK_F_EXACT)
		fputs(" exact", out);
	if (e->flags & SWACK_F_FINAL)
		fputs(" final", out);
	if (e->flags & SWACK_F_END)
		fputs(" end", out);
	if (e->flags & SWACK_F_NOOP)
		fputs(" noop", out);
	fputc('\n', out);
}

void event_print_json(FILE *out, const struct swack_event *e)
{
	const struct event_desc *d = event_desc(e->kind);
	struct jw j;

	jw_init(&j, out, 0);
	jw_obj(&j, NULL);
	jw_u64(&j, "ts", e->ts);
	jw_u64(&j, "pid", e->pid);
	jw_u64(&j, "tid", e->tid);
	jw_str(&j, "role", role_name(e->role));
	jw_str(&j, "event", d->name);
	for (int i = 0; i < EVENT_MAX_FIELDS && d->fields[i].label; i++)
		field_json(&j, e, &d->fields[i]);
	jw_u64(&j, "flags", e->flags);
	jw_u64(&j, "tx_bytes", e->tx_bytes);
	jw_end(&j);
}

void event_args_json(struct jw *j, const char *key, const struct swack_event *e)
{
	const struct event_desc *d = event_desc(e->kind);

	jw_obj(j, key);
	jw_str(j, "event", d->name);
	for (int i = 0; i < EVENT_MAX_FIELDS && d->fields[i].label; i++)
		field_json(j, e, &d->fields[i]);
	jw_end(j);
}
