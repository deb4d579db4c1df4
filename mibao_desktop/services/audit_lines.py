"""The audit log in the domain's words (审计日志的显示): what the auditor's window and export show
of each entry. Qt-free.

An entry is stored as the service wrote it (``computers:JM-0001``, ``{"record_id": 621}``) and
its hash covers exactly that, so nothing stored changes here: this module only says it in the
ledger's words — ``涉密计算机 JM-0001``, the field labels with old and new values, 撤销 for an
undo. Ledger names come from the declarations; a record id is read from the records register,
for a whole page of entries in one query (:func:`describe_all`).

Entries written before an edit recorded its values (only ``fields``) read as the list of the
fields changed; an entry this module does not know still shows every key and value it holds.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mibao_desktop.db.models import Record
from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import LEDGERS, Ledger
from mibao_desktop.services.audit_service import action_label

UNDO_LABELS = {"record.update": "撤销修改", "record.status": "撤销状态变更"}
EMPTY = "(空)"
ID_BATCH = 500  # ids per query on the records register

# What each key of an entry's detail means. A key not listed shows as itself (an entry written
# by a later version, or one this list has not caught up with, stays readable).
DETAIL_LABELS = {
    "reason": "原因", "ledger": "台账", "fields": "修改字段", "field": "字段", "count": "条数",
    "records": "记录数", "refused": "未修改", "file": "文件", "anchor": "审计链头", "marking": "密级标志",
    "what": "内容", "layout": "版式", "labels": "标识数", "printer": "打印机", "unit": "单位名称",
    "safe_margin_mm": "安全边距(毫米)", "asset_numbers": "编号", "items": "所列编号", "pages": "页数",
    "search": "搜索词", "filters": "筛选", "columns": "列", "year": "年度", "person": "人员",
    "sha256": "SHA-256", "size": "大小(字节)", "manifest": "校验文件", "result": "结果", "checked": "校验条数",
    "broken_id": "异常记录序号", "anchors": "核对凭证", "role": "角色", "length": "所输用户名长度",
    "until": "锁定至", "minutes": "锁定分钟", "failures": "失败次数", "source": "来源文件", "created": "新增",
    "refused_rows": "未导入行数", "people_added": "新增人员", "name": "姓名", "people": "人员",
    "recorded_head": "记录的链头", "last_entry": "实际最后一条", "recorded_head_hash": "记录的链头校验值",
    "last_entry_hash": "实际最后一条校验值", "previous_saved_as": "原数据库另存为", "damaged": "原数据库已损坏",
    "registered": "登记在册的备份", "dropped": "比原日志少(条)", "previous_head": "原链头",
    "restored_head": "恢复后链头", "carried": "转记", "note": "说明", "hash": "校验值", "by": "操作人",
    "date": "日期", "form": "表单行", "pending": "待补充记录数", "changes": "变更条数",
    # a carrier's recorded actions (services/carrier_actions.py)
    "doing": "手续", "copies": "份数", "copy_numbers": "份号", "stamp": "加盖戳记", "carrier": "载体",
    "action": "办理事项", "copy": "载体份", "made": "复制件", "original": "原件", "approver": "批准人",
    "status": "状态",
}
# Keys said another way (record_id: the record's number; changes, from/to: 字段: 旧 → 新)
# or not worth a line of their own.
_SPECIAL = {"record_id", "changes", "from", "to", "undoes", "reverses", "fields", "changed", "reason", "facts",
            "record_ids"}
_LEDGER_TARGET = re.compile(r"([a-z_]+):(.+)", re.S)
# Whose target is what: a record's or a ledger's action names a ledger (computers) or a record
# (computers:JM-0001); an account's or a login's names an account, said as 账户 <login name>.
RECORD_ACTIONS = ("record.", "ledger.", "report.")
ACCOUNT_ACTIONS = ("account.", "auth.")
ACCOUNT = "账户"


@dataclass(frozen=True)
class RecordName:
    """A record as the records register has it now."""

    ledger: str
    label: str
    voided: bool = False
    parent: str = ""  # a child ledger's record (a carrier's copy): its parent's number

    def text(self) -> str:
        ledger = LEDGERS.get(self.ledger)
        if ledger is None:
            return f"{self.ledger} {self.label}"
        if self.parent:  # a copy's number alone says nothing: ZT-2022-002·份号5
            return f"{ledger.noun} {self.parent}·{ledger.field(ledger.key_field).label}{self.label}"
        return f"{ledger.noun} {self.label}"


@dataclass(frozen=True)
class AuditLine:
    """One entry as shown: its columns, and every part of its detail, each on a line of its own."""

    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    action_text: str
    target_text: str
    parts: tuple[str, ...]
    undo: bool = False

    @property
    def detail_text(self) -> str:
        """The detail on one line (the table's cell, the export's column): a value of several
        lines (a remark) has its breaks as spaces here, and whole in :attr:`full_text`."""
        return ";".join(" ".join(p.split("\n")) for p in self.parts)

    @property
    def full_text(self) -> str:
        """The whole entry, for the detail pane: nothing cut off."""
        head = [f"第 {self.id} 条    {self.at:%Y-%m-%d %H:%M:%S}",
                f"用户:{self.actor}" + (f"({self.role})" if self.role else ""),
                f"操作:{self.action_text}"]
        if self.target_text:
            head.append(f"对象:{self.target_text}")
        return "\n".join(head + (["详情:"] + [f"  {p}" for p in self.parts] if self.parts else []))


# -- the records an entry names ----------------------------------------------------------------


def _record_ids(detail: Any) -> Iterable[int]:
    if not isinstance(detail, dict):
        return
    rid = detail.get("record_id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        yield rid
    if isinstance(detail.get("detail"), dict):  # an entry a restore carried, with its own
        yield from _record_ids(detail["detail"])


def _registered(session: Session, ids: Iterable[int]) -> dict[int, RecordName]:
    ids = sorted(set(ids))
    found: dict[int, RecordName] = {}
    for start in range(0, len(ids), ID_BATCH):
        chunk = ids[start:start + ID_BATCH]
        for rid, ledger, label, voided in session.execute(
                select(Record.id, Record.ledger, Record.label, Record.voided).where(Record.id.in_(chunk))):
            found[rid] = RecordName(ledger, label or "", bool(voided))
    return found


def record_names(session: Session, rows: Iterable[Any]) -> dict[int, RecordName]:
    """The records the entries name, from the records register: one query per 500 ids, so that
    a page of entries costs one query, not one per entry (and, when it names a carrier's
    copies, two more for their carriers' numbers)."""
    found = _registered(session, (rid for row in rows for rid in _record_ids(row.detail)))
    children: dict[str, list[int]] = {}
    for rid, name in found.items():
        ledger = LEDGERS.get(name.ledger)
        if ledger is not None and ledger.parent is not None:
            children.setdefault(ledger.key, []).append(rid)
    parent_of: dict[int, int] = {}
    for key, ids in children.items():
        table = table_of(key)
        for start in range(0, len(ids), ID_BATCH):
            parent_of.update((rid, parent) for rid, parent in session.execute(
                select(table.c.id, table.c.parent_id).where(table.c.id.in_(ids[start:start + ID_BATCH]))))
    parents = _registered(session, (p for p in parent_of.values() if p is not None))
    for rid, parent_id in parent_of.items():
        if parent_id in parents:
            found[rid] = replace(found[rid], parent=parents[parent_id].label)
    return found


def describe_all(session: Session, rows: Sequence[Any]) -> list[AuditLine]:
    names = record_names(session, rows)
    return [describe(row, names) for row in rows]


# -- one entry --------------------------------------------------------------------------------
# An entry's detail is JSON as stored: dicts and lists (isinstance against typing's Mapping took
# half the time of a page of 2,000 entries).


def _value(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(_value(v) if not isinstance(v, (list, tuple)) else " ".join(map(_value, v)) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}:{_value(v)}" for k, v in value.items())
    return str(value)


def _change(label: Any, old: Any, new: Any) -> str:
    return f"{label}:{_value(old) or EMPTY} → {_value(new) or EMPTY}"


def _ledger_target(target: str) -> tuple[Ledger, str] | None:
    """``computers:JM-0001`` → (its ledger, ``JM-0001``); None for any other target."""
    match = _LEDGER_TARGET.fullmatch(target or "")
    if match and match[1] in LEDGERS:
        return LEDGERS[match[1]], match[2]
    return None


def _names_records(action: Any) -> bool:
    """Whether an entry's target may name a ledger or a record: only a record's or a ledger's
    action writes one. Any other target is said as written (an account may well be named
    ``computers:JM-0001``: its entries must not pass for that computer's)."""
    return str(action or "").startswith(RECORD_ACTIONS)


def _record_target(row: Any) -> tuple[Ledger, str] | None:
    """The ledger and number an entry's target names (None: it names none, see above)."""
    return _ledger_target(str(row.target or "")) if _names_records(row.action) else None


def _target(row: Any, names: Mapping[int, RecordName]) -> str:
    target = str(row.target or "")
    if str(row.action or "").startswith(ACCOUNT_ACTIONS):  # a login, an account's creation …
        return f"{ACCOUNT} {target}" if target else ""
    if target in LEDGERS and _names_records(row.action):  # an import: the ledger itself
        return LEDGERS[target].title
    named = _record_target(row)
    rid = row.detail.get("record_id") if isinstance(row.detail, dict) else None
    now = names.get(rid) if isinstance(rid, int) else None
    if named is None:
        if not target and now is not None:
            return now.text()
        return target
    ledger, rest = named
    if row.action == "record.bulk_update":  # computers:department, the field set on many records
        return f"{ledger.title} · {ledger.field(rest).label if ledger.has_field(rest) else rest}"
    if now is not None and now.parent:  # a carrier's copy, named with its carrier
        return now.text()
    text = f"{ledger.noun} {rest}"
    if now is not None and now.label and now.label != rest:
        # a person is named by their name; a record renumbered since by the number it has now
        text += f"({now.label})" if ledger.label_field != ledger.key_field else f"(现编号 {now.label})"
    return text


def _field_label(ledger_title: Any, name: str) -> str:
    """A field of the ledger titled ``ledger_title`` (as an output entry names it) by its label."""
    ledger = next((l for l in LEDGERS.values() if l.title == ledger_title), None)
    return ledger.field(name).label if ledger is not None and ledger.has_field(name) else name


def _is_undo(row: Any) -> bool:
    """An edit that takes back an earlier one (``undoes``), a status change that reverses one
    (``reverses``): each is a new entry, said as the undo it is."""
    detail = row.detail if isinstance(row.detail, dict) else {}
    return ((row.action == "record.update" and bool(detail.get("undoes")))
            or (row.action == "record.status" and bool(detail.get("reverses"))))


def _parts(row: Any, names: Mapping[int, RecordName], target_text: str) -> list[str]:
    detail = row.detail if isinstance(row.detail, dict) else {}
    parts: list[str] = []
    undoes = detail.get("undoes")
    if undoes:
        at = undoes.get("at") if isinstance(undoes, dict) else undoes
        parts.append(f"撤销 {at} 的修改")
    changes = detail.get("changes")
    if isinstance(changes, list) and changes:
        parts.extend(_change(*c) for c in changes if isinstance(c, (list, tuple)) and len(c) == 3)
    elif detail.get("fields"):  # written before edits recorded their values
        parts.append(f"修改字段:{_value(detail['fields'])}")
    if "from" in detail or "to" in detail:
        parts.append(_change("状态", detail.get("from"), detail.get("to")))
    changed = detail.get("changed")
    if isinstance(changed, dict):  # a setting: {label: [old, new]}
        parts.extend(_change(k, *(v if isinstance(v, (list, tuple)) and len(v) == 2 else ("", v)))
                     for k, v in changed.items())
    elif changed not in (None, "", [], {}):
        parts.append(f"修改:{_value(changed)}")
    facts = detail.get("facts")
    if isinstance(facts, dict):  # what a status change carried (外出: 目的地, 携带人 …)
        parts.extend(f"{k}:{_value(v)}" for k, v in facts.items() if _value(v))
    if detail.get("reason") and not undoes:
        parts.append(f"原因:{_value(detail['reason'])}")
    elif detail.get("reverses") and not detail.get("reason"):
        reverses = detail["reverses"]
        parts.append(f"撤销:{_value(reverses.get('change') if isinstance(reverses, dict) else reverses)}")
    rid = detail.get("record_id")
    named_by_target = _record_target(row) is not None
    if isinstance(rid, int) and rid in names and not named_by_target and names[rid].text() not in target_text:
        parts.append(f"记录:{names[rid].text()}")
    elif isinstance(rid, int) and rid not in names and not target_text:
        parts.append(f"记录:内部编号 {rid}(已不在记录登记中)")
    if row.action == "audit.carried" and isinstance(detail.get("detail"), dict):
        parts.extend(_carried(detail, names))
        return parts
    for key, value in detail.items():
        if key == "changes" and not isinstance(value, list):
            pass  # a count (the annual report's changes), not an edit's changes
        elif key in _SPECIAL or (key == "ledger" and (named_by_target or str(value) == target_text)):
            continue  # said above, or the target already names the ledger
        if key == "name" and str(value) in target_text:
            continue  # a person registered: the target names them already
        if key == "filters" and isinstance(value, dict):  # an export's filters, by field name
            value = {_field_label(detail.get("ledger"), k): v for k, v in value.items()}
        if key == "people" and isinstance(value, list):  # [[id, number, name], …]: the ids said nothing
            value = [p[1:] if isinstance(p, (list, tuple)) and len(p) == 3 else p for p in value]
        shown = _value(value)
        if shown:
            parts.append(f"{DETAIL_LABELS.get(key, key)}:{shown}")
    return parts


@dataclass(frozen=True)
class _Original:
    """The entry inside an ``audit.carried`` one, with an entry's attributes."""

    id: Any
    at: Any
    actor: str
    role: str
    action: str
    target: str
    detail: Any


def _carried(detail: Mapping[str, Any], names: Mapping[int, RecordName]) -> list[str]:
    """An entry a restore dropped and the chain carried: said as that entry was."""
    original = _Original(detail.get("id"), detail.get("at"), str(detail.get("actor") or ""),
                         str(detail.get("role") or ""), str(detail.get("action") or ""),
                         str(detail.get("target") or ""), detail.get("detail") or {})
    shown = describe(original, names)
    who = original.actor + (f"({original.role})" if original.role else "")
    lines = [f"原记录:第 {original.id} 条,{original.at},{who},{shown.action_text}"
             + (f" {shown.target_text}" if shown.target_text else "")]
    lines.extend(shown.parts)
    if detail.get("hash"):
        lines.append(f"原校验值:{detail['hash']}")
    return lines


def describe(row: Any, names: Mapping[int, RecordName] | None = None) -> AuditLine:
    """One entry (an ``AuditRow`` or anything with its attributes) in the domain's words.
    ``names``: the records it names (:func:`record_names`); without them a record id that the
    target does not name is said as an internal number."""
    names = names or {}
    undo = _is_undo(row)
    target_text = _target(row, names)
    text = UNDO_LABELS[row.action] if undo else action_label(row.action)
    return AuditLine(row.id, row.at, row.actor, row.role, row.action, text, target_text,
                     tuple(_parts(row, names, target_text)), undo)


__all__ = ["AuditLine", "DETAIL_LABELS", "RecordName", "UNDO_LABELS", "describe", "describe_all", "record_names"]
