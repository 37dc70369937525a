/* SPDX-License-Identifier: GPL-2.0 */
/* Names and field layout of each event kind: one table for every output. */
#ifndef SWACK_EVENT_H
#define SWACK_EVENT_H
#include <stdio.h>
#include <linux/types.h>
#include "swack.h"

enum field_src { F_END = 0, F_A0, F_A1, F_A2, F_A3, F_A4, F_A5, F_STR, F_DEV, F_TX };
enum field_fmt { FMT_U64, FMT_S64, FMT_STR, FMT_TEXT /* free text: quoted */,
		FMT_U64_OPT /* ~0 = unknown */, FMT_VFIO_OP,
		FMT_VFIO_IOCTL /* the whole call, decoded */, FMT_GATE_ORIGIN, FMT_GATE_CAUSE,
		FMT_NS /* a duration in ns, printed in seconds in text */,
		FMT_UFFD_CMD /* UFFDIO_* command name */, FMT_HEX /* 0x in text, number in JSON */,
		FMT_NS_MS /* a duration in ns, printed in ms in text */,
		FMT_RUN_VIA /* enum swack_run_via by name */,
		FMT_HEX_OPT /* FMT_HEX, ~0 = unknown */, FMT_PC_STEP /* enum swack_pc_step */,
		FMT_PC_BT /* enum swack_pc_bt */ };

struct field {
	const char *label;
	enum field_src src;
	enum field_fmt fmt;
};

#define EVENT_MAX_FIELDS 6

struct event_desc {
	const char *name;
	struct field fields[EVENT_MAX_FIELDS];
};

const struct event_desc *event_desc(unsigned kind);
const char *role_name(int role);
/* SWACK_EV_GATE_HOLD a1 and SWACK_EV_GATE_RELEASE a4, by name. */
const char *gate_origin_name(unsigned origin);
const char *gate_cause_name(unsigned cause);
/* SWACK_EV_VCPU_RUN a0 (enum swack_run_via), by name. */
const char *run_via_name(unsigned via);
/* One line, perf-trace style; t0 is the time origin in ns. */
void event_print_text(FILE *out, const struct swack_event *e, __u64 t0);
/* One JSON line. */
void event_print_json(FILE *out, const struct swack_event *e);
struct jw;
/* {"event":NAME, the fields}: an event's fields as one JSON object, at key. */
void event_args_json(struct jw *j, const char *key, const struct swack_event *e);

#endif
