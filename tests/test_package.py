"""The built Linux package (issue 17 items 2 and 3): what it needs from the machine it runs on,
and what it carries. Runs on what ``scripts/package`` left in ``dist/``; skipped, with the
reason, when no package has been built.

The symbol-version scan: every ELF file in the package (the folder that becomes /opt/mibao)
is read with ``readelf -V``; a version it needs is satisfied inside the package when a file of
the package with that soname defines it, otherwise it must come from the host. From the host
it may need at most glibc 2.28 (UOS 20, Kylin V10: Debian 10's glibc), and from the host's
libstdc++ at most what Debian 10's GCC 8 defines (GLIBCXX_3.4.25, CXXABI_1.3.11), since
libstdc++ is deliberately left to the host (installer/README.md says why).

    MIBAO_DIST=DIR   scan another dist folder (default: this checkout's dist/)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("MIBAO_DIST", ROOT / "dist"))
APP = DIST / "mibao"  # the folder installed as /opt/mibao

# The newest version of each versioned host library the package may need.
HOST_LIMITS = {"GLIBC": (2, 28), "GLIBCXX": (3, 4, 25), "CXXABI": (1, 3, 11)}
# Left to the host on purpose; none of these may be inside the package.
HOST_ONLY = re.compile(
    r"^lib(stdc\+\+|gcc_s|GL|EGL|GLX|GLdispatch|OpenGL|drm|gbm|xcb|X11|fontconfig|freetype|dbus-1|systemd|cups"
    r"|avahi-[a-z-]+|gnutls)\.so(\.[0-9.]+)?$"
)
MAX_INSTALLED_MB = 150
MAX_DEB_MB = 70

pytestmark = pytest.mark.skipif(
    not (APP / "mibao").is_file(),
    reason=f"no package built in {DIST} (run scripts/package; the scan reads its dist/mibao/)",
)


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


@lru_cache(maxsize=None)
def elf_files() -> tuple[Path, ...]:
    return tuple(sorted(p for p in APP.rglob("*") if is_elf(p)))


def read_versions(path: Path) -> tuple[str | None, set[str], dict[str, set[str]]]:
    """(soname, versions defined, {library: versions needed from it})."""
    out = subprocess.run(["readelf", "-d", "-V", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    defined, needs, section, library = set(), {}, None, None
    for line in out.splitlines():
        if line.startswith("Version definition section"):
            section = "def"
        elif line.startswith("Version needs section"):
            section = "need"
        elif line.startswith("Version symbols section"):
            section = None
        elif section == "def":
            m = re.search(r"Name: (\S+)", line)
            if m and "BASE" not in line:
                defined.add(m.group(1))
        elif section == "need":
            m = re.search(r"File: (\S+)", line)
            if m:
                library = m.group(1)
                needs.setdefault(library, set())
                continue
            m = re.search(r"Name: (\S+)", line)
            if m and library:
                needs[library].add(m.group(1))
    return (soname.group(1) if soname else None), defined, needs


def parse(version_name: str) -> tuple[str, tuple[int, ...]] | None:
    m = re.fullmatch(r"([A-Z]+)_([0-9]+(?:\.[0-9]+)*)", version_name)
    if not m:
        return None
    return m.group(1), tuple(int(x) for x in m.group(2).split("."))


@lru_cache(maxsize=None)
def scan() -> tuple[list[str], dict[str, int]]:
    """(what the package needs from the host above the limits, newest version needed per family)."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    files = {path: read_versions(path) for path in elf_files()}
    inside: dict[str, set[str]] = {}
    for path, (soname, defined, _) in files.items():
        inside.setdefault(soname or path.name, set()).update(defined)
        inside.setdefault(path.name, set()).update(defined)
    problems, newest = [], {}
    for path, (_, _, needs) in files.items():
        for library, versions in needs.items():
            for name in versions:
                if name in inside.get(library, ()):
                    continue  # satisfied by a library inside the package
                parsed = parse(name)
                if parsed is None or parsed[0] not in HOST_LIMITS:
                    continue
                family, number = parsed
                if number > newest.get(family, ()):
                    newest[family] = number
                if number > HOST_LIMITS[family]:
                    problems.append(f"{path.relative_to(APP)} needs {name} from {library}")
    return sorted(problems), {k: ".".join(map(str, v)) for k, v in newest.items()}


def test_every_elf_file_needs_at_most_glibc_2_28_from_the_host():
    problems, newest = scan()
    print(f"{len(elf_files())} ELF files; newest needed from the host: {newest}")
    assert len(elf_files()) > 50  # the scan saw the package, not an empty folder
    assert not problems, "needs more than glibc 2.28 / GCC 8's libstdc++ from the host:\n" + "\n".join(problems)


def test_libraries_that_must_match_the_host_are_left_out():
    bundled = sorted(p.relative_to(APP).as_posix() for p in APP.rglob("*.so*") if HOST_ONLY.match(p.name))
    assert not bundled


