// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes as a recording, through the model and every
 * view that reads recordings, as a user runs them: report (text, JSON, two files
 * aligned through their clocks), script, diagnose (text, JSON, the HTML page),
 * export (JSON lines, Chrome trace, CTF) and stat -i (lines, devices, JSON).  The
 * commands are called as swack's dispatcher calls them; their output goes to
 * /dev/null, and only the sanitizers and the exit statuses are judged: a usage
 * status (2) means the harness called a command wrongly, anything above it a crash.
 *
 * With -DFUZZ_REPLAY (gcc, sanitizers, no libFuzzer) it is a plain program that
 * runs each file given through the same commands: make fuzz-regress.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli/commands.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, \
				  __LINE__); abort(); } } while (0)

static char rec[64], ctf[64];

static void remove_ctf(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/metadata", ctf);
	unlink(p);
	snprintf(p, sizeof(p), "%s/stream_0", ctf);
	unlink(p);
	rmdir(ctf);
}

/* The recording lives in a memory file: a regular file, as readers demand. */
static void setup(void)
{
	int fd = memfd_create("swack-fuzz", 0), null = open("/dev/null", O_WRONLY);

	CHECK(fd >= 0 && null >= 0);
	snprintf(rec, sizeof(rec), "/proc/self/fd/%d", fd);
	snprintf(ctf, sizeof(ctf), "/tmp/swack-fuzz-ctf.%d", (int)getpid());
	atexit(remove_ctf);
	/* The views write to standard output; the sanitizers report on stderr. */
	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	close(null);
}

static void run(int (*cmd)(int, char **), const char *name, ...)
{
	char *argv[16] = { (char *)name };
	int argc = 1, status;
	const char *a;
	va_list ap;

	va_start(ap, name);
	while ((a = va_arg(ap, const char *)) && argc < 15)
		argv[argc++] = (char *)a;
	va_end(ap);
	status = cmd(argc, argv);
	fflush(stdout);
	CHECK(status == 0 || status == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;

	if (!rec[0])
		setup();
	fd = atoi(rec + strlen("/proc/self/fd/"));
	CHECK(!ftruncate(fd, 0));
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	run(cmd_report, "swack report", rec, NULL);
	run(cmd_report, "swack report", "--json", rec, NULL);
	run(cmd_report, "swack report", "--realtime", rec, rec, NULL);
	run(cmd_script, "swack script", rec, NULL);
	run(cmd_script, "swack script", "--json", rec, NULL);
	run(cmd_diagnose, "swack diagnose", rec, NULL);
	run(cmd_diagnose, "swack diagnose", "--json", "--html", "/dev/null", "--downtime-limit",
	    "1", rec, NULL);
	run(cmd_export, "swack export", "-F", "jsonl", "-o", "/dev/null", rec, NULL);
	run(cmd_export, "swack export", "-F", "chrome", "-o", "/dev/null", rec, NULL);
	run(cmd_export, "swack export", "-F", "ctf", "-o", ctf, rec, NULL);
	run(cmd_stat, "swackstat", "-i", rec, "-d", "0.001", NULL);
	run(cmd_stat, "swackstat", "-i", rec, "-j", "-d", NULL);
	return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_file.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t len;
		unsigned char *buf = replay_file(argv[i], &len);

		if (!buf)
			return 1;
		LLVMFuzzerTestOneInput(buf, len);
		fprintf(stderr, "%s: replayed\n", argv[i]);
		free(buf);
	}
	return 0;
}
#endif
