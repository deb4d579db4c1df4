"""The approval forms MiBao prints, as templates over the form framework (seed 003 附表,
seed 002 §八). Each takes the selected records and returns a Form; nothing here draws."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from mibao_desktop.ledgers.pending import PENDING, gaps
from mibao_desktop.printing.forms import BLANK_DATE, Form, Grid, L, NextCopy, Signatures, Table, Text, V

SIGN = "签字:                日期:" + BLANK_DATE
TICK, BOX = "■", "□"  # a box ticked from what MiBao knows, one left to tick by hand


@dataclass(frozen=True)
class FormContext:
    unit: str = ""  # 单位名称, from the settings
    today: dt.date = dt.date.today()
    history: dict | None = None  # record id → its HistoryEntry list (maintenance record)
    holdings: Sequence | None = None  # a person's items (excel.person_holdings.Holding: number, name, level, roles)
    last_changes: dict | None = None  # record id → its latest status change (HistoryEntry), with its facts
    names: dict | None = None  # account login → 姓名: 经办人 on paper is a person, not a login
    handler: str = ""  # 姓名 of the one printing (经办人)
    parents: dict | None = None  # a child record's id → its parent (a carrier copy's carrier: title, 密级)
    # a departure under way (离岗离职): what the procedure has so far, before the change that closes
    # the person stores it (原因, 谈话 date and who, 脱密期 from/until, its length)
    departure: Mapping | None = None
    # the person a record names, by the record's id (a trip's 出国(境)人员: 部门, 涉密等级, 岗位)
    people: Mapping | None = None


def _v(record, name: str) -> str:
    """A field's value as the form prints it; a required field a record is still 待补充 for
    (its column was never kept) says so rather than leaving a blank that looks forgotten."""
    if record is None or not record.ledger.has_field(name):
        return ""
    shown = record.display(name)
    if not shown and any(f.name == name for f in gaps(record.ledger, record.values)):
        return PENDING
    return shown


def _last(ctx: FormContext, record, *into: str):
    """The record's latest status change, if it moved into one of ``into`` (any, when none named)."""
    entry = (ctx.last_changes or {}).get(record.id) if record is not None else None
    if entry is None or entry.status_moved is None or (into and entry.status_moved[1] not in into):
        return None
    return entry


def _fact(entry, name: str) -> str:
    return entry.fact(name) if entry is not None else ""


def _when(entry) -> str:
    if entry is None:
        return ""
    day = entry.effective_date or entry.at.date()
    return f"{day:%Y年%m月%d日}"


def _long_date(text: str) -> str:
    try:
        return f"{dt.date.fromisoformat(text):%Y年%m月%d日}"
    except ValueError:
        return text


def _tick(options: Sequence[str], chosen: str | None) -> str:
    return "    ".join(f"{TICK if o == chosen else BOX} {o}" for o in options)


def _name_of(ctx: FormContext, login: str) -> str:
    return (ctx.names or {}).get(login, login)


WARNED_BY_NUMBER = 3  # records a warning names one by one; more are counted


def _warned(records: Sequence, what) -> list[str]:
    """``what`` says, of one record, what is wrong (不应外出, 尚未报废)."""
    if len(records) <= WARNED_BY_NUMBER:
        return [f"{r.ledger.noun} {r.number} 当前为“{r.status}”,{what(r)}" for r in records]
    shown = "、".join(r.number for r in records[:WARNED_BY_NUMBER])
    states = "、".join(f"“{s}”" for s in dict.fromkeys(r.status for r in records))
    return [f"{shown} 等 {len(records)} 条记录{what(records[0])}(当前为{states})"]


def _away(record) -> bool:
    """Out of the unit's hands: in a status whose change records where it went or who holds it
    (外出, 维修, 借出 — the statuses that declare facts, closing ones aside)."""
    lifecycle = record.ledger.lifecycle
    return record.status in lifecycle.facts and record.status not in lifecycle.closing


def takeout_warnings(records: Sequence) -> list[str]:
    """Why a record is in no state to go out (维修, 报废, 已销毁 …): its lifecycle says in
    which statuses it may (``Lifecycle.fit_to_go_out``)."""
    return _warned([r for r in records if r.voided or r.status not in r.ledger.lifecycle.fit_to_go_out],
                   lambda _r: "不应外出")


def destruction_warnings(records: Sequence) -> list[str]:
    """Records on the destruction form that are not in the unit's hands (外出, 维修, 借出): they
    are got back before they are destroyed. (在用 is no fault: the approval comes before 报废.)"""
    return _warned([r for r in records if _away(r)], lambda _r: "销毁前应先收回")


def _parent(ctx: FormContext | None, record):
    return (ctx.parents or {}).get(record.id) if ctx is not None and record is not None else None


def _item_number(ctx: FormContext | None, record) -> str:
    """编号 as the paper names it: a carrier copy by its carrier's number and its 份号."""
    parent = _parent(ctx, record)
    if parent is None:
        return record.asset_number
    key = record.ledger.field(record.ledger.key_field)
    return f"{parent.number}·{key.label}{record.display(key.name)}"


def _item_level(ctx: FormContext | None, record) -> str:
    """密级 of a record, a copy's from its carrier (inherited, never kept on the copy)."""
    return _v(record, "level") or _v(_parent(ctx, record), "level")


