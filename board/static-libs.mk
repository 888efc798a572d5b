# BearSSL and LMDB as static libraries, built by a board's own compiler from
# Debian's source packages (`apt-get source bearssl lmdb`), for boards whose
# C library Debian ships no BearSSL/LMDB for (musl on OpenWrt).
#
# Included by the top Makefile when a board sets BOARD_STATIC_LIBS = 1:
#   build-src/                 the unpacked Debian sources, shared by all boards
#   $(BUILD)/deps/include/     bearssl*.h and lmdb.h
#   $(BUILD)/deps/lib/         libbearssl.a and liblmdb.a
# Nothing of BearSSL or LMDB is kept in git: build-*/ is ignored.

SRCPKG_DIR := build-src
DEPS_DIR   := $(BUILD)/deps
# Size first: every function in its own section so --gc-sections drops the
# parts of BearSSL we never call (RSA signing, X.509 validation, CBC, ...).
# A board may compile them with other flags (BOARD_DEPS_CFLAGS) than its own code.
DEPS_CFLAGS := $(or $(BOARD_DEPS_CFLAGS),$(BOARD_CFLAGS))

# Order-only on the board's .config: making it installs the board's compiler
# (deps.sh), which must be done before these run (make -j2; one apt at a time).
$(SRCPKG_DIR)/.fetched: | $(KCONFIG_FILE)
	@sh tests/tools/deps.sh source
	@mkdir -p $(SRCPKG_DIR)
	cd $(SRCPKG_DIR) && apt-get source -qq bearssl lmdb
	@touch $@

DEPS_STAMP := $(DEPS_DIR)/.built

$(DEPS_STAMP): $(SRCPKG_DIR)/.fetched board/static-libs.mk board/static-libs-build.mk board/$(BOARD)/board.mk | $(KCONFIG_FILE)
	$(MAKE) --no-print-directory -f board/static-libs-build.mk SRC=$(SRCPKG_DIR) OUT=$(DEPS_DIR) \
	  CC="$(CC)" AR="$(AR)" CFLAGS="$(DEPS_CFLAGS)"
	@touch $@

BOARD_PREREQS += $(DEPS_STAMP)
ALL_CFLAGS    += -isystem $(DEPS_DIR)/include
LDFLAGS       += -L$(DEPS_DIR)/lib
