// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the QAPI enum-table reader (QEnumLookup in a process's
 * memory), on the two layouts QEMU 6.0-11.1 declare, read from this very
 * process through /proc/self/mem as swack reads QEMU's.
 *
 * With "--dump PID" it prints MigrationStatus_lookup and RunState_lookup of a
 * running QEMU instead, one "TABLE INDEX NAME" line each (or the reason it
 * could not), for the integration test against the real binaries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "source/binfile.h"
#include "source/proc.h"

/* include/qapi/util.h of QEMU 6.2 - 9.0 (Debian's 7.2). */
struct qenum_72 {
	const char *const *array;
	const unsigned char *const special_features;
	const int size;
};

/* include/qapi/util.h of QEMU 9.1 - 11.1 (Debian's 10.0). */
struct qenum_100 {
	const char *const *array;
	const uint64_t *const features;
	const int size;
};

/* QEMU 5.x and before. */
struct qenum_old {
	const char *const *array;
	const int size;
};

static const char *const mig_100[] = {
	"none", "setup", "cancelling", "cancelled", "active", "postcopy-active",
	"postcopy-paused", "postcopy-recover-setup", "postcopy-recover", "completed",
	"failed", "colo", "pre-switchover", "device", "wait-unplug",
};
static const char *const mig_72[] = {
	"none", "setup", "cancelling", "cancelled", "active", "postcopy-active",
	"postcopy-paused", "postcopy-recover", "completed", "failed", "colo",
	"pre-switchover", "device", "wait-unplug",
};
static const unsigned char flags_72[14] = { [10] = 1 };
static const uint64_t features_100[15] = { [11] = 2 };

static int read_self(const void *addr, struct name_table *t, char *why)
{
	return proc_read_enum(getpid(), (uint64_t)(uintptr_t)addr, 0, t, why, 160);
}

static void check_names(const struct name_table *t, const char *const *want, int n)
{
	assert_int_equal(t->n, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(t->names[i], want[i]);
}

/* Both layouts, with and without a features array: the same names back. */
static void test_layouts(void **state)
{
	static const struct qenum_100 l100 = { mig_100, NULL, 15 };
	static const struct qenum_100 l100f = { mig_100, features_100, 15 };
	static const struct qenum_72 l72 = { mig_72, NULL, 14 };
	static const struct qenum_72 l72f = { mig_72, flags_72, 14 };
	static const struct { const void *l; const char *const *want; int n, completed; } cases[] = {
		{ &l100, mig_100, 15, 9 }, { &l100f, mig_100, 15, 9 },
		{ &l72, mig_72, 14, 8 }, { &l72f, mig_72, 14, 8 },
	};
	struct name_table t;
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(read_self(cases[i].l, &t, why), 0);
		check_names(&t, cases[i].want, cases[i].n);
		assert_string_equal(t.names[cases[i].completed], "completed");
	}
}

/* Pre-6.0 tables put the size where the features pointer is now. */
static void test_old_layout_refused(void **state)
{
	static const struct { struct qenum_old l; uint64_t next; } o = { { mig_72, 14 }, 7 };
	struct name_table t;
	char why[160];

	(void)state;
	assert_int_equal(read_self(&o, &t, why), -EINVAL);
	assert_non_null(strstr(why, "second word 14"));
	assert_int_equal(t.n, 0);
}

static void test_bad_size(void **state)
{
	static const struct qenum_100 zero = { mig_100, NULL, 0 };
	static const struct qenum_100 huge = { mig_100, NULL, 1000 };
	struct name_table t;
	char why[160];

	(void)state;
	assert_int_equal(read_self(&zero, &t, why), -EINVAL);
	assert_string_equal(why, "size 0 out of range 1..40");
	assert_int_equal(read_self(&huge, &t, why), -EINVAL);
	assert_string_equal(why, "size 1000 out of range 1..40");
}

