#!/usr/bin/env bash
# By hand, not in CI: Chinese typed into the installed package through a real fcitx, in a clean
# Debian 11 root with Debian 11's fcitx 5 and fcitx 4 (pinyin), under Xvfb and a session bus
# (installer/README.md, "Input methods"). For each case: MiBao's login window, a click into
# 用户名, the input method switched on (fcitx5-remote -o / fcitx-remote -o), "nihao" and a space
# typed with xdotool; the session bus is traced with dbus-monitor.
#   installer/linux/try-input-methods.sh        (root; after scripts/package)
# Cases: fcitx5 (the package's fcitx plugin), fcitx4 (the same plugin, fcitx 4's portal module),
# fcitx5-noplugin (the plugin removed: Qt's ibus plugin through fcitx 5's ibus portal, the
# app's fallback). A case passes when the input method committed text to MiBao on the bus.
# Writes dist/ci/input-methods/: screenshots while typing and after, the traces, summary.txt.
# The root (Debian 11 + fcitx, ~5 minutes to make) is kept in the cache like CI's. fcitx-module-dbus
# is named: without it (a Recommends of fcitx) fcitx 4 has no frontend and exits at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
. installer/linux/roots.sh

HOST_PY=python3
[ -x .venv/bin/python ] && HOST_PY=.venv/bin/python
VERSION=$("$HOST_PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
DEB="dist/mibao_${VERSION}_amd64.deb"
OUT=dist/ci/input-methods
[ -f "$DEB" ] || { echo "no $DEB: run scripts/package first" >&2; exit 1; }

PACKAGES="libgl1 libegl1 libfontconfig1 libfreetype6 libdbus-1-3 libx11-6 libx11-xcb1 libxcb1 libstdc++6
 xvfb x11-apps x11-utils xdotool dbus dbus-x11 fcitx5 fcitx5-chinese-addons fcitx fcitx-pinyin fcitx-module-dbus"
PACKAGES=$(echo $PACKAGES)
CLEAN=$(debian_root input-root "$PACKAGES")
rm -rf "$OUT" && mkdir -p "$OUT"

RUN=$(mktemp -d /var/tmp/mibao-input.XXXXXX)
mkdir -p "$RUN/upper" "$RUN/work" "$RUN/root"
mount -t overlay overlay -o "lowerdir=$CLEAN,upperdir=$RUN/upper,workdir=$RUN/work" "$RUN/root"
R="$RUN/root"
cleanup() {
  release_root "$R"
  mountpoint -q "$R" && umount -l "$R"
  remove_root "$RUN"
}
trap cleanup EXIT

step "dpkg -i $(basename "$DEB")"
cp "$DEB" "$R/tmp/"
in_root "$R" dpkg -i "/tmp/$(basename "$DEB")" > "$OUT/dpkg-install.txt" 2>&1 || { cat "$OUT/dpkg-install.txt"; exit 1; }
in_root "$R" useradd -m -s /bin/bash user
mkdir -p "$R/tmp/out" && chmod 777 "$R/tmp/out"
in_root "$R" /usr/sbin/runuser -u user -- env HOME=/home/user /usr/bin/mibao --data-dir /home/user/data demo >/dev/null

cat > "$R/tmp/type-chinese" <<'EOF'
#!/bin/bash
# type-chinese CASE : as the user, inside dbus-run-session
set -u
CASE=$1
OUT=/tmp/out/$CASE
mkdir -p "$OUT"
cd ~
Xvfb :8 -screen 0 1024x640x24 -nolisten tcp >"$OUT/xvfb.txt" 2>&1 &
xvfb=$!
export DISPLAY=:8
for i in $(seq 50); do xwininfo -root >/dev/null 2>&1 && break; sleep 0.1; done
export QT_IM_MODULE=fcitx XMODIFIERS=@im=fcitx LC_ALL=C.UTF-8
rm -rf ~/.config/fcitx ~/.config/fcitx5
if [ "$CASE" = fcitx4 ]; then
  mkdir -p ~/.config/fcitx
  printf '[Profile]\nIMName=pinyin\nEnabledIMList=fcitx-keyboard-us:True,pinyin:True\n' > ~/.config/fcitx/profile
  fcitx -D >"$OUT/im.txt" 2>&1 &
  remote=fcitx-remote
else
  mkdir -p ~/.config/fcitx5
  printf '[Groups/0]\nName=Default\nDefault Layout=us\nDefaultIM=pinyin\n\n[Groups/0/Items/0]\nName=keyboard-us\nLayout=\n\n[Groups/0/Items/1]\nName=pinyin\nLayout=\n\n[GroupOrder]\n0=Default\n' > ~/.config/fcitx5/profile
  fcitx5 >"$OUT/im.txt" 2>&1 &
  remote=fcitx5-remote
fi
im=$!
sleep 4
dbus-monitor --session >"$OUT/dbus.txt" 2>&1 &
monitor=$!
QT_DEBUG_PLUGINS=1 mibao --data-dir ~/data >/dev/null 2>&1 &
app=$!
for i in $(seq 100); do xwininfo -root -tree 2>/dev/null | grep -q "(\"mibao\"" && break; sleep 0.2; done
sleep 3
xdotool mousemove 520 274 click 1   # the 用户名 field of the login window (centred on 1024x640)
sleep 1
$remote -o
sleep 1
xdotool type --delay 150 nihao
sleep 1
xwd -root -silent -out "$OUT/typing.xwd"
xdotool key space
sleep 1
xwd -root -silent -out "$OUT/after.xwd"
cp ~/data/logs/mibao-start.log "$OUT/mibao-start.log"
kill $monitor $app
sleep 0.5
kill $im
sleep 0.3
kill $xvfb
EOF
chmod 755 "$R/tmp/type-chinese"

PLUGIN=/opt/mibao/_internal/PySide6/Qt/plugins/platforminputcontexts/libfcitx5platforminputcontextplugin.so
failed=0
for case in fcitx5 fcitx4 fcitx5-noplugin; do
  step "$case"
  [ "$case" = fcitx5-noplugin ] && mv "$R$PLUGIN" "$RUN/plugin.so"
  in_root "$R" /usr/sbin/runuser -u user -- env -i PATH=/usr/bin:/bin HOME=/home/user LANG=C.UTF-8 \
    /usr/bin/dbus-run-session -- /tmp/type-chinese "$case" >/dev/null 2>&1 || true
  [ "$case" = fcitx5-noplugin ] && mv "$RUN/plugin.so" "$R$PLUGIN"
  mkdir -p "$OUT/$case"
  for shot in typing after; do
    convert "xwd:$R/tmp/out/$case/$shot.xwd" "$OUT/$case/$shot.png" 2>/dev/null || true
  done
  cp "$R/tmp/out/$case/dbus.txt" "$R/tmp/out/$case/im.txt" "$R/tmp/out/$case/mibao-start.log" "$OUT/$case/" 2>/dev/null || true
  # the input method's commit to MiBao: CommitString (fcitx protocol) or CommitText (ibus)
  if grep -qa "member=CommitString\|member=CommitText" "$OUT/$case/dbus.txt" 2>/dev/null; then
    echo "$case: committed (see $OUT/$case/after.png)" | tee -a "$OUT/summary.txt"
  else
    echo "$case: NOTHING COMMITTED" | tee -a "$OUT/summary.txt"
    failed=1
  fi
done
[ -n "${SUDO_UID:-}" ] && chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$OUT"
exit "$failed"
