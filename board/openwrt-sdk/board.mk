# Built inside an OpenWrt SDK or buildroot by firmware/openwrt/Makefile, with
# OpenWrt's own toolchain for whatever target the SDK is for. The package
# Makefile passes CC and AR, the target's flags (SDK_CFLAGS, SDK_LDFLAGS) and
# where it built BearSSL; LMDB is OpenWrt's liblmdb (linked dynamically).
# Nothing is installed with apt here: the SDK host needs python3-kconfiglib.
BOARD_CFLAGS  = $(SDK_CFLAGS) -ffunction-sections -fdata-sections -Wno-format-truncation
BOARD_LDFLAGS = $(SDK_LDFLAGS) -Wl,--gc-sections
BOARD_LDLIBS  = -lbearssl -llmdb
BOARD_DEBS    =
STRIP ?= strip
# No emulator here: the SDK build is not run on the build machine.
QEMU =
BOARD_BITS = 32
