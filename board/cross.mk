# Settings and targets for cross-built boards (BOARD other than host),
# included by the top Makefile after the board's board.mk. The binary runs on this machine under qemu-user through a small
# wrapper script, so the pytest suite drives the real cross-built binary.
#
#   make check BOARD=name    build (-Werror), unit tests and the protocol
#                            subset below under qemu-user
#   make qemu-wrapper BOARD=name   just the wrapper: $(BUILD)/qemu/postnook

QEMU_WRAPPER := $(BUILD)/qemu/postnook

# The protocol tests that run under emulation: the suite is about 10x slower
# there, so the board check runs the files that exercise what differs on a
# 32-bit, big-/little-endian or musl target (TLS, the store and its map limit,
# config parsing, signals, delivery exit codes), not the timing- and
# memory-measuring ones (/proc figures describe qemu, not postnook).
BOARD_TESTS ?= tests/test_pop3_commands.py tests/test_tls.py tests/test_deliver.py \
	tests/test_user.py tests/test_config.py tests/test_reload.py tests/test_map_limit.py \
	$(wildcard tests/test_imap_basic.py)
# Timeout multiplier for the fixture (qemu-user is 5-20x slower than native).
QEMU_SLOW ?= 4

# LMDB's robust mutexes fall back to plain ones where the kernel (qemu-user)
# lacks robust futex lists: see board/lmdb_robust.c.
LDFLAGS += -Wl,--wrap=pthread_mutexattr_setrobust
LDLIBS  += $(BUILD)/lmdb_robust.o
BOARD_PREREQS += $(BUILD)/lmdb_robust.o

$(BUILD)/lmdb_robust.o: board/lmdb_robust.c board/$(BOARD)/board.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_WARN) $(CFLAGS) -c -o $@ $<

.PHONY: qemu-wrapper check-board

qemu-wrapper: $(QEMU_WRAPPER)

# argv[0] is passed through (-0) so the postnook.cgi link beside the wrapper
# still selects the CGI face. exec keeps one process: the PID the tests signal
# is qemu's, and qemu-user forwards SIGHUP/SIGTERM to the emulated program.
$(QEMU_WRAPPER): board/cross.mk board/$(BOARD)/board.mk
	@mkdir -p $(@D)
	printf '#!/bin/sh\n# postnook for $(BOARD) under qemu-user (made by board/cross.mk)\nexec $(QEMU) -0 "$$0" $(CURDIR)/$(BUILD)/postnook "$$@"\n' > $@
	chmod +x $@
	ln -sf postnook $(@D)/postnook.cgi

check-board: $(QEMU_WRAPPER)
	@$(MAKE) --no-print-directory test-deps
	$(MAKE) --no-print-directory WERROR=1 all unit
	POSTNOOK_BIN=$(CURDIR)/$(QEMU_WRAPPER) POSTNOOK_SLOW=$(QEMU_SLOW) POSTNOOK_BITS=$(BOARD_BITS) \
	  $(PY) -m pytest -q -p no:cacheprovider $(BOARD_TESTS)
