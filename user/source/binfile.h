/* SPDX-License-Identifier: GPL-2.0 */
/* What a QEMU binary offers: USDT notes and function symbols. */
#ifndef SWACK_BINFILE_H
#define SWACK_BINFILE_H
#include <stdint.h>
#include <stddef.h>

#define ELF_MAX_NAME 64

struct usdt_note {
	char provider[32];
	char name[ELF_MAX_NAME];
	int nargs;             /* -1: the argument spec is longer than args */
	char args[256];
	uint64_t pc_offset;    /* file offset of the probe site, for a uprobe */
	uint64_t sem_offset;   /* file offset of its semaphore, 0 if none */
};

struct elf_info {
	char path[4096];
	struct usdt_note *notes;   /* provider "qemu" only */
	size_t nnotes, capnotes;
	size_t nsyms;              /* function symbols seen, all sources */
	char symsrc[128];          /* where they came from, for the attach line */
	int pie;                   /* ET_DYN: addresses are relative to the load base */
};

/* Reads the notes (and asks the disk for the symbol tables, which
 * elf_resolve reads next); 0 or -errno, with a message in err. */
int elf_open_info(const char *path, struct elf_info *info, char *err, size_t errlen);
void elf_free_info(struct elf_info *info);
/* The first site of a probe; elf_next_note gives the others, then NULL. */
const struct usdt_note *elf_find_note(const struct elf_info *info, const char *name);
const struct usdt_note *elf_next_note(const struct elf_info *info,
				      const struct usdt_note *prev);

struct sym_loc {
	uint64_t vaddr;    /* link-time address; 0 when absent */
	uint64_t offset;   /* file offset, for uprobes (functions only) */
};

/* Asks the disk for the pages at these file offsets, without waiting. */
void elf_prefetch_pages(const char *path, const uint64_t *offsets, size_t n);

/* Locations of the named functions and objects; counts functions in info. */
int elf_resolve(const char *path, const char *const *names, size_t n,
		struct sym_loc *locs, struct elf_info *info, char *err, size_t errlen);

/* Byte offsets of the named members of the structure that parameter param
 * (from 0) of the function at func_vaddr (link-time) points to, from the
 * binary's DWARF or its debuginfo; -1 for a member it lacks.  0, or -1 with
 * the reason in why. */
int elf_param_struct_offsets(const char *path, uint64_t func_vaddr, int param,
			     const char *const *members, size_t n, long *offsets, char *why,
			     size_t len);

#endif
