"""The :class:`Ledger` declaration (台账) and its :class:`Lifecycle` of statuses."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field as dc_field
from functools import cached_property
from typing import Any, Callable, Iterable, Mapping, Sequence

from mibao_desktop.ledgers.fields import Choice, Date, Field, Level, Person, Text

META_COLUMNS = ("id", "parent_id", "voided", "void_reason", "search_text", "created_at", "updated_at", "version")


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: the record's normalised values, its id (None while new), the records
    its reference fields point to, as they are now (``referenced("connected_computers")``), and a
    child record's parent (``parent()``).
    A rule that looks at other records names them in its message."""

    values: Mapping[str, Any]
    record_id: int | None
    referenced: Callable[[str], Sequence[Any]]
    # a child record's parent as it is now (an attendee's session), None for a top-level record
    # or where the caller cannot say
    parent: Callable[[], Any] = lambda: None


# A rule returns {field name: message} for each fault it finds (nothing when all is well).
Rule = Callable[[RuleContext], Mapping[str, str]]


def own_values_only(rule: Rule) -> Rule:
    """Marks a rule that reads only the record's own values (no ``referenced``, no ``parent``):
    a change to a record it refers to cannot break it, so such a change does not read every
    referring record to run it (a person's edit, with the thousand copies they hold)."""
    rule.own_values_only = True  # type: ignore[attr-defined]
    return rule


@dataclass(frozen=True)
class SampleContext:
    """What a ledger's sample rows (演示数据) are made from: a seeded random generator, a size
    and the rows registered before (a printer is connected to sample computers)."""

    rng: Any
    scale: float
    made: Mapping[str, Sequence[Mapping[str, Any]]]  # ledger key → the sample rows registered before
    people: Sequence[str]  # names of the unit's sample people

    def count(self, base: int) -> int:
        return max(1, int(base * self.scale))


SampleRows = Callable[[SampleContext], Iterable[dict[str, Any]]]


# How hand-kept ledgers spell statuses, for any lifecycle that has the status meant (a
# lifecycle's own ``synonyms`` come first): 已销毁 is also written 销毁 or 已销.
COMMON_STATUS_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("正常", "在用"), ("使用", "在用"), ("使用中", "在用"), ("在使用", "在用"), ("在用中", "在用"),
    ("正常", "在管"), ("在库", "在管"), ("已报废", "报废"), ("报废处理", "报废"),
    ("销毁", "已销毁"), ("已销", "已销毁"), ("销毁处理", "已销毁"),
    ("借用", "借出"), ("已借出", "借出"), ("外借", "借出"), ("借出中", "借出"),
    ("外出中", "外出"), ("携带外出", "外出"), ("已清退", "清退"), ("退回", "清退"),
)


def _status_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").strip()


# What a status change records beside the status (外出 where, why, who carries it, until when):
# declared per status with the lifecycle, one Field each, asked by the 变更状态 dialog, checked
# by the service, kept with the change in the record's history and printed on the forms.
# ``REASON`` is the change's own 原因 (kept as the event's reason, as it always was); every
# other fact is kept as a field change of the event, with no old value.
REASON = "reason"


def reason(*, required: bool) -> Field:
    return Field(REASON, "原因", Text(max_length=500, multiline=True), required=required)


# Seed 003 附表1 and 第十七条: a device taken out is approved, carried by a named person and
# comes back on a set day (the take-out form asks each).
TAKEOUT_FACTS = (
    Field("destination", "外出地点", Text(max_length=100), required=True),
    Field("trip_purpose", "外出事由", Text(max_length=200), required=True),
    Field("carried_by", "携带人", Person(), required=True),
    Field("return_by", "预计返回日期", Date(not_future=False), required=True),
)
# Seed 003 第十八条: repaired under supervision, and sent out only with its storage removed.
REPAIR_FACTS = (
    Field("repaired_by", "维修单位", Text(max_length=100), required=True),
    Field("escort", "陪同人员", Person(), required=True),
    Field("storage_removed", "是否拆除硬盘", Choice(("是", "否", "无硬盘")), required=True),
)
# Seed 002 §八, seed 003 第十一条: lent to a named person, back by a date.
LOAN_FACTS = (
    Field("borrower", "借用人", Person(), required=True),
    Field("due_back", "应还日期", Date(not_future=False), required=True),
)
CLOSING_FACTS = (reason(required=True),)
# A status that declares nothing asks for an optional 原因 (a closing one: a required one).
_OPEN_REASON = (reason(required=False),)


