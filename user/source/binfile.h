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
	int nargs;
	int parsable;          /* libbpf 1.1 can decode every argument spec */
	char args[160];
	uint64_t pc_offset;    /* file offset of the probe site, for a uprobe */
	uint64_t sem_offset;   /* file offset of its semaphore, 0 if none */
};

struct elf_info {
	char path[4096];
	struct usdt_note *notes;   /* provider "qemu" only */
	size_t nnotes;
	size_t nsyms;              /* function symbols seen, all sources */
	char symsrc[128];          /* where they came from, for the attach line */
	int pie;                   /* ET_DYN: addresses are relative to the load base */
};

/* Reads notes and counts symbols; 0 or -errno, with a message in err. */
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

/* Locations of the named functions and objects; counts functions in info. */
int elf_resolve(const char *path, const char *const *names, size_t n,
		struct sym_loc *locs, struct elf_info *info, char *err, size_t errlen);

#endif
