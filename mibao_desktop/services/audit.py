"""The audit log (审计日志): append-only, each entry chained to the one before by SHA-256.

The application only ever appends. An edited entry no longer matches its hash; a deleted or
inserted one breaks the chain of ``prev_hash``; the newest entry is also recorded in the
settings as the chain's head. Before each append the head is compared with the last entry: a
cut end, a forged entry appended past the head, or a deleted head is written into the chain
itself (``audit.head_mismatch``), so the next login cannot quietly re-anchor it.

Whoever can write the database file can still recompute the whole chain. Against that the head
is also anchored outside the database: every export, report, printout, backup and output
register entry carries ``N:HASH16`` (entry number and the first 16 hex digits of its hash), and
:func:`verify` checks any such anchor against the chain — a truncated, recomputed or rolled
back log no longer has that entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from mibao_desktop.db.models import AuditEntry, Setting
from mibao_desktop.errors import Cancelled
from mibao_desktop.security import Actor

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # {"id": …, "hash": …} of the newest entry, kept in settings
MISMATCH = "audit.head_mismatch"  # written when the stored head is not the last entry
CARRIED = "audit.carried"  # an entry a restore dropped, copied into the restored chain
SELF_CHECK = "(审计日志自检)"  # the actor of the entries the log writes about itself
ANCHOR_DIGITS = 16


def entry_hash(prev_hash: str, at: dt.datetime, actor: str, role: str, action: str,
               target: str, detail: dict[str, Any]) -> str:
    payload = json.dumps(
        {"at": at.isoformat(timespec="microseconds"), "actor": actor, "role": role,
         "action": action, "target": target, "detail": detail},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


# -- anchors ---------------------------------------------------------------------------------


class AnchorError(ValueError):
    """An anchor typed wrongly; the message says the form it takes."""


@dataclass(frozen=True)
class Anchor:
    """Entry ``id`` of the chain had a hash beginning with ``hash`` (at least 16 hex digits)."""

    id: int
    hash: str

    def __str__(self) -> str:
        return f"{self.id}:{self.hash[:ANCHOR_DIGITS]}"

    @property
    def label(self) -> str:
        """As printed on paper and in sheet footers."""
        return f"审计链头 {self}"

    @classmethod
    def parse(cls, value: str) -> "Anchor":
        match = re.fullmatch(r"\s*(?:审计链头\s*)?(\d+)\s*[::]\s*([0-9A-Fa-f]{16,64})\s*", value or "")
        if not match:
            raise AnchorError(f"凭证“{value}”的格式不对:应为“序号:校验值前16位”,"
                              "例如 1234:0123456789abcdef(见导出文件页脚、打印件页脚或备份登记)。")
        return cls(int(match[1]), match[2].lower())


def last_entry(session: Session) -> Anchor | None:
    row = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return Anchor(row.id, row.hash) if row else None


def head_anchor(session: Session) -> Anchor:
    """The chain's newest entry now (``0:0000…`` for an empty log)."""
    return last_entry(session) or Anchor(0, GENESIS)


def current_anchor(db) -> Anchor:
    """The head to put on an output about to be written: read in a session of its own."""
    with db.session() as session:
        return head_anchor(session)


# -- appending -------------------------------------------------------------------------------


def _add(session: Session, prev: str, at: dt.datetime, name: str, role: str, action: str, target: str,
         detail: dict[str, Any]) -> AuditEntry:
    entry = AuditEntry(at=at, actor=name, role=role, action=action, target=target[:200], detail=detail,
                       prev_hash=prev, hash=entry_hash(prev, at, name, role, action, target[:200], detail))
    session.add(entry)
    session.flush()
    return entry


def _set_head(session: Session, entry: AuditEntry | Anchor, at: dt.datetime, name: str) -> None:
    head = session.get(Setting, HEAD_KEY)
    value = {"id": entry.id, "hash": entry.hash}
    if head is None:
        session.add(Setting(key=HEAD_KEY, value=value, updated_at=at, updated_by=name))
    else:
        head.value, head.updated_at, head.updated_by = value, at, name