def _device_name(record, ctx: FormContext | None = None) -> str:
    if record is None:
        return ""
    parent = _parent(ctx, record)
    if parent is not None:
        return _v(parent, "title") or parent.ledger.noun
    kind = _v(record, "device_type") or _v(record, "media_type")
    return " ".join(p for p in (kind, _v(record, "brand_model")) if p)


def _unit_line(ctx: FormContext, extra: str = "") -> str:
    unit = ctx.unit or "                        "
    return f"单位:{unit}    {extra}".rstrip()


def _handled(ctx: FormContext, extra: str) -> str:
    """The right of the line under the title: a date, and who filled the form in (经办人, by 姓名)."""
    return f"{extra}    经办人:{ctx.handler}" if ctx.handler else extra


def takeout(records: Sequence, ctx: FormContext) -> Form:
    """涉密信息设备外出审核表 (seed 003 附表1), filled from the record and, when it is 外出, from
    the facts its change into 外出 recorded (where, why, who carries it, until when). A record
    in no state to go out (维修, 报废, 已销毁) is said so at the top of the form."""
    r = records[0] if records else None
    trip = _last(ctx, r, "外出") if r is not None and r.status == "外出" else None
    start = _when(trip) or BLANK_DATE
    back = _long_date(_fact(trip, "return_by")) or BLANK_DATE
    return Form("涉密信息设备外出审核表", note=_unit_line(ctx),
                note_right=_handled(ctx, f"填表日期:{ctx.today:%Y年%m月%d日}"),
                warning=";".join(takeout_warnings(records)), blocks=[
        Grid([
            (11, [L("部门"), V(_v(r, "department")), L("使用人"), V(_v(r, "user") or _v(r, "responsible_person"))]),
            (11, [L("设备名称"), V(_device_name(r)), L("设备编号"), V(_v(r, "asset_number"))]),
            (11, [L("密级"), V(_v(r, "level")), L("序列号"), V(_v(r, "serial_number"))]),
            (11, [L("责任人"), V(_v(r, "responsible_person")), L("硬盘序列号" if r is not None and r.ledger.has_field("disk_serials") else "容量"),
                  V(_v(r, "disk_serials") or _v(r, "capacity"))]),
            (11, [L("外出地点"), V(_fact(trip, "destination")), L("携带人"), V(_fact(trip, "carried_by"))]),
            (24, [L("外出事由"), V(_fact(trip, "trip_purpose"), 3)]),
            (11, [L("起止日期"), V(f"{start}  至  {back}", 3)]),
            (11, [L("是否存储涉密信息"), V("□ 是(须加密并采取严格保护措施)      □ 否", 3)]),
            (20, [L("携带保护措施"), V("□ 专人携带、不离身    □ 存储信息已加密    □ 保密柜/保密包", 3)]),
            (26, [L("返回检查情况"), V("□ 设备完好  □ 封条/标识完好  □ 未接入其他网络  □ 信息无异常", 3,
                                  sign="检查人:                日期:" + BLANK_DATE)]),
            (24, [L("部门领导意见"), V("", 3, sign=SIGN)]),
            (24, [L("保密部门意见"), V("", 3, sign=SIGN)]),
        ], widths=(1.1, 1.6, 1.1, 1.6)),
        Signatures(["使用人:", "携带人:", "安全保密负责人:", "领导签字:"], per_line=2),
    ])


MAINTENANCE_KINDS = {"维修": "维护维修", "报废": "淘汰报废", "已销毁": "销毁"}  # status → 类别 ticked


def _status_row(e, ctx: FormContext) -> tuple:
    """One status change in the record's list: date, what moved, why (or what it recorded), by whom."""
    moved = e.status_moved
    why = e.reason or ";".join(f"{c.label}:{c.new}" for c in e.facts if c.new)
    return (e.effective_date.isoformat() if e.effective_date else e.at.strftime("%Y-%m-%d"),
            f"{moved[0]} → {moved[1]}", why, _name_of(ctx, e.actor))


def _what_was_done(last) -> str:
    """原因及内容: the date and reason of the change, or what a repair recorded."""
    if last is None:
        return ""
    told = last.reason or ";".join(f"{c.label}:{c.new}" for c in last.facts if c.new)
    return f"{_when(last)} 改为“{last.status_moved[1]}”" + (f":{told}" if told else "")


