"""Two things in one cell (一格两事), split by rule before a row is checked, each split said in
the preview.

Hand-kept ledgers put a code before a department ("03 综合办公室"), a qualifier before a value
("（无线）00-1A-2B-3C-4D-02", under a first MAC on the line above), a count with its unit ("2份",
"30页") and 无 where there is nothing (empty; a required field is then refused as empty, a
level's 无 is 非涉密). Which rule applies to a column comes from its field's
declaration (a list of identifiers, ``coded``, an integer, required or not), never from its
name. What a rule takes out of a cell is not lost: a qualifier goes into the record's 备注
(its free-text field), a code or a unit is named in the preview.

A code is set apart only when what remains is a department already known (the database's, or
the same file's written without a code): a number is often part of the name (12车间, 23所综合处,
101教研室, 2 号楼保卫科), and cutting it would merge distinct departments into one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable, Collection, Iterable, Mapping

from mibao_desktop.ledgers.declaration import Ledger
from mibao_desktop.ledgers.fields import Field, FieldError, Integer, Level, MacAddress, Text
from mibao_desktop.ledgers.normalize import split_values
from mibao_desktop.excel.mapping import CHILD, field_of, header_key
from mibao_desktop.ledgers.pending import PENDING, gap_fields

NOTHING = frozenset({"无", "暂无", "没有", "/", "／", "—", "——", "-", "－", "--", "\\"})
# as cells hold them, spaces around included: one set lookup a cell (a str keeps its hash)
_NOTHING_CELLS = frozenset(f"{before}{word}{after}" for word in NOTHING
                           for before in ("", " ", "\u3000") for after in ("", " ", "\u3000"))
# 待补充 in a required field (a MiBao export of a record still to be completed): left to be filled
_PENDING_CELLS = frozenset(f"{before}{PENDING}{after}" for before in ("", " ") for after in ("", " "))
_BLANK_CELLS = _NOTHING_CELLS | _PENDING_CELLS
PENDING_KEY = "_pending"  # a row's fields whose cell said 待补充 (the ledger service takes them as such)
# （无线）00-1A-…, 【备用】WD-123, (内置)ST-1: a short qualifier in brackets before the value
_QUALIFIER = re.compile(r"^\s*[(（【\[]\s*([^()（）【】\[\]]{1,10}?)\s*[)）】\]]\s*(?=\S)")
# 03 综合办公室, 03、综合办公室, 0301.科研一处, A2 保密办: a code (digits, or letters and digits)
# set off from a name that starts with a Chinese character, or written close up (03综合办公室)
# with two digits or more; the separator is kept to tell a mark (、 .) from a space
_CODE_NAME = re.compile(r"^\s*(?:(\d{1,6}|[A-Za-z]{1,3}\d{1,6})\s*([\s、.．:：_])\s*|(\d{2,6}))"
                        r"(?=[\u4e00-\u9fff])(.{2,}?)\s*$")
# words that make a number before them part of the name (12车间, 23所综合处, 2 号楼保卫科,
# 2024年新设处): a name left after a code never starts with one, unless a mark (、 . :) set the
# code apart (0301.科研一处)
MEASURE_WORDS = ("车间", "中心", "分厂", "分局", "分所", "单元", "工区",
                 *"年月日号楼层室栋幢座期届级所处科股组队院部系班厂站局区团连营排")
# 2份, 30 页, 3 张: a count and the word it counts in
_COUNT_UNIT = re.compile(r"^\s*(\d+)\s*([份页张件台个本册盘套卷])\s*$")

Rule = Callable[[Any], "tuple[Any, str, str] | None"]  # cell → (value, note, kept) or None when it does not apply


def _nothing(cell: Any) -> tuple[Any, str, str] | None:
    if cell.__class__ is str and cell.strip() in NOTHING:
        return None, f"“{cell.strip()}”读作空", ""
    return None


def _qualified_items(cell: Any) -> tuple[Any, str, str] | None:
    """Several values in one cell (or gathered from two columns), one with a qualifier: the
    values, and the qualifier kept."""
    parts = split_values(cell)
    if not any(ch in part for part in parts for ch in "(（【["):
        return None
    items, kept = [], []
    for part in parts:
        match = _QUALIFIER.match(part)
        if match:
            value = part[match.end():].strip()
            items.append(value)
            kept.append(f"{value}:{match.group(1)}")
        else:
            items.append(part)
    if not kept:
        return None
    return items, f"前面的说明“{'、'.join(k.split(':', 1)[1] for k in kept)}”已分出", ";".join(kept)


def name_key(text: str) -> str:
    """A department as compared with the known ones: widths folded, no spaces, any case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _code_name(cell: Any) -> tuple[str, str, bool] | None:
    """(code, name, set off by a mark) when ``cell`` starts with what may be a code."""
    if cell.__class__ is not str or not cell[:1].isalnum() or not cell[:1].isascii():
        return None
    match = _CODE_NAME.match(cell)
    if not match:
        return None
    marked = bool(match.group(2) and match.group(2).strip())
    return match.group(1) or match.group(3), match.group(4), marked


