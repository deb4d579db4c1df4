"""Files at rest (issue 11, items 3 and 4): no export over the database or into the backups,
every file MiBao writes readable by its owner alone, temporary files inside the data folder and
cleared after a kill, whole-or-nothing outputs with a plain message on a full disk, and a
removable-media write that no planted symlink can redirect."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import tempfile

import openpyxl
import pytest

from mibao_desktop import files, paths, removable_drives
from mibao_desktop.cli import main
from mibao_desktop.db.database import Database
from mibao_desktop.errors import ServiceError
from mibao_desktop.excel import export_ledger
from mibao_desktop.excel.audit_export import export_audit
from mibao_desktop.printing import labels as L
from mibao_desktop.security import Actor, Role
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer

pytestmark = [pytest.mark.sqlite_only,  # the SQLite file and the data folder's files
              pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX modes and symlinks")]

BAOMI = Actor("baomi", Role.SECURITY_ADMIN)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def shared_umask():
    """The usual desktop umask (022), under which SQLite made 0644 files in a 0755 folder."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_an_export_is_never_written_over_the_database_or_into_the_backups(db, service, data_dir, tmp_path):
    service.create("computers", computer())
    before = db.path.read_bytes()
    ledger = service.ledger("computers")
    for target in (db.path, db.path.with_name("mibao.sqlite-wal"), paths.backup_dir(data_dir) / "x.xlsx"):
        with pytest.raises(ServiceError, match="数据库文件|备份文件夹"):
            export_ledger(service, ledger, target)
    link = tmp_path / "看似无害.xlsx"
    link.symlink_to(db.path)  # through a link to it too
    with pytest.raises(ServiceError, match="数据库文件"):
        export_ledger(service, ledger, link)
    auditor = Services(db, Actor("shenji", Role.AUDITOR)).audit
    with pytest.raises(ServiceError, match="数据库文件"):
        export_audit(auditor, db.path)  # what the review's auditor did
    printing = Services(db, BAOMI).printing
    with pytest.raises(ServiceError, match="备份文件夹"):
        printing.labels(ledger, service.query(ledger, LedgerQuery()).rows, paths.backup_dir(data_dir) / "l.pdf",
                        L.PRESETS["a4-3x8"])
    assert db.path.read_bytes() == before or service.count("computers") == 1


def test_the_command_line_refuses_to_export_the_audit_log_onto_the_database(tmp_path, capsys, monkeypatch):
    from tests.test_cli import accounts_only, as_user

    passwords = accounts_only(tmp_path)
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "export",
                   str(tmp_path / "mibao.sqlite")) == 2
    assert "数据库文件" in capsys.readouterr().err
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0


def test_every_file_of_the_data_folder_is_the_owners_alone(tmp_path, capsys, monkeypatch, shared_umask):
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "demo", "--scale", "0.02"]) == 0
    import re

    passwords = dict(re.findall(r"用户名 (\w+)  口令 (\S+)", capsys.readouterr().out))
    monkeypatch.setenv("MIBAO_PASSWORD", passwords["baomi"])
    assert main(["--user", "baomi", "--data-dir", str(data), "backup"]) == 0
    assert mode(data) == 0o700 and mode(data / "backups") == 0o700
    written = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "mibao.sqlite" for p in written) and any(p.name == "register.jsonl" for p in written)
    assert {str(p.relative_to(data)): oct(mode(p)) for p in written if mode(p) != 0o600} == {}
    assert os.umask(0o022) == 0o022  # put back after the command (tests run it in-process)


def test_files_an_older_version_left_readable_are_closed_at_start(tmp_path, shared_umask):
    data = tmp_path / "data"
    Database.open(paths.database_path(data)).close()
    os.chmod(data, 0o755)
    os.chmod(paths.database_path(data), 0o644)
    assert main(["--data-dir", str(data), "check"]) == 0
    assert mode(data) == 0o700 and mode(paths.database_path(data)) == 0o600


def test_an_exports_temporary_files_stay_in_the_data_folder_and_a_killed_runs_are_cleared(tmp_path, capsys,
                                                                                          monkeypatch):
    from openpyxl.worksheet import _writer
    from tests.test_cli import accounts_only, as_user

    data = tmp_path / "data"
    data.mkdir()
    passwords = accounts_only(data)
    dead = 2 ** 22 + 12345  # beyond pid_max on most systems: a process that is gone
    (data / "tmp" / str(dead)).mkdir(parents=True)
    (data / "tmp" / str(dead) / "openpyxl.abc.xml").write_text("<row>JM-0001</row>")
    (data / "backups").mkdir()
    half = data / "backups" / f".mibao-backup-{dead}-x1y2.part"
    half.write_bytes(b"x" * 1000)
    live = data / "backups" / f".mibao-backup-{os.getpid()}-live.part"  # a backup still being written here
    live.write_bytes(b"x")
    older = data / "backups" / ".mibao-backup-k3j2x9.part"  # named as versions before this one did
    older.write_bytes(b"x" * 1000)
    os.utime(older, (older.stat().st_atime - 7200, older.stat().st_mtime - 7200))
    made = []
    real = _writer.create_temporary_file

    def recording(suffix=""):
        made.append(real(suffix))
        return made[-1]

    monkeypatch.setattr(_writer, "create_temporary_file", recording)
    out = tmp_path / "out.xlsx"
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(data), "export", "computers", str(out)) == 0
    assert made and all(str(p).startswith(str(data / "tmp")) for p in made), made  # before: /tmp
    assert not (data / "tmp" / str(dead)).exists() and not half.exists() and not older.exists() and live.exists()
    assert not (data / "tmp" / str(os.getpid())).exists()  # this run's own folder went at its end
    assert tempfile.gettempdir() != str(data / "tmp" / str(os.getpid()))


