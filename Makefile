# swack: make, make test, make demo, make bench, make install, make deb
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man/man8
MAN5DIR := $(PREFIX)/share/man/man5
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
OUT := build
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -I$(OUT) -Ibpf -Iuser
# Header dependencies come from the compiler (-MMD), phony targets for removed
# headers from -MP: an object depends on exactly what it includes.
DEPFLAGS = -MMD -MP
# libbpf 1.4 (bookworm-backports) linked statically: multi-uprobe links and a
# binary that does not depend on the host's libbpf (Debian 12 ships 1.1).  The
# exporter's HTTP server, GNU libmicrohttpd, is the distribution's: dynamic.
LIBBPF := -Wl,-Bstatic -lbpf -Wl,-Bdynamic
LDLIBS := $(LIBBPF) -lelf -ldw -lz -lcap -lncurses -lmicrohttpd -lpthread
# Debian's usdt.bpf.h reaches asm/errno.h, which lives under the multiarch dir.
BPF_CFLAGS := -target bpf -g -O2 -Wall -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf \
	-I/usr/include/$(MULTIARCH)

# user/ has one folder per layer; every .c of every folder goes into swack.
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
# The pure layers that the unit tests link without BPF: the model, the event
# tables and the helpers under it; the diagnose engine, its rules and their
# output over the model (not its command, nor the HTML page).
MODEL_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(wildcard user/model/*.c) \
	$(wildcard user/event/*.c) $(wildcard user/util/*.c) user/diagnose/snapshot_findings.c)
DIAG_OBJS := $(MODEL_OBJS) $(patsubst user/%.c,$(OUT)/user/%.o,user/diagnose/diagnose.c \
	user/diagnose/finding.c user/diagnose/diagnose_out.c $(wildcard user/diagnose/diagnose_*.c))
DIAG_OBJS := $(filter-out $(OUT)/user/diagnose/diagnose_cmd.o,$(DIAG_OBJS))
MANPAGES := $(wildcard docs/*.8)
MANPAGES5 := $(wildcard docs/*.5)

.PHONY: all test demo bench install clean deps unit fuzz fuzz-views fuzz-regress seeds deb
.DELETE_ON_ERROR:
.SECONDARY:

FIXTURES := $(addprefix $(OUT)/fixtures/,qemu-system-nosyms qemu-system-minidebug \
	qemu-system-sim102 qemu-system-sim111 qemu-system-sim102pad qemu-system-degraded vfio-fuse qemu-system-vfio qemu-system-vfio-nosyms \
	serial-clock mkrec)

all: $(OUT)/swack $(OUT)/test_model $(OUT)/test_diagnose $(OUT)/test_usdt_args $(OUT)/test_recfile \
	$(OUT)/test_proc_enum $(OUT)/test_codefacts \
	$(OUT)/fuzz_recfile_replay $(OUT)/fuzz_views_replay $(FIXTURES)

$(OUT):
	mkdir -p $@

$(OUT)/vmlinux.h: | $(OUT)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUT)/user/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# An object waits for the skeleton it includes, and for that one only: found
# here for the first build, listed by -MMD after it.
skel_users = $(patsubst user/%.c,$(OUT)/user/%.o,$(shell grep -l '"$(1).skel.h"' $(USER_SRCS)))
$(foreach s,$(BPF_SRCS:bpf/%.bpf.c=%),$(eval $(call skel_users,$(s)): $(OUT)/$(s).skel.h))

# The HTML page's stylesheet and script go into the binary as they are.
$(OUT)/user/diagnose/html_assets.o: user/diagnose/html/page.css user/diagnose/html/page.js

$(OUT)/swack: $(USER_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(OUT)/test_model: tests/unit/test_model.c $(MODEL_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka

$(OUT)/test_diagnose: tests/unit/test_diagnose.c $(DIAG_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka

$(OUT)/fixtures/qemu-system-nosyms: tests/fixtures/nosyms.c
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -s $< -o $@

$(OUT)/fixtures/qemu-syms: tests/fixtures/qemu-syms.c
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wl,--build-id $< -o $@

$(OUT)/fixtures/qemu-system-minidebug: $(OUT)/fixtures/qemu-syms tests/fixtures/mksymfiles.sh
	tests/fixtures/mksymfiles.sh $< $(@D)

# QEMU built with the dtrace backend, generation 10.2 or 11.1.  gcc at -O2:
# runstate_set's first argument must come out RIP-relative, as in QEMU.
QEMU_SIM := tests/fixtures/qemu-sim
$(OUT)/fixtures/qemu-system-sim%: $(QEMU_SIM)/qemu-sim.c $(QEMU_SIM)/probes.h
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -O2 -g -rdynamic -pthread -DQEMU_SIM_GEN=$* $< -o $@

# 10.2 with 4,000 more USDT notes and semaphores, as many as a real dtrace build.
$(OUT)/fixtures/sim-pad.o: $(QEMU_SIM)/pad.c $(QEMU_SIM)/probes.h
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -O0 -DQEMU_SIM_GEN=102 -c $< -o $@

$(OUT)/fixtures/qemu-system-sim102pad: $(QEMU_SIM)/qemu-sim.c $(QEMU_SIM)/probes.h $(OUT)/fixtures/sim-pad.o
	$(CC) $(CFLAGS) -O2 -g -rdynamic -pthread -DQEMU_SIM_GEN=102 $< $(OUT)/fixtures/sim-pad.o -o $@

# The outside timer of guest-visible downtime: reads QEMU serial ports.
$(OUT)/fixtures/serial-clock: tests/fixtures/serial-clock.c
	mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@

# Stripped: the global its vm_state_notify argument names cannot be resolved.
$(OUT)/fixtures/qemu-system-degraded: tests/fixtures/usdt-degraded.c
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -O2 -s $< -o $@

# VFIO without VFIO hardware: a FUSE device node and a player of QEMU's calls.
VFIO_FIX := tests/fixtures/vfio
$(OUT)/fixtures/vfio-fuse: $(VFIO_FIX)/vfio-fuse.c $(VFIO_FIX)/vfio-uapi.h
	mkdir -p $(@D)
	$(CC) $(CFLAGS) $$(pkg-config --cflags fuse3) $< -o $@ $$(pkg-config --libs fuse3)

$(OUT)/fixtures/qemu-system-vfio: $(VFIO_FIX)/vfio-play.c $(VFIO_FIX)/qemu-shim.c $(VFIO_FIX)/vfio-uapi.h
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -rdynamic $(VFIO_FIX)/vfio-play.c $(VFIO_FIX)/qemu-shim.c -o $@

# The same player as a stripped QEMU: neither USDT probes nor symbols.
$(OUT)/fixtures/qemu-system-vfio-nosyms: $(VFIO_FIX)/vfio-play.c $(VFIO_FIX)/vfio-uapi.h
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -s $< -o $@

# Crafted recordings (hostile strings, extreme clocks, many migrations), written
# with swack's own writer from a script.
$(OUT)/fixtures/mkrec: tests/fixtures/mkrec.c tests/unit/recfile_extra.c $(RECFILE_TEST) \
	$(OUT)/user/event/event.o $(OUT)/user/event/codec.o $(OUT)/user/event/vfio_uapi.o \
	$(OUT)/user/util/json.o $(OUT)/user/util/term.o
	mkdir -p $(@D)
	$(CC) $(CFLAGS) tests/fixtures/mkrec.c tests/unit/recfile_extra.c \
		$(OUT)/user/event/event.o $(OUT)/user/event/codec.o $(OUT)/user/event/vfio_uapi.o \
		$(OUT)/user/util/json.o $(OUT)/user/util/term.o -o $@ -lz

$(OUT)/fixtures/qemu-system-bench: tests/fixtures/qemu-bench.c
	mkdir -p $(@D)
	$(CC) $(CFLAGS) -rdynamic -pthread $< -o $@

$(OUT)/bench/%.bpf.o: tests/bench/%.bpf.c $(OUT)/vmlinux.h bpf/swack.h bpf/ring.h
	mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/%.skel.h: $(OUT)/bench/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUT)/bench/empty_uprobe: tests/bench/empty_uprobe.c $(OUT)/bench/empty.skel.h
	$(CC) $(CFLAGS) -I$(OUT)/bench $< -o $@ $(LIBBPF) -lelf -lz

# The recorder's source not bound by uprobe traps (BPF_PROG_TEST_RUN).
$(OUT)/bench/storm: tests/bench/storm.c $(OUT)/bench/storm.skel.h
	$(CC) $(CFLAGS) -I$(OUT)/bench $< -o $@ $(LIBBPF) -lelf -lz -lm

BENCH_BINS := $(OUT)/fixtures/qemu-system-bench $(OUT)/bench/empty_uprobe $(OUT)/bench/storm

$(OUT)/test_usdt_args: tests/unit/test_usdt_args.c $(OUT)/user/source/usdt_args.o
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka

$(OUT)/test_proc_enum: tests/unit/test_proc_enum.c $(OUT)/user/source/proc.o $(OUT)/user/source/binfile.o
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka -lelf -ldw -lz

$(OUT)/test_codefacts: tests/unit/test_codefacts.c $(OUT)/user/source/codefacts.o
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka -lelf

# recfile_extra.c is recfile.c with what only the tests use of it.
RECFILE_TEST := tests/unit/recfile_extra.c tests/unit/recfile_extra.h user/source/recfile.c \
	user/source/recfile.h user/event/codec.c user/event/codec.h bpf/swack.h

$(OUT)/test_recfile: tests/unit/test_recfile.c $(RECFILE_TEST) | $(OUT)
	$(CC) $(CFLAGS) $< tests/unit/recfile_extra.c user/event/codec.c -o $@ -lcmocka -lz

# The recording reader under libFuzzer (clang), and the same harness as a plain
# program that replays the corpus (gcc, sanitizers), for regression runs.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_CORPUS := tests/fuzz/corpus
FUZZ_SRCS := tests/fuzz/fuzz_recfile.c tests/unit/recfile_extra.c user/event/codec.c
FUZZ_DEPS := tests/fuzz/fuzz_recfile.c tests/fuzz/replay_file.h $(RECFILE_TEST)

$(OUT)/fuzz_recfile: $(FUZZ_DEPS) | $(OUT)
	$(FUZZ_CC) -std=gnu11 -g -O1 -Wall -Wextra -Ibpf -Iuser \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(FUZZ_SRCS) -o $@ -lz

$(OUT)/fuzz_recfile_replay: $(FUZZ_DEPS) | $(OUT)
	$(CC) -std=gnu11 -g -O1 -Wall -Wextra -Ibpf -Iuser -DFUZZ_REPLAY \
		-fsanitize=address,undefined -fno-sanitize-recover=all $(FUZZ_SRCS) -o $@ -lz

# The model and every view reading recordings, called as the commands are, on
# fuzzed recordings: all of swack but its main(), and the BPF skeletons it includes.
FUZZ_VIEW_SRCS := tests/fuzz/fuzz_views.c $(filter-out user/cli/swack.c,$(USER_SRCS))
FUZZ_VIEW_LIBS := $(LDLIBS)
FUZZ_VIEW_SECONDS ?= 600
FUZZ_VIEW_CORPUS := tests/fuzz/views-corpus

$(OUT)/fuzz_views: $(FUZZ_VIEW_SRCS) $(SKELS) user/diagnose/html/page.css user/diagnose/html/page.js
	$(FUZZ_CC) -std=gnu11 -g -O1 -Wall -Wextra -I$(OUT) -Ibpf -Iuser \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(FUZZ_VIEW_SRCS) -o $@ $(FUZZ_VIEW_LIBS)

$(OUT)/fuzz_views_replay: $(FUZZ_VIEW_SRCS) tests/fuzz/replay_file.h $(SKELS) user/diagnose/html/page.css user/diagnose/html/page.js
	$(CC) -std=gnu11 -g -O1 -Wall -Wextra -I$(OUT) -Ibpf -Iuser -DFUZZ_REPLAY \
		-fsanitize=address,undefined -fno-sanitize-recover=all $(FUZZ_VIEW_SRCS) -o $@ \
		$(FUZZ_VIEW_LIBS)

fuzz-views: deps $(OUT)/fuzz_views
	mkdir -p $(OUT)/fuzz-views-corpus
	nice $(OUT)/fuzz_views -max_total_time=$(FUZZ_VIEW_SECONDS) -max_len=65536 \
		-rss_limit_mb=1024 -close_fd_mask=1 -print_final_stats=1 \
		-artifact_prefix=$(OUT)/ $(OUT)/fuzz-views-corpus $(FUZZ_VIEW_CORPUS) $(FUZZ_CORPUS)

$(OUT)/mkseeds: tests/fuzz/mkseeds.c $(RECFILE_TEST) | $(OUT)
	$(CC) $(CFLAGS) tests/fuzz/mkseeds.c tests/unit/recfile_extra.c user/event/codec.c -o $@ -lz

seeds: $(OUT)/mkseeds
	$(OUT)/mkseeds $(FUZZ_CORPUS)

fuzz: deps $(OUT)/fuzz_recfile
	mkdir -p $(OUT)/fuzz-corpus
	$(OUT)/fuzz_recfile -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-malloc_limit_mb=16 -use_value_profile=1 -print_final_stats=1 \
		-artifact_prefix=$(OUT)/ $(OUT)/fuzz-corpus $(FUZZ_CORPUS)

fuzz-regress: $(OUT)/fuzz_recfile_replay $(OUT)/fuzz_views_replay
	$(OUT)/fuzz_recfile_replay $(FUZZ_CORPUS)/* > /dev/null
	$(OUT)/fuzz_views_replay $(FUZZ_VIEW_CORPUS)/* $(FUZZ_CORPUS)/* 2> /dev/null

deps:
	scripts/deps.sh

unit: $(OUT)/test_model $(OUT)/test_diagnose $(OUT)/test_usdt_args $(OUT)/test_recfile \
	$(OUT)/test_proc_enum $(OUT)/test_codefacts $(OUT)/fuzz_recfile_replay
	$(OUT)/test_model && $(OUT)/test_diagnose && $(OUT)/test_usdt_args && $(OUT)/test_recfile && \
	$(OUT)/test_proc_enum && $(OUT)/test_codefacts && \
	$(OUT)/fuzz_recfile_replay $(FUZZ_CORPUS)/* > /dev/null

# The README's two commands: each installs what it needs first.
test: deps
	$(MAKE) all
	tests/run.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: deps
	$(MAKE) all $(BENCH_BINS)
	tests/bench/run.sh

install: $(OUT)/swack
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 0755 $(OUT)/swack $(DESTDIR)$(BINDIR)/swack
	ln -sf swack $(DESTDIR)$(BINDIR)/swackstat
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/
	install -d $(DESTDIR)$(MAN5DIR)
	install -m 0644 $(MANPAGES5) $(DESTDIR)$(MAN5DIR)/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/swack/prometheus $(DESTDIR)$(PREFIX)/share/swack/grafana
	install -m 0644 contrib/bash-completion/swack $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	ln -sf swack $(DESTDIR)$(PREFIX)/share/bash-completion/completions/swackstat
	install -m 0644 contrib/prometheus/swack.rules.yml contrib/prometheus/swack.rules.test.yml \
		$(DESTDIR)$(PREFIX)/share/swack/prometheus/
	install -m 0644 contrib/grafana/swack.json $(DESTDIR)$(PREFIX)/share/swack/grafana/

# A Debian package (scripts/mkdeb.sh): build/swack_VERSION_ARCH.deb.
deb:
	scripts/mkdeb.sh

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
