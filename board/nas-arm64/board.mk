# ARM64 NAS boxes and single-board computers (Realtek RTD1296/1619, RK3568, Raspberry Pi 4/5, ...)
# The overlay tarball has to run on whatever Linux the box has: Debian or
# Armbian, but also vendor systems with an old glibc (Synology DSM 7 ships
# glibc 2.26) and no BearSSL/LMDB packages. So, as for the router, the binary
# is fully static against musl (Debian's musl-dev:arm64 wraps aarch64-linux-gnu-gcc as
# aarch64-linux-musl-gcc), with BearSSL and LMDB compiled by the same compiler from
# Debian's source packages (board/static-libs.mk): no runtime dependencies,
# and no foreign-architecture glibc on the build machine (multiarch -dev
# packages must match the host's versions exactly, and a security update on
# one side breaks the install).
CC   = aarch64-linux-musl-gcc
AR   = aarch64-linux-gnu-ar
STRIP = aarch64-linux-gnu-strip
SIZE = aarch64-linux-gnu-size
# -Os for everything, as on the router, dropping unused functions: the
# package budget is 300 KiB (firmware.mk fails a bigger one). Measured
# 2026-12-03: all -O2 311,876 bytes; our code -Os with BearSSL and LMDB
# -O2 289,375 bytes, then 307,067 once issue 14's features came in (over);
# all -Os 292,762 bytes (285.9 KiB).
BOARD_CFLAGS  = -Os -ffunction-sections -fdata-sections
BOARD_LDFLAGS = -static -Wl,--gc-sections
BOARD_LDLIBS  = -lbearssl -llmdb
BOARD_STATIC_LIBS = 1
BOARD_DEBS = gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu musl-dev:arm64 dpkg-dev qemu-user-static python3-kconfiglib
# Tests run the binary under user-mode emulation (a static binary needs no -L).
QEMU = qemu-aarch64-static
# Pointer size: 32-bit boards cap the store map at 1G (tests/test_map_limit.py).
BOARD_BITS = 64
# firmware: Debian's name for the architecture (the tarball's name).
TAR_ARCH = arm64
