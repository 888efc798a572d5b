# make firmware BOARD=name: what a user installs, built from that board's
# binary (included by board/cross.mk).
#   openwrt-mipsel: build-openwrt-mipsel/postnook_VERSION_ARCH.ipk (IPK_ARCH)
#   nas-*:          build-nas-*/postnook-VERSION-ARCH.tar.gz       (TAR_ARCH)
# Both hold the stripped binary; their size is printed and held to the budget.

PN_VERSION := $(shell sed -n 's/^\#define POSTNOOK_VERSION "\(.*\)"/\1/p' src/cmd.h)
FW_DIR     := $(BUILD)/firmware
IPK        := $(BUILD)/postnook_$(PN_VERSION)_$(IPK_ARCH).ipk
NAS_TAR    := $(BUILD)/postnook-$(PN_VERSION)-$(TAR_ARCH).tar.gz

.PHONY: firmware

$(BUILD)/postnook.stripped: $(BUILD)/postnook
	$(STRIP) -o $@ $<

ifneq ($(IPK_ARCH),)
FIRMWARE := $(IPK)
$(IPK): $(BUILD)/postnook.stripped firmware/openwrt/mkipk.sh $(wildcard firmware/openwrt/files/*)
	sh firmware/openwrt/mkipk.sh $< $(IPK_ARCH) $(PN_VERSION) $(BUILD) >/dev/null
endif

ifneq ($(TAR_ARCH),)
FIRMWARE := $(NAS_TAR)
$(NAS_TAR): $(BUILD)/postnook.stripped firmware/nas/mktar.sh $(wildcard firmware/nas/files/*) firmware/README.md
	sh firmware/nas/mktar.sh $< $(TAR_ARCH) $(PN_VERSION) $(BUILD) >/dev/null
endif

# The package budget (README, Size): 300 KiB; a package over it fails the build.
FIRMWARE_MAX := 307200

firmware: $(FIRMWARE)
	@ls -l $(FIRMWARE) | awk '{ printf "%s: %d bytes (%.1f KiB)\n", $$NF, $$5, $$5 / 1024 }'
	@n=$$(wc -c < $(FIRMWARE)); if [ $$n -gt $(FIRMWARE_MAX) ]; then \
	  echo "firmware: $(FIRMWARE) is $$n bytes, over the 300 KiB package budget"; exit 1; fi
