"""Installing never touches the data (issue 17 item 4), from the command line and the core:

- the data folder is never inside the program's folder (a built app's own folder, its bundle,
  or the installed package);
- a newer version started on an older database copies it aside, then migrates it;
- an older version started on a newer database refuses in plain Chinese and changes nothing;
- the version shown is pyproject's.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import mibao_desktop
from mibao_desktop import paths
from mibao_desktop.cli import main
from mibao_desktop.db.database import Database, NewerDatabase, head_revision, known_revisions
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.storage import backup
from tests.conftest import computer

pytestmark = pytest.mark.sqlite_only  # data folders and SQLite files

ROOT = Path(__file__).resolve().parent.parent
REV5_FILE = Path(__file__).parent / "data" / "mibao-rev0005.sqlite"
NEWER = "数据库版本比程序新,请安装新版本"
FUTURE = "0999"  # a revision no released MiBao has yet


def pyproject_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- the version ------------------------------------------------------------------------------


def test_the_version_shown_is_pyprojects(capsys):
    assert mibao_desktop.__version__ == pyproject_version()
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"mibao {pyproject_version()}"


def test_the_installed_command_prints_the_version():
    out = subprocess.run([sys.executable, "-m", "mibao_desktop", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"mibao {pyproject_version()}"


# -- the data folder is never inside the install folder ----------------------------------------


@pytest.fixture
def built_app(tmp_path, monkeypatch):
    """The process looks like a PyInstaller build installed in ``tmp_path/opt/mibao``."""
    app = tmp_path / "opt" / "mibao"
    (app / "_internal").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app / "mibao"))
    monkeypatch.setattr(sys, "_MEIPASS", str(app / "_internal"), raising=False)
    monkeypatch.delenv("MIBAO_DATA_DIR", raising=False)
    return app


def test_a_data_folder_inside_the_built_apps_folder_is_refused_before_anything_is_written(built_app, tmp_path,
                                                                                         monkeypatch):
    for inside in (built_app, built_app / "data", built_app / "_internal" / "x" / "y"):
        with pytest.raises(paths.DataFolderError, match="安装文件夹") as refused:
            paths.data_dir(inside)
        assert str(built_app) in str(refused.value) and "卸载" in str(refused.value)
        assert not (built_app / "data").exists() and not (built_app / "_internal" / "x").exists()
    monkeypatch.setenv("MIBAO_DATA_DIR", str(built_app / "数据"))  # a "portable" layout
    with pytest.raises(paths.DataFolderError):
        paths.data_dir()
    (tmp_path / "link").symlink_to(built_app)  # a link into it is seen through
    with pytest.raises(paths.DataFolderError):
        paths.data_dir(tmp_path / "link" / "data")
    # beside it, or anywhere else, is fine
    assert paths.data_dir(tmp_path / "opt" / "mibao-data") == (tmp_path / "opt" / "mibao-data").resolve()
    monkeypatch.delenv("MIBAO_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    assert paths.data_dir() == (tmp_path / "home" / ".local" / "share" / "MiBao").resolve()


def test_the_source_package_folder_is_refused_too(tmp_path):
    package = Path(mibao_desktop.__file__).resolve().parent
    with pytest.raises(paths.DataFolderError):
        paths.data_dir(package / "data")
    assert not (package / "data").exists()


def test_the_command_line_refuses_it_plainly(built_app, capsys):
    assert main(["--data-dir", str(built_app / "data"), "demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误:数据文件夹") and "Traceback" not in err
    assert not (built_app / "data").exists()


# -- a newer version over an older database -----------------------------------------------------


def test_an_upgrade_copies_the_old_file_aside_before_migrating_and_keeps_every_record(tmp_path, capsys):
    """What the first start of a newer installed version does (the same code as a source
    install): the revision-0005 file is backed up as it was, then migrated to head."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(REV5_FILE, data / "mibao.sqlite")
    with sqlite3.connect(REV5_FILE) as old:
        numbers = dict(old.execute("SELECT id, asset_number FROM records").fetchall())
    old.close()
    records = len(numbers)
    assert main(["--data-dir", str(data), "check"]) == 0
    assert "数据库完好" in capsys.readouterr().out
    saved = [b for b in backup.list_backups(data / "backups") if b.kind == "before-upgrade"]
    assert len(saved) == 1
    with sqlite3.connect(saved[0].path) as copy:  # the copy is the old file, before any step ran
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)
        assert copy.execute("SELECT count(*) FROM records").fetchone()[0] == records
    db = Database.open(data / "mibao.sqlite")
    try:
        assert db.current_revision() == head_revision()
        service = LedgerService(db, Actor.local_security_admin())
        assert {rid: service.get(rid).number for rid in numbers} == numbers  # every record, by id and number
    finally:
        db.close()
    assert main(["--data-dir", str(data), "check"]) == 0  # the next start: nothing to copy again
    assert len([b for b in backup.list_backups(data / "backups") if b.kind == "before-upgrade"]) == 1