def _head_problem(session: Session, last: Anchor | None) -> dict[str, Any] | None:
    """What differs between the stored head and the last entry, or None when they agree."""
    head = session.get(Setting, HEAD_KEY)
    stored = dict(head.value or {}) if head is not None else None
    if last is None and stored is None:
        return None  # a new log
    if stored is not None and last is not None and stored.get("id") == last.id and stored.get("hash") == last.hash:
        return None
    return {"recorded_head": f"{stored.get('id')}:{str(stored.get('hash'))[:ANCHOR_DIGITS]}" if stored else "缺失",
            "recorded_head_hash": (stored or {}).get("hash", ""),
            "last_entry": str(last) if last else "无",
            "last_entry_hash": last.hash if last else ""}


def append(session: Session, actor: Actor | str, action: str, target: str = "",
           detail: dict[str, Any] | None = None, *, at: dt.datetime | None = None) -> AuditEntry:
    """Add an entry in the caller's transaction, so it commits or rolls back with the write.

    ``actor`` is a plain name for someone not logged in (a failed login of an unknown name).
    When the stored head is not the last entry (entries cut from the end, one appended past
    it, the head deleted), an ``audit.head_mismatch`` entry saying so goes first: moving the
    head on would otherwise hide the cut from every later check.
    """
    at = at or dt.datetime.now()
    detail = detail or {}
    _serialise(session)
    name, role = (actor.name, actor.role.value) if isinstance(actor, Actor) else (str(actor)[:60], "")
    last = last_entry(session)
    prev = last.hash if last else GENESIS
    problem = _head_problem(session, last)
    if problem is not None:
        marker = _add(session, prev, at, SELF_CHECK, "", MISMATCH, "审计日志", problem)
        prev = marker.hash
    entry = _add(session, prev, at, name, role, action, target, detail)
    _set_head(session, entry, at, name)
    return entry


def carry(session: Session, entries: Iterable[dict[str, Any]], *, at: dt.datetime, actor: Actor | str
          ) -> tuple[int, int | None, int | None]:
    """Copy entries of another chain (those a restore drops) into this one, one ``audit.carried``
    entry each, keeping their number, content and hash; returns (count, first id, last id).
    Done before the restore's own entry, in its transaction, which then moves the head."""
    _serialise(session)
    last = last_entry(session)
    prev = last.hash if last else GENESIS
    count, first, final = 0, None, None
    name = actor.name if isinstance(actor, Actor) else str(actor)[:60]
    problem = _head_problem(session, last)
    if problem is not None:  # the restored file's own head must not be hidden by what follows
        prev = _add(session, prev, at, SELF_CHECK, "", MISMATCH, "审计日志", problem).hash
    # Written in batches with their ids given: a restore from a month-old backup carries tens
    # of thousands of entries, and one flush per entry took a second per thousand.
    next_id = (last_entry(session) or Anchor(0, GENESIS)).id + 1
    batch: list[dict[str, Any]] = []
    for old in entries:
        detail = {"id": old["id"], "at": old["at"], "actor": old["actor"], "role": old["role"],
                  "action": old["action"], "target": old["target"], "detail": old["detail"], "hash": old["hash"]}
        target = f"原第 {old['id']} 条"
        digest = entry_hash(prev, at, name, "", CARRIED, target, detail)
        batch.append({"id": next_id, "at": at, "actor": name, "role": "", "action": CARRIED, "target": target,
                      "detail": detail, "prev_hash": prev, "hash": digest})
        first, final, prev, count, next_id = first or next_id, next_id, digest, count + 1, next_id + 1
        if len(batch) >= 2000:
            session.execute(insert(AuditEntry), batch)
            batch = []
    if batch:
        session.execute(insert(AuditEntry), batch)
    if final is not None and session.get_bind().dialect.name == "postgresql":  # the ids were given
        session.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), :id)"), {"id": final})
    if final is not None or problem is not None:
        _set_head(session, last_entry(session), at, name)
    return count, first, final


AUDIT_LOCK = 0x4D42_0001  # PostgreSQL advisory lock: one appender at a time, across workstations


