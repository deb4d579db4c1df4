"""Backups: made while the database is open, rotated, checked, restored; corruption detected."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3

import pytest

from mibao_desktop import backup, paths
from mibao_desktop.backup import BackupError, Rotation
from mibao_desktop.db.database import Database
from mibao_desktop.demo import computer_rows
from mibao_desktop.security import Actor
from mibao_desktop.services.ledger_service import LedgerService
from mibao_desktop.startup import CorruptDatabase, open_database
from tests.conftest import computer


def second():
    return computer(asset_number="JM-0002", serial_number="S2", disk_serials="D2", mac_addresses="00-00-00-00-00-02")


def test_backup_round_trip_keeps_the_current_file_aside(db, service, tmp_path):
    service.create("computers", computer())
    made = backup.make_backup(db.path, tmp_path / "b")  # while open, in WAL mode
    assert made.kind == "manual" and made.path.name.startswith("mibao-manual-")
    service.create("computers", second())
    db.close()
    aside = backup.restore(db.path, made.path, tmp_path / "b")
    restored = LedgerService(Database.open(db.path), Actor.local_security_admin())
    assert restored.count("computers") == 1
    kept = LedgerService(Database.open(aside.path, migrate=False), Actor.local_security_admin())
    assert kept.count("computers") == 2 and aside.kind == "before-restore"


def test_a_backup_taken_during_writes_is_consistent(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(200)))
    made = backup.make_backup(db.path, tmp_path / "b")
    service.create("computers", computer())
    assert backup.integrity_problem(made.path) is None
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (200,)


def _corrupt(path, offset=8192):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(os.urandom(4096))


def test_integrity_problems_are_found(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(300)))
    db.close()
    assert backup.integrity_problem(db.path) is None
    _corrupt(db.path)
    assert backup.integrity_problem(db.path)
    text = tmp_path / "note.txt"
    text.write_text("不是数据库" * 200, encoding="utf-8")
    assert "不是可读的数据库" in backup.integrity_problem(text)
    assert backup.integrity_problem(tmp_path / "missing.sqlite") == "文件不存在"


def test_restore_refuses_a_bad_backup_and_changes_nothing(db, service, tmp_path):
    service.create("computers", computer())
    good = backup.make_backup(db.path, tmp_path / "b")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(good.path.read_bytes())
    _corrupt(bad, 4096)
    stranger = tmp_path / "other.sqlite"
    with sqlite3.connect(stranger) as conn:
        conn.execute("CREATE TABLE t (x)")
    db.close()
    before = db.path.read_bytes()
    for wrong, message in ((bad, "不能用于恢复"), (stranger, "不是密保的数据库备份")):
        with pytest.raises(BackupError, match=message):
            backup.restore(db.path, wrong, tmp_path / "b")
        assert db.path.read_bytes() == before
    assert [b.kind for b in backup.list_backups(tmp_path / "b")] == ["manual"]


def _daily_files(folder, start: dt.datetime, days: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(days):
        when = start + dt.timedelta(days=i)
        (folder / f"mibao-daily-{when:%Y%m%d-%H%M%S}.sqlite").write_bytes(b"x")
    (folder / "mibao-manual-20250101-080000.sqlite").write_bytes(b"x")


def test_rotation_keeps_seven_days_four_weeks_twelve_months(tmp_path):
    start = dt.datetime(2026, 1, 1, 8, 0)
    _daily_files(tmp_path, start, 120)
    now = start + dt.timedelta(days=119)
    backup.rotate(tmp_path, Rotation(7, 4, 12), now=now)
    days = [start.date() + dt.timedelta(days=i) for i in range(120)]
    newest = sorted(days, reverse=True)
    weeks, months = [], []
    keep = set(newest[:7])
    for d in newest:
        if d.isocalendar()[:2] not in weeks and len(weeks) < 4:
            weeks.append(d.isocalendar()[:2])
            keep.add(d)
        if (d.year, d.month) not in months and len(months) < 12:
            months.append((d.year, d.month))
            keep.add(d)
    left = {b.made_at.date() for b in backup.list_backups(tmp_path) if b.kind == "daily"}
    assert left == keep
    assert (tmp_path / "mibao-manual-20250101-080000.sqlite").exists()


def test_the_daily_backup_is_made_once_a_day(db, service, tmp_path):
    service.create("computers", computer())
    morning = dt.datetime(2026, 11, 23, 8, 0)
    first = backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning)
    assert first and first.kind == "daily"
    assert backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning.replace(hour=15)) is None
    assert backup.daily_backup_if_due(db.path, tmp_path / "b", now=morning + dt.timedelta(days=1))


def test_a_failed_backup_leaves_no_finished_looking_file(db, service, tmp_path, monkeypatch):
    service.create("computers", computer())

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup.os, "replace", disk_full)
    with pytest.raises(BackupError, match="磁盘空间"):
        backup.make_backup(db.path, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
    blocked = tmp_path / "afile"
    blocked.write_text("x")
    monkeypatch.undo()
    with pytest.raises(BackupError):
        backup.make_backup(db.path, blocked)


def test_newest_good_backup_skips_a_damaged_one(db, service, tmp_path):
    service.create_many("computers", list(computer_rows(300)))
    old = backup.make_backup(db.path, tmp_path / "b", now=dt.datetime(2026, 11, 1))
    new = backup.make_backup(db.path, tmp_path / "b", now=dt.datetime(2026, 11, 2))
    _corrupt(new.path)
    assert backup.newest_good_backup(tmp_path / "b").path == old.path


def test_start_detects_a_corrupt_database_and_names_the_good_backup(data_dir):
    db = open_database(data_dir)  # makes the day's backup
    LedgerService(db, Actor.local_security_admin()).create_many("computers", list(computer_rows(300)))
    db.close()
    good = backup.make_backup(paths.database_path(data_dir), paths.backup_dir(data_dir), "manual")
    _corrupt(paths.database_path(data_dir))
    with pytest.raises(CorruptDatabase) as failed:
        open_database(data_dir)
    assert "已损坏" in str(failed.value) and good.path.name in str(failed.value)