def test_each_revision_file_is_named_by_its_revision_id():
    """The head and the known revisions are read from the file names (Alembic is imported only
    to migrate): a file named otherwise would make a known database look newer."""
    versions = Path(mibao_desktop.__file__).parent / "db" / "migrations" / "versions"
    for path in versions.glob("*.py"):
        declared = re.search(r'^revision = "([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        assert declared and path.name.startswith(f"{declared[1]}_"), path.name
    assert head_revision() == max(known_revisions()) and FUTURE not in known_revisions()


# -- an older version on a newer database -------------------------------------------------------


def newer_data_folder(data: Path) -> Path:
    """A data folder as a newer MiBao left it: records, an audit chain, a fortnight of daily
    backups (which a rotation would thin), and a schema revision this program does not know."""
    import datetime as dt

    from mibao_desktop.storage.startup import open_database

    day = dt.datetime(2026, 11, 1, 9, 0)
    db = open_database(data, clock=lambda: day)
    LedgerService(db, Actor.local_security_admin()).create("computers", computer())
    db.close()
    for n in range(1, 15):
        backup.make_backup(data / "mibao.sqlite", data / "backups", "daily", now=day - dt.timedelta(days=n))
    with sqlite3.connect(data / "mibao.sqlite") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (FUTURE,))
    conn.close()
    return data / "mibao.sqlite"


def snapshot(data: Path) -> dict[str, str]:
    """Every file of the data folder with its hash; the empty side files a read-only SQLite
    connection leaves (-wal of 0 bytes, -shm) aside."""
    found = {}
    for path in sorted(data.rglob("*")):
        if path.is_file():
            if path.name.endswith("-shm") or (path.name.endswith("-wal") and path.stat().st_size == 0):
                continue
            found[str(path.relative_to(data))] = sha256(path)
    return found


def test_an_older_program_refuses_a_newer_database_and_changes_nothing(tmp_path):
    data = tmp_path / "data"
    path = newer_data_folder(data)
    before = snapshot(data)
    assert len([n for n in before if n.startswith("backups/mibao-")]) == 15  # a rotation would keep 7 + …
    with pytest.raises(NewerDatabase, match=NEWER) as refused:
        Database.open(path)
    assert FUTURE in str(refused.value) and "数据未作任何改动" in str(refused.value)
    from mibao_desktop.storage.startup import open_database

    with pytest.raises(NewerDatabase, match=NEWER):
        open_database(data)  # the start: no migration, no backup, no rotation, no audit entry
    assert snapshot(data) == before
    with sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # as the newer MiBao left it


def test_a_newer_database_in_the_old_journal_mode_is_not_switched_to_wal(tmp_path):
    """The first connection of an engine sets WAL, which rewrites the file's header: the
    version is read before any engine exists."""
    path = tmp_path / "mibao.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (FUTURE,))
    conn.close()
    before = sha256(path)
    with pytest.raises(NewerDatabase):
        Database.open(path)
    assert sha256(path) == before and not Path(f"{path}-wal").exists()


def test_the_command_line_on_a_newer_database_exits_2_with_the_sentence_and_no_traceback(tmp_path):
    data = tmp_path / "data"
    path = newer_data_folder(data)
    before = snapshot(data)
    for command in (["check"], ["--user", "baomi", "export", "computers", str(tmp_path / "out.xlsx")], ["demo"]):
        out = subprocess.run([sys.executable, "-m", "mibao_desktop", "--data-dir", str(data), *command],
                             capture_output=True, text=True, timeout=120, env={**_env(), "MIBAO_PASSWORD": "x"})
        assert out.returncode == 2, (command, out.stderr)
        assert out.stderr.startswith(f"错误:{NEWER}") and "Traceback" not in out.stderr
        assert out.stdout == ""
    assert snapshot(data) == before and not (tmp_path / "out.xlsx").exists()
    assert not (data / "logs").exists()  # an expected refusal, not an unexpected failure
    assert sha256(path) == before["mibao.sqlite"]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "MIBAO_DATA_DIR"}


def test_a_backup_from_a_newer_version_is_not_restored_over_the_database(tmp_path):
    data = tmp_path / "data"
    newer = newer_data_folder(data)
    shutil.move(newer, tmp_path / "newer.sqlite")
    db = Database.open(data / "mibao.sqlite")
    db.close()
    before = sha256(data / "mibao.sqlite")
    with pytest.raises(backup.BackupError, match="更新版本的密保"):
        backup.restore(data / "mibao.sqlite", tmp_path / "newer.sqlite", data / "backups")
    assert sha256(data / "mibao.sqlite") == before
