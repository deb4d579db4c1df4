"""The audit chain against its own administrators (issue 11, item 2): a cut end, a deleted
head, a forged entry and a recomputed chain are caught, the last one by the anchor (N:HASH16)
that every export, report, printout, backup and output register entry carries."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from mibao_desktop.db.database import Database
from mibao_desktop.db.models import AuditEntry, Setting
from mibao_desktop.excel import export_ledger
from mibao_desktop.excel.annual import export_annual_report
from mibao_desktop.excel.audit_export import export_audit
from mibao_desktop.printing import labels as L
from mibao_desktop.security import Actor, Role
from mibao_desktop.services import audit
from mibao_desktop.services.audit_service import AuditService
from mibao_desktop.services.context import Services
from mibao_desktop.services.repository import LedgerQuery
from tests.conftest import computer


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 2, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)
        return self.now


BAOMI, SHENJI = Actor("baomi", Role.SECURITY_ADMIN), Actor("shenji", Role.AUDITOR)


@pytest.fixture
def work(db, data_dir):
    """The security administrator's services with a few records written (and audited)."""
    services = Services(db, BAOMI, data_dir, Clock())
    for n in range(1, 4):
        services.ledgers.create("computers", computer(asset_number=f"JM-000{n}", serial_number=f"S{n}",
                                                      disk_serials=f"D{n}", mac_addresses=f"00-00-00-00-00-0{n}"))
    return services


def auditor(work) -> AuditService:
    return Services(work.db, SHENJI, work.data_dir, work.clock).audit


def another_write(work, n: int = 9) -> None:
    """Anything that appends (a login, a record): it must not re-anchor a cut chain."""
    work.ledgers.create("computers", computer(asset_number=f"JM-00{n}", serial_number=f"S{n}", disk_serials=f"D{n}",
                                              mac_addresses=f"00-00-00-00-00-{n:02d}"))


def count(db) -> int:
    with db.session() as s:
        return s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0


def test_a_cut_end_is_caught_even_after_later_appends(work, db):
    top = count(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id > :n"), {"n": top - 2})
    another_write(work)  # before: this moved the head onto the cut chain and verify said OK
    result = auditor(work).verify()
    assert not result.ok and "末尾" in result.message and "删除" in result.message
    assert not auditor(work).verify().ok  # and stays caught: the check's own entry does not hide it


def test_a_deleted_head_is_caught_after_later_appends(work, db):
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM settings WHERE key = 'audit_head'"))
    another_write(work)
    result = auditor(work).verify()
    assert not result.ok and "链头" in result.message


def test_a_forged_entry_appended_past_the_head_is_caught(work, db):
    with Session(db.engine) as s, s.begin():  # a correctly hashed entry, written past the services
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        at = last.at + dt.timedelta(seconds=1)
        detail = {"ledger": "涉密计算机台账"}
        s.add(AuditEntry(id=last.id + 1, at=at, actor="baomi", role=Role.SECURITY_ADMIN.value, action="record.void",
                         target="computers:JM-0002", detail=detail, prev_hash=last.hash,
                         hash=audit.entry_hash(last.hash, at, "baomi", Role.SECURITY_ADMIN.value, "record.void",
                                               "computers:JM-0002", detail)))
        if db.dialect == "postgresql":  # as a forger would: the id sequence moved past the entry
            s.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), (SELECT max(id) FROM audit_log))"))
    another_write(work)
    result = auditor(work).verify()
    assert not result.ok and "伪造" in result.message


def recompute_without(db, actor: str) -> None:
    """What an administrator with the file could do: drop someone's entries and hash the rest
    again from the start, moving the head along; every link then holds."""
    with Session(db.engine) as s, s.begin():
        s.execute(delete(AuditEntry).where(AuditEntry.actor == actor))
        prev = audit.GENESIS
        kept = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        for e in kept:
            e.prev_hash = prev
            e.hash = prev = audit.entry_hash(prev, e.at, e.actor, e.role, e.action, e.target, e.detail or {})
        s.get(Setting, audit.HEAD_KEY).value = {"id": kept[-1].id, "hash": prev}


def footer_anchor(path) -> str:
    footer = openpyxl.load_workbook(path).worksheets[0].oddFooter.right.text
    assert footer.startswith("审计链头 ")
    return footer.removeprefix("审计链头 ")


