"""The carriers' registers (登记簿), declared with the carrier ledger: which recorded action feeds
which register, and its columns (issue 13 item 6; seed 003 保密工作制度 第十条: 收发、分送、传递、
借阅、移交、销毁等环节都应履行登记签字手续).

A register is read for a period from what was recorded, never kept by hand beside it
(``services/carrier_registers.py``):

- 收文登记簿: the carriers registered as received (来源 接收), by their 收到日期 — the 接收 action
  registers the carrier and its copies at once, so its record is the carrier itself (an imported
  hand-kept book's carriers are listed too: they were received);
- 发文登记簿: the carriers made here (来源 制作, by 收到日期/制作日期) and every 分发/发送 of a copy;
- 借阅登记簿: every 借阅, with its 应还日期, the day it came back (the copy's next 归还) and
  逾期 marked;
- 复制登记簿: every 复制/摘录/引用/汇编 with its approver and the issuer's consent (or the 绝密
  exception);
- 销毁清单: every copy destroyed, with its approval, 监销人 and 承销单位.

An action's row names the facts it recorded (``ledgers.carriers.COPY_ACTIONS``); copies of one
carrier done together (the same day, the same facts) are one row with their 份号 listed, as a
paper register writes 第1-5份. A status change taken back (撤销状态变更) never stood: neither it
nor its reversal is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mibao_desktop.ledgers import carriers as C
from mibao_desktop.ledgers.declaration import LOAN_FACTS

BORROWER, DUE_BACK = (f.name for f in LOAN_FACTS)

# what a row holds besides the carrier's fields and the action's facts (by their names)
DATE = "_date"  # the day of the action (its 生效日期), or a carrier's 收到日期
DOING = "_doing"  # 制作, 分发 …: the action's label
MARKING_LEVEL = "_level"  # the carrier's 密级 (a copy inherits it)
PERIOD = "_period"  # the carrier's 保密期限 as written (10年, 长期)
COUNT = "_count"  # how many copies the row stands for
NUMBERS = "_numbers"  # their 份号: 1-5、7
KEEPER = "_keeper"  # the carrier's 保管人 by name
SENT_TO = "_sent_to"  # 接收单位 and/or 接收人; for a carrier made here, its 发放范围
HANDLER = "_handler"  # 经办人: the account that recorded the action, by its 姓名
RETURNED_ON = "_returned_on"  # a loan: the day the copy came back, or what became of it
OVERDUE = "_overdue"  # a loan: 逾期 N 天 (returned late, or still out past its 应还日期)
CONSENT = "_consent"  # 制发机关批准, or the 绝密 exception and its approval
SUPERVISORS = "_supervisors"  # both 监销人
CONTRACTOR = "_contractor"  # 承销单位 with its 资质
HAND = "_hand"  # left empty: signed by hand on the paper

CARRIER_FIELDS = {name: C.CARRIERS.field(name).name for name in
                  ("carrier_number", "title", "doc_number", "issuer", "form", "scope", "remarks", "source")}


@dataclass(frozen=True)
class Column:
    key: str  # a carrier field's name, an action's fact's name, or one of the row keys above
    header: str
    width: float  # characters in the workbook; on paper the columns share the page in this ratio
    centred: bool = False
    date: bool = False
    level: bool = False  # a 密级: printed in the level's colour in the workbook


@dataclass(frozen=True)
class Register:
    key: str
    title: str
    feeds: tuple[str, ...]  # the copy actions (COPY_ACTIONS keys) whose events are its rows
    sources: tuple[str, ...]  # the carriers registered so (来源: 接收, 制作) are rows too, by 收到日期
    columns: tuple[Column, ...]
    signatures: tuple[str, ...]
    what: str  # what one row is, for the line under the title: 共 3 件 / 共 5 条
    rule: str

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def _date(header: str = "日期") -> Column:
    return Column(DATE, header, 12, centred=True, date=True)


NUMBER = Column(CARRIER_FIELDS["carrier_number"], "登记编号", 14)
TITLE = Column(CARRIER_FIELDS["title"], "标题", 26)
DOC = Column(CARRIER_FIELDS["doc_number"], "文号", 14)
LEVEL = Column(MARKING_LEVEL, "密级", 6, centred=True, level=True)
PERIOD_COLUMN = Column(PERIOD, "保密期限", 7, centred=True)
COPIES_COUNT = Column(COUNT, "份数", 5, centred=True)
COPY_NUMBERS = Column(NUMBERS, "份号", 9, centred=True)
APPROVED = Column(C.APPROVER.name, "批准人", 8, centred=True)
DONE_BY = Column(HANDLER, "经办人", 8, centred=True)
SIGNED = Column(HAND, "签收人", 9)

RECEIVED = Register(
    "received", "收文登记簿", feeds=(), sources=("接收",),
    columns=(_date("收文日期"), NUMBER, Column(CARRIER_FIELDS["issuer"], "来文单位", 12), DOC, TITLE, LEVEL,
             PERIOD_COLUMN, COPIES_COUNT, COPY_NUMBERS, Column(CARRIER_FIELDS["form"], "载体形式", 7, centred=True),
             Column(KEEPER, "保管人", 8, centred=True), SIGNED, Column(CARRIER_FIELDS["remarks"], "备注", 12)),
    signatures=("审核人:", "日期:"), what="件", rule=C.RULE_RECEIVE)
SENT = Register(
    "sent", "发文登记簿", feeds=("distribute",), sources=("制作",),
    columns=(_date(), Column(DOING, "办理", 5, centred=True), NUMBER, DOC, TITLE, LEVEL, PERIOD_COLUMN,
             COPIES_COUNT, COPY_NUMBERS, Column(SENT_TO, "发往单位/接收人(发放范围)", 18), APPROVED, DONE_BY, SIGNED),
    signatures=("审核人:", "日期:"), what="条", rule=C.RULE_SEND)
LOANS = Register(
    "loans", "借阅登记簿", feeds=("lend",), sources=(),
    columns=(_date("借阅日期"), NUMBER, TITLE, LEVEL, COPY_NUMBERS, Column(BORROWER, "借阅人", 8, centred=True),
             APPROVED, Column(DUE_BACK, "应还日期", 11, centred=True), Column(RETURNED_ON, "归还日期", 11, centred=True),
             Column(OVERDUE, "逾期", 14, centred=True), Column(HAND, "借阅人签字", 10),
             Column(C.BEYOND_SCOPE.name, "超出知悉范围的批准理由", 14)),
    signatures=("审核人:", "日期:"), what="条", rule=C.RULE_LEND)
COPIES = Register(
    "copies", "复制登记簿", feeds=("copy",), sources=(),
    columns=(_date(), Column(C.COPY_KIND.name, "方式", 5, centred=True), Column(NUMBER.key, "原件登记编号", 14), TITLE,
             LEVEL, Column(NUMBERS, "原件份号", 7, centred=True), Column(C.COPY_COUNT.name, "复制份数", 6, centred=True),
             Column(C.COPY_AS.name, "复制件登记编号", 15), APPROVED,
             Column(CONSENT, "制发机关批准(绝密特批依据)", 20), DONE_BY),
    signatures=("审核人:", "日期:"), what="条", rule=C.RULE_COPY)
DESTROYED = Register(
    "destroyed", "销毁清单", feeds=("destroy",), sources=(),
    columns=(_date("销毁日期"), Column(C.INVENTORY.name, "清单编号", 13, centred=True), NUMBER, DOC, TITLE, LEVEL,
             Column(CARRIER_FIELDS["form"], "载体形式", 7, centred=True), COPY_NUMBERS, COPIES_COUNT, APPROVED,
             Column(SUPERVISORS, "监销人", 12, centred=True), Column(CONTRACTOR, "承销单位(资质)", 18),
             Column(C.DESTROY_METHOD.name, "销毁方式", 10, centred=True)),
    signatures=("批准人:", "监销人:", "监销人:", "承销单位经办人:", "审核人:", "日期:"), what="条", rule=C.RULE_DESTROY)

REGISTERS = (RECEIVED, SENT, LOANS, COPIES, DESTROYED)
BY_KEY = {r.key: r for r in REGISTERS}

# the copy actions the registers name, and what a loan's end is read from
ACTIONS = {a.key: a for a in C.COPY_ACTIONS}
LEND, GIVE_BACK = ACTIONS["lend"], ACTIONS["give_back"]

# The carriers' year on the annual report (in its 汇总's one-page style): what each column
# counts, by the carrier's 密级. 件 are carriers, 份 copies, 起 leak events.
YEAR_COLUMNS = (
    ("制作(件)", "made"), ("制作(份)", "made_copies"), ("接收(件)", "received"), ("接收(份)", "received_copies"),
    ("复制(份)", "copied"), ("借阅(份次)", "lend"), ("归还(份次)", "give_back"), ("销毁(份)", "destroy"),
    ("下落不明(份)", "missing"), ("泄密事件(起)", "leaks"),
)
MADE, RECEIVED_SOURCE = "制作", "接收"


def action_of(kind: str, old: str | None, new: str | None) -> str | None:
    """Which copy action an event of the copy's history records: its own kind for an action
    that keeps the status (复制, 移交), else the action leading from ``old`` into ``new``
    (归还 and 找到 both lead to 在管, from different statuses)."""
    for action in C.COPY_ACTIONS:
        if action.to is None and action.key == kind:
            return action.key
        if kind == "status" and action.to == new and old in action.from_:
            return action.key
    return None


def statuses_fed(register: Register) -> tuple[str, ...]:
    """The statuses the register's status-changing actions lead into (the events' query)."""
    return tuple(ACTIONS[k].to for k in register.feeds if ACTIONS[k].to is not None)


def kinds_fed(register: Register) -> tuple[str, ...]:
    """The event kinds of the register's actions that keep the status (复制)."""
    return tuple(k for k in register.feeds if ACTIONS[k].to is None)
