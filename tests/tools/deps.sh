#!/bin/sh
# Install the Debian packages a make target needs, only when some are missing.
#   deps.sh build PKG...   build dependencies (from the board's BOARD_DEBS)
#   deps.sh test           test tools (pytest, clients, clang for sanitizers and fuzzing)
#   deps.sh bench          Dovecot, for side-by-side figures
#   deps.sh npm            npm, when node came without it (the CGI browser tests)
set -e
what=$1; shift
case $what in
build) pkgs="$*" ;;
test)  pkgs="python3-pytest clang libclang-rt-14-dev openssl fetchmail curl lmdb-utils procps lighttpd busybox chromium libxml2-utils nodejs" ;;
npm)   command -v npm >/dev/null && exit 0; pkgs="npm" ;;
bench) pkgs="dovecot-pop3d dovecot-imapd openssl procps" ;;
*) echo "deps.sh: unknown set $what" >&2; exit 2 ;;
esac
# Never install a foreign architecture's linux-libc-dev (linux-libc-dev:mipsel
# etc.): multiarch needs the same version for every architecture, the security
# archive carries only some of them, and apt then removes the host's
# linux-libc-dev, libc6-dev, build-essential and clang. The arch-all
# linux-libc-dev-ARCH-cross packages give the same headers without the clash.
for p in $pkgs; do
  case $p in
  linux-libc-dev:*) echo "deps.sh: refusing $p (it removes the host's libc6-dev); use linux-libc-dev-${p#linux-libc-dev:}-cross" >&2; exit 2 ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# A mirror caught mid-sync fails one index (often a foreign architecture's):
# go on with what was fetched and let the install say if a package is missing.
$SUDO apt-get update -qq || echo "deps.sh: apt-get update reported errors; trying the install anyway" >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
  sleep 5
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
