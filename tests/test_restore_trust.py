"""Restore behind a login, only from trusted files, and what it drops shown in the audit log
(issue 11, items 2 and 3): a backup with a trigger, a restore without the security
administrator's login, an unregistered file, and the entries a restore to an older state
lacks, counted and copied into the new chain."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3

import pytest
import sqlalchemy

from mibao_desktop import paths
from mibao_desktop.cli import main
from mibao_desktop.db.database import Database
from mibao_desktop.errors import PermissionDenied, ServiceError
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import audit
from mibao_desktop.services.accounts import AccountService
from mibao_desktop.services.audit_service import AuditFilter
from mibao_desktop.services.context import Services
from mibao_desktop.storage import backup
from mibao_desktop.storage.backup import BackupError
from tests.conftest import computer

pytestmark = pytest.mark.sqlite_only  # restore replaces the SQLite file; on PostgreSQL it is the server's job

BAOMI, SHENJI = Actor("baomi", Role.SECURITY_ADMIN), Actor("shenji", Role.AUDITOR)
PASSWORDS = {"xitong": "Sys-Admin-2026", "baomi": "Sec-Admin-2026", "shenji": "Aud-Itor-2026"}


def one(n: int) -> dict:
    return computer(asset_number=f"JM-{n:04d}", serial_number=f"S{n}", disk_serials=f"D{n}",
                    mac_addresses=f"00-00-00-00-{n // 100:02d}-{n % 100:02d}")


@pytest.fixture
def folder(tmp_path, new_sqlite):
    """A data folder with the three accounts, two records and a registered backup of it."""
    data = tmp_path / "data"
    db = Database.open(new_sqlite(paths.database_path(data)))
    roles = dict(zip(PASSWORDS, (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR)))
    AccountService(db).setup({roles[n]: (n, n, p) for n, p in PASSWORDS.items()})
    services = Services(db, BAOMI, data)
    services.ledgers.create("computers", one(1))
    services.ledgers.create("computers", one(2))
    db.close()
    return data


def open_services(data, actor=BAOMI) -> Services:
    return Services(Database.open(paths.database_path(data)), actor, data)


def make_backup(data) -> backup.BackupInfo:
    services = open_services(data)
    try:
        return services.backups.make(services.db)
    finally:
        services.db.close()


def test_a_restore_counts_and_keeps_the_entries_the_backup_lacks(folder, tmp_path):
    made = make_backup(folder)
    assert made.anchor == backup.audit_head(made.path) and made.sha256 == backup.sha256_of(made.path)
    services = open_services(folder)
    for n in range(3, 6):
        services.ledgers.create("computers", one(n))
    from mibao_desktop.excel import export_ledger

    export_ledger(services.ledgers, services.ledgers.ledger("computers"), tmp_path / "later.xlsx")
    later = audit.current_anchor(services.db)  # on a copy made after the backup
    head_before = str(later)
    with services.db.session() as s:
        lacking = s.scalar(__import__("sqlalchemy").text("SELECT count(*) FROM audit_log WHERE id > :n"),
                           {"n": int(made.anchor.split(":")[0])})
    services.db.close()
    restored = Services(None, BAOMI, folder).backups.restore(made.path)
    assert restored.dropped == lacking > 0 and restored.previous_head == head_before
    after = open_services(folder, SHENJI)
    try:
        carried = after.audit.entries(AuditFilter(action=audit.CARRIED), limit=None)
        assert len(carried) == lacking
        assert {e.detail["action"] for e in carried} >= {"record.create", "ledger.export"}
        entry = after.audit.entries(AuditFilter(action="backup.restore"))[0]
        assert entry.detail["dropped"] == lacking and entry.detail["previous_head"] == head_before
        # the anchor on the copy made after the backup: its entry is gone from the chain, and
        # the check says where the restore put it
        result = after.audit.verify([str(later)])
        assert result.ok and "恢复备份时被撤下" in result.anchors[0]
    finally:
        after.db.close()


def test_an_unrecorded_rollback_is_caught_by_a_later_anchor(folder):
    """A restore done past MiBao (the old file copied back) leaves a consistent older chain:
    the anchor of a later copy shows it."""
    made = make_backup(folder)
    services = open_services(folder)
    services.ledgers.create("computers", one(7))
    later = audit.current_anchor(services.db)
    services.db.close()
    shutil.copyfile(made.path, paths.database_path(folder))
    for suffix in ("-wal", "-shm"):
        paths.database_path(folder).with_name(f"mibao.sqlite{suffix}").unlink(missing_ok=True)
    after = open_services(folder, SHENJI)
    try:
        assert after.audit.verify().ok
        result = after.audit.verify([str(later)])
        assert not result.ok and f"凭证 {later} 不符" in result.message
    finally:
        after.db.close()


def test_a_backup_holding_a_trigger_is_refused(folder):
    made = make_backup(folder)
    rigged = made.path.with_name("mibao-manual-20990101-000000.sqlite")
    shutil.copyfile(made.path, rigged)
    with sqlite3.connect(rigged) as conn:
        conn.execute("CREATE TRIGGER hide AFTER INSERT ON audit_log WHEN new.actor = 'baomi' "
                      "BEGIN DELETE FROM audit_log WHERE id = new.id; END")
    conn.close()
    before = paths.database_path(folder).read_bytes()
    with pytest.raises(BackupError, match="触发器 hide"):
        Services(None, BAOMI, folder).backups.restore(rigged, unregistered=True)
    assert paths.database_path(folder).read_bytes() == before
    with sqlite3.connect(rigged) as conn:  # a view or an extra table too
        conn.execute("DROP TRIGGER hide")
        conn.execute("CREATE VIEW v AS SELECT 1")
    conn.close()
    with pytest.raises(BackupError, match="视图 v"):
        backup.check_restorable(rigged)
    assert backup.foreign_objects(made.path) == []


def test_a_restore_needs_the_security_administrators_login(folder):
    made = make_backup(folder)
    with pytest.raises(PermissionDenied, match="安全保密管理员"):
        Services(None, None, folder).backups.restore(made.path)  # nobody logged in, database sound
    with pytest.raises(PermissionDenied):
        Services(None, Actor("xitong", Role.SYSTEM_ADMIN), folder).backups.restore(made.path)
    db_path = paths.database_path(folder)
    with open(db_path, "r+b") as handle:
        handle.write(b"\xff" * 4096)  # damaged: nobody can log in to it
    damaged = db_path.read_bytes()
    backups = Services(None, None, folder).backups
    with pytest.raises(PermissionDenied, match="用户名和口令"):
        backups.restore(made.path)  # before: restored with no login at all
    with pytest.raises(PermissionDenied, match="不正确"):
        backups.restore(made.path, login=("baomi", "wrong-Password-1"))
    with pytest.raises(PermissionDenied, match="不是启用的安全保密管理员"):
        backups.restore(made.path, login=("shenji", PASSWORDS["shenji"]))
    assert db_path.read_bytes() == damaged
    restored = backups.restore(made.path, login=("baomi", PASSWORDS["baomi"]))
    assert restored.dropped is None  # the damaged file's log could not be read: said so
    after = open_services(folder, SHENJI)
    try:
        entry = after.audit.entries(AuditFilter(action="backup.restore"))[0]
        assert entry.actor == "baomi" and entry.detail["damaged"] is True and "无法读取" in entry.detail["note"]
    finally:
        after.db.close()


def test_only_registered_backups_are_offered_and_taken(folder, tmp_path):
    made = make_backup(folder)
    foreign = paths.backup_dir(folder) / "mibao-manual-20991231-235959.sqlite"  # named like a backup, newest
    shutil.copyfile(made.path, foreign)
    with sqlite3.connect(foreign) as conn:
        conn.execute("UPDATE ledger_computers SET location = '某处'")
    conn.close()
    backups = Services(None, BAOMI, folder).backups
    assert [b.path for b in backups.backups()] == [made.path]
    assert backup.newest_good_backup(paths.backup_dir(folder)).path == made.path  # before: the planted file
    with pytest.raises(ServiceError, match="不在备份登记中"):
        backups.restore(foreign)
    changed = made.path.read_bytes()
    made.path.write_bytes(changed[:-1] + bytes([changed[-1] ^ 1]))  # a registered name, changed since
    assert not backups.is_registered(made.path) and backup.newest_good_backup(paths.backup_dir(folder)) is None
    with pytest.raises(ServiceError, match="不在备份登记中"):
        backups.restore(made.path)  # listed by its size, refused by its hash
    made.path.write_bytes(changed)
    outside = tmp_path / made.path.name  # the same bytes elsewhere are not the registered file
    shutil.copyfile(made.path, outside)
    assert not backups.is_registered(outside) and backups.is_registered(made.path)
    restored = backups.restore(foreign, unregistered=True)  # the explicit choice
    assert restored.previous is not None
    after = open_services(folder, SHENJI)
    try:
        assert after.audit.entries(AuditFilter(action="backup.restore"))[0].detail["registered"] is False
    finally:
        after.db.close()


def test_the_command_line_restores_only_after_a_login_and_from_the_register(folder, capsys, monkeypatch):
    made = make_backup(folder)
    monkeypatch.setenv("MIBAO_PASSWORD", PASSWORDS["baomi"])
    db_path = paths.database_path(folder)
    with open(db_path, "r+b") as handle:
        handle.write(b"\xff" * 4096)
    assert main(["--data-dir", str(folder), "restore", str(made.path), "--yes"]) == 2  # before: restored
    assert "安全保密管理员登录" in capsys.readouterr().err
    unlisted = made.path.with_name("copy.sqlite")
    shutil.copyfile(made.path, unlisted)
    assert main(["--user", "baomi", "--data-dir", str(folder), "restore", str(unlisted), "--yes"]) == 1
    assert "不在备份登记中" in capsys.readouterr().err
    monkeypatch.setenv("MIBAO_PASSWORD", PASSWORDS["shenji"])
    assert main(["--user", "shenji", "--data-dir", str(folder), "restore", str(made.path), "--yes"]) == 2
    assert backup.integrity_problem(db_path) is not None
    monkeypatch.setenv("MIBAO_PASSWORD", PASSWORDS["baomi"])
    assert main(["--user", "baomi", "--data-dir", str(folder), "restore", str(made.path), "--yes"]) == 0
    assert backup.integrity_problem(db_path) is None


def test_a_temporary_password_in_the_backup_does_not_restore_it(folder):
    """The system administrator who reset baomi's password knows the temporary one: with the
    database damaged, it must not restore a backup that holds it (a session of a password that
    must be changed may change it and nothing else)."""
    services = open_services(folder)
    try:
        AccountService(services.db).reset_password(Actor("xitong", Role.SYSTEM_ADMIN), "baomi", "Reset-Pass-2026")
    finally:
        services.db.close()
    made = make_backup(folder)
    db_path = paths.database_path(folder)
    with open(db_path, "r+b") as handle:
        handle.write(b"\xff" * 4096)
    damaged = db_path.read_bytes()
    with pytest.raises(PermissionDenied, match="临时口令"):
        Services(None, None, folder).backups.restore(made.path, login=("baomi", "Reset-Pass-2026"))
    assert db_path.read_bytes() == damaged


def test_entries_a_restore_carries_in_are_shown_by_their_original_role(folder):
    """An auditor's entries that a restore carried in (audit.carried, written by the security
    administrator who restored, with no role) are still the auditor's own: left out of the
    auditor's listing, count, user list and export, and in the security administrator's review
    of the auditor; a carried reset stays among the auditor's alerts. Also after a second
    restore to the same backup, which carries the carried entries again. Before, the carried
    entries slipped into the auditor's view and out of the security administrator's."""
    from mibao_desktop.excel.audit_export import export_audit

    made = make_backup(folder)
    services = open_services(folder, SHENJI)
    try:
        services.audit.verify()  # the auditor's own entry, made after the backup
        AccountService(services.db).reset_password(Actor("xitong", Role.SYSTEM_ADMIN), "baomi", "Reset-Pass-2026")
    finally:
        services.db.close()
    for restores in (1, 2):
        Services(None, BAOMI, folder).backups.restore(made.path)
        after = open_services(folder, SHENJI)
        try:
            carried = after.db.session()
            with carried as session:
                rows = session.execute(sqlalchemy.text(
                    "SELECT id, detail FROM audit_log WHERE action = 'audit.carried' ORDER BY id")).all()
            by_id = {}
            for entry_id, detail in rows:
                detail = json.loads(detail) if isinstance(detail, str) else detail
                while detail.get("action") == audit.CARRIED:  # carried again by the second restore
                    detail = detail["detail"]
                by_id[entry_id] = detail
            auditors = {i for i, d in by_id.items() if d["role"] == "安全审计员"}
            resets = {i for i, d in by_id.items() if d["action"] == "account.reset_password"}
            assert auditors and resets and len(rows) >= 2 * restores
            shown = {e.id for e in after.audit.entries(limit=None)}
            assert shown and not shown & auditors  # before: the carried audit.verify was listed
            assert resets <= shown
            assert after.audit.count() == len(shown)
            assert export_audit(after.audit, folder / f"审计{restores}.xlsx") == len(shown)
            review = {e.id for e in Services(after.db, BAOMI, folder).oversight.auditor_actions()}
            assert auditors <= review and not review & resets  # before: not in the review
            alerts = {e.id for e in after.oversight.alerts()}
            assert resets <= alerts and not alerts & auditors
        finally:
            after.db.close()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now().replace(microsecond=0) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)
        return self.now


def damage(folder) -> bytes:
    db_path = paths.database_path(folder)
    with open(db_path, "r+b") as handle:
        handle.write(b"\xff" * 4096)
    return db_path.read_bytes()


def test_the_restore_login_against_a_backup_locks_like_the_login_and_a_restart_keeps_it(folder):
    """With the database damaged, the login against the backup's accounts locks after the
    backup's policy's number of wrong passwords for its time (before: endless guesses), counted
    in the data folder (0600, no name or typed text in it) so that a restart or another backup
    does not start afresh; an unknown name locks the same way; every attempt goes into the
    restored log at its own time, the unknown name as 未知用户名 with its length."""
    from mibao_desktop.security.passwords import SecurityPolicy
    from mibao_desktop.services.backup_service import BackupService, RestoreLoginLocked
    from mibao_desktop.storage import restore_logins

    services = open_services(folder)
    try:
        services.settings.set_security_policy(SecurityPolicy(lockout_attempts=3, lockout_minutes=15))
    finally:
        services.db.close()
    older, made = make_backup(folder), make_backup(folder)
    damaged = damage(folder)
    clock = Clock()
    started = clock.now
    backups = BackupService(folder, None, clock=clock)
    for n in (1, 2):
        with pytest.raises(PermissionDenied, match="不正确.*连续 3 次口令错误,将锁定 15 分钟") as refused:
            backups.restore(made.path, login=("baomi", f"wrong-Password-{n}"))
        assert not isinstance(refused.value, RestoreLoginLocked)
    with pytest.raises(RestoreLoginLocked, match="连续 3 次口令错误,恢复备份的登录已锁定"):
        backups.restore(made.path, login=("BaoMi", "wrong-Password-3"))  # the name in any case
    state = folder / restore_logins.FILE
    assert state.stat().st_mode & 0o777 == 0o600
    kept = json.loads(state.read_text(encoding="utf-8"))
    assert len(kept["names"]) == 1 and "baomi" not in json.dumps(kept["names"]).lower()  # counted by tag
    assert "wrong-Password" not in state.read_text(encoding="utf-8")
    restarted = BackupService(folder, None, clock=clock)  # a new start reads the count from the file
    for chosen in (made, older):  # nor does another backup start afresh
        with pytest.raises(RestoreLoginLocked, match="已锁定"):
            restarted.restore(chosen.path, login=("baomi", PASSWORDS["baomi"]))
    assert paths.database_path(folder).read_bytes() == damaged
    typed_as_name = "Sec-Admin-2026!"  # a password typed into the name field
    for _ in range(2):
        with pytest.raises(PermissionDenied, match="不正确"):
            restarted.restore(made.path, login=(typed_as_name, "x"))
    with pytest.raises(RestoreLoginLocked):
        restarted.restore(made.path, login=(typed_as_name, "x"))
    assert typed_as_name not in state.read_text(encoding="utf-8")
    clock.now += dt.timedelta(minutes=15)
    restored = restarted.restore(made.path, login=("baomi", PASSWORDS["baomi"]))
    assert restored.previous is not None
    assert json.loads(state.read_text(encoding="utf-8"))["pending"] == []
    after = open_services(folder, SHENJI)
    try:
        tried = after.audit.entries(AuditFilter(since=started), limit=None)[::-1]  # oldest first
        assert [(e.action, e.actor, e.detail.get("reason")) for e in tried] == [
            ("auth.restore_login_failed", "baomi", "口令错误")] * 3 + [("auth.locked_out", "baomi", None)] + [
            ("auth.restore_login_failed", "baomi", "账户锁定中")] * 2 + [
            ("auth.restore_login_failed", "未知用户名", "无此用户")] * 3 + [("auth.locked_out", "未知用户名", None),
                                                                    ("backup.restore", "baomi", None)]
        assert [e.detail["failures"] for e in tried[:3]] == [1, 2, 3]
        assert all(e.role == "安全保密管理员" for e in tried[:6]) and tried[3].detail["minutes"] == 15
        assert all("补记" in e.detail and "恢复备份" in e.detail["场合"] for e in tried[:-1])
        assert {e.detail["length"] for e in tried[6:10]} == {len(typed_as_name)}
        assert not [e for e in tried if typed_as_name in json.dumps(e.detail, ensure_ascii=False)]
        # appended when the database took them (the restore's time), each with the time it was tried
        assert {e.at for e in tried[:-1]} == {tried[-1].at} and tried[-1].at >= started + dt.timedelta(minutes=15)
        tried_at = [dt.datetime.fromisoformat(e.detail["尝试时间"]) for e in tried[:-1]]
        assert tried_at == sorted(tried_at) and tried_at[0] < started + dt.timedelta(minutes=1)
        assert tried[-1].detail["补记的恢复登录"] == 10
        assert after.audit.verify().ok
    finally:
        after.db.close()


def test_restore_logins_tried_while_the_database_was_damaged_are_audited_when_it_opens_again(folder):
    """No restore followed (the file was mended otherwise): the next start writes the attempts
    into the log, once."""
    from mibao_desktop.services.backup_service import BackupService
    from mibao_desktop.storage.startup import open_database

    made = make_backup(folder)
    damage(folder)
    backups = BackupService(folder, None)
    for _ in range(2):
        with pytest.raises(PermissionDenied, match="不正确"):
            backups.restore(made.path, login=("shenji", "wrong-Password-1"))
    with pytest.raises(PermissionDenied, match="不是启用的安全保密管理员"):
        backups.restore(made.path, login=("shenji", PASSWORDS["shenji"]))  # the right one: not a guess
    shutil.copyfile(made.path, paths.database_path(folder))  # mended by hand
    for _ in range(2):
        db = open_database(folder, daily_backup=False)
        db.close()
    services = open_services(folder)
    try:
        seen = services.oversight.auditor_actions()  # shenji's attempts: the security administrator's review
        assert [(e.action, e.detail["reason"]) for e in seen[:3]][::-1] == [
            ("auth.restore_login_failed", "口令错误"), ("auth.restore_login_failed", "口令错误"),
            ("auth.restore_login_failed", "不是启用的安全保密管理员")]
        assert len([e for e in seen if e.action == "auth.restore_login_failed"]) == 3  # once, not at each start
    finally:
        services.db.close()


HACKER = ("hacker", "Hack-Admin-2026")


def crafted_file(tmp_path):
    """A MiBao database anyone can make: set up with one's own three accounts, the security
    administrator among them, and none of the unit's (not in the unit's backup register)."""
    made = tmp_path / "crafted" / "mibao-manual-20991231-235959.sqlite"
    db = Database.open(made)
    AccountService(db).setup({Role.SYSTEM_ADMIN: ("x2", "某甲", "Sys-Admin-2099"),
                              Role.SECURITY_ADMIN: (HACKER[0], "某乙", HACKER[1]),
                              Role.AUDITOR: ("a2", "某丙", "Aud-Itor-2099")})
    db.close()
    for suffix in ("-wal", "-shm"):
        made.with_name(made.name + suffix).unlink(missing_ok=True)
    return made


def damage_a_ledger_page(folder) -> bytes:
    """A page of the computers' table overwritten: the file fails its check, its accounts read."""
    db_path = paths.database_path(folder)
    with sqlite3.connect(db_path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        page = conn.execute("SELECT pageno FROM dbstat WHERE name = 'ledger_computers'").fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as handle:
        handle.seek((page - 1) * page_size)
        handle.write(b"\xff" * page_size)
    assert backup.integrity_problem(db_path) and backup.account_count(db_path) == 3
    return db_path.read_bytes()


def test_an_unregistered_file_is_checked_against_the_newest_registered_backups_accounts(folder, tmp_path):
    """The database damaged: a file made elsewhere with its own security administrator is not
    restored with that administrator's login (before: it was, against the file's own accounts);
    the login is checked against the newest registered backup's accounts, wrong names lock as
    at any login, and the unit's security administrator can still restore it and any backup."""
    from mibao_desktop.security.passwords import SecurityPolicy
    from mibao_desktop.services.backup_service import BackupService, RestoreLoginLocked

    services = open_services(folder)
    try:
        services.settings.set_security_policy(SecurityPolicy(lockout_attempts=3, lockout_minutes=15))
    finally:
        services.db.close()
    older, made = make_backup(folder), make_backup(folder)
    crafted = crafted_file(tmp_path)
    damaged = damage(folder)
    backups = BackupService(folder, None, clock=Clock())
    assert backups.login_source(crafted).where == f"本机最新的登记备份 {made.path.name}"
    assert backups.login_source(older.path).path == older.path  # a registered one: its own accounts
    for n in (1, 2):
        with pytest.raises(PermissionDenied, match=re.escape(f"不正确(按本机最新的登记备份 {made.path.name} 中的账户核对)")):
            backups.restore(crafted, login=HACKER, unregistered=True)
    with pytest.raises(RestoreLoginLocked):  # counted as any unknown name: the lockout holds
        backups.restore(crafted, login=HACKER, unregistered=True)
    assert paths.database_path(folder).read_bytes() == damaged
    with pytest.raises(ServiceError, match="不在备份登记中"):  # still only on the explicit choice
        backups.restore(crafted, login=("baomi", PASSWORDS["baomi"]))
    restored = backups.restore(older.path, login=("baomi", PASSWORDS["baomi"]))  # a registered one
    assert restored.previous is not None
    after = open_services(folder, SHENJI)
    try:
        entry = after.audit.entries(AuditFilter(action="backup.restore"))[0]
        assert entry.actor == "baomi" and entry.detail["核对账户"] == f"所选备份 {older.path.name}"
        tried = after.audit.entries(AuditFilter(action="auth."), limit=None)
        assert [e.actor for e in tried[:4]] == ["未知用户名"] * 4  # three failures and the lockout
        assert all(f"按本机最新的登记备份 {made.path.name} 中的账户核对" in e.detail["场合"] for e in tried[:4])
    finally:
        after.db.close()
    damage(folder)
    restored = BackupService(folder, None).restore(crafted, login=("baomi", PASSWORDS["baomi"]), unregistered=True)
    after = open_services(folder, Actor(HACKER[0], Role.SECURITY_ADMIN))  # the file's own accounts now
    try:
        with after.db.session() as session:
            entry = session.execute(sqlalchemy.text(
                "SELECT actor, detail FROM audit_log WHERE action = 'backup.restore' ORDER BY id DESC")).first()
        detail = json.loads(entry[1]) if isinstance(entry[1], str) else entry[1]
        assert entry[0] == "baomi" and detail["registered"] is False
        assert detail["核对账户"].startswith("本机最新的登记备份")
    finally:
        after.db.close()


def test_an_unregistered_file_is_checked_against_the_damaged_databases_own_accounts(folder, tmp_path):
    """A page damaged deep inside: the current file's accounts still read, and are the ones
    the login is checked against (not the crafted file's)."""
    crafted = crafted_file(tmp_path)
    damaged = damage_a_ledger_page(folder)
    backups = Services(None, None, folder).backups
    assert backups.login_source(crafted).where == "当前数据库"
    with pytest.raises(PermissionDenied, match=re.escape("不正确(按当前数据库中的账户核对)")):
        backups.restore(crafted, login=HACKER, unregistered=True)
    assert paths.database_path(folder).read_bytes() == damaged
    assert backups.restore(crafted, login=("baomi", PASSWORDS["baomi"]), unregistered=True).previous is not None


def test_with_no_trusted_accounts_an_unregistered_file_is_refused_but_a_new_folder_takes_one(folder, tmp_path,
                                                                                              monkeypatch, capsys):
    """The database damaged beyond reading its accounts and no registered backup: nothing the
    unit trusts to check a login against, so an unregistered file is refused, saying why and what
    to do, on the command line before a password is asked for. A folder that never had an
    account (a new machine) takes the old machine's backup with that backup's own login."""
    crafted = crafted_file(tmp_path)
    damaged = damage(folder)
    backups = Services(None, None, folder).backups
    with pytest.raises(ServiceError, match="只能恢复本机备份登记中的备份") as refused:
        backups.restore(crafted, login=HACKER, unregistered=True)
    assert "无法核对恢复者" in str(refused.value) and "不要删除" in str(refused.value)
    monkeypatch.setattr("getpass.getpass", lambda *_a: pytest.fail("a password was asked for"))
    monkeypatch.delenv("MIBAO_PASSWORD", raising=False)
    assert main(["--user", HACKER[0], "--data-dir", str(folder), "restore", str(crafted), "--unregistered",
                 "--yes"]) == 2
    assert "只能恢复本机备份登记中的备份" in capsys.readouterr().err
    assert paths.database_path(folder).read_bytes() == damaged
    new = tmp_path / "new"
    assert Services(None, None, new).backups.login_source(crafted).fresh
    restored = Services(None, None, new).backups.restore(crafted, login=HACKER, unregistered=True)
    assert restored.previous is None
    empty = tmp_path / "empty"  # a database made by a first start, no account set up yet
    Database.open(paths.database_path(empty)).close()
    with pytest.raises(PermissionDenied, match="不正确"):
        Services(None, None, empty).backups.restore(crafted, login=("x2", "wrong-Password-1"), unregistered=True)
    monkeypatch.setenv("MIBAO_PASSWORD", HACKER[1])
    assert main(["--user", HACKER[0], "--data-dir", str(empty), "restore", str(crafted), "--unregistered",
                 "--yes"]) == 0
    after = open_services(empty, Actor("a2", Role.AUDITOR))
    try:
        entry = after.audit.entries(AuditFilter(action="backup.restore"))[0]
        assert entry.actor == HACKER[0] and "本机还没有任何账户" in entry.detail["核对账户"]
    finally:
        after.db.close()


def test_the_command_line_checks_an_unregistered_file_against_the_trusted_accounts(folder, tmp_path, capsys,
                                                                                   monkeypatch):
    made = make_backup(folder)
    crafted = crafted_file(tmp_path)
    damaged = damage(folder)
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or HACKER[1])
    monkeypatch.delenv("MIBAO_PASSWORD", raising=False)
    argv = ["--data-dir", str(folder), "restore", str(crafted), "--unregistered", "--yes"]
    assert main(["--user", HACKER[0], *argv]) == 2  # before: restored with the file's own login
    assert "不正确" in capsys.readouterr().err and f"本机最新的登记备份 {made.path.name}" in asked[0]
    assert paths.database_path(folder).read_bytes() == damaged
    monkeypatch.setenv("MIBAO_PASSWORD", PASSWORDS["baomi"])
    assert main(["--user", "baomi", *argv]) == 0