def test_a_recomputed_chain_is_caught_by_the_anchor_on_an_export(work, db, tmp_path):
    out = tmp_path / "计算机.xlsx"
    export_ledger(work.ledgers, work.ledgers.ledger("computers"), out)
    anchor = footer_anchor(out)
    number, digits = anchor.split(":")
    with db.session() as s:
        assert s.get(AuditEntry, int(number)).hash.startswith(digits) and len(digits) == 16
    assert auditor(work).verify([anchor]).ok
    another_write(work)
    recompute_without(db, "baomi")  # every entry of baomi gone, the rest rehashed
    another_write(work, 8)
    assert auditor(work).verify().ok  # the chain alone cannot tell
    result = auditor(work).verify([anchor])
    assert not result.ok and f"凭证 {anchor} 不符" in result.message


def test_every_output_carries_the_head(work, db, tmp_path):
    ledger = work.ledgers.ledger("computers")
    before = audit.current_anchor(db)
    report = tmp_path / "年度.xlsx"
    export_annual_report(work.ledgers, 2026, report)
    assert footer_anchor(report) == str(before)
    assert all(ws.oddFooter.right.text == f"审计链头 {before}" for ws in openpyxl.load_workbook(report).worksheets)
    log = tmp_path / "审计.xlsx"
    head = audit.current_anchor(db)
    export_audit(auditor(work), log)
    assert footer_anchor(log) == str(head)
    records = work.ledgers.query(ledger, LedgerQuery()).rows
    head = audit.current_anchor(db)
    form = tmp_path / "form.pdf"
    work.printing.form("maintenance", ledger, records[:1], form)
    assert all(f"审计链头 {head}" in page.extract_text() for page in PdfReader(form).pages)
    head = audit.current_anchor(db)
    sheet = tmp_path / "labels.pdf"
    work.printing.labels(ledger, records, sheet, L.PRESETS["a4-3x7"])
    assert PdfReader(sheet).metadata["/Keywords"] == f"审计链头 {head}"
    assert f"审计链头 {head}" in PdfReader(sheet).pages[0].extract_text()  # in the sheet's bottom margin
    printed = auditor(work).entries(limit=1)[0]
    assert printed.action == "ledger.print" and printed.detail["anchor"] == str(head)


def test_the_anchor_is_typed_plainly_or_refused_in_chinese(work):
    from mibao_desktop.errors import ServiceError

    head = audit.current_anchor(work.db)
    assert auditor(work).verify([f"审计链头 {head.id}:{head.hash[:16].upper()}"]).ok
    with pytest.raises(ServiceError, match="格式不对"):
        auditor(work).verify(["12-abc"])
    gone = auditor(work).verify([f"{head.id + 500}:{head.hash[:16]}"])
    assert not gone.ok and "已不存在" in gone.message and "截断" in gone.message


def test_a_chain_carries_what_another_chain_has_past_their_shared_part(db, tmp_path):
    """What a restore does with the log it replaces, on either engine: the shared prefix is
    found, the rest copied as audit.carried, and an anchor of a copied entry is explained."""
    old = Database.open(tmp_path / "old.sqlite")
    at = dt.datetime(2026, 11, 2, 9, 0, 0)
    try:
        for target in (old, db):
            with target.write() as s:
                for n in range(5):
                    audit.append(s, BAOMI, "record.create", f"computers:JM-{n}", {"n": n}, at=at)
        with old.write() as s:
            for n in range(5, 8):
                audit.append(s, BAOMI, "record.void", f"computers:JM-{n}", {"n": n}, at=at)
        gone = audit.current_anchor(old)
        with old.engine.connect() as conn, db.write() as s:
            shared = audit.shared_until(conn, s.connection())
            assert shared == 5
            count, first, last = audit.carry(s, audit.entries_after(conn, shared), at=at, actor=BAOMI)
            audit.append(s, BAOMI, "backup.restore", "x", {"dropped": count}, at=at)
        assert (count, first, last) == (3, 6, 8)
        with db.session() as s:
            result = audit.verify(s, anchors=[gone])
        assert result.ok and "恢复备份时被撤下" in result.anchors[0]
        another = Services(db, BAOMI, None, Clock())
        another_write(another)  # the ids given to the copies did not upset the next append
        with db.session() as s:
            assert audit.verify(s).ok
    finally:
        old.close()