def test_a_full_disk_during_an_export_is_told_plainly_and_leaves_nothing(db, service, tmp_path):
    import resource
    import signal

    from mibao_desktop.demo import computer_rows
    from openpyxl.worksheet import _writer

    service.create_many("computers", list(computer_rows(400)))
    target = tmp_path / "out"
    target.mkdir()
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, old_limit[1]))
    try:
        with pytest.raises(ServiceError, match="磁盘空间不足") as failed:
            export_ledger(service, service.ledger("computers"), target / "台账.xlsx")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "zipfile" not in str(failed.value) and "Errno" not in str(failed.value)
    assert list(target.iterdir()) == []
    assert [p for p in _writer.ALL_TEMP_FILES if os.path.exists(p)] == []


def test_a_label_run_that_fails_while_saving_leaves_the_old_file_whole(db, service, tmp_path, monkeypatch):
    from reportlab.pdfbase import pdfdoc

    service.create("computers", computer())
    records = service.query(service.ledger("computers"), LedgerQuery()).rows
    printing = Services(db, BAOMI).printing
    out = tmp_path / "labels.pdf"
    printing.labels(records[0].ledger, records, out, L.PRESETS["a4-3x8"])
    good = out.read_bytes()

    def full_disk(self, filename, canvas=None):
        with open(filename, "wb") as handle:
            handle.write(b"%PDF-1.4\n% cut short")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pdfdoc.PDFDocument, "SaveToFile", full_disk)
    with pytest.raises(ServiceError, match="磁盘空间不足"):
        printing.labels(records[0].ledger, records, out, L.PRESETS["a4-3x8"])
    with pytest.raises(ServiceError, match="磁盘空间不足"):
        printing.form("maintenance", records[0].ledger, records[:1], tmp_path / "form.pdf")
    assert out.read_bytes() == good  # before: a broken labels.pdf under its final name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["labels.pdf"]


def test_a_symlink_planted_at_the_temporary_name_on_the_medium_is_not_followed(tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("别人的文件")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("另一个文件")
    report = tmp_path / "report.xlsx"
    report.write_bytes(b"PK report bytes" * 100)
    (stick / ".台账.xlsx.part").symlink_to(victim)  # the name the old code always used
    (stick / ".台账.xlsx.sha256.part").symlink_to(elsewhere)
    (stick / "台账.xlsx").symlink_to(elsewhere)  # and the final name
    written = removable_drives.copy_to_medium(report, stick, "台账.xlsx")
    assert victim.read_text() == "别人的文件" and elsewhere.read_text() == "另一个文件"
    assert not written.path.is_symlink() and written.path.read_bytes() == report.read_bytes()
    assert not written.manifest.is_symlink() and mode(written.path) == 0o600
    assert sorted(p.name for p in stick.iterdir() if not p.is_symlink()) == ["台账.xlsx", "台账.xlsx.sha256"]


def test_atomic_path_removes_its_temporary_file_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic_path(tmp_path / "x.pdf") as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_a_second_import_while_the_first_still_writes_is_told_why(db_target, monkeypatch):
    """Two imports of the same file at once: the one that waits past the busy timeout gets a
    plain sentence (before: sqlite3.OperationalError 'database is locked', a traceback)."""
    from mibao_desktop.db import database
    from mibao_desktop.demo import computer_rows
    from mibao_desktop.services.ledger_service import LedgerService

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)
    db = Database.open(db_target)
    holder = sqlite3.connect(db_target, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the first import, still writing
        with pytest.raises(ServiceError, match="正被另一项操作") as told:
            LedgerService(db, BAOMI).create_many("computers", list(computer_rows(20)))
        assert isinstance(told.value, database.Busy)
        holder.execute("ROLLBACK")
        assert len(LedgerService(db, BAOMI).create_many("computers", list(computer_rows(20))).created) == 20
    finally:
        holder.close()
        db.close()


def test_no_output_replaces_any_database_file_or_lands_in_a_backup_folder(db, service, tmp_path):
    """Also a database the services do not know (another data folder's) and the refused-rows
    file of an import, which are written through the same atomic save."""
    other = Database.open(tmp_path / "other" / "mibao.sqlite")
    other.close()
    before = (tmp_path / "other" / "mibao.sqlite").read_bytes()
    with pytest.raises(ServiceError, match="是数据库文件"):
        with files.atomic_path(tmp_path / "other" / "mibao.sqlite") as temp:
            temp.write_bytes(b"PK")
    assert (tmp_path / "other" / "mibao.sqlite").read_bytes() == before
    service.create("computers", computer())
    made = Services(db, BAOMI, db.path.parent).backups.make(db)
    with pytest.raises(ServiceError, match="备份文件夹"):
        export_ledger(service, service.ledger("computers"), tmp_path / "x.xlsx")  # fine
        export_ledger(service, service.ledger("computers"), made.path.with_name("y.xlsx"))
    assert sorted(p.name for p in made.path.parent.iterdir()) == [made.path.name, "register.jsonl"]
