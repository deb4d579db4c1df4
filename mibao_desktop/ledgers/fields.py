"""Field types and the :class:`Field` declaration that every ledger is built from.

A field says once what it is (Chinese label, type, required, choices, uniqueness, search);
validation, storage, the table, the edit form, Excel columns and the change history all read
that one declaration.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass, field as dc_field, replace
from functools import cached_property
from typing import Any, Callable, Mapping

from mibao_desktop.ledgers import levels
from mibao_desktop.ledgers.normalize import (
    FieldError,
    clean_text,
    compact_name,
    exact_number,
    is_blank,
    normalise_date,
    normalise_id_number,
    normalise_mac,
    split_values,
)


LIST_JOINER = "；"  # how a list is shown (tables, history, Excel): what the history's text is split by again
SORT_KEY_SUFFIX = "__pinyin"  # the column beside a field sorted in pinyin order (never a field's own name: no __)
VOIDED_MARK = "(已作废)"  # after a reference to a voided record, wherever it is shown


class FieldType:
    """How one value is normalised, stored (JSON-safe) and shown."""

    editor = "line"  # the kind of widget the edit form builds: line, text, choice, date, int
    sort_numeric = False
    identifier = False  # folded (NFKC, invisible characters removed) before it is stored and compared

    def normalise(self, raw: Any) -> Any:
        raise NotImplementedError

    def to_storage(self, value: Any) -> Any:
        return value

    def from_storage(self, stored: Any) -> Any:
        return stored

    def display(self, value: Any) -> str:
        return "" if value is None else str(value)

    def search_forms(self, value: Any) -> list[str]:
        """Extra spellings the search box should find the value by."""
        return [self.display(value)]

    def masked(self, shown: str) -> str:
        """The text shown to someone who may not see the whole value (an ID number's middle)."""
        return shown


@dataclass(frozen=True)
class Text(FieldType):
    """Text. Free text (remarks, models, places, names) is kept as typed; an identifier (a
    number, serial or code: ``upper``, or a field declared ``unique``, see :class:`Field`) is
    folded: ＪＭ－００１ is JM-001, invisible characters are removed."""

    max_length: int = 100
    multiline: bool = False
    upper: bool = False  # identifiers such as serial numbers compare case-insensitively
    fold: bool | None = None  # None: fold when ``upper``

    @property
    def editor(self) -> str:  # type: ignore[override]
        return "text" if self.multiline else "line"

    @property
    def identifier(self) -> bool:  # type: ignore[override]
        return self.upper if self.fold is None else self.fold

    def normalise(self, raw: Any) -> str:
        if raw.__class__ is not str:
            raw = exact_number(raw)  # 2023001.0 → 2023001; an 18-digit number has lost its end
        text = clean_text(raw, multiline=self.multiline, fold=self.identifier, identifier=self.identifier)
        if self.upper:
            text = text.upper()
        if len(text) > self.max_length:
            raise FieldError(f"内容过长:最多 {self.max_length} 个字,现有 {len(text)} 个字")
        return text


@dataclass(frozen=True)
class Choice(FieldType):
    """One of a fixed list; ``open_list`` also accepts values not in the list (e.g. OS names)."""

    choices: tuple[str, ...] = ()
    open_list: bool = False
    max_length: int = 50
    editor = "choice"

    def normalise(self, raw: Any) -> str:
        text = clean_text(raw)  # folded for matching (Ｗｉｎｄｏｗｓ 10 is Windows 10)
        compact = text.replace(" ", "")
        for choice in self.choices:
            if compact == choice.replace(" ", ""):
                return choice
        if self.open_list:  # a value of its own is kept as typed
            text = clean_text(raw, fold=False)
            if len(text) > self.max_length:
                raise FieldError(f"内容过长:最多 {self.max_length} 个字")
            return text
        raise FieldError(f"“{text}”不是可选值,应为:{'、'.join(self.choices)}")


@dataclass(frozen=True)
class Level(FieldType):
    """密级. Accepts ``机密级``, ``秘 密``, ``秘密★`` and stores the bare level.

    ``period_field`` names the ledger's 保密期限 field: a marking such as ``机密★10年`` then
    fills it too (a period given on its own as well must agree). Without one, the ledger keeps
    no period: the service notes (import) or refuses (form) a marking that carries one.

    ``declared`` is the ledger's kind: the three (a ledger of classified items) or the three and
    非涉密 (one that holds both). What the field takes is that, with the unit's own levels that
    fit it, in the unit's order (:func:`levels.accepted`): asked anew each time, so a level the
    security administrator adds is a choice at once.
    """

    declared: tuple[str, ...] = levels.LEVELS
    period_field: str | None = None
    editor = "choice"

    @property
    def allowed(self) -> tuple[str, ...]:
        return levels.accepted(self.declared)

    @property
    def choices(self) -> tuple[str, ...]:
        return self.allowed

    def normalise(self, raw: Any) -> str:
        return levels.normalise_level(raw, self.allowed)


@dataclass(frozen=True)
class SecrecyPeriod(FieldType):
    """保密期限: a number of years, or 长期 (stored as :data:`levels.LONG_TERM`)."""

    editor = "choice"
    open_list = True
    choices = ("长期", "30年", "20年", "10年", "5年")
    sort_numeric = True

    def normalise(self, raw: Any) -> int:
        return levels.parse_period(raw)

    def display(self, value: Any) -> str:
        return levels.period_text(value)


@dataclass(frozen=True)
class Date(FieldType):
    not_future: bool = True  # a registration, classification or purchase date lies in the past
    editor = "date"

    def normalise(self, raw: Any) -> dt.date:
        value = normalise_date(raw)
        if value.year < 1950:
            raise FieldError(f"日期 {value.isoformat()} 过早,请核对年份")
        if self.not_future and value > dt.date.today():
            raise FieldError(f"日期 {value.isoformat()} 晚于今天,请核对")
        return value

    def from_storage(self, stored: Any) -> dt.date | None:
        if isinstance(stored, str):  # the ISO text of a database before revision 0006
            return dt.date.fromisoformat(stored)
        return stored

    def display(self, value: Any) -> str:
        return "" if value is None else value.isoformat()


@dataclass(frozen=True)
class Integer(FieldType):
    minimum: int = 0
    maximum: int = 10**9
    unit: str = ""
    editor = "int"
    sort_numeric = True

    def normalise(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise FieldError("应为整数")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = clean_text(raw)
        if self.unit and text.upper().endswith(self.unit.upper()):
            text = text[: -len(self.unit)].strip()
        try:
            number = int(text)
        except ValueError:
            raise FieldError(f"“{text}”不是整数") from None
        if not self.minimum <= number <= self.maximum:
            raise FieldError(f"应在 {self.minimum} 到 {self.maximum} 之间")
        return number

    def display(self, value: Any) -> str:
        return "" if value is None else f"{value}{self.unit}"


@dataclass(frozen=True)
class Tenths(FieldType):
    """A quantity with at most one decimal (学时 1.5), given as a :class:`~decimal.Decimal` and
    stored as a whole number of tenths (15): a year's hours are then summed exactly in SQL,
    with no float that makes 0.1 + 0.2 fall short of 0.3."""

    minimum: int = 0  # in tenths
    maximum: int = 10_000
    unit: str = ""  # 学时, 小时: a cell may carry it after the number
    sort_numeric = True

    def normalise(self, raw: Any) -> Decimal:
        if isinstance(raw, bool):
            raise FieldError("应为数字")
        if isinstance(raw, float):
            raw = repr(round(raw, 6))
        text = clean_text(raw)
        for unit in (self.unit, "学时", "小时", "课时", "h", "H"):
            if unit and text.endswith(unit):
                text = text[: -len(unit)].strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldError(f"“{text}”不是数字") from None
        if not number.is_finite() or number * 10 != (number * 10).to_integral_value():
            raise FieldError(f"“{text}”最多保留一位小数")
        if not self.minimum <= int(number * 10) <= self.maximum:
            raise FieldError(f"应在 {tenths_text(self.minimum)} 到 {tenths_text(self.maximum)} 之间")
        return number.quantize(Decimal("0.1"))

    def to_storage(self, value: Decimal) -> int:
        return int(value * 10)

    def from_storage(self, stored: Any) -> Decimal | None:
        return None if stored is None else Decimal(int(stored)) / 10

    def display(self, value: Any) -> str:
        return "" if value is None else f"{tenths_text(int(value * 10))}{self.unit}"


def tenths_text(tenths: int) -> str:
    """15 → "1.5", 80 → "8": a number of tenths as a person writes it."""
    whole, part = divmod(int(tenths), 10)
    return str(whole) if part == 0 else f"{tenths / 10:.1f}"


@dataclass(frozen=True)
class MacAddress(FieldType):
    """网卡物理地址, stored as ``00-1A-2B-3C-4D-5E``; found by search in any spelling."""

    identifier = True

    def normalise(self, raw: Any) -> str:
        return normalise_mac(raw)

    def search_forms(self, value: str) -> list[str]:
        return [value, value.replace("-", "")]  # the colon spelling is searched as hyphens


@dataclass(frozen=True, eq=False)
class Ref:
    """A reference to another record: its id once resolved, and the text it is shown by (the
    record's number, a person's name). Typed or imported text starts unresolved (``id`` None);
    the ledger service resolves it against the database or the rows of the same import.

    ``hint`` is what a person's name was qualified with: ``张伟(科研一处)`` → hint 科研一处.
    """

    id: int | None
    text: str = ""
    hint: str = ""
    voided: bool = False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        if self.id is not None and other.id is not None:
            return self.id == other.id
        return self.id is None and other.id is None and self.text.casefold() == other.text.casefold()

    def __hash__(self) -> int:
        return hash(self.id) if self.id is not None else hash(self.text.casefold())

    def __str__(self) -> str:
        return self.text + (VOIDED_MARK if self.voided else "")


# 张伟(科研一处): the name kept as typed, so the full-width brackets count too
_QUALIFIED = re.compile(r"^(?P<name>[^()（）]+?)\s*[(（](?P<hint>[^()（）]*)[)）]$")


@dataclass(frozen=True)
class Reference(FieldType):
    """A record of another ledger, stored as its id and shown as its number. ``targets`` are
    the ledgers it may point into (a printer serves classified or unclassified computers)."""

    targets: tuple[str, ...] = ()
    max_length: int = 60
    editor = "reference"
    identifier = True  # a number, folded as the number it names is (a person's name: as typed)

    def normalise(self, raw: Any) -> Ref:
        if isinstance(raw, Ref):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool):
            return Ref(raw)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # a number such as 2023001 read from a spreadsheet cell
        text = clean_text(raw, fold=self.identifier, identifier=self.identifier)
        if len(text) > self.max_length:
            raise FieldError(f"内容过长:最多 {self.max_length} 个字")
        match = _QUALIFIED.match(text)
        if match:
            return Ref(None, match["name"].strip(), hint=match["hint"].strip())
        return Ref(None, text)

    def to_storage(self, value: Ref) -> int | None:
        return value.id

    def display(self, value: Any) -> str:
        return "" if value is None else str(value)

    def search_forms(self, value: Any) -> list[str]:
        return [value.text] if isinstance(value, Ref) and value.text else []


@dataclass(frozen=True)
class Person(Reference):
    """责任人, 使用人, 保管人: one of the unit's people (the 人员 register). A name typed in a
    form or an import that is not yet in the register adds the person."""

    targets: tuple[str, ...] = ("people",)
    max_length: int = 20
    # the item is in this person's hands (责任人, 使用人, 保管人, 持有人): a person who leaves the
    # post hands it over first (services/departure.py); a 泄密责任人 or an attendee holds nothing
    in_charge: bool = False
    # the person holds the item only while it is in one of these statuses (an exit document the
    # unit keeps is in its 持证人's hands once 已领取): leaving, they give it back first
    held_in: frozenset[str] = frozenset()
    editor = "person"
    identifier = False  # a name, matched as the register keeps it: as typed

    def normalise(self, raw: Any) -> Ref:
        ref = super().normalise(raw)
        if ref.id is None and " " in ref.text:
            return Ref(None, compact_name(ref.text), hint=ref.hint)
        return ref


@dataclass(frozen=True)
class PersonName(Text):
    """The name in the 人员 register: as typed, but without the spaces that line up a Chinese
    name in a list (张  伟 is 张伟), as :class:`Person` reads the names other ledgers give."""

    max_length: int = 20

    def normalise(self, raw: Any) -> str:
        return compact_name(super().normalise(raw))


@dataclass(frozen=True)
class IdNumber(FieldType):
    """居民身份证号码 (GB 11643) with its check digit verified; the last character may be X.

    A citizen's whole number is shown only to the security administrator, who keeps the
    register: everyone else (the auditor reading an edit in the audit log) sees it
    :func:`masked`, as 1101**********123X."""

    identifier = True
    max_length: int = 18

    def normalise(self, raw: Any) -> str:
        return normalise_id_number(raw)

    def masked(self, shown: str) -> str:
        return mask_id_number(shown)


def mask_id_number(text: str) -> str:
    """The first four and the last four characters of an ID number, the rest as *: enough to
    tell two namesakes apart, not enough to be the number."""
    text = text or ""
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


# --- the declaration of one field ---------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of a ledger.

    ``many`` fields hold a list (a computer's disks and MACs); a cell may carry several values
    separated by ``；``, ``,`` or line breaks. ``unique`` values may not repeat within the
    ledger's uniqueness scope, across records and inside one record's list. ``synonyms`` are
    other header names hand-kept spreadsheets use for the column.
    """

    name: str
    label: str
    type: FieldType = dc_field(default_factory=Text)
    required: bool = False
    unique: bool = False
    searchable: bool = False
    many: bool = False
    synonyms: tuple[str, ...] = ()
    default: Any = None
    shown: bool = True  # a table column by default (the column chooser can change it)
    editable: bool = True  # False: set by lifecycle actions or computed, not typed in the form
    help: str = ""
    facet: bool = False  # a filter list above the table; its values are counted as records change
    compute: Callable[[Mapping[str, Any]], Any] | None = None  # derived from the other values when written
    # a unit's code may stand before the name ("03 综合办公室"): an import keeps the name apart
    # from it, so the value is one whichever way a file writes it (the code is shown, not stored)
    coded: bool = False
    # other fields a hand-kept cell of this one may carry after its own value: an asset number
    # with the disk's serial on its second line (BM-001⏎WD-123, BM-001（硬盘:WD-123）), a 文号
    # with the 份号 range of the copies it lists (国保发〔2024〕3号（第1-3份）); a field of the
    # ledger or of its child ledger. An import sets them apart (excel/cell_splits.py)
    carries: tuple[str, ...] = ()
    indexed: bool | None = None  # None: indexed when shown, a facet, a reference, a date or computed
    # the date the record came into the unit's holdings (启用日期, a carrier's 收到日期): what the
    # annual report's 本年新增 counts by, not the day it was typed in or imported
    in_service: bool = False
    # names and departments sort in pinyin order (按拼音排序), by a key column beside the value
    pinyin_sort: bool = False
    # a computed field that may also be typed: its ``compute`` gets the typed value among the
    # others and decides (身份证号后四位: the full number's last four when there is one, else as
    # typed, so that a namesake is still told apart by the four a unit knows)
    typed_too: bool = False
    # set by a recorded action (a trip's 审批人, its 行前谈话日期), never typed in the form, but
    # read from a hand-kept register on import: what the unit's file says is kept, not dropped
    recorded: bool = False

    def __post_init__(self) -> None:
        if self.compute is not None and self.editable and not self.typed_too:
            object.__setattr__(self, "editable", False)
        if self.unique and isinstance(self.type, Text) and self.type.fold is None:
            # a unique text is an identifier: folded before it is stored and compared
            object.__setattr__(self, "type", replace(self.type, fold=True))

    @property
    def sort_column(self) -> str:
        """The ledger table's column a sort by this field orders on: the field's own, or for a
        field sorted in pinyin order the column of its key (:func:`pinyin.sort_key`)."""
        return f"{self.name}{SORT_KEY_SUFFIX}" if self.pinyin_sort else self.name

    @cached_property
    def is_reference(self) -> bool:
        return isinstance(self.type, Reference)

    @cached_property
    def is_person(self) -> bool:
        return isinstance(self.type, Person)

    @property
    def identifier(self) -> bool:
        """Folded before it is stored and compared (a number, serial, MAC): invisible
        characters removed, full width to half (NFKC). Free text is kept as typed."""
        return self.type.identifier

    # -- values ---------------------------------------------------------------------------

    def normalise(self, raw: Any) -> Any:
        """Raw input → canonical value (``None`` when empty). Raises FieldError."""
        if self.many:
            items = []
            for part in self._parts(raw):
                value = self.type.normalise(part)
                if value not in items:
                    items.append(value)
            if not items:
                return None
            return items
        if is_blank(raw):
            return None
        return self.type.normalise(raw)

    @staticmethod
    def _parts(raw: Any) -> list[Any]:
        """The items of a many field's raw value; a reference already chosen (a :class:`Ref`)
        is kept whole, with its id (its text would not find a voided record again)."""
        if isinstance(raw, (list, tuple)):
            return [p for item in raw for p in ([item] if isinstance(item, Ref) else split_values(item))]
        return split_values(raw)

    def to_storage(self, value: Any) -> Any:
        """The value of the field's database column. A list is kept as its items' text, one per
        line (so it shows, sorts and searches as text); a list of references as their labels,
        the ids going to the link table."""
        if value is None:
            return None
        if self.many:
            if self.is_reference:
                return "\n".join(v.text for v in value)
            return "\n".join(str(self.type.to_storage(v)) for v in value)
        return self.type.to_storage(value)

    def from_storage(self, stored: Any) -> Any:
        if stored is None:
            return None
        if self.many:
            if isinstance(stored, list):  # a JSON list from a database before revision 0006
                return [self.type.from_storage(v) for v in stored]
            return [self.type.from_storage(v) for v in str(stored).split("\n") if v]
        return self.type.from_storage(stored)

    def display(self, value: Any) -> str:
        """The text shown in tables, history, Excel and labels (lists joined by ``；``)."""
        if value is None:
            return ""
        if self.many:
            return LIST_JOINER.join(self.type.display(v) for v in value)
        return self.type.display(value)

    def search_forms(self, value: Any) -> list[str]:
        if value is None:
            return []
        values = value if self.many else [value]
        return [form for v in values for form in self.type.search_forms(v)]

    def unique_keys(self, value: Any) -> list[str]:
        """The strings that must be unique in the scope (case-folded)."""
        if not self.unique or value is None:
            return []
        values = value if self.many else [value]
        return [str(self.type.to_storage(v)).casefold() for v in values]

    def refs(self, value: Any) -> list[Ref]:
        """The references a value holds (none for other kinds of field)."""
        if not self.is_reference or value is None:
            return []
        return list(value) if self.many else [value]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(getattr(self.type, "choices", ()) or ())

    @property
    def header_names(self) -> tuple[str, ...]:
        """Names a spreadsheet column may carry for this field: label first, then synonyms."""
        return (self.label, *self.synonyms)
