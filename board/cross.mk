# Settings and targets for cross-built boards (BOARD other than host),
# included by the top Makefile after the board's board.mk. The binary runs on this machine under qemu-user through a small
# wrapper script, so the pytest suite drives the real cross-built binary.
#
#   make check BOARD=name    build (-Werror), unit tests and the protocol
#                            subset below under qemu-user
#   make qemu-wrapper BOARD=name   just the wrapper: $(BUILD)/qemu/postnook

QEMU_WRAPPER := $(BUILD)/qemu/postnook

# The protocol tests run under emulation too: the whole pytest suite but
#  test_crash.py     kills writers mid-transaction to check that LMDB's robust
#                    mutexes recover; qemu-user has no robust futex lists (see
#                    board/lmdb_robust.c), so a killed writer hangs the others
#  test_cgi_web.py   drives the page in Chromium through lighttpd/busybox
#                    httpd: browser-side checks, the same on every board
# plus tests/test_firmware_*.py on the package from `make firmware`.
BOARD_PYTEST_SKIP ?= tests/test_crash.py tests/test_cgi_web.py
BOARD_TESTS ?= $(filter-out $(BOARD_PYTEST_SKIP),$(wildcard tests/test_*.py))
# Timeout multiplier for the fixture (qemu-user is 5-20x slower than native).
QEMU_SLOW ?= 4

# LMDB's robust mutexes fall back to plain ones where the kernel (qemu-user)
# lacks robust futex lists: see board/lmdb_robust.c.
LDFLAGS += -Wl,--wrap=pthread_mutexattr_setrobust
LDLIBS  += $(BUILD)/lmdb_robust.o
BOARD_PREREQS += $(BUILD)/lmdb_robust.o

$(BUILD)/lmdb_robust.o: board/lmdb_robust.c board/$(BOARD)/board.mk | $(KCONFIG_FILE)
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
	$(MAKE) --no-print-directory -j2 WERROR=1 all unit firmware
	POSTNOOK_BIN=$(CURDIR)/$(QEMU_WRAPPER) POSTNOOK_SLOW=$(QEMU_SLOW) POSTNOOK_BITS=$(BOARD_BITS) \
	  POSTNOOK_QEMU="$(QEMU)" POSTNOOK_IPK=$(if $(IPK_ARCH),$(CURDIR)/$(IPK)) \
	  POSTNOOK_NAS_TAR=$(if $(TAR_ARCH),$(CURDIR)/$(NAS_TAR)) \
	  $(PYTEST) $(BOARD_TESTS)

include firmware/firmware.mk
