#!/bin/sh
# Install the Debian packages a make target needs, only when some are missing.
#   deps.sh build PKG...   build dependencies (from the board's BOARD_DEBS)
#   deps.sh test           test tools (pytest, clients, clang for sanitizers and fuzzing,
#                          Dovecot as the oracle of test_imap_unfold.py)
#   deps.sh bench          Dovecot, for side-by-side figures
#   deps.sh npm            npm, when node came without it (the CGI browser tests)
#   deps.sh source         what `apt-get source` needs: dpkg-dev and a deb-src
#                          entry for the archive the binary packages come from
set -e
what=$1; shift
case $what in
build) pkgs="$*" ;;
test)  pkgs="python3-pytest python3-pytest-xdist clang libclang-rt-14-dev openssl fetchmail curl lmdb-utils procps lighttpd busybox chromium libxml2-utils nodejs isync offlineimap3 mutt dovecot-imapd util-linux libnss3-tools" ;;
npm)   command -v npm >/dev/null && exit 0; pkgs="npm" ;;
bench) pkgs="dovecot-pop3d dovecot-imapd openssl procps" ;;
source) pkgs="dpkg-dev" ;;
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
# Static board builds compile BearSSL and LMDB from Debian's source packages:
# add deb-src lines for the same archive(s) as the deb lines, once.
if [ "$what" = source ] && ! grep -Eqs '^(deb-src |Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/*; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q '^URIs:.*debian' "$f" && sed 's/^Types: deb$/Types: deb-src/' "$f"
  done | $SUDO tee /etc/apt/sources.list.d/postnook-deb-src.sources >/dev/null
  grep -s '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' | $SUDO tee /etc/apt/sources.list.d/postnook-deb-src.list >/dev/null
  echo "deps.sh: added deb-src entries; updating the package index"
  $SUDO apt-get update -qq || echo "deps.sh: apt-get update reported errors" >&2
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# Packages of another architecture (musl-dev:mipsel): dpkg must know it first.
for p in $missing; do
  case $p in
  *:*) arch=${p#*:}
       if [ "$arch" != "$(dpkg --print-architecture)" ] &&
          ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
         echo "deps.sh: adding architecture $arch"
         $SUDO dpkg --add-architecture "$arch"
       fi ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive
# A mirror caught mid-sync fails one index (often a foreign architecture's):
# go on with what was fetched and let the install say if a package is missing.
$SUDO apt-get update -qq || echo "deps.sh: apt-get update reported errors; trying the install anyway" >&2
# --no-remove: an install that would take packages away (a multiarch clash)
# fails instead of removing the host's compilers.
if ! $SUDO apt-get install -y -qq --no-remove --no-install-recommends $missing >/dev/null; then
  sleep 5
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-remove --no-install-recommends $missing >/dev/null
fi
