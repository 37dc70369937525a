// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the USDT argument-spec decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "source/usdt_args.h"

static int resolve(void *ctx, const char *sym, uint64_t *addr)
{
	(void)ctx;
	if (strcmp(sym, "current_run_state"))
		return -1;
	*addr = 0x555555a00000ull;
	return 0;
}

static int parse(const char *args, struct swack_usdt_spec *spec, char *err)
{
	memset(spec, 0, sizeof(*spec));
	return usdt_args_parse(args, spec, resolve, NULL, err, 128);
}

static void test_qemu_runstate_set(void **state)
{
	struct swack_usdt_spec s;
	char err[128];

	(void)state;
	/* The spec measured on a QEMU 10.2 dtrace build (shared/PROBES.md). */
	assert_int_equal(parse("-4@current_run_state(%rip) 8@%rax -4@%ebx 8@%r12", &s, err), 0);
	assert_int_equal(s.nargs, 4);
	assert_int_equal(s.args[0].kind, SWACK_ARG_ABS_DEREF);
	assert_int_equal(s.args[0].val, 0x555555a00000ll);
	assert_int_equal(s.args[0].size, 4);
	assert_true(s.args[0].is_signed);
	assert_int_equal(s.args[1].kind, SWACK_ARG_REG);
	assert_int_equal(s.args[1].reg_off, 80);
	assert_int_equal(s.args[1].size, 8);
	assert_false(s.args[1].is_signed);
	assert_int_equal(s.args[2].reg_off, 40);
	assert_int_equal(s.args[3].reg_off, 24);
}

static void test_memory_and_constants(void **state)
{
	struct swack_usdt_spec s;
	char err[128];

	(void)state;
	assert_int_equal(parse("4@976(%r12) -8@-16(%rbp) 1@$5 8@(%rsp) 2@current_run_state+8(%rip)",
			       &s, err), 0);
	assert_int_equal(s.nargs, 5);
	assert_int_equal(s.args[0].kind, SWACK_ARG_REG_DEREF);
	assert_int_equal(s.args[0].val, 976);
	assert_int_equal(s.args[0].reg_off, 24);
	assert_int_equal(s.args[1].val, -16);
	assert_int_equal(s.args[1].reg_off, 32);
	assert_int_equal(s.args[2].kind, SWACK_ARG_CONST);
	assert_int_equal(s.args[2].val, 5);
	assert_int_equal(s.args[3].kind, SWACK_ARG_REG_DEREF);
	assert_int_equal(s.args[3].val, 0);
	assert_int_equal(s.args[3].reg_off, 152);
	assert_int_equal(s.args[4].val, 0x555555a00008ll);
}

/* Base, index and scale: what gcc emits for an array element. */
static void test_sib(void **state)
{
	struct swack_usdt_spec s;
	char err[128];

	(void)state;
	assert_int_equal(parse("8@-16(%rbp,%rax,8) -4@(%r12,%rdx) 2@4(%rsp,%r15,2)", &s, err), 0);
	assert_int_equal(s.nargs, 3);
	assert_int_equal(s.args[0].kind, SWACK_ARG_SIB_DEREF);
	assert_int_equal(s.args[0].val, -16);
	assert_int_equal(s.args[0].reg_off, 32);
	assert_int_equal(s.args[0].idx_off, 80);
	assert_int_equal(s.args[0].scale, 8);
	assert_int_equal(s.args[1].kind, SWACK_ARG_SIB_DEREF);
	assert_int_equal(s.args[1].val, 0);
	assert_int_equal(s.args[1].reg_off, 24);
	assert_int_equal(s.args[1].idx_off, 96);
	assert_int_equal(s.args[1].scale, 1);
	assert_true(s.args[1].is_signed);
	assert_int_equal(s.args[2].idx_off, 0);
	assert_int_equal(s.args[2].scale, 2);
	assert_int_equal(s.args[2].size, 2);
}

static void test_refused(void **state)
{
	struct swack_usdt_spec s;
	char err[128];

	(void)state;
	assert_int_equal(parse("8@(%rax,%rbx,3)", &s, err), -1);
	assert_string_equal(err, "cannot decode argument '8@(%rax,%rbx,3)'");
	assert_int_equal(parse("8@(,%rbx,8)", &s, err), -1);
	assert_int_equal(parse("3@%rax", &s, err), -1);
	assert_int_equal(parse("4@unknown_symbol(%rip)", &s, err), -1);
	assert_string_equal(err, "cannot decode argument '4@unknown_symbol(%rip)' (its global "
			    "is not in the binary's symbols: install its debuginfo)");
	assert_int_equal(parse("4@%xmm0", &s, err), -1);
	assert_int_equal(parse("8@16(%rip)", &s, err), -1);
	assert_int_equal(parse("", &s, err), 0);
	assert_int_equal(s.nargs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_runstate_set),
		cmocka_unit_test(test_memory_and_constants),
		cmocka_unit_test(test_sib),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("usdt_args", tests, NULL, NULL);
}
