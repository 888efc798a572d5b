#!/bin/sh
# Build an OpenWrt .ipk without the OpenWrt SDK.
#   mkipk.sh BINARY ARCH VERSION OUTDIR
# BINARY: the stripped postnook for the router; ARCH: opkg architecture
# (mipsel_24kc). Writes OUTDIR/postnook_VERSION_ARCH.ipk and prints its path.
#
# An .ipk is what opkg installs: an ar archive holding, in this order,
#   debian-binary    "2.0"
#   control.tar.gz   control (the package's fields), conffiles, postinst, prerm
#   data.tar.gz      the files, relative to / on the router
# (OpenWrt's own ipkg-build writes a gzipped tar as the outer archive; opkg
# reads both kinds.)
set -e
bin=$1 arch=$2 version=$3
mkdir -p "$4"
out=$(cd "$4" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stage=$out/ipk
rm -rf "$stage"
mkdir -p "$stage/data/usr/bin" "$stage/data/www/cgi-bin" "$stage/data/etc/init.d" \
	"$stage/data/etc/config" "$stage/control"

# data: the binary, the web page as a link to it, the init script, UCI defaults.
cp "$bin" "$stage/data/usr/bin/postnook"
chmod 0755 "$stage/data/usr/bin/postnook"
ln -s ../../usr/bin/postnook "$stage/data/www/cgi-bin/postnook.cgi"
cp "$here/files/postnook.init" "$stage/data/etc/init.d/postnook"
chmod 0755 "$stage/data/etc/init.d/postnook"
cp "$here/files/postnook.config" "$stage/data/etc/config/postnook"
chmod 0600 "$stage/data/etc/config/postnook"

size=$(du -sk "$stage/data" | cut -f1)
cat > "$stage/control/control" <<EOT
Package: postnook
Version: $version
Source: postnook
Section: mail
Architecture: $arch
Installed-Size: $((size * 1024))
Description: Small IMAP/POP3 mail server with TLS (BearSSL) and an LMDB store,
 one static binary with a web configuration page (postnook.cgi).
EOT
cp "$here/files/conffiles" "$here/files/postinst" "$here/files/prerm" "$stage/control/"
chmod 0755 "$stage/control/postinst" "$stage/control/prerm"
echo "2.0" > "$stage/debian-binary"

# Reproducible archives: fixed owner, order and time.
tgz() {
	(cd "$1" && tar --owner=0 --group=0 --numeric-owner --sort=name \
		--mtime=@${SOURCE_DATE_EPOCH:-0} -cf - .) | gzip -9n > "$2"
}
tgz "$stage/control" "$stage/control.tar.gz"
tgz "$stage/data" "$stage/data.tar.gz"
ipk=$out/postnook_${version}_$arch.ipk
rm -f "$ipk"
(cd "$stage" && ar -rcD "$ipk" debian-binary control.tar.gz data.tar.gz)
echo "$ipk"
