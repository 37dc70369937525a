/* SPDX-License-Identifier: GPL-2.0 */
/* x86-64 USDT argument specs ("-4@-8(%rbp)", "8@%rax", "-4@sym(%rip)"). */
#ifndef SWACK_USDT_ARGS_H
#define SWACK_USDT_ARGS_H
#include <stdint.h>
#include <stddef.h>
#include <linux/types.h>
#include "swack.h"

/* Resolves a symbol named in a RIP-relative spec to its run-time address. */
typedef int (*usdt_sym_fn)(void *ctx, const char *sym, uint64_t *addr);

/* Parses a note's argument string into spec; 0, or -1 with a reason in err. */
int usdt_args_parse(const char *args, struct swack_usdt_spec *spec, usdt_sym_fn resolve,
		    void *ctx, char *err, size_t errlen);

#endif