def uncoded_names(cells: Iterable[Any]) -> set[str]:
    """The names among a column's ``cells`` written without a code (综合办公室 beside
    03 综合办公室), as :func:`name_key` gives them: what a code may be set apart from."""
    texts = {cell for cell in cells if cell.__class__ is str}  # a department is on many rows: each once
    return {name_key(text) for text in texts if text.strip() and _code_name(text) is None}


def _code_and_name(known: Collection[str]) -> Rule:
    """The rule for a coded field: the code set apart only when the name left is one of
    ``known`` (keys by :func:`name_key`) and does not start with a measure word."""
    def split(cell: Any) -> tuple[Any, str, str] | None:
        found = _code_name(cell)
        if found is None:
            return None
        code, name, marked = found
        if not marked and name.startswith(MEASURE_WORDS):
            return None  # 12车间, 2 号楼保卫科: the number is part of the name
        if name_key(name) not in known:
            return None  # 101教研室: no department 教研室 is known, the cell is kept whole
        return name, f"“{cell.strip()}”读作“{name}”(编码 {code} 未保存)", ""
    return split


def _count_with_unit(cell: Any) -> tuple[Any, str, str] | None:
    if cell.__class__ is not str:
        return None
    match = _COUNT_UNIT.match(cell)
    if not match:
        return None
    return int(match.group(1)), f"“{cell.strip()}”读作 {match.group(1)}({match.group(2)})", ""


# 国保发〔2024〕3号（第1-3份）, …3号 第1-3份: the 份号 a 文号 cell lists after the number
_COPIES_TAIL = re.compile(r"^(?P<own>.*?\S)\s*(?:[(（【\[]\s*(?P<in>第[^()（）【】\[\]]*份)\s*[)）】\]]|(?P<bare>第[^第]*份))\s*$")
# BM-001（硬盘:WD-123）, BM-001 / 硬盘序列号 WD-123: a value after the own one, named by its label
_LABELLED_TAIL = re.compile(r"^(?P<own>[^\s()（）【】\[\]/／;；,，]+)\s*(?:[(（【\[](?P<in>[^()（）【】\[\]]+)[)）】\]]|"
                            r"[\s/／;；,，]+(?P<after>\S.*?))\s*$")


_CARRY_TRIGGER = re.compile(r"[\s(（【\[/／;；,，份]")


