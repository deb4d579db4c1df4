#!/bin/sh
# Runs INSIDE the Debian 11 build root (scripts/package chroots into it): installs the pinned
# wheels (downloaded on the host, /build/wheels) into a virtual environment of the Python
# compiled by build-python.sh, then runs PyInstaller on the checkout copied to /build/app.
#   build-app.sh KEY    KEY names the Python build and the wheels; the environment is made
#                       again only when it changes.
# Output: /build/out/mibao/ (the folder that becomes /opt/mibao).
set -eu
KEY=$1
VENV=/opt/appenv
if [ "$(cat "$VENV/.key" 2>/dev/null)" != "$KEY" ]; then
  echo "== environment $KEY"
  rm -rf "$VENV"
  /opt/python/bin/python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q --no-index --find-links /build/wheels -r /build/requirements.txt
  echo "$KEY" > "$VENV/.key"
fi
# fcitx5-qt's input-method plugin (build-fcitx.sh) beside the wheel's own ibus and compose
# plugins, where PyInstaller's Qt hook collects them; put back at every build, as the
# environment outlives a change of it
cp /build/plugins/libfcitx5platforminputcontextplugin.so \
  "$VENV/lib/python3.11/site-packages/PySide6/Qt/plugins/platforminputcontexts/"
rm -rf /tmp/pyi-work /build/out/mibao
cd /build/app
# PyInstaller keeps its stripped copies of the libraries in ~/.cache/pyinstaller between runs.
"$VENV/bin/pyinstaller" --noconfirm --log-level ERROR --distpath /build/out --workpath /tmp/pyi-work \
  installer/mibao.spec 2>&1 | grep -v "^qt.tlsbackend" || true
test -x /build/out/mibao/mibao