def test_nothing_mibao_does_not_use():
    internal = APP / "_internal"
    for unused in ("numpy", "PIL", "pandas", "tkinter", "_tkinter"):
        assert not list(internal.glob(f"{unused}*")), unused
    names = {p.name for p in APP.rglob("*")}
    for library in ("libavahi-client.so.3", "libavahi-common.so.3", "libgnutls.so.30", "libssl.so.1.1",
                    "libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6WebEngineCore.so.6", "libQt6Multimedia.so.6"):
        assert library not in names, library
    translations = sorted(p.name for p in APP.rglob("*.qm"))
    assert translations and all(name.endswith("_zh_CN.qm") for name in translations), translations
    plugins = sorted(p.relative_to(APP).as_posix() for p in APP.rglob("plugins/*/*.so"))
    assert not [p for p in plugins if "/tls/" in p or "/networkinformation/" in p or "/platformthemes/" in p]


def folder_mb(folder: Path) -> float:
    return sum(p.lstat().st_size for p in folder.rglob("*")) / 2**20


def test_installed_size():
    size = folder_mb(APP)
    print(f"installed: {size:.1f} MB")
    assert size <= MAX_INSTALLED_MB


def test_deb_and_tarball_named_by_version_with_checksums():
    deb = DIST / f"mibao_{version()}_amd64.deb"
    tarball = DIST / f"mibao-{version()}-linux-x86_64.tar.gz"
    if not deb.exists():
        pytest.skip("only the folder was built (scripts/package --folder-only)")
    assert deb.stat().st_size <= MAX_DEB_MB * 2**20, f"{deb.stat().st_size / 2**20:.1f} MB"
    sums = (DIST / "SHA256SUMS").read_text(encoding="utf-8")
    assert deb.name in sums and tarball.name in sums
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert f"mibao-{version()}/mibao" in names
    assert any(name.endswith("安装说明.md") for name in names)


def test_built_app_prints_its_version():
    out = subprocess.run([str(APP / "mibao"), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"mibao {version()}"


FCITX_PLUGIN = "_internal/PySide6/Qt/plugins/platforminputcontexts/libfcitx5platforminputcontextplugin.so"


def test_fcitx_plugin_is_in_the_package():
    """fcitx5-qt's plugin, compiled for the package's Qt (installer/linux/build-fcitx.sh): the way
    fcitx 5 and fcitx 4, the input methods of UOS and Kylin, type Chinese into MiBao. The glibc
    scan above covers it like every other ELF file."""
    plugin = APP / FCITX_PLUGIN
    assert plugin.is_file()
    dynamic = subprocess.run(["readelf", "-d", "-W", str(plugin)], capture_output=True, text=True, check=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
    # the package's own Qt (found through RUNPATH $ORIGIN/../../lib) and xkbcommon; xcb is the host's
    assert {"libQt6Core.so.6", "libQt6Gui.so.6", "libQt6DBus.so.6", "libxkbcommon.so.0", "libxcb.so.1"} <= needed
    assert "$ORIGIN/../../lib" in dynamic
    for name in needed - {"libxcb.so.1", "libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"}:
        assert list(APP.rglob(name)), f"{name} is not in the package"


@pytest.mark.sqlite_only  # the built app on a data folder
def test_fcitx_plugin_loads_in_the_packaged_qt(db, data_dir):
    """The built app started under QT_IM_MODULE=fcitx, as fcitx's session sets it: Qt accepts the
    plugin (its metadata says Qt 6.8.2, the headers it was compiled with; Qt checks the minor
    version only) and loads it, with no error about versions or missing symbols, and chooses it
    over the ibus fallback (mibao_desktop/ui/input_method.py). No fcitx runs here: the plugin
    waits for one on the session bus. Typing through a real fcitx is not tried here
    (installer/README.md, "Input methods")."""
    from mibao_desktop.cli import DEMO_ACCOUNTS, demo_password
    from mibao_desktop.security import Role
    from mibao_desktop.services.context import Services

    Services(db).accounts.setup({role: (DEMO_ACCOUNTS[role.name][0], role.value, demo_password()) for role in Role})
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QT_", "XMODIFIERS", "MIBAO_"))}
    env.update(QT_IM_MODULE="fcitx", QT_QPA_PLATFORM="offscreen", QT_DEBUG_PLUGINS="1", MIBAO_EXIT_AT_LOGIN="1")
    done = subprocess.run([str(APP / "mibao"), "--data-dir", str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "MIBAO_LOGIN_SHOWN" in done.stdout, done.stderr[-3000:]
    fcitx_lines = [line for line in done.stderr.splitlines() if "fcitx5platforminputcontextplugin" in line]
    assert any("loaded library" in line and "unloaded" not in line for line in fcitx_lines), done.stderr[-3000:]
    problems = [line for line in done.stderr.splitlines()
                if re.search(r"incompatible Qt|Cannot load library|undefined symbol|version `", line)]
    assert not problems, problems
    loaded = [line.split("platforminputcontexts/")[1].split('"')[0] for line in done.stderr.splitlines()
              if "platforminputcontexts/" in line and "loaded library" in line and "unloaded" not in line]
    assert loaded == ["libfcitx5platforminputcontextplugin.so"]