def _serialise(session: Session) -> None:
    """Hold the chain while this transaction appends: two writers that both read the same last
    hash would fork the chain. SQLite's write transactions (BEGIN IMMEDIATE) already follow
    each other; PostgreSQL takes a transaction-scoped advisory lock, freed at commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})


# -- comparing two chains (a restore) ---------------------------------------------------------


def _at_or_before(conn, entry_id: int) -> tuple[int, str] | None:
    row = conn.execute(text("SELECT id, hash FROM audit_log WHERE id <= :id ORDER BY id DESC LIMIT 1"),
                       {"id": entry_id}).first()
    return (row[0], row[1]) if row else None


def last_of(conn) -> Anchor | None:
    """The last entry of a chain read through a plain connection (another database file)."""
    found = _at_or_before(conn, 1 << 62)
    return Anchor(*found) if found else None


def shared_until(old, new) -> int:
    """The number of the last entry two chains (SQLAlchemy connections) share, 0 when none.

    Each hash covers the one before it, so two chains that hold the same entry hold the same
    entries up to it: the shared part is a prefix, found by halving in a few dozen reads."""
    top_old = old.execute(text("SELECT max(id) FROM audit_log")).scalar() or 0
    top_new = new.execute(text("SELECT max(id) FROM audit_log")).scalar() or 0
    lo, hi = 0, min(top_old, top_new)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _at_or_before(old, mid) == _at_or_before(new, mid):
            lo = mid
        else:
            hi = mid - 1
    found = _at_or_before(old, lo)
    return found[0] if found else 0


def entries_after(conn, entry_id: int, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """The entries of a chain after ``entry_id``, oldest first, as plain values."""
    last = entry_id
    while True:
        rows = conn.execute(text("SELECT id, at, actor, role, action, target, detail, hash FROM audit_log "
                                 "WHERE id > :id ORDER BY id LIMIT :n"), {"id": last, "n": batch}).all()
        if not rows:
            return
        for r in rows:
            detail = r[6]
            if isinstance(detail, str):
                try:
                    detail = json.loads(detail)
                except ValueError:
                    pass
            at = r[1].isoformat(sep=" ") if isinstance(r[1], dt.datetime) else str(r[1])
            yield {"id": r[0], "at": at, "actor": r[2], "role": r[3], "action": r[4], "target": r[5],
                   "detail": detail, "hash": r[7]}
        last = rows[-1][0]


# -- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None  # the first entry that does not hold
    message: str = ""
    anchors: tuple[str, ...] = ()  # what each anchor checked against the chain, in words


def check_anchor(session: Session, anchor: Anchor) -> tuple[bool, str]:
    """Whether entry ``anchor.id`` still has that hash; else whether a restore carried it."""
    if anchor.id == 0:
        return True, f"凭证 {anchor}:日志开始之前,无需核对。"
    entry = session.get(AuditEntry, anchor.id)
    if entry is not None and entry.hash.startswith(anchor.hash):
        return True, f"凭证 {anchor} 相符:第 {anchor.id} 条审计记录与导出、打印或备份时一致。"
    for carried in session.scalars(select(AuditEntry).where(AuditEntry.action == CARRIED,
                                                            AuditEntry.target == f"原第 {anchor.id} 条")):
        if str((carried.detail or {}).get("hash", "")).startswith(anchor.hash):
            return True, (f"凭证 {anchor}:第 {anchor.id} 条在恢复备份时被撤下,其内容已转记为第 {carried.id} 条"
                          "(恢复已记入审计日志)。")
    if entry is None:
        return False, (f"凭证 {anchor} 不符:第 {anchor.id} 条审计记录已不存在。凭证表明它曾经存在,"
                       "审计日志被截断或回退到了更早的状态。")
    return False, (f"凭证 {anchor} 不符:现在的第 {anchor.id} 条审计记录的校验值是 {entry.hash[:ANCHOR_DIGITS]}。"
                   "审计日志被整体重算、替换或回退过。")


class VerifyCancelled(Cancelled):
    """校验 stopped by 取消 before the chain's end: the entries not walked may hold the break,
    so nothing can be said about the log (never 完整)."""

    def __init__(self, checked: int) -> None:
        super().__init__(f"校验已取消:只核对了前 {checked} 条,其余未核对,没有得出结论。")
        self.checked = checked


def verify(session: Session, batch: int = 5000, *, anchors: Iterable[Anchor] = (),
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> Verification:
    """Walk the chain from the first entry; report the first that was changed, inserted or
    follows a deleted one, an ``audit.head_mismatch`` written on an append, a stored head that
    is not the last entry, and each anchor that no longer holds.

    The chain is read ``batch`` entries at a time by id (a million entries take seconds):
    ``progress(done, total)`` after each batch, and ``cancelled()`` asked before each, which
    stops the walk with :class:`VerifyCancelled`. A break already found is reported, not
    cancelled. The session's snapshot (Database.session) keeps the entries and the head read
    at the end consistent however long the walk takes."""
    anchors = list(anchors)
    anchor_notes, anchor_broken = [], None
    for anchor in anchors:
        held, note = check_anchor(session, anchor)
        anchor_notes.append(note)
        if not held and anchor_broken is None:
            anchor_broken = note
    # the count only scales the progress bar: not asked for without one (the command line)
    total = 0
    if progress is not None:
        total = session.scalar(select(func.count(AuditEntry.id))) or 0
        progress(0, total)
    prev_hash, prev_id, checked = GENESIS, 0, 0
    chain_problem: tuple[int | None, str] | None = None
    mismatch: tuple[int, dict] | None = None
    for rows in _batches(session, batch):
        if cancelled is not None and cancelled():
            raise VerifyCancelled(checked)
        for entry in rows:
            checked += 1
            expected = entry_hash(entry.prev_hash, entry.at, entry.actor, entry.role, entry.action,
                                  entry.target, entry.detail or {})
            if entry.hash != expected:
                chain_problem = (entry.id, f"第 {entry.id} 条审计记录的内容被改动过(与其校验值不符)。")
                break
            if entry.prev_hash != prev_hash:
                chain_problem = (entry.id, f"第 {entry.id} 条审计记录与前一条(第 {prev_id} 条)接不上:"
                                           "其间的记录被删除,或这一条是插入的。")
                break
            if entry.action == MISMATCH and mismatch is None:
                mismatch = (entry.id, dict(entry.detail or {}))
            prev_hash, prev_id = entry.hash, entry.id
        if chain_problem is not None:
            break
        if progress is not None:
            progress(checked, max(total, checked))
    if chain_problem is None and mismatch is not None:
        at, found = mismatch
        chain_problem = (at, f"第 {at} 条审计记录表明:在它之前,审计日志的末尾与链头不符(记录的链头为"
                             f" {found.get('recorded_head')},实际最后一条为 {found.get('last_entry')})——"
                             "末尾的记录被删除、有记录被伪造追加,或链头被删除过。")
    if chain_problem is None:
        head = session.get(Setting, HEAD_KEY)
        if head is not None and (head.value or {}).get("hash") != prev_hash:
            expected_id = (head.value or {}).get("id")
            chain_problem = (prev_id or None, f"审计日志的末尾与记录的最后一条(第 {expected_id} 条)不符:"
                                              "末尾的记录被删除或追加过。")
        elif head is None and checked:
            chain_problem = (prev_id, "审计日志缺少链头记录,日志可能被替换过。")
    problems = ([chain_problem[1]] if chain_problem else []) + ([anchor_broken] if anchor_broken else [])
    if problems:
        broken = chain_problem[0] if chain_problem else None
        return Verification(False, checked, broken, "".join(problems), tuple(anchor_notes))
    extra = f"核对凭证 {len(anchors)} 个,均相符。" if anchors else ""
    return Verification(True, checked, None, f"审计日志完整:共 {checked} 条,逐条校验无误。{extra}",
                        tuple(anchor_notes))


def _batches(session: Session, batch: int) -> Iterator[list[AuditEntry]]:
    """The chain in order, ``batch`` entries at a time by id (never the whole log in memory)."""
    last = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id
        session.expunge_all()