def maintenance(records: Sequence, ctx: FormContext) -> Form:
    """涉密信息系统、设备维护淘汰管理档案 (seed 003 附表2): 类别, 原因, the repairer, the person
    accompanying it and what became of its disk come from its latest status change."""
    r = records[0] if records else None
    events = (ctx.history or {}).get(r.id, []) if r is not None else []
    rows = [_status_row(e, ctx) for e in events if e.status_moved is not None][:8]
    last = _last(ctx, r, *MAINTENANCE_KINDS)
    kind = MAINTENANCE_KINDS.get(last.status_moved[1]) if last is not None else None
    repair = last if kind == "维护维修" else None
    removed = {"是": "拆除后留存", "无硬盘": "无存储部件"}.get(_fact(repair, "storage_removed"))
    return Form("涉密信息系统、设备维护淘汰管理档案", note=_unit_line(ctx),
                note_right=_handled(ctx, f"建档日期:{ctx.today:%Y年%m月%d日}"), blocks=[
        Grid([
            (11, [L("设备名称"), V(_device_name(r)), L("设备编号"), V(_v(r, "asset_number"))]),
            (11, [L("密级"), V(_v(r, "level")), L("序列号"), V(_v(r, "serial_number"))]),
            (11, [L("部门"), V(_v(r, "department")), L("责任人"), V(_v(r, "responsible_person"))]),
            (11, [L("硬盘序列号"), V(_v(r, "disk_serials") or _v(r, "capacity"), 3)]),
            (11, [L("类别"), V(_tick(("维护维修", "淘汰报废", "改作非涉密使用", "销毁"), kind), 3)]),
            (26, [L("原因及内容"), V(_what_was_done(last), 3)]),
            (11, [L("维修地点"), V("□ 本单位内部(专人全程监督)      □ 送外维修(已拆除涉密存储部件)", 3)]),
            (22, [L("涉密存储部件处理"), V(_tick(("拆除后留存", "交承销单位销毁", "无存储部件"), removed)
                                          + "\n部件名称及序列号:" + (_v(r, "disk_serials") if removed == "拆除后留存" else ""), 3)]),
            (11, [L("维护单位/人员"), V(_fact(repair, "repaired_by")), L("全程监督人"), V(_fact(repair, "escort"))]),
            (20, [L("处理结果"), V("", 3)]),
        ], widths=(1.1, 1.6, 1.1, 1.6)),
        Table(["日期", "状态变更", "原因", "经办人"], [1.2, 1.4, 3, 1.2], rows, blank_rows=max(0, 3 - len(rows))),
        Signatures(["维护淘汰负责人:", "日期:"], per_line=2),
        Signatures(["监督人员(安全保密、运行管理负责人):"], per_line=1),
    ])


def _one_or_list(values: Sequence[str], many: str) -> str:
    """One value when all agree, else each (up to three), else ``many``."""
    kept = list(dict.fromkeys(v for v in values if v))
    if len(kept) <= 1:
        return kept[0] if kept else ""
    return "、".join(kept) if len(kept) <= 3 else many


def destruction(records: Sequence, ctx: FormContext) -> Form:
    """涉密载体销毁审批表 with its inventory list over as many pages as needed, for every
    record selected. 申请部门 is their departments; 销毁原因 and 申请日期 come from the change
    that retired them (报废, a carrier's 清退); 销毁日期 from their destruction, once done."""
    kinds = Counter(_v(r, "device_type") or _v(r, "media_type") or r.ledger.noun for r in records)
    retired = {r.id: _last(ctx, r, *r.ledger.lifecycle.closing) for r in records}
    retiring = {r.id: e for r, e in ((r, retired[r.id]) for r in records) if e is not None
                and e.status_moved[1] not in r.ledger.lifecycle.terminal}
    destroyed = [e for r in records for e in [retired[r.id]] if e is not None
                 and e.status_moved[1] in r.ledger.lifecycle.terminal]
    reasons = [e.reason or "" for e in retired.values() if e is not None]
    rows = [(i, _device_name(r, ctx) or r.ledger.noun, _item_number(ctx, r), _item_level(ctx, r) or "非涉密", 1,
             _v(r, "serial_number"), (retired[r.id].reason or "") if retired[r.id] is not None else "")
            for i, r in enumerate(records, start=1)]
    # a carrier copy's 销毁 records its approval, 监销人, 承销单位 and list (seed 002 §八)
    said = lambda name: _one_or_list([_fact(e, name) for e in destroyed], "见清单")  # noqa: E731
    contractor = " ".join(p for p in (said("contractor"), said("contractor_licence") and f"(资质:{said('contractor_licence')})") if p)
    method = said("destroy_method")
    methods = ("送交承销单位销毁", "粉碎", "消磁", "物理损毁存储部件")
    supervisors = [n for n in dict.fromkeys([*(_fact(e, "supervisor_1") for e in destroyed),
                                             *(_fact(e, "supervisor_2") for e in destroyed)]) if n]
    approver = said("approver")
    inventory = said("inventory")
    totals = ["合计:" + ",".join(f"{k} {n} 件" for k, n in sorted(kinds.items())) + f";共 {len(records)} 件"]
    asked = max((e.effective_date or e.at.date() for e in retiring.values()), default=None)
    done = max((e.effective_date or e.at.date() for e in destroyed), default=None) if len(destroyed) == len(records) else None
    department = _one_or_list([_v(r, "department") or _v(_parent(ctx, r), "department") for r in records], "见清单")
    return Form("涉密载体销毁审批表", note=_unit_line(ctx, f"清单编号:{inventory}" if inventory else ""),
                note_right=_handled(ctx, f"申请日期:{asked:%Y年%m月%d日}" if asked else "申请日期:" + BLANK_DATE),
                warning=";".join(destruction_warnings(records)), blocks=[
        Grid([
            (11, [L("申请部门"), V(department, 3)]),
            (18, [L("销毁原因"), V(_one_or_list(reasons, "见清单"), 3)]),
            (11, [L("销毁方式"), V(_tick(methods, method), 3)]),
            (11, [L("承销单位"), V(contractor), L("销毁地点"), V("")]),
            (11, [L("销毁数量"), V(f"共 {len(records)} 件(清单附后)"), L("销毁日期"),
                  V(f"{done:%Y年%m月%d日}" if done else BLANK_DATE)]),
            (24, [L("部门领导意见"), V("", 3, sign=SIGN)]),
            (24, [L("保密部门审批"), V(f"批准人:{approver}" if approver else "", 3,
                                       sign="批准人:                日期:" + BLANK_DATE)]),
        ], widths=(1.1, 1.6, 1.1, 1.6)),
        Signatures(["销毁人:", *(f"监销人:{n}" for n in (supervisors + ["", ""])[:max(2, len(supervisors))]),
                    "批准人:", "承销单位经办人:"], per_line=3),
        Table(["序号", "名称", "编号", "密级", "数量", "序列号", "销毁原因"], [0.6, 2.0, 1.7, 0.8, 0.6, 1.6, 2.0], rows,
              totals=totals),
    ])