@dataclass(frozen=True)
class Action:
    """A recorded action on a record (a carrier copy's 分发, 借阅, 销毁 …, seed 002 §八): what the
    desktop offers as a form and a service carries out, with the facts it records.

    ``to`` is the status the action moves the record into (None: the status stays, as for 移交
    or 复制, whose event is then of kind ``key``); ``from_`` the statuses it may start from.
    Its facts are kept in the action's history event exactly as a status change's facts are
    (``Lifecycle.facts``), so that the history, the audit entry and the forms read them alike.
    ``rule`` cites what the action follows (shown in the form and in a refusal)."""

    key: str
    label: str  # 借阅
    to: str | None
    from_: tuple[str, ...]
    facts: tuple[Field, ...] = ()
    rule: str = ""


@dataclass(frozen=True)
class Lifecycle:
    """The statuses a record moves through.

    ``closing`` statuses (报废, 已销毁) need a reason and a date; ``terminal`` ones end the
    record's life: it is kept for ever but no longer changes. ``transitions`` limits where a
    status may go next; a status missing from it may go to any non-initial-only status.
    ``synonyms`` are the other words hand-kept ledgers use for a status (使用中 → 在用), read
    by an import (:meth:`status_of`) together with :data:`COMMON_STATUS_SYNONYMS`.

    ``facts`` declares, per target status, what a change into it records (:meth:`facts_for`).
    ``fit_to_go_out`` are the statuses in which a record may be taken out (外出审核表 warns
    otherwise: a device 维修, 报废 or 已销毁 is in no state to leave).
    """

    statuses: tuple[str, ...]
    initial: str
    closing: frozenset[str] = frozenset()
    terminal: frozenset[str] = frozenset()
    transitions: Mapping[str, tuple[str, ...]] = dc_field(default_factory=dict)
    synonyms: Mapping[str, str] = dc_field(default_factory=dict)
    facts: Mapping[str, tuple[Field, ...]] = dc_field(default_factory=dict)
    fit_to_go_out: frozenset[str] = frozenset()
    # recorded actions (a carrier copy's): when declared, a status changes only through them,
    # never by a bare 变更状态, which would skip their rules
    actions: tuple[Action, ...] = ()
    # status → the guided procedure through which a record leaves it for a closing status (a
    # person leaves 在岗 only by 离岗离职: talk, commitment, everything returned, access revoked)
    procedures: Mapping[str, str] = dc_field(default_factory=dict)
    # status → the fields 修改 may not change in it (an approved trip's where and when: what was
    # approved), and per status what to do instead, said with the refusal
    settled: Mapping[str, tuple[str, ...]] = dc_field(default_factory=dict)
    settled_why: Mapping[str, str] = dc_field(default_factory=dict)
    # the recorded action through which a new record is registered where 登记 is not plain, by
    # its key (a trip is applied for: 申请 marks a restricted one), carried out by the service of
    # the ledger's actions; None: the 新增 form stores the record as typed
    registered_by: str | None = None

    def __post_init__(self) -> None:
        wrong = {s for s in self.synonyms.values() if s not in self.statuses}
        if wrong:
            raise ValueError(f"synonyms for statuses the lifecycle has not: {sorted(wrong)}")
        wrong = (set(self.facts) | set(self.fit_to_go_out)) - set(self.statuses)
        if wrong:
            raise ValueError(f"facts or fit_to_go_out for statuses the lifecycle has not: {sorted(wrong)}")
        for status in self.closing:
            if not any(f.name == REASON and f.required for f in self.facts_for(status)):
                raise ValueError(f"closing status {status!r} must ask for a required reason")
        for action in self.actions:
            wrong = ({action.to} - {None} | set(action.from_)) - set(self.statuses)
            if wrong:
                raise ValueError(f"action {action.key!r} names statuses the lifecycle has not: {sorted(wrong)}")
        seen: dict[str, Field] = {}
        for f in (f for facts in [*self.facts.values(), *(a.facts for a in self.actions)] for f in facts):
            if f.many or (f.is_reference and not f.is_person):
                raise ValueError(f"fact {f.name!r}: a status fact is one value, a text, date, choice or person")
            if seen.setdefault(f.name, f) != f:
                raise ValueError(f"fact {f.name!r} declared twice, differently")

    def facts_for(self, status: str) -> tuple[Field, ...]:
        """What a change into ``status`` asks for, in the order the dialog shows it."""
        declared = self.facts.get(status)
        if declared is not None:
            return declared
        return CLOSING_FACTS if status in self.closing else _OPEN_REASON

    @cached_property
    def fact_fields(self) -> dict[str, Field]:
        """Every fact any status or action asks for, by name (the history's labels, the forms)."""
        return {f.name: f for status in self.statuses for f in self.facts_for(status)} | {
            f.name: f for action in self.actions for f in action.facts}

    def action(self, key: str) -> Action:
        for action in self.actions:
            if action.key == key:
                return action
        raise KeyError(f"no action {key!r}")

    def allowed_next(self, current: str) -> tuple[str, ...]:
        if current in self.terminal:
            return ()
        if current in self.transitions:
            return self.transitions[current]
        return tuple(s for s in self.statuses if s != current)

    @cached_property
    def _words(self) -> dict[str, str]:
        words = {_status_key(text): status for text, status in COMMON_STATUS_SYNONYMS if status in self.statuses}
        words.update({_status_key(text): status for text, status in self.synonyms.items()})
        words.update({_status_key(s): s for s in self.statuses})
        return words

    def status_of(self, text: str) -> str | None:
        """The status a ledger's word means (``停用 ``, ``使用中``, ``已报废``), None if none."""
        return self._words.get(_status_key(text))


