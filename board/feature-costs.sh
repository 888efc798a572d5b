#!/bin/sh
# What each Kconfig feature costs in the stripped binary of a board:
#   sh board/feature-costs.sh [BOARD]      (default openwrt-mipsel)
# Builds the board's defconfig once as is and once per feature with that
# feature off (build-BOARD-no-FEATURE/), and prints the differences. The
# figures in Kconfig's help texts come from here.
set -e
board=${1:-openwrt-mipsel}
strip=$(sed -n 's/^STRIP *= *//p' "board/$board/board.mk")
mkdir -p build-costs
stripped_size() {       # DEFCONFIG -> stripped size in bytes
	name=$(basename "$1" .defconfig)
	build=build-$board$( [ "$name" = defconfig ] || echo "-$name")
	make -s BOARD="$board" DEFCONFIG="$1" all >/dev/null
	$strip -o "$build/postnook.stripped" "$build/postnook"
	wc -c < "$build/postnook.stripped"
}
full=$(stripped_size "board/$board/defconfig")
echo "$board, board/$board/defconfig: $full bytes stripped"
for f in POP3 IMAP CGI TLS; do
	grep -v "^CONFIG_$f=" "board/$board/defconfig" > "build-costs/no-$f.defconfig"
	echo "# CONFIG_$f is not set" >> "build-costs/no-$f.defconfig"
	if size=$(stripped_size "build-costs/no-$f.defconfig" 2>/dev/null); then
		echo "CONFIG_$f: $((full - size)) bytes ($(( (full - size) / 1024 )) KiB)"
	else
		echo "CONFIG_$f: does not build when off"
	fi
done