def copy_approval(records: Sequence, ctx: FormContext) -> Form:
    """复制审批表: copying a carrier is approved and registered; the copy is managed as an original.
    A carrier copy's 复制 (ctx.last_changes holds it) fills it: the original and its 份号, how and
    how many, the issuing unit's consent (绝密: the recorded exception), the approver and the
    copy's own number (seed 002 §八(四), seed 003 保密工作制度第十二条)."""
    r = records[0] if records else None
    carrier = _parent(ctx, r) or r
    done = (ctx.last_changes or {}).get(r.id) if r is not None else None
    done = done if done is not None and done.action == "copy" else None
    said = (lambda name: next((c.new for c in done.changes if c.field == name), "")) if done else (lambda _n: "")
    number = _v(carrier, "carrier_number") or _v(r, "asset_number")
    doc = _v(carrier, "doc_number")
    original = r.display(r.ledger.key_field) if r is not None and _parent(ctx, r) is not None else ""
    made = said("copy_as")
    count = said("copy_count")
    consent = " ".join(p for p in (said("issuer_consent"), said("top_secret_exception") and
                                   f"绝密特批:{said('top_secret_exception')}") if p)
    kinds = ("复制", "摘录", "引用", "汇编")
    return Form("国家秘密载体复制审批表", note=_unit_line(ctx, "申请日期:" + (_when(done) or BLANK_DATE)), blocks=[
        Grid([
            (11, [L("载体名称"), V(_v(carrier, "title") or _device_name(r) or "", 3)]),
            (11, [L("编号"), V(number), L("密级"), V(_item_level(ctx, r))]),
            (11, [L("文号"), V(doc, 3)]),
            (11, [L("原件份号"), V(original), L("复制份数"), V(count)]),
            (11, [L("复制方式"), V(_tick(kinds, said("copy_kind")) if done else "□ 复印  □ 拷贝  □ 摘录  □ 汇编", 3)]),
            (16, [L("制发机关批准"), V(consent, 3)]),
            (11, [L("复制人"), V(""), L("复制日期"), V(_when(done) or BLANK_DATE)]),
            (11, [L("复制件编号"), V(f"{made}(第 1–{count} 份,加盖复制戳记)" if made and count else made, 3)]),
            (24, [L("部门领导意见"), V("", 3, sign=SIGN)]),
            (24, [L("保密部门意见"), V((f"批准人:{said('approver')}。" if said("approver") else "")
                                      + "复制件按原件密级标注、登记和管理;绝密级载体原则上不得复制。", 3, sign=SIGN)]),
        ], widths=(1.1, 1.6, 1.1, 1.6)),
        Signatures(["申请人:", "复制经办人:", "登记人:"]),
    ])


def borrowing(records: Sequence, ctx: FormContext) -> Form:
    """借阅登记簿: one line per loan, signed on lending and on return. A record on loan (借出)
    has its line filled from the change that lent it: the borrower, the day and the due date."""
    def loan(r) -> tuple:
        lent = _last(ctx, r, "借出") if r.status == "借出" else None
        if lent is None:
            return ("", "", "", "")
        due = _fact(lent, "due_back")
        return (_fact(lent, "borrower"), "", (lent.effective_date or lent.at.date()).isoformat(), due)

    rows = [(i, _device_name(r, ctx) or r.ledger.noun, _item_number(ctx, r), _item_level(ctx, r), *loan(r), "", "", "")
            for i, r in enumerate(records, start=1)]
    return Form("涉密载体借阅登记簿", note=_unit_line(ctx), landscape=True, blocks=[
        Table(["序号", "名称", "编号", "密级", "借阅人", "部门", "借出日期", "应还日期", "归还日期", "借阅人签字", "经办人签字"],
              [0.6, 2.2, 1.7, 0.8, 1.1, 1.3, 1.2, 1.2, 1.2, 1.3, 1.3], rows, row_height=9,
              blank_rows=max(0, 14 - len(rows))),
    ])


def distribution(records: Sequence, ctx: FormContext) -> Form:
    """涉密载体分发签收单 (seed 002 §八: 发送涉密载体要履行审批、登记、签收手续): one line per
    copy sent, filled from its 分发 (the recipient, the unit, who approved it, the day), with
    the recipient's signature left to sign by hand."""
    def sent(r) -> tuple:
        e = _last(ctx, r, "已分发") if r.status == "已分发" else None
        day = (e.effective_date or e.at.date()).isoformat() if e is not None else ""
        return (_fact(e, "recipient_unit"), _fact(e, "recipient"), _fact(e, "approver"), day)

    first = _parent(ctx, records[0]) if records else None
    rows = [(i, _device_name(r, ctx) or r.ledger.noun, _v(_parent(ctx, r), "doc_number"), _item_number(ctx, r),
             _item_level(ctx, r), *sent(r), "") for i, r in enumerate(records, start=1)]
    title = _v(first, "title") if first is not None and all(_parent(ctx, r) is first or
                                                            getattr(_parent(ctx, r), "id", None) == first.id
                                                            for r in records) else ""
    return Form("涉密载体分发签收单", note=_unit_line(ctx), landscape=True,
                note_right=_handled(ctx, f"文件:{title}" if title else ""), blocks=[
        Table(["序号", "名称", "文号", "编号(份号)", "密级", "接收单位", "接收人", "批准人", "分发日期", "签收人签字"],
              [0.6, 2.6, 1.5, 1.9, 0.8, 1.4, 1.0, 1.0, 1.1, 1.4], rows, row_height=9,
              blank_rows=max(0, 8 - len(rows))),
        Signatures(["分发人:", "审核人:", "日期:" + BLANK_DATE]),
    ])


