# MIPS32 little-endian routers on OpenWrt (MT7621, MT7628, ... : mipsel_24kc).
# OpenWrt's C library is musl, and a binary that wants glibc's loader does not
# start there, so this build is fully static against musl: Debian's
# musl-dev:mipsel wraps mipsel-linux-gnu-gcc as mipsel-linux-musl-gcc, and
# BearSSL and LMDB are compiled by that same compiler from Debian's source
# packages (board/static-libs.mk). One file, no runtime dependencies.
CC   = mipsel-linux-musl-gcc
AR   = mipsel-linux-gnu-ar
STRIP = mipsel-linux-gnu-strip
SIZE = mipsel-linux-gnu-size
# Size: the budget is 400 KiB for the stripped binary with everything in it.
#  -Os, one section per function/object, --gc-sections: unused code dropped.
#  -mips16 -minterlink-compressed: the MIPS16e instruction set (16-bit
#   encodings; every MIPS32 router core since the 4KEc/24Kc has it, and
#   OpenWrt builds its own packages this way), about 20% smaller code.
#  -mno-abicalls -fno-pic: a static executable needs no position-independent
#   code; about 10% smaller again. musl's libc.a is PIC, and GNU ld links the
#   two kinds (it adds small stubs for calls into PIC code) but warns once per
#   object; --no-warn-mismatch silences that (every object here comes from
#   the same cross compiler, and the tests run the result under qemu).
#  Measured on the full configuration: 542 KiB plain MIPS32 PIC, 445 KiB with
#  MIPS16, 383 KiB with MIPS16 and no PIC. BearSSL and LMDB get the same flags
#  (BOARD_DEPS_CFLAGS without -mips16 would keep them MIPS32: +40 KiB).
# At -Os GCC's snprintf truncation analysis flags bounded, deliberately
# truncating messages that the -O2 builds accept, so that one check is off.
BOARD_CFLAGS  = -Os -ffunction-sections -fdata-sections -mips16 -minterlink-compressed \
	-mno-abicalls -fno-pic -Wno-format-truncation
BOARD_LDFLAGS = -static -Wl,--gc-sections -Wl,--no-warn-mismatch -Wl,-T,board/openwrt-mipsel/mips16-stubs.ld
BOARD_LDLIBS  = -lbearssl -llmdb
BOARD_STATIC_LIBS = 1
BOARD_DEBS = gcc-mipsel-linux-gnu binutils-mipsel-linux-gnu musl-dev:mipsel linux-libc-dev-mipsel-cross \
	dpkg-dev qemu-user-static busybox python3-kconfiglib
# Tests run the binary under user-mode emulation (a static binary needs no -L).
QEMU = qemu-mipsel-static
# firmware: the OpenWrt package architecture this binary runs on.
IPK_ARCH = mipsel_24kc
# Pointer size: 32-bit boards cap the store map at 1G (tests/test_map_limit.py).
BOARD_BITS = 32
