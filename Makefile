# postnook — plain GNU Makefile.
#   make                      host build (build/postnook)
#   make run                  build, create a demo user and certificate, serve on loopback
#   make check                every test: unit, protocol (pytest), sanitizers, short fuzz
#   make bench                benchmarks side by side with Dovecot
#   make fuzz                 libFuzzer targets, FUZZ_SECONDS each
#   make menuconfig / make defconfig BOARD=name / make clean
#   make BOARD=name           cross build for board/name/ into build-name/
#   make check BOARD=name     that build's unit tests and protocol subset under qemu-user
#   make size BOARD=name      text/data/bss per object and the stripped binary size
#   make firmware BOARD=name  the installable package (.ipk or tarball) in build-name/
# Variables: BOARD (default host), DEFCONFIG (default board/$(BOARD)/defconfig;
# another one builds in build-BOARD-NAME/ for NAME.defconfig), SAN=1 (ASan+UBSan
# build in build-san/), WERROR=1.

BOARD   ?= host
SAN     ?= 0
WERROR  ?= 0
PY      := /usr/bin/python3
FUZZ_SECONDS ?= 60

.DEFAULT_GOAL := all
DEFCONFIG ?= board/$(BOARD)/defconfig
DEFCONFIG_NAME := $(basename $(notdir $(DEFCONFIG)))

# The host build keeps the top-level .config (what `make menuconfig` edits);
# every other board or DEFCONFIG gets its own directory holding its own .config
# and config.h, so a cross build never touches build/ or .config.
ifeq ($(BOARD)-$(DEFCONFIG_NAME),host-defconfig)
ifeq ($(SAN),1)
BUILD   ?= build-san
else
BUILD   ?= build
endif
KCONFIG_FILE := .config
else
BUILD   ?= build-$(BOARD)$(if $(filter-out defconfig,$(DEFCONFIG_NAME)),-$(DEFCONFIG_NAME))
KCONFIG_FILE := $(BUILD)/.config
endif

# A board.mk sets CC and BOARD_CFLAGS/LDFLAGS/LDLIBS/DEBS; cross boards also
# AR, STRIP, SIZE and QEMU (how tests run its binaries on this machine).
STRIP   := strip
SIZE    := size
QEMU    :=
BOARD_PREREQS :=
include board/$(BOARD)/board.mk