def _carried_rule(carrier: Field, carried: list[tuple[str, Field]]) -> Rule:
    """The rule for a field that declares it may carry others' values (``Field.carries``):
    what the cell holds after its own value goes to the field it belongs to. It belongs to one
    when it is named by that field's label or synonyms (硬盘:WD-123), when it is a 份号 written
    第…份 and the field is a number (the copies a 文号 lists), or when it is the second line of
    a cell of two and the field is the first list of identifiers carried (BM-001⏎WD-123).
    Anything else is left whole: a 编号 such as BM/2019/001 is one value."""
    from mibao_desktop.excel import copy_numbers

    names = sorted(((header_key(word), name, f) for name, f in carried for word in (*f.header_names, f.label[:2])),
                   key=lambda item: -len(item[0]))
    counted = next(((name, f) for name, f in carried if isinstance(f.type, Integer)), None)
    listed = next(((name, f) for name, f in carried if f.many and f.identifier), None)

    def labelled(text: str) -> tuple[str, Field, str] | None:
        compact = text.strip()
        for key, name, f in names:
            head = header_key(compact[:len(key) + 3])
            if key and head.startswith(key):
                cut = 0  # the label as written (spaces, a colon) ends where its key is complete
                while cut < len(compact) and len(header_key(compact[:cut])) < len(key):
                    cut += 1
                value = compact[cut:].lstrip(" :：\u3000")
                if value:
                    return name, f, value
        return None

    def split(cell: Any) -> tuple[Any, str, str] | None:
        if cell.__class__ is not str or not _CARRY_TRIGGER.search(cell):
            return None  # a plain number (most rows): one search
        lines = [line.strip() for line in cell.splitlines() if line.strip()]
        found = None
        if counted is not None:
            match = _COPIES_TAIL.match(cell)
            if match:
                copies = match.group("in") or match.group("bare")
                try:
                    copy_numbers.parse(copies)
                    found = (match.group("own"), counted[0], counted[1], copies)
                except copy_numbers.CopyNumberError:
                    found = None
        if found is None and len(lines) == 2:
            named = labelled(lines[1])
            if named is not None:
                found = (lines[0], *named)
            elif listed is not None:
                found = (lines[0], listed[0], listed[1], lines[1])
        if found is None and len(lines) == 1:
            match = _LABELLED_TAIL.match(lines[0])
            named = labelled(match.group("in") or match.group("after")) if match else None
            if named is not None:
                found = (match.group("own"), *named)
        if found is None:
            return None
        own, name, f, value = found
        return own, f"“{' '.join(lines)}”读作{carrier.label}“{own}”、{f.label}“{value}”", (name, value)
    return split


def rules_of(f: Field, known: Collection[str] = frozenset()) -> list[tuple[str, Rule]]:
    """The rules a field's cells go through, as its declaration says; ``known``: the names a
    code may be set apart from (keys by :func:`name_key`), for a coded field."""
    rules: list[tuple[str, Rule]] = []
    if not isinstance(f.type, Level) and "无" not in f.choices:  # a level's 无 is 非涉密
        rules.append(("nothing", _nothing))
    if f.many and (f.identifier or isinstance(f.type, MacAddress)):
        rules.append(("qualified", _qualified_items))
    if f.coded and known:
        rules.append(("coded", _code_and_name(known)))
    if isinstance(f.type, Integer) and not f.type.unit:
        rules.append(("count", _count_with_unit))
    return rules


_BRACKET = re.compile(r"[(（【\[]")
_CODE_START = re.compile(r"\s*[0-9A-Za-z]")
_UNITS = "份页张件台个本册盘套卷"
# a cheap test that a rule may apply, so that a row of ordinary cells costs a few comparisons
_TRIGGERS: dict[str, Callable[[str], Any]] = {
    "qualified": _BRACKET.search,
    "coded": _CODE_START.match,
    "count": lambda cell: cell[-1:] in _UNITS or cell[-2:-1] in _UNITS,
}


def _carried(ledger: Ledger, name: str) -> tuple[str, Field | None]:
    """A carried field by the name an import's row holds it under: the ledger's own, or a child
    ledger's (``child:copy_number``)."""
    if ledger.has_field(name):
        return name, ledger.field(name)
    f = field_of(ledger, CHILD + name)
    return CHILD + name, f


