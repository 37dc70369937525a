// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes through the recording reader, every record
 * iterated and decoded, the header and the ending printed.  Besides the sanitizers,
 * it checks the reader's own accounts: records are contiguous and inside the input,
 * and how the file ended adds up to its size.
 *
 *   clang-14 -fsanitize=fuzzer,address,undefined -Ibpf -Iuser \
 *       tests/fuzz/fuzz_recfile.c user/source/recfile.c -o build/fuzz_recfile
 *   build/fuzz_recfile -max_total_time=60 tests/fuzz/corpus
 *
 * With -DFUZZ_REPLAY (any compiler, no libFuzzer) it is a plain program that runs
 * each file given through the same checks and prints how each one ended.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../unit/recfile_extra.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, \
				  __LINE__); abort(); } } while (0)

static FILE *sink;
static char *verdict;   /* FUZZ_REPLAY: how the last input ended */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], line[1024];
	struct rec_record rec;
	const struct rec_status *s;
	struct recr *r;
	__u64 next, n = 0;
	FILE *f;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!size)   /* fmemopen wants a size; the empty file is a unit test */
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	err[0] = 0;
	r = recr_fopen(f, true, "fuzz", err, sizeof(err));
	if (!r) {
		CHECK(err[0] && !strchr(err, '\n'));
		if (verdict)
			snprintf(verdict, 1024, "%s", err);
		return 0;
	}
	rec_header_print(sink, recr_header(r));
	rec_header_check_abi(recr_header(r), err, sizeof(err));
	next = recr_header(r)->header_len;
	CHECK(next >= REC_HEADER_LEN_V1 && next <= size);
	while (recr_next(r, &rec) == 1) {
		struct swack_event e;
		struct rec_process p;
		struct rec_loss l;
		struct rec_clock c;
		struct rec_end_rec end;

		CHECK(rec.number == ++n);
		CHECK(rec.offset == next);
		CHECK(rec.len <= REC_MAX_PAYLOAD);
		CHECK(rec.offset + REC_FRAME + rec.len <= size);
		CHECK(!memcmp(rec.payload, data + rec.offset + 8, rec.len));
		next = rec.offset + REC_FRAME + rec.len;
		if (!rec_decode_event(&rec, &e))
			CHECK(rec.type == REC_EVENT || rec.type == REC_PACKED);
		if (rec.event)
			CHECK(rec.type == REC_PACKED && recr_header(r)->version >= 2);
		if (!rec_decode_process(&rec, &p))
			fprintf(sink, "%u %s %s %s %s\n", p.pid, p.comm, p.exe, p.generation,
				p.attach);
		if (!rec_decode_loss(&rec, &l))
			CHECK(rec.type == REC_LOSS);
		if (!rec_decode_clock(&rec, &c))
			CHECK(rec.type == REC_CLOCK);
		if (!rec_decode_end(&rec, &end))
			fprintf(sink, "%s\n", end.reason);
		fprintf(sink, "%s\n", rec_type_name(rec.type));
	}
	CHECK(recr_next(r, &rec) == 0);
	s = recr_status(r);
	CHECK(s->records == n);
	CHECK(s->last_number == n);
	CHECK(s->good_bytes == next);
	switch (s->kind) {
	case REC_ENDED_CLEAN:
		CHECK(s->good_bytes + s->trailing_bytes == size);
		CHECK(s->counts[REC_END] == 1);
		break;
	case REC_ENDED_CUT:
		CHECK(s->good_bytes + s->torn_bytes == size);
		CHECK(s->torn_bytes < REC_FRAME + REC_MAX_PAYLOAD || s->zero_tail);
		break;
	case REC_ENDED_CORRUPT:
		CHECK(s->bad_offset == s->good_bytes && s->bad_offset < size);
		CHECK(s->bad_number == n + 1 && s->why[0]);
		break;
	default:
		CHECK(0);
	}
	rec_status_describe(s, line, sizeof(line));
	CHECK(line[0] && !strchr(line, '\n'));
	if (verdict)
		snprintf(verdict, 1024, "%s", line);
	recr_close(r);
	return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_file.h"

int main(int argc, char **argv)
{
	static char v[1024];

	verdict = v;
	for (int i = 1; i < argc; i++) {
		size_t len;
		unsigned char *buf = replay_file(argv[i], &len);

		if (!buf)
			return 1;
		v[0] = 0;
		LLVMFuzzerTestOneInput(buf, len);
		printf("%s: %s\n", argv[i], len ? v : "empty (not replayed)");
		free(buf);
	}
	return 0;
}
#endif
