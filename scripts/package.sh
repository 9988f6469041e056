#!/usr/bin/env bash
# Builds the Debian package dist/vswitch_VERSION_ARCH.deb from an existing build tree, without a
# second compile: `cmake --install BUILD --prefix /usr` into a staging root, Debian's layout
# (/lib/systemd/system, /etc), stripped binaries, gzipped man pages, the run-time dependencies
# from dpkg-shlibdeps, conffiles and the maintainer scripts of packaging/debian/, then dpkg-deb.
#   scripts/package.sh [BUILD_DIR]      BUILD_DIR: default $BUILD_DIR, else build/
# Environment: DIST_DIR (default dist/). Prints the path of the .deb. Needs dpkg-dev (setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$(realpath "${1:-${BUILD_DIR:-$ROOT/build}}")
DIST=${DIST_DIR:-$ROOT/dist}
die() { echo "package.sh: $*" >&2; exit 1; }
[ -x "$BUILD/vswitchd/vswitchd" ] || die "no vswitchd in $BUILD: build first (cmake -S . -B build -G Ninja && ninja -C build)"
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
[ -n "$VERSION" ] || die "no CMAKE_PROJECT_VERSION in $BUILD/CMakeCache.txt"
ARCH=$(dpkg --print-architecture)

WORK=$(mktemp -d /tmp/vspkg.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PKG=$WORK/root
DESTDIR=$PKG cmake --install "$BUILD" --prefix /usr >/dev/null || die "cmake --install failed"

# Debian 12: units in /lib/systemd/system, configuration in /etc (not below /usr).
if [ -d "$PKG/usr/lib/systemd" ]; then
  mkdir -p "$PKG/lib" && mv "$PKG/usr/lib/systemd" "$PKG/lib/systemd"
fi
if [ -d "$PKG/usr/etc" ]; then
  mkdir -p "$PKG/etc" && cp -a "$PKG/usr/etc/." "$PKG/etc/" && rm -rf "$PKG/usr/etc"
fi
grep -q '^ExecStart=/usr/sbin/vswitchd ' "$PKG/lib/systemd/system/vswitchd.service" \
  || die "the unit's ExecStart does not point at /usr/sbin/vswitchd"

# Policy 10.1 and 12.1: stripped binaries, man pages compressed with gzip -9n.
mapfile -t ELF < <(find "$PKG/usr/bin" "$PKG/usr/sbin" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
strip --strip-unneeded --remove-section=.comment --remove-section=.note "${ELF[@]}"
if [ -d "$PKG/usr/share/man" ]; then find "$PKG/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +; fi

# Run-time library dependencies of the binaries (dpkg-shlibdeps wants a debian/control).
mkdir -p "$WORK/debian"
printf 'Source: vswitch\n\nPackage: vswitch\nArchitecture: any\n' > "$WORK/debian/control"
SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O "${ELF[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || die "dpkg-shlibdeps found no dependencies"

mkdir -p "$PKG/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@SHLIBS@/$SHLIBS/" \
  packaging/debian/control.in > "$PKG/DEBIAN/control"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$PKG/DEBIAN/"
# Every file under /etc is a conffile: kept on remove, removed on purge, never overwritten silently.
(cd "$PKG" && find etc -type f | sed 's|^|/|' | sort) > "$PKG/DEBIAN/conffiles"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') \
  > "$PKG/DEBIAN/md5sums"

mkdir -p "$DIST"
DEB="$DIST/vswitch_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null || die "dpkg-deb failed"
echo "$DEB"
