# Toolchain settings for the host board: the native compiler and Debian's
# shared libbearssl/liblmdb.
CC ?= cc
BOARD_CFLAGS = -O2
BOARD_LDLIBS = -lbearssl -llmdb
BOARD_DEBS = build-essential libbearssl-dev liblmdb-dev python3-kconfiglib
