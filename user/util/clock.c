// SPDX-License-Identifier: GPL-2.0
#include <time.h>
#include "util/clock.h"

unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

double now_sec(void)
{
	return now_ns() / 1e9;
}
