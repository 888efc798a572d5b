#!/bin/sh
# Build the NAS overlay tarball: unpack it over / (tar -xzf FILE -C /).
#   mktar.sh BINARY ARCH VERSION OUTDIR
# Writes OUTDIR/postnook-VERSION-ARCH.tar.gz and prints its path. Contents:
#   usr/local/bin/postnook                      the static binary
#   usr/local/lib/cgi-bin/postnook.cgi          the web page (a link to it)
#   etc/systemd/system/postnook.service         systemd unit
#   etc/init.d/postnook                         SysV init script (no systemd)
#   etc/sysusers.d/postnook.conf                the daemon's user
#   etc/postnook/postnook.conf.default          copied to postnook.conf on
#                                               first start (never overwritten)
#   usr/local/share/doc/postnook/README.md      firmware/README.md
set -e
bin=$1 arch=$2 version=$3
mkdir -p "$4"
out=$(cd "$4" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$out/nas-root
rm -rf "$root"
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/cgi-bin" "$root/etc/systemd/system" \
	"$root/etc/init.d" "$root/etc/sysusers.d" "$root/etc/postnook" "$root/usr/local/share/doc/postnook"
install -m 0755 "$bin" "$root/usr/local/bin/postnook"
ln -s ../../bin/postnook "$root/usr/local/lib/cgi-bin/postnook.cgi"
install -m 0644 "$here/files/postnook.service" "$root/etc/systemd/system/postnook.service"
install -m 0755 "$here/files/postnook.initd" "$root/etc/init.d/postnook"
install -m 0644 "$here/files/sysusers.conf" "$root/etc/sysusers.d/postnook.conf"
install -m 0640 "$here/files/postnook.conf" "$root/etc/postnook/postnook.conf.default"
install -m 0644 "$here/../README.md" "$root/usr/local/share/doc/postnook/README.md"
tarball=$out/postnook-$version-$arch.tar.gz
(cd "$root" && tar --owner=0 --group=0 --numeric-owner --sort=name \
	--mtime=@${SOURCE_DATE_EPOCH:-0} -cf - usr etc) | gzip -9n > "$tarball"
echo "$tarball"
