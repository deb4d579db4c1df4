"""A newcomer's first start (issue 12 item 11): ``scripts/setup`` installs every system library
the bundled Qt loads, so that ``scripts/start`` on a fresh Debian with an X display shows the
window instead of "Could not load the Qt platform plugin xcb"; and the licence is an SPDX
string, so that installing prints no setuptools deprecation warning."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# glibc's own libraries are on every system that runs Python
GLIBC = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2",
         "ld-linux-x86-64.so.2"}


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\).*\[(.*)\]", out)


def host_libraries() -> set[str]:
    """What the xcb platform plugin and the Qt modules MiBao imports load from the system:
    their NEEDED entries followed through the libraries PySide6 bundles."""
    import PySide6
    import shiboken6

    pyside = Path(PySide6.__file__).parent
    bundled = {p.name: p for folder in (pyside / "Qt" / "lib", pyside, Path(shiboken6.__file__).parent)
               for p in folder.iterdir() if ".so" in p.name}
    todo = [pyside / "Qt" / "plugins" / "platforms" / "libqxcb.so"]
    todo += [pyside / f"{module}.abi3.so" for module in ("QtCore", "QtGui", "QtWidgets", "QtPdf", "QtPrintSupport")]
    seen: set[Path] = set()
    host: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in needed(path):
            if name in bundled:
                todo.append(bundled[name])
            elif name not in GLIBC:
                host.add(name)
    return host


def setup_libraries() -> dict[str, str]:
    text = (ROOT / "scripts" / "setup").read_text()
    block = re.search(r'QT_LIBRARIES="\n(.*?)\n"', text, re.S)
    assert block, "scripts/setup lists no QT_LIBRARIES"
    return dict(line.split() for line in block.group(1).splitlines() if line.strip())


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf (binutils) is not installed")
def test_setup_installs_every_library_the_xcb_platform_and_qt_load():
    host = host_libraries()
    assert {"libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-icccm.so.4"} <= host  # the plugin's own
    listed = setup_libraries()
    assert sorted(host - set(listed)) == []


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian system")
def test_each_library_listed_is_in_the_package_named_for_it():
    """The table's package names are right: each installed library belongs to (one of) them."""
    for library, packages in setup_libraries().items():
        found = subprocess.run(["dpkg-query", "-S", f"*/{library}"], capture_output=True, text=True).stdout
        owners = {line.split(":")[0] for line in found.splitlines() if line.rstrip().endswith("/" + library)}
        if owners:  # installed here: its package is one named in the table
            assert owners & set(packages.split("|")), (library, owners, packages)


def test_the_licence_is_an_spdx_string():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    licence = project["license"]
    assert isinstance(licence, str)  # a {text = …} table is deprecated (PEP 639)
    assert re.fullmatch(r"LicenseRef-[A-Za-z0-9.-]+|[A-Za-z0-9.+-]+", licence)
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))  # deprecated too
