#!/bin/sh
# Installs the build into a temporary prefix and builds the .deb: the binaries, the .desktop file and the icon must
# be where a desktop expects them, the installed console must start, and the package must hold the same files.
# Usage: check-install.sh BUILD_DIR
set -eu
build="$(cd "$1" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/usr" >/dev/null
for f in bin/fleet-console bin/fleetctl bin/fleet-sim share/applications/fleet-console.desktop \
         share/icons/hicolor/scalable/apps/fleet-console.svg; do
    [ -e "$tmp/usr/$f" ] || { echo "missing after install: $f"; exit 1; }
done
grep -q '^Exec=fleet-console' "$tmp/usr/share/applications/fleet-console.desktop" || { echo "desktop file has no Exec"; exit 1; }
grep -q '^Icon=fleet-console' "$tmp/usr/share/applications/fleet-console.desktop" || { echo "desktop file has no Icon"; exit 1; }
QT_QPA_PLATFORM=offscreen "$tmp/usr/bin/fleet-console" --version | grep -q '^fleet-console ' || { echo "installed fleet-console does not run"; exit 1; }
# The console does not carry the simulator: no Qt HttpServer in it.
if ldd "$tmp/usr/bin/fleet-console" | grep -q HttpServer; then echo "fleet-console links Qt HttpServer"; exit 1; fi
# --demo from the install: the installed fleet-sim beside it, as a child process, drawn and then gone.
FLEET_CONSOLE_DATA="$tmp/data" QT_QPA_PLATFORM=offscreen "$tmp/usr/bin/fleet-console" --demo \
    --screenshot "$tmp/demo.png" --after 2 >/dev/null 2>&1 || { echo "installed fleet-console --demo failed"; exit 1; }
[ -s "$tmp/demo.png" ] || { echo "installed fleet-console --demo wrote no screenshot"; exit 1; }
if pgrep -f "$tmp/usr/bin/fleet-sim" >/dev/null; then echo "the demo's fleet-sim outlived the console"; exit 1; fi

(cd "$tmp" && cpack -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake" >/dev/null)
deb="$(ls "$tmp"/pkg/*.deb)"
if command -v dpkg-deb >/dev/null 2>&1; then
    contents="$(dpkg-deb -c "$deb")"
    for f in usr/bin/fleet-console usr/share/applications/fleet-console.desktop \
             usr/share/icons/hicolor/scalable/apps/fleet-console.svg; do
        echo "$contents" | grep -q "$f" || { echo "missing in the .deb: $f"; exit 1; }
    done
    dpkg-deb -f "$deb" Depends | grep -q libqt6charts6 || { echo "the .deb does not depend on Qt Charts"; exit 1; }
fi
echo "install and package OK: $(basename "$deb")"