@pytest.mark.sqlite_only  # the command line on a --data-dir
def test_the_command_line_check_is_not_fooled_by_its_own_login(tmp_path, capsys, monkeypatch):
    """The review's attack: cut the last entries and the head with them, then verify. The
    command logs in first; that login re-anchored the head and verify said OK."""
    import sqlite3

    from mibao_desktop.cli import main
    from tests.test_cli import accounts_only, as_user

    passwords = accounts_only(tmp_path)
    assert as_user(monkeypatch, passwords, "baomi", "--data-dir", str(tmp_path), "backup") == 0
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    capsys.readouterr()
    with sqlite3.connect(tmp_path / "mibao.sqlite") as conn:
        top = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE id > ?", (top - 2,))
        last_id, last_hash = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        conn.execute("UPDATE settings SET value = ? WHERE key = 'audit_head'",
                     (f'{{"id": {last_id}, "hash": "{last_hash}"}}',))  # even the head moved back
    conn.close()
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify") == 0
    # the head agrees with the cut chain: only an anchor made before can tell
    register = (tmp_path / "backups" / "register.jsonl").read_text(encoding="utf-8")
    anchor = json.loads(register.splitlines()[-1])["anchor"]  # the backup's, made before the cut
    capsys.readouterr()
    later = f"{top}:{'0' * 16}"  # an anchor from a copy made at the old top
    assert as_user(monkeypatch, passwords, "shenji", "--data-dir", str(tmp_path), "audit", "verify",
                   "--anchor", anchor, "--anchor", later) == 1
    out = capsys.readouterr().out
    assert f"凭证 {anchor} 相符" in out and f"凭证 {later} 不符" in out
    with sqlite3.connect(tmp_path / "mibao.sqlite") as conn:  # now the plain cut: head left as it was
        conn.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    conn.close()
    assert main(["--user", "shenji", "--data-dir", str(tmp_path), "audit", "verify"]) == 1
    assert "末尾" in capsys.readouterr().out


def a_long_log(db, entries: int = 3000) -> None:
    """``entries`` validly chained entries, written in bulk (audit.carry batches them)."""
    at = dt.datetime(2026, 11, 2, 9, 0, 0)
    old = ({"id": n, "at": str(at), "actor": "baomi", "role": "安全保密管理员", "action": "record.create",
            "target": f"computers:JM-{n:05d}", "detail": {"n": n}, "hash": f"{n:064x}"} for n in range(1, entries + 1))
    with db.write() as s:
        assert audit.carry(s, old, at=at, actor=BAOMI)[0] == entries


def test_a_long_check_reports_progress_and_stops_when_cancelled(db):
    """The check the auditor's window runs off the UI thread: the chain read a batch at a time,
    progress after each, 取消 asked before each; a cancelled check concludes nothing and says
    so, and is itself recorded as 已取消 (never 完整); a break found before the cancel counts."""
    from mibao_desktop.errors import Cancelled

    a_long_log(db)
    seen: list[tuple[int, int]] = []
    with db.session() as s:
        result = audit.verify(s, batch=500, progress=lambda done, total: seen.append((done, total)))
    assert result.ok and result.checked == 3000
    assert seen == [(0, 3000)] + [(n, 3000) for n in range(500, 3001, 500)]

    asked: list[int] = []

    def cancel_at_third_batch() -> bool:
        asked.append(1)
        return len(asked) >= 3

    seen.clear()
    with db.session() as s, pytest.raises(audit.VerifyCancelled) as stopped:
        audit.verify(s, batch=500, progress=lambda done, total: seen.append((done, total)),
                     cancelled=cancel_at_third_batch)
    assert stopped.value.checked == 1000 and seen == [(0, 3000), (500, 3000), (1000, 3000)]
    assert "已取消" in str(stopped.value) and "完整" not in str(stopped.value)

    service = AuditService(db, SHENJI)
    with pytest.raises(Cancelled):
        service.verify(cancelled=lambda: True)
    with db.session() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.actor, last.detail["result"], last.detail["checked"]) == ("audit.verify", "shenji", "已取消", 0)
    assert service.verify().ok  # the cancelled check's own entry is chained like any other

    with db.engine.begin() as conn:  # entry 300 changed: found in the first batch
        conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = 300"))
    asked.clear()
    with db.session() as s:
        found = audit.verify(s, batch=500, cancelled=lambda: bool(asked.append(1)) or len(asked) >= 2)
    assert not found.ok and found.broken_id == 300 and len(asked) == 1
