// SPDX-License-Identifier: GPL-2.0
/*
 * Facts from machine code, where a binary has no DWARF to give them.
 *
 * QEMU 8.0-11.0's migration thread asks qemu_savevm_state_pending_estimate
 * (and, when that is under the threshold, _exact) for the pending size, then
 * compares it with MigrationState.threshold_size (migration_iteration_run,
 * static).  Both queries take only out-pointers, so the threshold is not an
 * argument: swack reads it from memory, through the MigrationState pointer
 * that migrate_get_current() returns, at the offset that the code right after
 * each call loads.  On Debian's 10.0.2: "mov 0x1e8(%rbx),%rax" after both call
 * sites, and migrate_get_current a load of the pointer from .bss.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "source/codefacts.h"

#define CALL_WINDOW 64      /* bytes after a call searched for the load */
#define MAX_FIELD_OFF 0x10000
#define NEAR (1u << 20)     /* bytes either side of migrate_get_current searched first */

static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/* REX with W set and no X (no index register): 0x48, 0x49, 0x4c, 0x4d. */
static int rex_w(uint8_t b)
{
	return (b & 0xfa) == 0x48;
}

int x86_rip_load(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t *target)
{
	size_t at = 0;

	if (len >= 4 && !memcmp(code, endbr64, 4))
		at = 4;
	/* mov disp32(%rip),%reg: REX.W 8b, ModRM mod 00 r/m 101. */
	if (len < at + 7 || !rex_w(code[at]) || code[at + 1] != 0x8b ||
	    (code[at + 2] & 0xc7) != 0x05)
		return -1;
	*target = vaddr + at + 7 + (int64_t)le32(code + at + 3);
	return 0;
}

int x86_first_field_load(const uint8_t *code, size_t len, uint32_t *disp)
{
	for (size_t i = 0; i + 7 <= len; i++) {
		uint8_t modrm = code[i + 2];
		int32_t d;

		/* REX.W 8b (mov) or 3b (cmp), mod 10 (disp32), r/m not 100 (SIB). */
		if (!rex_w(code[i]) || (code[i + 1] != 0x8b && code[i + 1] != 0x3b) ||
		    modrm >> 6 != 2 || (modrm & 7) == 4)
			continue;
		d = le32(code + i + 3);
		if (d < 0 || d >= MAX_FIELD_OFF || d % 8)
			continue;
		*disp = (uint32_t)d;
		return 0;
	}
	return -1;
}

struct text {
	const uint8_t *bytes;     /* .text, mapped from the file */
	uint64_t addr;
	size_t size;
	void *map;
	size_t maplen;
};

/* .text mapped in place (the page cache's copy): no read of megabytes. */
static int map_text(const char *exe, struct text *t, char *why, size_t len)
{
	int fd = open(exe, O_RDONLY | O_CLOEXEC), ret = -1;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	long page = sysconf(_SC_PAGESIZE);
	off_t start;

	memset(t, 0, sizeof(*t));
	elf_version(EV_CURRENT);
	if (fd >= 0)
		elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx)) {
		snprintf(why, len, "cannot read %s as ELF", exe);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".text"))
			break;
	}
	if (!scn) {
		snprintf(why, len, "no .text section");
		goto out;
	}
	start = (off_t)sh.sh_offset & ~(off_t)(page - 1);
	t->maplen = sh.sh_offset - start + sh.sh_size;
	t->map = mmap(NULL, t->maplen, PROT_READ, MAP_PRIVATE, fd, start);
	if (t->map == MAP_FAILED) {
		snprintf(why, len, "cannot map .text: %s", strerror(errno));
		t->map = NULL;
		goto out;
	}
	t->bytes = (const uint8_t *)t->map + (sh.sh_offset - start);
	t->addr = sh.sh_addr;
	t->size = sh.sh_size;
	ret = 0;
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static const uint8_t *text_at(const struct text *t, uint64_t vaddr, size_t want)
{
	if (vaddr < t->addr || vaddr - t->addr + want > t->size)
		return NULL;
	return t->bytes + (vaddr - t->addr);
}

/* Every "call rel32" to one of the queries in .text[from, to_off): the field
 * the code after it loads. */
static int threshold_field(const struct text *t, size_t from, size_t to_off,
			   const uint64_t queries[2], struct code_facts *out, char *why, size_t len)
{
	const uint8_t *p = t->bytes + from, *end;
	uint32_t off = 0, d;

	if (to_off > t->size - 5 - CALL_WINDOW)
		to_off = t->size - 5 - CALL_WINDOW;
	end = t->bytes + to_off;
	out->ncalls = 0;
	/* memchr finds the call opcodes many bytes at a time. */
	for (; p < end && (p = memchr(p, 0xe8, (size_t)(end - p))); p++) {
		size_t i = (size_t)(p - t->bytes);
		uint64_t to = t->addr + i + 5 + (int64_t)le32(p + 1);

		if (!to || (to != queries[0] && to != queries[1]))
			continue;
		if (x86_first_field_load(t->bytes + i + 5, CALL_WINDOW, &d)) {
			snprintf(why, len, "no load of a MigrationState field after the call at "
				 "0x%llx", (unsigned long long)(t->addr + i));
			return -1;
		}
		if (out->ncalls++ && d != off) {
			snprintf(why, len, "call sites disagree on the threshold's offset (0x%x, "
				 "then 0x%x at 0x%llx)", off, d, (unsigned long long)(t->addr + i));
			return -1;
		}
		off = d;
	}
	if (!out->ncalls) {
		snprintf(why, len, "no call to the pending-size queries in .text");
		return -1;
	}
	out->threshold_off = off;
	return 0;
}

/* The migration thread lives in migration.c with migrate_get_current: its
 * neighbourhood first, all of .text if no call is found there. */
static int near_then_all(const struct text *t, uint64_t mig_get, const uint64_t queries[2],
			 struct code_facts *out, char *why, size_t len)
{
	size_t at = (size_t)(mig_get - t->addr);
	size_t from = at > NEAR ? at - NEAR : 0;

	if (!threshold_field(t, from, at + NEAR, queries, out, why, len))
		return 0;
	if (out->ncalls)
		return -1;
	return threshold_field(t, 0, t->size, queries, out, why, len);
}

int code_facts_read(const char *exe, uint64_t mig_get, const uint64_t queries[2],
		    struct code_facts *out, char *why, size_t len)
{
	const uint8_t *code;
	struct text t;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!mig_get) {
		snprintf(why, len, "no migrate_get_current symbol");
		return -1;
	}
	if (map_text(exe, &t, why, len))
		return -1;
	code = text_at(&t, mig_get, 16);
	if (!code || x86_rip_load(code, 16, mig_get, &out->mig_ptr))
		snprintf(why, len, "migrate_get_current does not begin with a load of a "
			 "global pointer");
	else if (t.size < 5 + CALL_WINDOW)
		snprintf(why, len, ".text too small");
	else
		ret = near_then_all(&t, mig_get, queries, out, why, len);
	munmap(t.map, t.maplen);
	return ret;
}