COMMITMENT_ITEMS = (  # seed 003 附件:保密承诺书
    "认真遵守国家保密法律、法规和规章制度,履行保密义务,不提供虚假个人信息,自愿接受保密审查。",
    "不违规记录、存储、复制国家秘密信息,不违规留存国家秘密载体;不以任何方式泄露所接触和知悉的国家秘密;"
    "未经单位审查批准,不擅自发表涉及未公开工作内容的文件、信息;离岗时,自愿接受脱密期管理,签订保密承诺书。",
    "涉密岗位的相关人员要进行保密知识教育,要求涉密人员带头履行承诺,带头学习保密知识,掌握保密技能,"
    "真正做到懂保密、会保密、善保密。",
    "《保密承诺书》签订后,将建立保密承诺档案,保密承诺执行情况纳入干部年度考核内容,对不履行保密义务的将依法依纪追究责任。",
)


def _person_line(records: Sequence, ctx: FormContext) -> str:
    r = records[0] if records else None
    name = _v(r, "responsible_person") or "            "
    dept = _v(r, "department") or "            "
    return _unit_line(ctx, f"姓名:{name}    部门:{dept}")


COMMITMENT_INTRO = ("为进一步加强机关涉密人员的保密教育和管理,提高保密意识,强化保密责任,落实涉密人员的保密法律义务,"
                    "确保国家秘密安全。涉密人员在了解有关保密法规制度,知悉应当承担的保密义务和法律责任的前提下,做出以下承诺:")


def _signed_on(record) -> str:
    """The day the commitment was signed, when the register has it; else a line to date by hand."""
    day = record.values.get("commitment_signed_on") if record is not None and record.ledger.has_field(
        "commitment_signed_on") else None
    return f"{day:%Y年%m月%d日}" if day else BLANK_DATE


def commitment(records: Sequence, ctx: FormContext) -> Form:
    """保密承诺书 (seed 003 涉密人员管理制度 附件, its text as the seed gives it), filled from the
    person's record: 姓名, 部门, 涉密岗位, 涉密等级 and the 身份证号 whole, as the unit files it
    (printed by the security administrator, the only one who sees it whole), and the day it was
    signed when recorded. A record of another ledger names its 责任人 (the person, by name).
    Several records selected (a unit's yearly signing): a page each, each filled with its own."""
    blocks: list = []
    for r in records or [None]:
        if blocks:
            blocks.append(NextCopy())
        blocks += _commitment_blocks(r)
    return Form("保密承诺书", note=_unit_line(ctx), blocks=blocks)


def _commitment_blocks(r) -> list:
    person = r if r is not None and r.ledger.has_field("id_number") else None
    name = person.label if person is not None else _v(r, "responsible_person")
    return [
        Grid([
            (10, [L("姓名"), V(name), L("部门"), V(_v(r, "department"))]),
            (10, [L("涉密岗位"), V(_v(person, "post")), L("涉密等级"), V(_v(person, "grade"))]),
            (10, [L("身份证号"), V(_v(person, "id_number")), L("岗位密级"), V(_v(person, "post_level"))]),
        ], widths=(1.1, 1.8, 1.1, 1.4)),
        Text([COMMITMENT_INTRO]),
        Text(COMMITMENT_ITEMS, numbered=True),
        Text(["违反以上承诺,自愿承担党纪、政纪责任和法律后果。"]),
        Signatures(["承诺人(签字):", f"日期:{_signed_on(person)}"], per_line=2),
    ]


def _departure_items(start: str, end: str) -> tuple[str, ...]:
    """What the leaver pledges (seed 002 §六(三): 清退涉密载体(含纸质、电子), 取消涉密系统权限,
    脱密期管理措施; seed 003 涉密人员管理制度 第七、八条 and its 保密承诺书 第2条: 离岗时自愿接受脱密期
    管理), with the 脱密期 written in when it is known."""
    return (
        "本人已按规定清退个人承办、保管的全部国家秘密载体(含纸质、电子)和涉密信息设备,经单位保密工作机构"
        "验证无误,未私自留存任何涉密载体和涉密信息。",
        "本人在涉密信息系统中的账户和权限已取消,今后不以任何方式进入或试图进入原单位涉密信息系统。",
        "离岗后继续履行保密义务,不以任何方式泄露在岗期间接触和知悉的国家秘密和工作秘密。",
        f"自愿接受脱密期管理,脱密期自{start}至{end};脱密期内遵守就业、出国(境)等方面的限制,"
        "不为境外组织、机构和人员提供劳务、咨询或其他服务。",
        "脱密期内因私出国(境)按规定报批,因私出入境证件按规定交由单位统一管理。",
        "如发现有泄密隐患或被窃密、策反的情况,及时向原单位和保密工作部门报告。",
    )


