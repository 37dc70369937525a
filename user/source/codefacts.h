/*
 * Facts read off a QEMU binary's machine code, for builds with symbols but
 * neither USDT nor DWARF (Debian's 8.0-11.0): where QEMU keeps the
 * MigrationState pointer, and at which offset in it the switchover threshold
 * the migration thread compares the pending size with.
 */
#ifndef SWACK_CODEFACTS_H
#define SWACK_CODEFACTS_H
#include <stddef.h>
#include <stdint.h>

/* x86-64 decoding of the few instruction forms the facts rest on. */

/* A function that starts (after an optional endbr64) with "mov disp32(%rip),
 * %reg" (64-bit): the address it loads from.  0, or -1 when it does not. */
int x86_rip_load(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t *target);
/* The first 64-bit "mov disp32(%reg),%reg" or "cmp disp32(%reg),%reg" in
 * code (no SIB, no RIP): its displacement.  0, or -1 when none. */
int x86_first_field_load(const uint8_t *code, size_t len, uint32_t *disp);

struct code_facts {
	uint64_t mig_ptr;        /* link-time address of QEMU's MigrationState pointer */
	uint32_t threshold_off;  /* offset of threshold_size in MigrationState */
	int ncalls;              /* call sites of the pending queries that agreed */
};

/*
 * Reads the facts from exe: mig_get is the link-time address of
 * migrate_get_current, queries[] those of qemu_savevm_state_pending_estimate
 * and _exact (0 when absent).  Every call site of the queries must compare
 * with the same field.  0, or -1 with the reason in why.
 */
int code_facts_read(const char *exe, uint64_t mig_get, const uint64_t queries[2],
		    struct code_facts *out, char *why, size_t len);

#endif