DEVICE_LIFECYCLE = Lifecycle(
    statuses=("在用", "停用", "维修", "外出", "报废", "已销毁"),
    initial="在用",
    closing=frozenset({"报废", "已销毁"}),
    terminal=frozenset({"已销毁"}),
    transitions={"报废": ("已销毁",)},
    synonyms={"正常": "在用", "使用": "在用", "使用中": "在用", "在使用": "在用", "启用": "在用",
              "已报废": "报废", "待报废": "报废", "销毁": "已销毁", "已销": "已销毁",
              "封存": "停用", "停止使用": "停用", "闲置": "停用", "已停用": "停用",
              "维修中": "维修", "送修": "维修", "在修": "维修", "外出中": "外出", "携带外出": "外出"},
    facts={"外出": TAKEOUT_FACTS, "维修": REPAIR_FACTS, "报废": CLOSING_FACTS, "已销毁": CLOSING_FACTS},
    fit_to_go_out=frozenset({"在用", "外出"}),
)

# Leaving a classified post (seed 002 §六(三), seed 003 涉密人员管理制度 第七、八条): the 保密提醒谈话,
# the 离岗保密承诺书 signed, the carriers and devices returned (checked by the departure service),
# the access to classified systems revoked; each is a fact of the change that closes the person,
# kept in its history event and printed on the 离岗保密承诺书. The departure service asks for
# every one when the person leaves 在岗 (services/departure.py); a later move (已脱密 → 退休)
# need not repeat them.
DEPARTURE_FACTS = (
    reason(required=True),
    Field("briefed_on", "保密提醒谈话日期", Date()),
    Field("briefed_by", "谈话人", Text(max_length=40)),
    Field("pledge_signed_on", "离岗保密承诺书签订日期", Date()),
    Field("access_revoked_by", "取消涉密系统权限经办人", Text(max_length=40)),
    Field("access_revoked_on", "取消权限日期", Date()),
)
DECOMMISSIONING, DECOMMISSIONED = "脱密期", "已脱密"  # seed 003 涉密人员管理制度 第七条
PEOPLE_LIFECYCLE = Lifecycle(
    statuses=("在岗", DECOMMISSIONING, DECOMMISSIONED, "调离", "退休"),
    initial="在岗",
    # leaving the post closes the person: with a reason, and only with nothing in their hands
    closing=frozenset({DECOMMISSIONING, DECOMMISSIONED, "调离", "退休"}),
    transitions={"在岗": (DECOMMISSIONING, "调离", "退休"), DECOMMISSIONING: (DECOMMISSIONED, "退休"),
                 DECOMMISSIONED: ("在岗", "调离", "退休"), "调离": ("在岗",), "退休": ("在岗",)},
    # 离职 (the register's old status and a hand-kept ledger's word) says only that they left:
    # 调离, whose 脱密期 nobody recorded; 退休 is a status of its own now
    synonyms={"在职": "在岗", "正常": "在岗", "在编": "在岗", "已调离": "调离", "调出": "调离", "调走": "调离",
              "离职": "调离", "已离职": "调离", "离岗": "调离", "辞职": "调离", "已退休": "退休",
              "脱密": DECOMMISSIONING, "脱密中": DECOMMISSIONING, "脱密期内": DECOMMISSIONING,
              "脱密期满": DECOMMISSIONED, "已过脱密期": DECOMMISSIONED},
    facts={s: DEPARTURE_FACTS for s in (DECOMMISSIONING, "调离", "退休")},
    procedures={"在岗": "离岗离职"},
)

