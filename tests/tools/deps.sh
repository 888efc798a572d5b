#!/bin/sh
# Install the Debian packages a make target needs, only when some are missing.
#   deps.sh build PKG...   build dependencies (from the board's BOARD_DEBS)
#   deps.sh test           test tools (pytest, clients, clang for sanitizers and fuzzing)
#   deps.sh bench          Dovecot, for side-by-side figures
set -e
what=$1; shift
case $what in
build) pkgs="$*" ;;
test)  pkgs="python3-pytest clang libclang-rt-14-dev openssl fetchmail curl lmdb-utils procps" ;;
bench) pkgs="dovecot-pop3d dovecot-imapd openssl procps" ;;
*) echo "deps.sh: unknown set $what" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
