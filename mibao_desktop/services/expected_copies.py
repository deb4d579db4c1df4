"""The copies a check of the carriers expects, read so that a department's 100,000 cost what a
screenful does (issue 13 item 8: one month's check list for a department ≤ 200 ms). Qt-free.

Making a line of each of a department's 100,000 copies took 650–690 ms of CPU, most of it
fetching the rows into Python and building their lines (the SQL itself: 39 ms). What a check
needs at once is less: how many copies it lists, how many are here, away or missing, and the
order they are shown in. One aggregate query per carrier gives those (:func:`read`): each
carrier of the scope with its listed copies' count, how many are away or missing, and their ids
as one text (``group_concat``; ``string_agg`` on PostgreSQL) — 10,000 rows, not 100,000.
The carriers are put in 登记编号 order in Python, and a copy's line is made only when it is
looked at (:class:`ExpectedCopies`, a sequence), a block of carriers at a time, by id, with the
record as it is then. The positions are fixed at the read: a copy closed or moved while the
check is open keeps its line, showing what it is now.

A line is made by the carriers' check (``carrier_checks._line``: its names, its 已分发
recipient, whether the person a check is of holds it), so this module only decides when.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, OrderedDict
from contextlib import AbstractContextManager
from itertools import accumulate
from typing import Any, Callable, Iterator, Mapping, Sequence

from sqlalchemy import Text, cast, false, func, select, union_all
from sqlalchemy.orm import Session

from mibao_desktop.db.schema import table_of
from mibao_desktop.ledgers import carriers as C
from mibao_desktop.services.ledger_service import _collector_paused
from mibao_desktop.services.repository import OuterFirst, RecordRepository

BLOCK = 500  # lines made at a time when looked at (a screenful is 30)
SWEEP = 5_000  # lines made at a time when every line is walked (the close)
KEPT_BLOCKS = 8  # blocks kept made (scrolling back and forth)
FEW_AWAY = 20_000  # up to this many copies away or missing in the ledger, the scope's are read from the status index


def read(session: Session, info: Any, seen: Mapping[int, Any],
         reading: Callable[[], AbstractContextManager[Session]], *,
         decorate: Callable[[Any], None] | None = None) -> ExpectedCopies:
    """The copies a check of ``info``'s scope lists (``info``: its scope, scope_value and
    person_id), their lines made later, each in a session ``reading()`` gives (the caller's own
    when it walks them all at once; a new read when the list is looked at after). ``seen`` is
    how each copy seen so far was (勾选, 扫描 …); ``decorate`` finishes each line made."""
    from mibao_desktop.services import carrier_checks as CC

    # the cycle collector paused: its full passes over the process's objects, set off by the
    # 10,000 rows made here, cost more than the rows (97 of 200 ms, measured)
    with _collector_paused():
        return _read(session, info, seen, reading, decorate, CC)


def _read(session, info, seen, reading, decorate, CC) -> ExpectedCopies:
    from mibao_desktop.services import distributions

    t, p = table_of(C.CARRIER_COPIES), table_of(C.CARRIERS)
    q = CC._scope_query(info, (t.c.id,))
    if isinstance(q, CC._union):  # a place's or a person's: two index ranges, grouped after
        sub = union_all(*(part.with_only_columns(t.c.id, t.c.parent_id, t.c.status,
                                                 p.c[C.CARRIERS.key_field].label("number")) for part in (q.a, q.b))
                        ).subquery()
        copy_id, parent_id, status, number = sub.c.id, sub.c.parent_id, sub.c.status, sub.c.number
        q = select().select_from(sub)
    else:  # a department's (or all): grouped by carrier as the carriers are walked, no sort
        copy_id, parent_id, status, number = t.c.id, p.c.id, t.c.status, p.c[C.CARRIERS.key_field]
    unusual = sorted(CC._AWAY_STATUSES | {C.MISSING})  # the statuses of copies not in their place
    if session.get_bind().dialect.name == "sqlite":
        ids = func.group_concat(copy_id)
        odd_ids = func.group_concat(cast(copy_id, Text) + ":" + status)
    else:
        ids = func.string_agg(cast(copy_id, Text), ",")
        odd_ids = func.string_agg(cast(copy_id, Text) + ":" + status, ",")
    facets = RecordRepository(session).facet_counts(C.CARRIER_COPIES, "status")
    if sum(facets.get(x, 0) for x in unusual) <= FEW_AWAY:
        # few copies away or missing in the whole ledger: those of the scope from the status
        # index (3 ms), and the aggregate counts only (a fifth less than counting them in it)
        rows = CC._fetch(session, q.with_only_columns(parent_id, func.max(number), func.count(), ids)
                         .group_by(parent_id))
        odd = CC._fetch(session, _unusual(info, unusual, CC))
    else:
        def among(statuses):
            return func.count().filter(status.in_(sorted(statuses)))

        rows = [(*r[:3], r[6], *r[3:6], r[7]) for r in CC._fetch(session, q.with_only_columns(
            parent_id, func.max(number), func.count(), among(CC._AWAY_STATUSES), among({C.MISSING}),
            among(CC._WITH_HOLDER), ids, odd_ids.filter(status.in_(unusual))).group_by(parent_id))]
        odd = None
    rows.sort(key=lambda r: (r[1] or "", r[0]))  # 登记编号 order (then 份号, as each line is made)
    listed = sum(r[2] for r in rows)
    if odd is not None:
        by_status = Counter(x for _i, x in odd)
        away, lost = (sum(by_status[x] for x in group) for group in (CC._AWAY_STATUSES, {C.MISSING}))
        lent = sum(by_status[x] for x in CC._WITH_HOLDER)
    else:
        away, lost, lent = (sum(r[k] for r in rows) for k in (4, 5, 6))
    held = 0
    if info.scope == CC.PERSON:  # lent or distributed to the person: expected with them
        sent = [r for r in odd if r[1] == CC.DISTRIBUTED] if odd is not None else \
            CC._fetch(session, CC._scope_query(info, (t.c.id,)).where(t.c.status == CC.DISTRIBUTED))
        recipients = distributions.last_recipients(session, [r[0] for r in sent]) if sent else {}
        held = lent + sum(1 for r in sent if CC._held(CC.DISTRIBUTED, recipients.get(r[0])))
    states = Counter({CC.PRESENT: listed - away - lost + held, CC.ABSENT: away - held, CC.LOST: lost})
    person = info.scope == CC.PERSON
    # each copy away or missing in the state counted (the others: 在位), given to its line made
    # later: a copy given back or lent since still counts as the counts have it (a scan takes it
    # off the count it is in, and the counts stay those a new read makes)
    pairs = odd if odd is not None else [(int(i), x) for r in rows if r[7]
                                         for i, x in (pair.split(":", 1) for pair in r[7].split(","))]
    recipients = recipients if person else {}
    was = {i: CC.PRESENT if person and CC._held(x, recipients.get(i)) else CC.record_state(x) for i, x in pairs}

    def make(parents: Sequence[int], wanted: Sequence[int]) -> dict[int, tuple[int, Any]]:
        """The lines of ``wanted``, copies of the carriers ``parents``: read by carrier, from
        the copies' index by parent as the whole list was (by id, each copy's row would be read)."""
        made: dict[int, tuple[int, Any]] = {}
        want = set(wanted)
        with reading() as s, _collector_paused():
            step = max(1, SWEEP // 10)  # carriers a query (about SWEEP copies)
            for start in range(0, len(parents), step):
                chunk = [r for r in CC._fetch(s, CC._base_query(closed_too=True).where(
                    t.c.parent_id.in_(parents[start:start + step]))) if r[0] in want]
                names = CC._labels(s, {r[CC._PERSON] for r in chunk})
                lines = [CC._line(r, names, seen.get(r[0])) for r in chunk]
                sent = CC._sent(s, lines)
                for r, x in zip(chunk, lines):
                    if person:
                        x.held = CC._held(r[CC._STATUS], sent.get(r[0]))
                    x.counted = was.get(r[0], CC.PRESENT)
                    if decorate is not None:
                        decorate(x)
                    made[r[0]] = (r[CC._COPY], x)
        for i in wanted:  # voided (or its carrier) since the list was read: kept in its place, said so
            if i not in made:
                made[i] = (0, CC._line((i, "", None, "", None, "", "", "", None), {}, seen.get(i), belongs="已作废"))
                made[i][1].counted = was.get(i, CC.PRESENT)
        return made

    def locate(record_id: int) -> int | None:
        with reading() as s:
            return s.scalar(select(t.c.parent_id).where(t.c.id == record_id))

    return ExpectedCopies([(r[0], r[2], r[3]) for r in rows], states, make, locate)


def _unusual(info: Any, statuses: Sequence[str], CC):
    """(id, status) of the scope's copies in ``statuses``, walked from the copies' status index
    (CROSS JOIN: left to itself SQLite walks the scope's 100,000 copies, 64–86 ms, or a place's
    900,000 copies naming no place of their own), the scope as ``_scope_query`` has it."""
    t, p = table_of(C.CARRIER_COPIES), table_of(C.CARRIERS)
    q = (select(t.c.id, t.c.status).select_from(OuterFirst(t, p, p.c.id == t.c.parent_id))
         .where(t.c.status.in_(statuses), t.c.voided == false(), p.c.voided == false()))
    if info.scope == CC.DEPARTMENT:
        return q.where(p.c[CC.DEPARTMENT_FIELD] == info.scope_value)
    if info.scope == CC.PLACE:  # its own place, else its carrier's
        return q.where(func.coalesce(t.c[CC.LOCATION], p.c[CC.LOCATION]) == info.scope_value)
    if info.scope == CC.PERSON:  # its own holder, else its carrier's keeper
        return q.where(func.coalesce(t.c[CC.HOLDER], p.c[CC.KEEPER]) == info.person_id)
    return q


def seen_states(session: Session, info: Any, ids: Sequence[int]) -> dict[int, str]:
    """Of the copies seen (``ids``), those the check lists, each with its state as the record
    has it (在位, 外出, 下落不明; lent or distributed to the person a check is of: 在位). A copy
    seen and not among them is 多出."""
    from mibao_desktop.services import carrier_checks as CC, distributions

    t = table_of(C.CARRIER_COPIES)
    rows: list[tuple] = []
    ids = sorted(set(ids))
    for start in range(0, len(ids), SWEEP):
        rows += CC._fetch(session, CC._scope_query(info, (t.c.id, t.c.status)).where(t.c.id.in_(ids[start:start + SWEEP])))
    states = {i: CC.record_state(status) for i, status in rows}
    if info.scope == CC.PERSON:
        sent_ids = [i for i, status in rows if status == CC.DISTRIBUTED]
        sent = distributions.last_recipients(session, sent_ids) if sent_ids else {}
        for i, status in rows:
            if CC._held(status, sent.get(i)):
                states[i] = CC.PRESENT
    return states


class ExpectedCopies(Sequence):
    """The copies a check lists, in 登记编号 then 份号 order, each line made when first looked
    at. ``states`` counts them by how the record had them at the read (在位, 外出, 下落不明),
    without making a line. A line may be replaced (``lines[row] = line``, a tick) and lines
    appended (the extra copies seen), as a list allows."""

    def __init__(self, groups: Sequence[tuple[int, int, str]], states: Counter,
                 make: Callable[[Sequence[int], Sequence[int]], dict[int, tuple[int, Any]]],
                 locate: Callable[[int], int | None] | None = None) -> None:
        # groups: (carrier id, listed copies, their ids as "1,2,3"), in the order shown
        self._groups = list(groups)
        self._starts = [0, *accumulate(n for _, n, _ in self._groups)]
        self._count = self._starts[-1]
        self.states = states
        self._make = make
        self._locate = locate
        self.seen_states: dict[int, str] = {}  # of the copies seen, those listed: their state (seen_states())
        self._blocks: OrderedDict[int, list] = OrderedDict()
        self._bounds = _blocks(self._starts, BLOCK)
        self._changed: dict[int, Any] = {}
        self._added: list = []
        self._group_of: dict[int, int] | None = None

    def __len__(self) -> int:
        return self._count + len(self._added)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index in self._changed:
            return self._changed[index]
        if index >= self._count:
            return self._added[index - self._count]
        b = bisect_right(self._bounds, index) - 1
        block = self._blocks.get(b)
        if block is None:
            block = self._blocks[b] = self._lines(self._bounds[b], self._bounds[b + 1])
            while len(self._blocks) > KEPT_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(b)
        return block[index - self._bounds[b]]

    def __setitem__(self, index: int, line) -> None:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= self._count:
            self._added[index - self._count] = line
        else:
            self._changed[index] = line

    def append(self, line) -> None:
        self._added.append(line)

    def __iter__(self) -> Iterator:
        bounds = _blocks(self._starts, SWEEP)
        for start, stop in zip(bounds, bounds[1:]):
            for i, line in enumerate(self._lines(start, stop), start):
                yield self._changed.get(i, line)
        yield from self._added

    @property
    def added(self) -> list:
        """The lines appended after the copies listed (the extra copies seen)."""
        return self._added

    def position(self, record_id: int, parent_id: int | None = None) -> int | None:
        """The row of a copy listed (of the carrier ``parent_id``, looked up when not given),
        or None: its carrier's copies are read again (a few ids) to place it among them."""
        if parent_id is None:
            if self._locate is None:
                return None
            parent_id = self._locate(record_id)
        if self._group_of is None:
            self._group_of = {g[0]: k for k, g in enumerate(self._groups)}
        k = self._group_of.get(parent_id)
        if k is None:
            return None
        ids = _ids(self._groups[k][2])
        if record_id not in ids:
            return None
        return self._starts[k] + _in_order(ids, self._make([parent_id], ids)).index(record_id)

    def _lines(self, start: int, stop: int) -> list:
        """The lines of rows ``start`` to ``stop`` (whole carriers), made together."""
        first = bisect_right(self._starts, start) - 1
        last = bisect_right(self._starts, stop - 1) - 1
        groups = self._groups[first:last + 1]
        ids = [i for _, _, text in groups for i in _ids(text)]
        made = self._make([g[0] for g in groups], ids)
        lines = []
        for _, _, text in groups:
            lines += [made[i][1] for i in _in_order(_ids(text), made)]
        return lines[start - self._starts[first]: stop - self._starts[first]]


def _in_order(ids: list[int], made: Mapping[int, tuple[int, Any]]) -> list[int]:
    """A carrier's copies in 份号 order."""
    return sorted(ids, key=lambda i: (made[i][0] or 0, i))


def _ids(text: str) -> list[int]:
    return [int(i) for i in text.split(",")] if text else []


def _blocks(starts: Sequence[int], size: int) -> list[int]:
    """Row bounds of blocks of about ``size`` rows, each whole carriers."""
    bounds = [0]
    for s in starts[1:]:
        if s - bounds[-1] >= size:
            bounds.append(s)
    if bounds[-1] != starts[-1]:
        bounds.append(starts[-1])
    return bounds if len(bounds) > 1 else [0, 0]