def test_a_restore_logins_copy_left_by_a_killed_run_is_removed_at_the_next_start(folder):
    """A run killed while it wrote restore-logins.json leaves its temporary copy (holding the
    attempts): the next start removes it and keeps the file itself (before: left for good)."""
    from mibao_desktop import files
    from mibao_desktop.services.backup_service import BackupService
    from mibao_desktop.storage import restore_logins

    made = make_backup(folder)
    damage(folder)
    with pytest.raises(PermissionDenied, match="不正确"):
        BackupService(folder, None).restore(made.path, login=("baomi", "wrong-Password-1"))
    kept = (folder / restore_logins.FILE).read_bytes()
    left = folder / f".{restore_logins.FILE}.0123456789ab.part"
    left.write_bytes(kept[: len(kept) // 2])  # cut short by the kill
    other = folder / ".restore-logins.jsonx.part"  # not the pattern: not ours to remove
    other.write_text("x")
    with files.secured(folder):
        assert not left.exists() and other.exists()
    assert (folder / restore_logins.FILE).read_bytes() == kept


def test_restore_logins_json_yields_only_what_the_restore_login_writes(folder):
    """restore-logins.json is writable by whoever can write the data folder: its pending entries
    are taken at the next start only as the restore's login writes them (two actions, their
    detail keys and types, the name tried as its own target), in the role the named account has
    in the database (never the file's), appended at the start's time with the file's as 尝试时间;
    anything else is refused and counted in one entry (review: forged restore-logins.json)."""
    import base64
    import secrets

    from sqlalchemy import select

    from mibao_desktop.db.models import AuditEntry
    from mibao_desktop.services.backup_service import OCCASION
    from mibao_desktop.storage import restore_logins
    from mibao_desktop.storage.startup import open_database

    occasion = OCCASION.format("所选备份 x.sqlite ")
    failed = {"at": "2020-01-01T08:00:00", "actor": "shenji", "role": "安全保密管理员",
              "action": "auth.restore_login_failed", "target": "shenji",
              "detail": {"reason": "口令错误", "failures": 1, "场合": occasion}}
    forged = [
        {"at": "2020-01-01T08:00:00", "actor": "baomi", "role": "安全保密管理员", "action": "account.grant_role",
         "target": "mallory", "detail": {"role": "系统管理员", "姓名": "马某"}},
        {**failed, "target": "mallory"},  # a target other than the name tried
        {**failed, "detail": {**failed["detail"], "role": "系统管理员"}},  # a key the login never writes
        {**failed, "detail": {**failed["detail"], "failures": True}},  # a type it never writes
        {**failed, "detail": {**failed["detail"], "reason": "授权"}},  # a reason it never gives
        {**failed, "at": "昨天"},
        {**failed, "actor": "shenji\x00"},
        {**failed, "extra": 1},
    ]
    state = {"key": base64.b64encode(secrets.token_bytes(16)).decode(), "names": {}, "dropped": 0,
             "pending": [failed, *forged]}
    (folder / restore_logins.FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    start = dt.datetime(2026, 11, 30, 9, 0)
    db = open_database(folder, daily_backup=False, clock=lambda: start)
    try:
        with db.session() as session:
            added = list(session.scalars(select(AuditEntry).where(AuditEntry.at == start).order_by(AuditEntry.id)))
            assert not session.scalars(select(AuditEntry).where(AuditEntry.target == "mallory")).all()
            assert not session.scalars(select(AuditEntry).where(AuditEntry.at < dt.datetime(2021, 1, 1))).all()
        assert [(e.actor, e.role, e.action, e.target) for e in added] == [
            ("shenji", "安全审计员", "auth.restore_login_failed", "shenji"),  # his role here, not the file's
            ("(恢复登录)", "", "auth.restore_login_failed", "")]
        assert added[0].detail["尝试时间"] == "2020-01-01 08:00:00" and added[0].detail["failures"] == 1
        assert set(added[0].detail) == {"reason", "failures", "场合", "尝试时间", "补记"}
        assert f"有 {len(forged)} 条" in added[1].detail["reason"] and "未记入" in added[1].detail["reason"]
    finally:
        db.close()
    services = open_services(folder, SHENJI)
    try:
        assert not [a for a in services.oversight.alerts() if a.target == "mallory"]
        assert services.audit.verify().ok
    finally:
        services.db.close()
    assert json.loads((folder / restore_logins.FILE).read_text(encoding="utf-8"))["pending"] == []