MEDIA_LIFECYCLE = Lifecycle(
    statuses=("在用", "借出", "外出", "报废", "已销毁"),
    initial="在用",
    closing=frozenset({"报废", "已销毁"}),
    terminal=frozenset({"已销毁"}),
    transitions={"报废": ("已销毁",)},
    synonyms={"正常": "在用", "使用": "在用", "使用中": "在用", "在使用": "在用", "在库": "在用",
              "借用": "借出", "已借出": "借出", "外借": "借出", "借用中": "借出",
              "外出中": "外出", "携带外出": "外出", "已报废": "报废", "销毁": "已销毁", "已销": "已销毁"},
    facts={"借出": LOAN_FACTS, "外出": TAKEOUT_FACTS, "报废": CLOSING_FACTS, "已销毁": CLOSING_FACTS},
    fit_to_go_out=frozenset({"在用", "外出"}),
)


@dataclass(frozen=True)
class LabelSpec:
    """What a ledger's labels say (标识, seed 002 §七.4).

    The level label shows ``title``, the level from ``level_field`` (None: the ledger has no
    level label) and the ``lines`` fields; the reminder label shows ``reminder``.

    ``reminder`` may be declared as its phrases, ``("涉密计算机", "严禁接入", "互联网", …)``: a
    line of the label then breaks only between two of them, never inside 互联网 or 公共信息网络,
    and the text is shrunk until its phrases fit. ``reminder`` holds the whole text either way
    and ``phrases`` the parts (a text declared whole is one phrase per clause, broken after
    its punctuation only).
    """

    title: str
    reminder: str  # declared as a text or as its phrases (a tuple); a text once made
    level_field: str | None = "level"
    lines: tuple[str, ...] = ("asset_number", "responsible_person", "classified_on")
    phrases: tuple[str, ...] = dc_field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.reminder, str):
            parts = tuple(self.reminder)
            if not parts or not all(isinstance(p, str) and p for p in parts):
                raise ValueError(f"{self.title}的保密提醒应为文字或非空的短语序列")
            object.__setattr__(self, "reminder", "".join(parts))
            object.__setattr__(self, "phrases", parts)
        elif not self.phrases:
            object.__setattr__(self, "phrases", clauses(self.reminder))
        elif "".join(self.phrases) != self.reminder:
            raise ValueError(f"{self.title}的保密提醒短语连起来应为“{self.reminder}”")


CLAUSE_ENDS = "、,,。;;::!!??))」』"


def clauses(text: str) -> tuple[str, ...]:
    """A text cut after each punctuation mark: the places a Chinese line may break when nothing
    finer is declared (the mark stays at the end of its line, never starts the next)."""
    parts, current = [], ""
    for ch in text:
        current += ch
        if ch in CLAUSE_ENDS:
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return tuple(parts)