static void test_null_array(void **state)
{
	static const struct qenum_100 l = { NULL, NULL, 3 };
	struct name_table t;
	char why[160];

	(void)state;
	assert_int_equal(read_self(&l, &t, why), -EINVAL);
	assert_string_equal(why, "its array pointer is NULL");
}

/* An array that points at unmapped memory (PROT_NONE would not do: /proc/PID/mem
 * reads through protections), and a name that is not a string. */
static void test_unreadable(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *hole = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static char garbage[64];
	const char *names[2] = { "none", garbage };
	struct qenum_100 gone = { (const char *const *)hole, NULL, 2 };
	struct qenum_100 long_name = { names, NULL, 2 };
	struct name_table t;
	char why[160];

	(void)state;
	assert_true(hole != MAP_FAILED);
	munmap(hole, page);
	assert_int_equal(read_self(&gone, &t, why), -EFAULT);
	assert_non_null(strstr(why, "cannot read entry 0"));
	memset(garbage, 'x', sizeof(garbage));
	assert_int_equal(read_self(&long_name, &t, why), -EFAULT);
	assert_non_null(strstr(why, "entry 1 at"));
}

/* A PIE caught at its exec, before ld.so relocated it: the table's pointers
 * are link-time addresses, to which the load base is added. */
static void test_unrelocated(void **state)
{
	uint64_t bias = (uint64_t)(uintptr_t)mig_100;
	uint64_t stored[15];
	struct { uint64_t array, features; int size; } l;
	struct name_table t;
	char why[160];

	(void)state;
	for (int i = 0; i < 15; i++)
		if ((uint64_t)(uintptr_t)mig_100[i] < bias)
			bias = (uint64_t)(uintptr_t)mig_100[i];
	if ((uint64_t)(uintptr_t)stored < bias)
		bias = (uint64_t)(uintptr_t)stored;
	bias &= ~0xfffull;
	for (int i = 0; i < 15; i++)
		stored[i] = (uint64_t)(uintptr_t)mig_100[i] - bias;
	l.array = (uint64_t)(uintptr_t)stored - bias;
	l.features = 0;
	l.size = 15;
	assert_int_equal(proc_read_enum(getpid(), (uint64_t)(uintptr_t)&l, bias, &t, why, 160), 0);
	check_names(&t, mig_100, 15);
}

static void test_parse_words(void **state)
{
	uint64_t w[3] = { 0x5555a000, 0, 0xdeadbeef0000000full }, array;
	char why[160];
	int size;

	(void)state;
	/* Only the int at offset 16 is the size: the padding after it is not. */
	assert_int_equal(qenum_parse(w, &array, &size, why, sizeof(why)), 0);
	assert_int_equal(size, 15);
	assert_int_equal(array, 0x5555a000);
}

static int dump(pid_t pid)
{
	static const char *const syms[] = { "MigrationStatus_lookup", "RunState_lookup" };
	struct sym_loc locs[2];
	struct elf_info info = { 0 };
	struct name_table t;
	char exe[64], err[256];
	uint64_t base = proc_exe_base(pid);
	int pie;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (elf_open_info(exe, &info, err, sizeof(err)) ||
	    elf_resolve(exe, syms, 2, locs, &info, err, sizeof(err))) {
		fprintf(stderr, "test_proc_enum: %s\n", err);
		return 1;
	}
	pie = info.pie;
	elf_free_info(&info);
	for (int s = 0; s < 2; s++) {
		if (!locs[s].vaddr ||
		    proc_read_enum(pid, (pie ? base : 0) + locs[s].vaddr, pie ? base : 0, &t, err,
				   sizeof(err))) {
			printf("%s unreadable %s\n", syms[s], locs[s].vaddr ? err : "no symbol");
			continue;
		}
		for (int i = 0; i < t.n; i++)
			printf("%s %d %s\n", syms[s], i, t.names[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_old_layout_refused),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_null_array),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_unrelocated),
		cmocka_unit_test(test_parse_words),
	};

	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(atoi(argv[2]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
