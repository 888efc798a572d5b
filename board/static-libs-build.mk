# Compiles unpacked BearSSL and LMDB source trees into static libraries.
# Run by board/static-libs.mk (a separate make so the source lists are read
# after `apt-get source` has unpacked them):
#   make -f board/static-libs-build.mk SRC=build-src OUT=build-BOARD/deps CC=... AR=... CFLAGS=...

BEARSSL := $(patsubst %/inc/bearssl.h,%,$(firstword $(wildcard $(SRC)/bearssl-*/inc/bearssl.h)))
LMDB    := $(patsubst %/lmdb.h,%,$(firstword $(wildcard $(SRC)/lmdb-*/libraries/liblmdb/lmdb.h)))
ifeq ($(BEARSSL),)
$(error no BearSSL source tree in $(SRC))
endif
ifeq ($(LMDB),)
$(error no LMDB source tree in $(SRC))
endif

BR_SRCS := $(wildcard $(BEARSSL)/src/*.c $(BEARSSL)/src/*/*.c)
BR_OBJS := $(patsubst $(BEARSSL)/src/%.c,$(OUT)/obj/bearssl/%.o,$(BR_SRCS))
MDB_OBJS := $(OUT)/obj/lmdb/mdb.o $(OUT)/obj/lmdb/midl.o

# LMDB on MIPS includes <asm/cachectl.h> from the Linux headers
# (linux-libc-dev-mipsel-cross puts them in /usr/mipsel-linux-gnu/include).
# musl's include path has no asm/, and adding the whole glibc tree would mix
# two C libraries, so a directory holding just that header goes after the C
# library's (-idirafter: it can never shadow a libc header).
KINC := $(OUT)/kinc
ASM_CACHECTL := $(firstword $(wildcard /usr/$(shell $(CC) -dumpmachine | sed 's/-musl/-gnu/')/include/asm/cachectl.h))

all: $(OUT)/lib/libbearssl.a $(OUT)/lib/liblmdb.a $(OUT)/include/bearssl.h $(OUT)/include/lmdb.h

$(OUT)/obj/bearssl/%.o: $(BEARSSL)/src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$(BEARSSL)/inc -I$(BEARSSL)/src -c -o $@ $<

$(OUT)/obj/lmdb/%.o: $(LMDB)/%.c
	@mkdir -p $(@D) $(KINC)/asm
	$(if $(ASM_CACHECTL),ln -sf $(ASM_CACHECTL) $(KINC)/asm/cachectl.h)
	$(CC) $(CFLAGS) -pthread -idirafter $(KINC) -c -o $@ $<

$(OUT)/lib/libbearssl.a: $(BR_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(OUT)/lib/liblmdb.a: $(MDB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(OUT)/include/bearssl.h: $(wildcard $(BEARSSL)/inc/*.h)
	@mkdir -p $(@D)
	cp $^ $(@D)/

$(OUT)/include/lmdb.h: $(LMDB)/lmdb.h
	@mkdir -p $(@D)
	cp $< $@