DEPARTURE_ITEMS = _departure_items(BLANK_DATE, BLANK_DATE)  # the pledge with its dates left to write


def _day(value) -> str:
    """A date as the form writes it (2026年03月02日), also one the history keeps as text."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return f"{value:%Y年%m月%d日}"
    return str(value) if value else ""


def _departure_facts(person, ctx: FormContext) -> dict:
    """The departure's facts: those the procedure hands over (``ctx.departure``), else those of
    the change that closed the person (its history) and the 脱密期 stored on the record."""
    if ctx.departure is not None:
        return dict(ctx.departure)
    facts: dict = {}
    entry = _last(ctx, person)
    if entry is not None:
        facts["reason"] = entry.reason or ""
        facts["status"] = entry.status_moved[1]
        for name in ("briefed_on", "briefed_by", "pledge_signed_on"):
            facts[name] = _fact(entry, name)
    if person is not None:
        for name, key in (("decommission_from", "start"), ("decommission_until", "end")):
            if person.ledger.has_field(name) and person.values.get(name):
                facts[key] = person.values[name]
    return facts


def departure(records: Sequence, ctx: FormContext) -> Form:
    """离岗保密承诺书 (seed 002 §六(三), seed 003 涉密人员管理制度 第七、八条), filled from the person's
    record and the departure: why they leave, the 保密提醒谈话 (date, who held it), the 脱密期 with
    its first and last day, the day it was signed; what is not known yet is a line to write on."""
    person = records[0] if records else None
    facts = _departure_facts(person, ctx)
    start, end = _day(facts.get("start")) or BLANK_DATE, _day(facts.get("end")) or BLANK_DATE
    period = facts.get("months_text") or ""
    if facts.get("start") and facts.get("end"):
        period = f"{period}({start}至{end})" if period else f"{start}至{end}"
    talk = "    ".join(p for p in (_day(facts.get("briefed_on")), facts.get("briefed_by") or "") if p)
    return Form("离岗保密承诺书", note=_unit_line(ctx), blocks=[
        Grid([
            (10, [L("姓名"), V(person.label if person is not None else ""), L("部门"), V(_v(person, "department"))]),
            (10, [L("涉密岗位"), V(_v(person, "post")), L("涉密等级"), V(_v(person, "grade"))]),
            (10, [L("离岗原因"), V(facts.get("reason") or ""), L("离岗后"), V(facts.get("status") or "")]),
            (10, [L("保密提醒谈话"), V(talk, 3)]),
            (10, [L("脱密期"), V(period or "按涉密等级确定", 3)]),
        ], widths=(1.2, 1.8, 1.1, 1.4)),
        Text(["本人因工作调动、辞职或退休离开涉密岗位。单位保密工作机构已对本人进行保密提醒谈话,本人知悉离岗后"
              "仍须承担的保密义务和法律责任,现郑重承诺:"]),
        Text(_departure_items(start, end), numbered=True),
        Text(["违反以上承诺,自愿承担党纪、政纪责任和法律后果。"]),
        Signatures(["承诺人(签字):", f"日期:{_day(facts.get('pledge_signed_on')) or BLANK_DATE}"], per_line=2),
        Signatures([f"单位保密工作机构经办人:{ctx.handler}", f"日期:{BLANK_DATE}"], per_line=2),
    ])


def holdings(records: Sequence, ctx: FormContext) -> Form:
    """人员保管、使用的设备和介质清单: everything a person holds or uses, to be checked item by
    item — the 离岗清退 check list (seed 003 涉密人员管理制度 第七条), also for a handover or the
    yearly check — signed by the person, the head of department and the secrecy office."""
    person = records[0] if records else None
    items = list(ctx.holdings or ())
    rows = [(i, h.record.ledger.noun, h.number, " ".join(p for p in (h.kind, h.name) if p), h.level or "—",
             "、".join(h.roles), h.record.status, "□ 已交回  □ 在用") for i, h in enumerate(items, start=1)]
    kinds = Counter(h.record.ledger.noun for h in items)
    totals = [f"共 {len(items)} 件" + (":" + ",".join(f"{k} {n} 件" for k, n in kinds.items()) if kinds else "")]
    return Form("人员保管、使用的设备和介质清单", note=_unit_line(ctx, f"填表日期:{ctx.today:%Y年%m月%d日}"), blocks=[
        Grid([
            (10, [L("姓名"), V(person.label if person is not None else ""), L("人员编号"), V(_v(person, "person_number"))]),
            (10, [L("部门"), V(_v(person, "department")), L("岗位"), V(_v(person, "post"))]),
            (10, [L("清点事由"), V("□ 离岗清退    □ 调岗交接    □ 年度清查    □ 其他:", 3)]),
        ], widths=(1.1, 1.6, 1.1, 1.6)),
        Table(["序号", "类别", "编号", "名称/型号", "密级", "责任关系", "状态", "清点核对"],
              [0.6, 1.5, 1.8, 2.4, 0.7, 1.6, 0.7, 1.7], rows, blank_rows=max(0, 3 - len(rows)), totals=totals),
        Text(["以上设备和介质已逐件清点核对。离岗清退时,本人承办、保管的国家秘密载体和涉密信息设备已全部交回,"
              "未私自留存;未列入本清单而由本人保管、使用的,须补充登记后一并交回。"], size=10.5),
        Signatures(["本人:", "部门负责人:", "保密办:", "日期:", "日期:", "日期:"]),  # one block: never split
    ])


# -- 出国(境) and exit documents (issue 14 items 3, 4, 7; seed 002 §六(二)2, seed 003, seed 000) ----

# the briefing's content as seed 000 gives it: 政治纪律、外事纪律、保密纪律和其他出国(境)注意事项
BRIEFING_ITEMS = (
    "遵守政治纪律、外事纪律和保密纪律;不得擅自携带涉及国家秘密、工作秘密和内部敏感信息的载体出境。",
    "出行前对个人新媒体账号进行自查,确保无涉密或内部敏感事项。",
    "对外交往中尽量避免谈论工作情况,不该说的不说,不该问的不问,不该提供的信息不提供;不得使用手机、普通长途电话"
    "谈论涉密事项,不得使用境外人员的办公设备处理工作信息;遇到要求填写调查提纲或表格的,以“不了解情况,无法填写”等理由拒绝。",
    "在境外遇到盘问、利诱、胁迫或者其他重大异常情况时,及时向所在单位报告;情况紧急时,可向我国驻外使(领)馆或驻外机构寻求帮助。",
    "回国(境)后及时向所在单位报告在国(境)外期间的相关情况,并在规定时间内将出入境证件交回单位集中保管。",
)


def _traveller(ctx: FormContext, trip):
    return (ctx.people or {}).get(trip.id) if trip is not None else None


def _day_of(record, name: str) -> str:
    value = record.values.get(name) if record is not None and record.ledger.has_field(name) else None
    return f"{value:%Y年%m月%d日}" if isinstance(value, dt.date) else ""


def trip_approval(records: Sequence, ctx: FormContext) -> Form:
    """出国(境)审批表 (seed 003 涉外活动管理制度 第九条; seed 002 §六(二)2), filled from the trip
    and its person: who, where, when, why, with whom; the mark of a 核心 person's private trip or
    a trip in the 脱密期 with the exception the approval stated; the approval when recorded."""
    t = records[0] if records else None
    p = _traveller(ctx, t)
    mark = _v(t, "restriction")
    approved = _v(t, "approver")
    decision = f"同意。审批人:{approved}    {_day_of(t, 'approved_on')}" if approved else ""
    rows = [
        (10, [L("姓名"), V(_v(t, "traveller")), L("性别"), V(_v(p, "sex"))]),
        (10, [L("部门"), V(_v(p, "department")), L("涉密岗位"), V(_v(p, "post"))]),
        (10, [L("涉密等级"), V(_v(p, "grade")), L("人员状态"), V(_v(p, "status"))]),
        (10, [L("出国(境)类别"), V(_tick(("因公", "因私"), t.values.get("kind") if t is not None else None)),
              L("申请日期"), V(_day_of(t, "applied_on"))]),
        (10, [L("前往国家(地区)"), V(_v(t, "destinations"), 3)]),
        (10, [L("出境日期"), V(_day_of(t, "leave_on")), L("回国(境)日期"), V(_day_of(t, "return_on"))]),
        (18, [L("事由"), V(_v(t, "purpose"), 3)]),
        (10, [L("同行人员"), V(_v(t, "companions") or "无", 3)]),
        (10, [L("限制情形"), V(mark or "无", 3)]),
    ]
    if mark:
        rows.append((18, [L("特批理由"), V(_v(t, "exception_reason"), 3)]))
    rows += [
        (24, [L("本人承诺"), V("出国(境)期间严格遵守外事纪律和保密纪律,不携带涉密载体出境;回国(境)后及时报告有关情况,"
                             "并在规定时间内交回出入境证件。", 3, sign="本人签字:                日期:" + BLANK_DATE)]),
        (22, [L("所在部门意见"), V("", 3, sign=SIGN)]),
        (22, [L("保密部门意见"), V("", 3, sign=SIGN)]),
        (22, [L("审批意见"), V(decision, 3, sign=SIGN)]),
    ]
    warning = f"{mark}:审批须写明特批理由" if mark and not approved else ""
    return Form("出国(境)审批表", note=_unit_line(ctx, f"编号:{_v(t, 'trip_number')}"),
                note_right=_handled(ctx, f"填表日期:{ctx.today:%Y年%m月%d日}"), warning=warning, blocks=[
        Grid(rows, widths=(1.2, 1.7, 1.2, 1.5)),
    ])


def trip_briefing(records: Sequence, ctx: FormContext) -> Form:
    """行前保密提醒谈话记录 (seed 000: 政治纪律、外事纪律、保密纪律和其他出国(境)注意事项; seed 002
    §六(二)2), filled from the trip and its briefing when recorded; signed by both."""
    t = records[0] if records else None
    p = _traveller(ctx, t)
    notes = _v(t, "briefing_notes")
    return Form("行前保密提醒谈话记录", note=_unit_line(ctx, f"出国(境)编号:{_v(t, 'trip_number')}"),
                note_right=_handled(ctx, f"填表日期:{ctx.today:%Y年%m月%d日}"), blocks=[
        Grid([
            (10, [L("谈话对象"), V(_v(t, "traveller")), L("部门"), V(_v(p, "department"))]),
            (10, [L("涉密岗位"), V(_v(p, "post")), L("涉密等级"), V(_v(p, "grade"))]),
            (10, [L("出国(境)类别"), V(_v(t, "kind")), L("前往国家(地区)"), V(_v(t, "destinations"))]),
            (10, [L("出境日期"), V(_day_of(t, "leave_on")), L("回国(境)日期"), V(_day_of(t, "return_on"))]),
            (10, [L("谈话时间"), V(_day_of(t, "briefed_on") or BLANK_DATE), L("谈话人"), V(_v(t, "briefed_by"))]),
        ], widths=(1.2, 1.7, 1.3, 1.6)),
        Text(["谈话内容:"]),
        Text(BRIEFING_ITEMS, numbered=True, size=10.5),
        Text([f"其他:{notes}" if notes else "其他:"], size=10.5),
        Text(["以上内容已向本人提醒,本人已知悉并承诺遵守。"]),
        Signatures(["谈话人(签字):", "谈话对象(签字):", "日期:", "日期:"], per_line=2),
    ])


def _document_lines(records: Sequence, ctx: FormContext) -> list[tuple]:
    """Each 领取 of the documents with the 交回 that ended it, from their histories (oldest first)."""
    rows = []
    for r in records:
        entries = list(reversed((ctx.history or {}).get(r.id) or ()))
        taken = None
        for e in entries:
            moved = e.status_moved
            if moved is None or e.reverses is not None or e.reversed_by is not None:
                continue
            day = (e.effective_date or e.at.date()).isoformat()
            if moved[1] == "已领取":
                taken = [r.values.get("kind"), r.number, r.display("holder"), e.fact("trip"), day,
                         e.fact("collector"), e.fact("handler"), e.fact("due_on"), "", "", "", ""]
                rows.append(taken)
            elif moved == ("已领取", "在库") and taken is not None:
                due = taken[7]
                late = (dt.date.fromisoformat(day) - dt.date.fromisoformat(due)).days if due else 0
                taken[8:12] = [day, e.fact("returner"), e.fact("handler"), f"逾期 {late} 天" if late > 0 else ""]
                taken = None
        if taken is not None and taken[7] and dt.date.fromisoformat(taken[7]) < ctx.today:
            taken[11] = f"逾期 {(ctx.today - dt.date.fromisoformat(taken[7])).days} 天未交回"
    return rows


def document_register(records: Sequence, ctx: FormContext) -> Form:
    """证件领取/交回登记 (seed 003 涉密人员管理制度 第六条, seed 000): one line per 领取 of the
    selected documents, with the trip, the names of 领取人 and 经办人, the day due back and the
    交回 that ended it (its names, and how late); blank lines for entries by hand."""
    lines = _document_lines(records, ctx)
    rows = [(i, *line) for i, line in enumerate(lines, start=1)]
    return Form("因私出入境证件领取、交回登记", note=_unit_line(ctx), landscape=True,
                note_right=_handled(ctx, f"打印日期:{ctx.today:%Y年%m月%d日}"), blocks=[
        Table(["序号", "证件类别", "证件号码", "持证人", "出国(境)编号", "领取日期", "领取人", "经办人", "应交回日期",
               "交回日期", "交回人", "经办人", "备注"],
              [0.6, 1.6, 1.3, 0.9, 1.1, 1.1, 0.9, 1.1, 1.1, 1.1, 0.9, 1.1, 1.4], rows, row_height=9, wrap=True,
              blank_rows=max(0, 12 - len(rows))),
        Text(["领取、交回均由本人签字确认;因私出入境证件应在回国(境)后规定时间内交回单位集中保管。"], size=10),
    ])


@dataclass(frozen=True)
class FormTemplate:
    """A form and how many records it takes. Which ledgers print it is the ledgers' business
    (``Ledger.forms``): a new ledger lists the forms it uses, no template changes."""

    key: str
    title: str
    build: Callable[[Sequence, FormContext], Form]
    selection: str  # "one": one record; "many": one or more records; "any": none needed


FORM_TEMPLATES: dict[str, FormTemplate] = {t.key: t for t in (
    FormTemplate("takeout", "涉密信息设备外出审核表", takeout, "one"),
    FormTemplate("maintenance", "设备维护淘汰管理档案", maintenance, "one"),
    FormTemplate("destruction", "销毁审批表(附清单)", destruction, "many"),
    FormTemplate("copy", "复制审批表", copy_approval, "one"),
    FormTemplate("borrowing", "借阅登记簿", borrowing, "many"),
    FormTemplate("distribution", "分发签收单", distribution, "many"),
    FormTemplate("commitment", "保密承诺书", commitment, "any"),
    FormTemplate("departure", "离岗保密承诺书", departure, "any"),
    FormTemplate("holdings", "人员保管、使用的设备和介质清单", holdings, "one"),
    FormTemplate("trip_approval", "出国(境)审批表", trip_approval, "one"),
    FormTemplate("trip_briefing", "行前保密提醒谈话记录", trip_briefing, "one"),
    FormTemplate("document_register", "证件领取/交回登记", document_register, "many"),
)}


def ledgers_for(form_key: str) -> tuple:
    """The registered ledgers whose records may be printed on this form (``Ledger.forms``),
    in the navigation's order: where the command line looks up the numbers it is given."""
    from mibao_desktop.ledgers import REGISTRY  # the registry is read when asked: a test may add a ledger

    return tuple(l for l in REGISTRY if form_key in l.forms)


def forms_of(ledger) -> list[FormTemplate]:
    """The templates a ledger's records can be printed on, in the ledger's order."""
    return [FORM_TEMPLATES[key] for key in ledger.forms]