def splitter(ledger: Ledger, fields: dict[str, Field], known: Mapping[str, Collection[str]] | None = None
             ) -> Callable[[dict[str, Any]], list[tuple[str, str]]] | None:
    """A function that splits one row's raw values in place and returns what it did, as
    (field name, note); None when no column of the import has a rule (nothing to do per row).
    ``known``: by coded field, the names a code may be set apart from (none: no code is).
    It runs for every row of an import: an ordinary row costs a length test per column."""
    nothing, others = [], []
    for name, f in fields.items():
        for kind, rule in rules_of(f, (known or {}).get(name, frozenset())):
            if kind == "nothing":
                nothing.append(name)
            else:
                others.append((name, rule, _TRIGGERS[kind], kind == "qualified"))
    # a grade column holding a post's 密级 instead (涉密等级: 机密): the cell goes to the level field
    # its type names (岗位密级), when the row gives that field nothing of its own
    moves = [(name, f.type.level_field, ledger.field(f.type.level_field)) for name, f in fields.items()
             if getattr(f.type, "level_field", None) and ledger.has_field(f.type.level_field)]
    carries = []
    for name, f in fields.items():
        carried = dict(c for c in (_carried(ledger, word) for word in f.carries) if c[1] is not None)
        if carried:
            carries.append((name, _carried_rule(f, list(carried.items())), carried))
    gaps = {f.name for f in gap_fields(ledger)} & fields.keys()
    blanks = [(name, name in gaps) for name in dict.fromkeys([*nothing, *gaps])]  # (field, may be 待补充)
    nothing_names = set(nothing)
    if not blanks and not others and not moves and not carries:
        return None
    # the record's free text (备注): where a qualifier taken off a value is kept
    notes_field = next((f.name for f in ledger.fields if isinstance(f.type, Text) and f.type.multiline), None)
    labels = {name: f.label for name, f in fields.items()}

    def split(raw: dict[str, Any]) -> list[tuple[str, str]]:
        done: list[tuple[str, str]] = []
        for name, target, level_field in moves:
            cell = raw.get(name)
            if cell.__class__ is not str or raw.get(target) not in (None, ""):
                continue
            try:
                level = level_field.type.normalise(cell)
            except FieldError:
                continue  # a grade (核心), or neither: the grade's own check says which
            raw[target] = cell
            raw[name] = None
            done.append((name, f"“{cell.strip()}”是{level_field.label},记入{level_field.label}({level})"))
        try:  # most rows have no 无 at all: told by one test in C, not a test per column
            some = not _BLANK_CELLS.isdisjoint(raw.values())
        except TypeError:  # a list gathered from two columns (unhashable)
            some = True
        if some:
            for name, may_wait in blanks:
                cell = raw.get(name)
                if cell.__class__ is not str or cell not in _BLANK_CELLS:
                    continue
                if may_wait and cell in _PENDING_CELLS:
                    del raw[name]  # empty, and this row's record 待补充 for it
                    raw.setdefault(PENDING_KEY, set()).add(name)
                    done.append((name, f"“{PENDING}”:留待补充"))
                elif name in nothing_names:
                    raw[name] = None
                    done.append((name, f"“{cell.strip()}”读作空"))
        kept: list[str] = []
        for name, rule, carried in carries:  # BM-001⏎WD-123: the disk's serial to its own field
            found = rule(raw.get(name))
            if found is None:
                continue
            own, note, (target, value) = found
            held = raw.get(target)
            if not target.startswith(CHILD) or target in fields:
                if held not in (None, "") and not carried[target].many:
                    continue  # the row gives that field a value of its own: the cell is left whole
                raw[target] = value if held in (None, "") else f"{held}\n{value}"
            else:  # a child's field with no column (份号 of the copies): kept in 备注, not lost
                kept.append(f"{labels[name]}中的{value}")
                note += ",记入备注" if notes_field is not None else ",未保存"
            raw[name] = own
            done.append((name, note))
        for name, rule, trigger, takes_lists in others:
            cell = raw.get(name)
            if cell.__class__ is str:
                if not trigger(cell):
                    continue
            elif cell.__class__ is not list or not takes_lists:
                continue
            found = rule(cell)
            if found is None:
                continue
            value, note, keep = found
            raw[name] = value
            if keep:
                kept.append(f"{labels[name]} {keep}")
                note += ",记入备注" if notes_field is not None else ",未保存"
            done.append((name, note))
        if kept and notes_field is not None:
            before = raw.get(notes_field)
            raw[notes_field] = "\n".join([*([str(before)] if before not in (None, "") else []), *kept])
        return done

    return split