CFLAGS_WARN := -Wall -Wextra -Wundef -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
CFLAGS_WARN += -Werror
endif
CFLAGS  ?= $(BOARD_CFLAGS) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS_WARN) $(CFLAGS) -I$(BUILD) -Isrc
LDLIBS  := $(BOARD_LDLIBS)
LDFLAGS += $(BOARD_LDFLAGS)
ifeq ($(BOARD_STATIC_LIBS),1)
include board/static-libs.mk
endif
ifneq ($(BOARD),host)
include board/cross.mk
endif
ifeq ($(SAN),1)
CC      := clang
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SRCS    := $(sort $(wildcard src/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS := $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNITS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)

.PHONY: all deps test-deps run check check-host check-boards check-configs unit pytest check-san fuzz fuzz-short bench menuconfig defconfig clean size firmware

all: $(BUILD)/postnook

# Debian packages a build needs (installed only when missing).
deps:
	@sh tests/tools/deps.sh build $(BOARD_DEBS)

test-deps: deps
	@sh tests/tools/deps.sh test
	@# playwright-core (pinned in tests/cgi/package-lock.json) drives Debian's chromium: no browser download.
	@[ -d tests/cgi/node_modules/playwright-core ] || { sh tests/tools/deps.sh npm && cd tests/cgi && npm ci --ignore-scripts --no-audit --no-fund; }

.config:
	@$(MAKE) --no-print-directory deps
	$(PY) /usr/lib/python3/dist-packages/defconfig.py --kconfig Kconfig board/$(BOARD)/defconfig >/dev/null

# A board build's .config follows its defconfig (made again when that changes;
# `make menuconfig BOARD=name` edits it in place until then).
ifneq ($(KCONFIG_FILE),.config)
$(KCONFIG_FILE): $(DEFCONFIG)
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(BUILD)
	KCONFIG_CONFIG=$@ $(PY) /usr/lib/python3/dist-packages/defconfig.py --kconfig Kconfig $(DEFCONFIG) >/dev/null
endif

defconfig:
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(dir $(KCONFIG_FILE))
	KCONFIG_CONFIG=$(KCONFIG_FILE) $(PY) /usr/lib/python3/dist-packages/defconfig.py --kconfig Kconfig $(DEFCONFIG)

menuconfig: $(KCONFIG_FILE)
	KCONFIG_CONFIG=$(KCONFIG_FILE) $(PY) /usr/lib/python3/dist-packages/menuconfig.py Kconfig

$(BUILD)/config.h: $(KCONFIG_FILE) Kconfig src/gen_config.py
	@mkdir -p $(BUILD)
	$(PY) src/gen_config.py Kconfig $(KCONFIG_FILE) $@

$(BUILD)/%.o: src/%.c $(BUILD)/config.h $(wildcard src/*.h) board/$(BOARD)/board.mk | $(BOARD_PREREQS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/postnook: $(OBJS) $(BOARD_PREREQS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)
	ln -sf postnook $(BUILD)/postnook.cgi

$(BUILD)/unit/%: tests/unit/%.c tests/unit/check.h $(LIBOBJS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

run: all
	@sh tests/tools/run_demo.sh $(BUILD)/postnook

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== $$t"; $(QEMU) $$t; done

# Two pytest workers (pytest-xdist): the tests mostly wait on sockets, so two
# halve the suite's time on a 2-core machine. PYTEST_JOBS=0 runs it serially.
PYTEST_JOBS ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider $(if $(filter-out 0,$(PYTEST_JOBS)),-n $(PYTEST_JOBS))

pytest: all
	POSTNOOK_BIN=$(CURDIR)/$(BUILD)/postnook $(PYTEST) tests

# make check: the host's full check; make check BOARD=name: that board's
# (board/cross.mk: unit tests and the pytest suite under qemu-user).
ifeq ($(BOARD),host)
check: check-host
else
check: check-board
endif

check-host:
	@$(MAKE) --no-print-directory test-deps
	$(MAKE) WERROR=1 all unit
	$(MAKE) pytest
	$(MAKE) check-configs
	$(MAKE) SAN=1 all unit
	POSTNOOK_SAN=1 $(MAKE) SAN=1 pytest
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) check-boards

# CI for the boards (about 5 minutes from a clean tree): the router's full
# check under qemu-user, its smallest configuration, and the 64-bit NAS
# board's build and tarball (nas-armhf is 32-bit ARM, covered by the router's
# 32-bit check; `make check BOARD=nas-armhf` runs it by hand). Builds use both
# cores (-j2; BearSSL is 277 files).
check-boards:
	$(MAKE) check BOARD=openwrt-mipsel
	$(MAKE) -j2 BOARD=openwrt-mipsel DEFCONFIG=board/openwrt-mipsel/minimal.defconfig WERROR=1 all
	$(MAKE) BOARD=openwrt-mipsel DEFCONFIG=board/openwrt-mipsel/minimal.defconfig size
	$(MAKE) -j2 BOARD=nas-arm64 WERROR=1 all firmware

# Kconfig's promises (tests/configs/): a build without POP3 builds, passes
# its unit tests and serves IMAP; a build with no protocol at all does not
# compile, and says why (src/sysconfig.h).
check-configs:
	$(MAKE) -j2 DEFCONFIG=tests/configs/imap-only.defconfig WERROR=1 all unit
	POSTNOOK_IMAP_ONLY_BIN=$(CURDIR)/build-host-imap-only/postnook $(PY) -m pytest -q -p no:cacheprovider tests/test_build_imap_only.py
	@mkdir -p build-host-no-protocol
	@if $(MAKE) DEFCONFIG=tests/configs/no-protocol.defconfig all >build-host-no-protocol/make.log 2>&1; then \
	  echo "check-configs: a build with no protocol compiled; src/sysconfig.h should refuse it"; exit 1; fi
	@grep -q 'no protocol: a daemon needs CONFIG_IMAP or CONFIG_POP3' build-host-no-protocol/make.log || \
	  { echo "check-configs: the no-protocol build failed without sysconfig.h's message:"; tail -n 20 build-host-no-protocol/make.log; exit 1; }
	@echo "check-configs: the no-protocol build fails as it should: $$(grep -m1 -o 'error: #error.*' build-host-no-protocol/make.log)"

# libFuzzer: one binary per fuzz/fuzz_*.c, linked with the server's objects.
# A crash fails the target (its input and log stay in build-fuzz/).
FUZZ_BUILD := build-fuzz
FUZZ_OBJS := $(patsubst src/%.c,$(FUZZ_BUILD)/%.o,$(filter-out src/main.c,$(SRCS)))
fuzz: .config
	@$(MAKE) --no-print-directory test-deps
	@set -e; mkdir -p $(FUZZ_BUILD); \
	$(PY) src/gen_config.py Kconfig .config $(FUZZ_BUILD)/config.h; \
	for s in $(filter-out src/main.c,$(SRCS)); do \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -I$(FUZZ_BUILD) -Isrc -c $$s -o $(FUZZ_BUILD)/$$(basename $$s .c).o; done; \
	for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I$(FUZZ_BUILD) -Isrc $$f $(FUZZ_OBJS) $(LDLIBS) -o $(FUZZ_BUILD)/$$n; \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$n; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  if ! $(FUZZ_BUILD)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 -artifact_prefix=$(FUZZ_BUILD)/ \
	       $(FUZZ_BUILD)/corpus-$$n fuzz/corpus/$$n >$(FUZZ_BUILD)/$$n.log 2>&1; then \
	    tail -n 60 $(FUZZ_BUILD)/$$n.log; echo "== $$n FAILED (crash-* input and log in $(FUZZ_BUILD)/)"; exit 1; fi; \
	  tail -n 2 $(FUZZ_BUILD)/$$n.log; \
	done

bench: all
	@sh tests/tools/deps.sh bench
	$(PY) bench/bench.py $(CURDIR)/$(BUILD)/postnook

# Sizes for BOARD: every object (before the linker drops unused code), their
# total, the linked binary (libraries included) and the stripped binary.
size: all
	@echo "== text/data/bss per object in $(BUILD)/"
	@$(SIZE) $(OBJS) | sort -k4 -n
	@$(SIZE) -t $(OBJS) | tail -n 1
	@echo "== $(BUILD)/postnook, linked (BearSSL, LMDB and the C library inside when static)"
	@$(SIZE) $(BUILD)/postnook
	@$(STRIP) -o $(BUILD)/postnook.stripped $(BUILD)/postnook
	@ls -l $(BUILD)/postnook.stripped | awk '{ printf "stripped: %d bytes (%.1f KiB)\n", $$5, $$5 / 1024 }'

clean:
	rm -rf build build-san build-fuzz .config
