// SPDX-License-Identifier: GPL-2.0
/*
 * The recording format as the tests see it: recfile.c itself, compiled here
 * with the few entry points that only tests use, which reach its internals
 * (the writer's descriptor and byte count, records of any type).  swack
 * links recfile.c alone.
 */
#include "source/recfile.c"
#include "recfile_extra.h"

/* "-12.345678901" from signed nanoseconds. */
static void fmt_sec(char *buf, size_t len, __s64 ns)
{
	__u64 a = ns < 0 ? (__u64)0 - (__u64)ns : (__u64)ns;

	snprintf(buf, len, "%s%llu.%09llu", ns < 0 ? "-" : "",
		 (unsigned long long)(a / 1000000000ull), (unsigned long long)(a % 1000000000ull));
}

void rec_header_print(FILE *out, const struct rec_header *h)
{
	char s1[REC_HOST_LEN], s2[REC_MACHINE_LEN];
	char mono[32], real[32], tai[32], date[64] = "?";
	__s64 taioff = (__s64)((__u64)h->clock.tai_ns - (__u64)h->clock.real_ns) / 1000000000ll;
	time_t t = (time_t)(h->clock.real_ns / 1000000000ll);
	struct tm tm;

	if (h->clock.real_ns >= 0 && gmtime_r(&t, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	fmt_sec(mono, sizeof(mono), (__s64)h->clock.mono_ns);
	fmt_sec(real, sizeof(real), h->clock.real_ns);
	fmt_sec(tai, sizeof(tai), h->clock.tai_ns);
	fprintf(out, "format:     swack recording version %u, %s, header %u bytes\n",
		h->version, __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "little-endian" :
		"big-endian", h->header_len);
	fprintf(out, "host:       %s (%s)\n", clean(s1, sizeof(s1), h->host),
		h->machine[0] ? clean(s2, sizeof(s2), h->machine) : "?");
	fprintf(out, "kernel:     %s\n", clean(s1, sizeof(s1), h->kernel));
	fprintf(out, "boot id:    %s\n", h->boot_id[0] ? clean(s1, sizeof(s1), h->boot_id) :
		"unknown");
	fprintf(out, "event ABI:  %u, %u-byte events%s\n", h->abi_version, h->event_size,
		h->abi_version == SWACK_ABI_VERSION &&
		h->event_size == sizeof(struct swack_event) ? "" : " (not this swack's)");
	fprintf(out, "started:    %s.%09lld UTC\n", date,
		(long long)(h->clock.real_ns >= 0 ? h->clock.real_ns % 1000000000ll : 0));
	fprintf(out, "clocks:     monotonic %s s = realtime %s s +- %llu ns "
		"(tightest bracket %llu ns)\n", mono, real,
		(unsigned long long)(h->clock.width_ns / 2 + (h->clock.width_ns & 1)),
		(unsigned long long)h->clock.width_ns);
	fprintf(out, "            TAI %s s (TAI - UTC = %lld s%s)\n", tai, (long long)taioff,
		taioff ? "" : ": the kernel's TAI offset is not set, TAI equals UTC here");
}

int recw_raw(struct recw *w, __u32 type, const void *payload, __u32 len)
{
	return append(w, type, payload, len, true);
}

int recw_fileno(const struct recw *w)
{
	return w->fd;
}

__u64 recw_bytes(const struct recw *w)
{
	return w->file_bytes;
}

int rec_decode_clock(const struct rec_record *rec, struct rec_clock *c)
{
	if (rec->type != REC_CLOCK || rec->len < CLOCK_PAYLOAD)
		return -1;
	clock_decode(c, rec->payload);
	return 0;
}
