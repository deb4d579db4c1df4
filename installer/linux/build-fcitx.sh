#!/bin/sh
# Runs INSIDE the Debian 11 build root (scripts/package chroots into it): compiles fcitx5-qt's
# Qt 6 input-method plugin (libfcitx5platforminputcontextplugin.so) for the Qt of the PySide6
# wheels, so that fcitx 5 and fcitx 4 (UOS, Kylin) reach MiBao (installer/README.md, "Input
# methods"). Compiled here, with Debian 11's GCC 10 against Debian 11's glibc, for the same
# reason as CPython: nothing above glibc 2.28 from the machine (glibc-2.28.h is force-included).
#   build-fcitx.sh DIR
# DIR (scripts/package fills it) holds:
#   src/      installer/linux/fcitx5-qt, mibao-fcitx-font.cpp, glibc-2.28.h and this script
#   sysroot/  Qt 6.8's headers, private ones included (Debian 13's qt6-base-dev and
#             qt6-base-private-dev, unpacked), and Debian 11's xcb and xkbcommon headers
#   tools/    Qt 6.8's moc (Debian 13's qt6-base-dev-tools) with the Debian 13 libraries it
#             runs on, started through their own ld.so: moc's output is source, not linked
#   qtlib/    the wheel's libQt6{Core,Gui,DBus,Widgets}.so.6, what the plugin links
# Output: DIR/out/libfcitx5platforminputcontextplugin.so
set -eu
D=$1
S=$D/src
G=$D/gen
Q=$D/sysroot/usr/include/x86_64-linux-gnu/qt6
QV=$(ls "$Q/QtCore" | grep '^6\.' | head -1)  # the headers' version directory (private headers)
rm -rf "$G" "$D/obj" "$D/out" && mkdir -p "$G" "$D/obj" "$D/out"

# What CMake would generate: the plugin's metadata path, the static export macros of the DBus
# addons (built into the plugin, as fcitx5-qt's BUILD_ONLY_PLUGIN does) and moc's predefines.
cat > "$G/mibao-fcitx-config.h" <<CONFIG
#define FCITX5_QT_VERSION "5.1.9"
#define FCITX5_QT_WITH_FCITX_NAME 1
#define FCITX_PLUGIN_DATA_FILE_PATH "$S/platforminputcontext/fcitx5.json"
#define ENABLE_X11 1
#define FCITX5QT6DBUSADDONS_STATIC_DEFINE 1
CONFIG
cat > "$G/fcitx5qt6dbusaddons_export.h" <<'EXPORT'
#ifndef FCITX5QT6DBUSADDONS_EXPORT_H
#define FCITX5QT6DBUSADDONS_EXPORT_H
#define FCITX5QT6DBUSADDONS_EXPORT
#define FCITX5QT6DBUSADDONS_NO_EXPORT
#define FCITX5QT6DBUSADDONS_DEPRECATED __attribute__((__deprecated__))
#define FCITX5QT6DBUSADDONS_DEPRECATED_EXPORT FCITX5QT6DBUSADDONS_DEPRECATED
#define FCITX5QT6DBUSADDONS_DEPRECATED_NO_EXPORT FCITX5QT6DBUSADDONS_DEPRECATED
#endif
EXPORT
CXXFLAGS="-std=c++17 -O2 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -w"
DEFS="-DQT_NO_DEBUG -DQT_PLUGIN -DQT_CORE_LIB -DQT_GUI_LIB -DQT_DBUS_LIB -DQT_WIDGETS_LIB"
INC="-I$G -I$S/dbusaddons -I$S/platforminputcontext -I$S/common -I$Q -I$Q/QtCore -I$Q/QtGui -I$Q/QtDBus
 -I$Q/QtWidgets -I$Q/QtCore/$QV -I$Q/QtCore/$QV/QtCore -I$Q/QtGui/$QV -I$Q/QtGui/$QV/QtGui -I$D/sysroot/usr/include"
g++ $CXXFLAGS -dM -E -x c++ /dev/null > "$G/moc_predefs.h"

T=$D/tools
for header in $(grep -l "Q_OBJECT\|Q_GADGET" "$S"/dbusaddons/*.h "$S"/platforminputcontext/*.h); do
  name=$(basename "$header" .h)
  "$T/usr/lib64/ld-linux-x86-64.so.2" --library-path "$T/usr/lib/x86_64-linux-gnu" "$T/usr/lib/qt6/libexec/moc" \
    --include "$G/moc_predefs.h" --include "$G/mibao-fcitx-config.h" $DEFS $INC "$header" -o "$G/moc_$name.cpp"
done

# moc's output compiled as one file (as CMake's AUTOMOC does): Qt's headers are parsed once
# for all of it, not fourteen times
for generated in "$G"/moc_*.cpp; do echo "#include \"$(basename "$generated")\""; done > "$G/mocs_compilation.cpp"
# two compilers at once (the build machine has two cores, shared: scripts/package runs this nice'd)
export CXXFLAGS DEFS INC S G D
ls "$S"/dbusaddons/*.cpp "$S"/platforminputcontext/*.cpp "$S"/mibao-fcitx-font.cpp "$G"/mocs_compilation.cpp \
  | xargs -P 2 -n 1 sh -c 'g++ $CXXFLAGS $DEFS $INC -include "$S/glibc-2.28.h" -include "$G/mibao-fcitx-config.h" \
      -c "$1" -o "$D/obj/$(basename "$1" .cpp).o"' sh

L=/usr/lib/x86_64-linux-gnu
g++ -shared -o "$D/out/libfcitx5platforminputcontextplugin.so" "$D"/obj/*.o \
  -Wl,--no-undefined -Wl,--as-needed -Wl,-z,relro -Wl,-O1 -Wl,-rpath,'$ORIGIN/../../lib' -Wl,-rpath-link,"$D/qtlib" \
  "$D/qtlib/libQt6Widgets.so.6" "$D/qtlib/libQt6Gui.so.6" "$D/qtlib/libQt6DBus.so.6" "$D/qtlib/libQt6Core.so.6" \
  "$L/libxcb.so.1" "$L/libxkbcommon.so.0"
strip --strip-unneeded "$D/out/libfcitx5platforminputcontextplugin.so"
