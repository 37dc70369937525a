// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the machine-code facts: the instruction forms swack decodes,
 * on the bytes of Debian's QEMU 10.0.2 (objdump -d of its binary) and on
 * forms that must not be taken for them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "source/codefacts.h"

/* migrate_get_current at 0x752400: mov 0x140d5b9(%rip),%rax; test; je; ret */
static const uint8_t mig_get[] = { 0x48, 0x8b, 0x05, 0xb9, 0xd5, 0x40, 0x01, 0x48, 0x85, 0xc0 };

/* After "call qemu_savevm_state_pending_estimate" at 0x75816d: two loads off
 * %rsp (disp8), a RIP-relative load, lea, test, jne, then the threshold. */
static const uint8_t after_estimate[] = {
	0x4c, 0x8b, 0x4c, 0x24, 0x50,             /* mov 0x50(%rsp),%r9 */
	0x48, 0x8b, 0x4c, 0x24, 0x58,             /* mov 0x58(%rsp),%rcx */
	0x44, 0x8b, 0x15, 0x35, 0x78, 0x43, 0x01, /* mov 0x1437835(%rip),%r10d */
	0x4d, 0x8d, 0x04, 0x09,                   /* lea (%r9,%rcx,1),%r8 */
	0x45, 0x85, 0xd2,                         /* test %r10d,%r10d */
	0x0f, 0x85, 0xe0, 0x03, 0x00, 0x00,       /* jne */
	0x48, 0x8b, 0x83, 0xe8, 0x01, 0x00, 0x00, /* mov 0x1e8(%rbx),%rax */
	0x49, 0x39, 0xc0,                         /* cmp %rax,%r8 */
};

static void test_rip_load(void **state)
{
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x05, 0x10, 0x00,
					 0x00, 0x00 };
	uint64_t to;

	(void)state;
	assert_int_equal(x86_rip_load(mig_get, sizeof(mig_get), 0x752400, &to), 0);
	assert_int_equal(to, 0x1b5f9c0);
	/* after an endbr64, relative to the end of the mov */
	assert_int_equal(x86_rip_load(endbr, sizeof(endbr), 0x1000, &to), 0);
	assert_int_equal(to, 0x1000 + 11 + 0x10);
	/* a 32-bit load (no REX.W) or a load off a register is not it */
	assert_int_equal(x86_rip_load(after_estimate + 10, 7, 0, &to), -1);
	assert_int_equal(x86_rip_load(after_estimate + 30, 7, 0, &to), -1);
	assert_int_equal(x86_rip_load(mig_get, 6, 0x752400, &to), -1);
}

static void test_field_load(void **state)
{
	static const uint8_t cmp_mem[] = { 0x4c, 0x3b, 0xa3, 0x10, 0x02, 0x00, 0x00 };
	static const uint8_t sib[] = { 0x48, 0x8b, 0x84, 0x24, 0xe8, 0x01, 0x00, 0x00 };
	static const uint8_t odd[] = { 0x48, 0x8b, 0x83, 0xe9, 0x01, 0x00, 0x00 };
	uint32_t d;

	(void)state;
	assert_int_equal(x86_first_field_load(after_estimate, sizeof(after_estimate), &d), 0);
	assert_int_equal(d, 0x1e8);
	/* cmp 0x210(%rbx),%r12 counts too */
	assert_int_equal(x86_first_field_load(cmp_mem, sizeof(cmp_mem), &d), 0);
	assert_int_equal(d, 0x210);
	/* a stack slot through a SIB byte, an unaligned offset, or too few bytes */
	assert_int_equal(x86_first_field_load(sib, sizeof(sib), &d), -1);
	assert_int_equal(x86_first_field_load(odd, sizeof(odd), &d), -1);
	assert_int_equal(x86_first_field_load(after_estimate, 30, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rip_load),
		cmocka_unit_test(test_field_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
