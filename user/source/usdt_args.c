// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding of x86-64 USDT argument specs, for every probe swack attaches.
 * Forms: N@%reg, N@$imm, N@off(%reg), N@(%reg), N@off(%base,%index,scale),
 * N@sym(%rip), N@sym+off(%rip).  N is the size in bytes, negative when
 * signed.  Not decoded: a bare displacement from %rip (it would need the
 * instruction's own address), segment prefixes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "source/usdt_args.h"

/* Offsets of the 64-bit registers in x86-64 struct pt_regs. */
static const struct { const char *names[4]; int off; } regs[] = {
	{ { "rax", "eax", "ax", "al" }, 80 }, { { "rbx", "ebx", "bx", "bl" }, 40 },
	{ { "rcx", "ecx", "cx", "cl" }, 88 }, { { "rdx", "edx", "dx", "dl" }, 96 },
	{ { "rsi", "esi", "si", "sil" }, 104 }, { { "rdi", "edi", "di", "dil" }, 112 },
	{ { "rbp", "ebp", "bp", "bpl" }, 32 }, { { "rsp", "esp", "sp", "spl" }, 152 },
	{ { "r8", "r8d", "r8w", "r8b" }, 72 }, { { "r9", "r9d", "r9w", "r9b" }, 64 },
	{ { "r10", "r10d", "r10w", "r10b" }, 56 }, { { "r11", "r11d", "r11w", "r11b" }, 48 },
	{ { "r12", "r12d", "r12w", "r12b" }, 24 }, { { "r13", "r13d", "r13w", "r13b" }, 16 },
	{ { "r14", "r14d", "r14w", "r14b" }, 8 }, { { "r15", "r15d", "r15w", "r15b" }, 0 },
};

static int reg_offset(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (int k = 0; k < 4; k++)
			if (strlen(regs[i].names[k]) == len && !strncmp(name, regs[i].names[k], len))
				return regs[i].off;
	return -1;
}

/* "%reg)" or "%reg": the register's pt_regs offset, advancing *p. */
static int parse_reg(const char **p)
{
	const char *s = *p, *e;
	int off;

	if (*s != '%')
		return -1;
	for (e = ++s; isalnum((unsigned char)*e); e++)
		;
	off = reg_offset(s, e - s);
	*p = e;
	return off;
}

/* "sym" or "sym+off" before "(%rip)"; -2 when sym is not in the binary. */
static int parse_rip(const char *expr, size_t len, struct swack_usdt_arg *a,
		     usdt_sym_fn resolve, void *ctx)
{
	char sym[128];
	const char *plus;
	uint64_t addr;
	long off = 0;

	if (len >= sizeof(sym))
		return -1;
	snprintf(sym, sizeof(sym), "%.*s", (int)len, expr);
	if (isdigit((unsigned char)sym[0]) || sym[0] == '-')
		return -1; /* a bare displacement needs the instruction's address */
	plus = strpbrk(sym, "+-");
	if (plus) {
		off = strtol(plus, NULL, 0);
		sym[plus - sym] = 0;
	}
	if (resolve(ctx, sym, &addr))
		return -2;
	a->kind = SWACK_ARG_ABS_DEREF;
	a->val = (__s64)(addr + off);
	return 0;
}

/* ",%index)" or ",%index,scale)" after the base register; end at the ')'. */
static int parse_index(const char *p, const char *end, struct swack_usdt_arg *a)
{
	char *e;
	long scale = 1;
	int off;

	p++;
	off = parse_reg(&p);
	if (off < 0)
		return -1;
	if (*p == ',') {
		scale = strtol(p + 1, &e, 10);
		p = e;
	}
	if (p != end || (scale != 1 && scale != 2 && scale != 4 && scale != 8))
		return -1;
	a->kind = SWACK_ARG_SIB_DEREF;
	a->idx_off = off;
	a->scale = scale;
	return 0;
}

static int parse_operand(const char *op, size_t len, struct swack_usdt_arg *a,
			 usdt_sym_fn resolve, void *ctx)
{
	const char *paren = memchr(op, '(', len), *p;
	char *end;
	int off;

	if (op[0] == '$') {
		a->kind = SWACK_ARG_CONST;
		a->val = strtoll(op + 1, &end, 0);
		return end == op + len ? 0 : -1;
	}
	if (op[0] == '%') {
		p = op;
		a->kind = SWACK_ARG_REG;
		off = parse_reg(&p);
		a->reg_off = off;
		return off >= 0 && p == op + len ? 0 : -1;
	}
	if (!paren || op[len - 1] != ')')
		return -1;
	if (!strncmp(paren, "(%rip)", 6))
		return parse_rip(op, paren - op, a, resolve, ctx);
	a->kind = SWACK_ARG_REG_DEREF;
	a->val = paren == op ? 0 : strtoll(op, &end, 0);
	if (paren != op && end != paren)
		return -1;
	p = paren + 1;
	off = parse_reg(&p);
	a->reg_off = off;
	if (off >= 0 && *p == ',')
		return parse_index(p, op + len - 1, a);
	return off >= 0 && p == op + len - 1 ? 0 : -1;
}

static int parse_one(const char *tok, size_t len, struct swack_usdt_arg *a,
		     usdt_sym_fn resolve, void *ctx)
{
	const char *at = memchr(tok, '@', len);
	long size;
	char *end;

	if (!at)
		return -1;
	size = strtol(tok, &end, 10);
	if (end != at)
		return -1;
	a->is_signed = size < 0;
	a->size = size < 0 ? -size : size;
	if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
		return -1;
	return parse_operand(at + 1, tok + len - at - 1, a, resolve, ctx);
}

int usdt_args_parse(const char *args, struct swack_usdt_spec *spec, usdt_sym_fn resolve,
		    void *ctx, char *err, size_t errlen)
{
	const char *p = args;
	int ret;

	spec->nargs = 0;
	while (*p) {
		const char *e;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ' '; e++)
			;
		if (spec->nargs >= SWACK_USDT_MAX_ARGS) {
			snprintf(err, errlen, "more than %d arguments", SWACK_USDT_MAX_ARGS);
			return -1;
		}
		ret = parse_one(p, e - p, &spec->args[spec->nargs], resolve, ctx);
		if (ret) {
			snprintf(err, errlen, "cannot decode argument '%.*s'%s", (int)(e - p), p,
				 ret == -2 ? " (its global is not in the binary's symbols: install "
				 "its debuginfo)" : "");
			return -1;
		}
		spec->nargs++;
		p = e;
	}
	return 0;
}
