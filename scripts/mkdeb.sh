#!/usr/bin/env bash
# make deb: build/swack_VERSION_ARCH.deb from this tree, with dpkg-deb.
#
# The binary is built apart (build/deb/obj) with Debian's hardening flags;
# the package holds it with the swackstat link, the manual pages, bash
# completion, the exporter's systemd unit (not enabled: an operator enables
# it), and contrib's alerting rules and dashboard under /usr/share/swack.
# Prints the path of the .deb.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() { echo "mkdeb.sh: $*" >&2; exit 1; }
for t in dpkg-deb dpkg-shlibdeps dpkg-buildflags; do
	command -v "$t" >/dev/null || die "$t not found: run scripts/deps.sh"
done

version=$(sed -n 's/^#define SWACK_VERSION "\(.*\)"$/\1/p' user/cli/swack.c)
[[ -n $version ]] || die "no SWACK_VERSION in user/cli/swack.c"
arch=$(dpkg --print-architecture)
obj=build/deb/obj
pkg=$root/build/deb/root
deb=$root/build/swack_${version}_${arch}.deb

# PIE, RELRO and BIND_NOW, the stack protector, _FORTIFY_SOURCE.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
rm -rf "$pkg"
make -s OUT="$obj" CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
	LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" install DESTDIR="$pkg" PREFIX=/usr >&2
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$pkg/usr/sbin/swack"
gzip -9n "$pkg"/usr/share/man/man*/*
ln -s swack-stat.8.gz "$pkg/usr/share/man/man8/swackstat.8.gz"
install -d "$pkg/DEBIAN" "$pkg/usr/share/doc/swack" "$pkg/lib/systemd/system"
install -m 0644 contrib/systemd/swack-exporter.service "$pkg/lib/systemd/system/"
install -m 0644 contrib/debian/copyright "$pkg/usr/share/doc/swack/copyright"

maintainer=$(git log -1 --format='%an <%ae>')
sed -e "s/@VERSION@/$version/" -e "s/@COMMIT@/$(git rev-parse --short HEAD)/" \
	-e "s/@MAINTAINER@/$maintainer/" -e "s/@DATE@/$(git log -1 --format=%aD)/" \
	contrib/debian/changelog | gzip -9n >"$pkg/usr/share/doc/swack/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/swack/changelog.gz"

# The libraries the binary links, as dpkg-shlibdeps names their packages
# (it wants a debian/control to run from).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"
printf 'Source: swack\n\nPackage: swack\nArchitecture: any\n' >"$tmp/debian/control"
depends=$(cd "$tmp" && dpkg-shlibdeps -O "$pkg/usr/sbin/swack" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || die "dpkg-shlibdeps found no dependency for swack"

size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" -e "s/@MAINTAINER@/$maintainer/" \
	contrib/debian/control >"$pkg/DEBIAN/control"
install -m 0755 contrib/debian/prerm "$pkg/DEBIAN/prerm"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums" "$pkg/DEBIAN/control"
find "$pkg" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