@dataclass(frozen=True)
class Ledger:
    """One ledger, declared once.

    ``unique_scope`` names the space in which unique fields may not repeat: classified and
    unclassified computers share one, so a MAC cannot sit in both. ``parent`` makes this a
    sub-ledger whose records belong to a record of another ledger (a carrier's copies by
    份号, a staff member's training hours).
    """

    key: str
    title: str  # 涉密计算机台账
    noun: str  # 涉密计算机
    fields: tuple[Field, ...]
    lifecycle: Lifecycle
    key_field: str = "asset_number"
    label_field: str = ""  # what a reference to a record shows (default: its number; a person: the name)
    unique_scope: str = ""
    parent: str | None = None  # a child ledger: each record belongs to a record of this ledger
    parent_label: str = ""  # the column naming the parent in an import (所属载体)
    # the parent's field saying how many records of this ledger it has (a carrier's 份数): an
    # import of a carrier book checks the 份号 it lists against it
    counted_by: str = ""
    # the fields the index of a child ledger's records by parent holds besides the parent and
    # ``voided``: a list of many parents' records that reads only these (a department's check
    # list, 100,000 copies) reads the index alone instead of every record's row
    by_parent_index: tuple[str, ...] = ()
    # a field whose column may number the records when a book keeps no number of its own (a
    # carrier book kept by 文号): an import takes the 登记编号 from it, rows of one 文号 one carrier
    key_from: str = ""
    aliases: tuple[str, ...] = ()  # other names the command line accepts
    rules: tuple[Rule, ...] = ()
    default_sort: str = ""
    label: LabelSpec | None = None
    forms: tuple[str, ...] = ()  # the approval forms printed from its records (printing.templates)
    # its 登记簿 (收文、发文、借阅、复制登记簿, 销毁清单) are read by period from its records' recorded
    # actions (ledgers/carrier_registers.py): the desktop offers 登记簿… on its page
    registers: bool = False
    # a child record registered is said in its parent's history too, as an event of this kind (a
    # person's 重大事项报告 is part of their own record: services/views.py ACTION_LABELS)
    parent_history: str = ""
    sample: SampleRows | None = None  # sample rows for the demo
    auto_number: str = ""  # a format such as "RY-{:04d}": the number given when none is typed

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.key}: duplicate field names")
        for required in (self.key_field, "status"):
            if required not in names:
                raise ValueError(f"{self.key}: missing field {required!r}")
        clash = set(names) & set(META_COLUMNS)
        if clash:
            raise ValueError(f"{self.key}: field names {sorted(clash)} are kept for the storage")
        clash = set(names) & set(self.lifecycle.fact_fields)
        if clash:  # the history keeps both by name: a fact must not read as an edit of a field
            raise ValueError(f"{self.key}: status facts named as fields: {sorted(clash)}")
        if set(self.by_parent_index) - set(names) or (self.by_parent_index and self.parent is None):
            raise ValueError(f"{self.key}: by_parent_index names no field of a child ledger")
        if not self.unique_scope:
            object.__setattr__(self, "unique_scope", self.key)
        if not self.default_sort:
            object.__setattr__(self, "default_sort", self.key_field)
        if not self.label_field:
            object.__setattr__(self, "label_field", self.key_field)

    @cached_property
    def table_name(self) -> str:
        return f"ledger_{self.key}"

    @cached_property
    def own_value_rules(self) -> tuple[Rule, ...]:
        """Its rules that read only the record's own values (``own_values_only``)."""
        return tuple(rule for rule in self.rules if getattr(rule, "own_values_only", False))

    @cached_property
    def rules_read_others(self) -> bool:
        """Whether any of its rules reads other records (what its references point to, its
        parent): only then does a change to one of those, or an import, read them for it."""
        return len(self.own_value_rules) < len(self.rules)

    @cached_property
    def reference_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_reference)

    @cached_property
    def facet_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.facet)

    @cached_property
    def computed_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.compute is not None)

    @cached_property
    def level_field(self) -> Field | None:
        """The record's own 密级, if the ledger has one (a required level: a person's 岗位密级,
        which only classified staff have, is a level but not the record's, and never 待补充)."""
        return next((f for f in self.fields if isinstance(f.type, Level) and f.required), None)

    @cached_property
    def in_service_field(self) -> Field | None:
        """The date the record came into the holdings (``Field.in_service``), if the ledger keeps one."""
        return next((f for f in self.fields if f.in_service), None)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.key} has no field {name!r}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    @cached_property
    def form_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.editable)

    @cached_property
    def searchable_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.searchable)

    @cached_property
    def unique_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.unique)

    @cached_property
    def status_field(self) -> Field:
        return self.field("status")
