"""Office-automation and other information devices (办公自动化设备: 打印机, 复印机, 扫描仪,
传真机, 多功能一体机, 照相机, 摄像机 — seed 003 第二条, seed 002 §七).

A device records the computers it is connected to. Two rules look at those computers:
a printer (or any such device) may not be shared between a classified and an unclassified
computer (seed 002 §七.3 "不得在涉密计算机与非涉密计算机之间共用打印机等办公自动化设备",
seed 003 第十四条 "严禁与非涉密计算机共享打印机"), and a device serving a classified
computer is classified at least as high as that computer.
"""

from __future__ import annotations

from typing import Iterator, Mapping

from mibao_desktop.ledgers import common, levels, samples
from mibao_desktop.ledgers.declaration import DEVICE_LIFECYCLE, LabelSpec, Ledger, RuleContext, SampleContext
from mibao_desktop.ledgers.fields import Choice, Field, Reference, Text

DEVICE_TYPES = ("打印机", "复印机", "扫描仪", "传真机", "多功能一体机", "照相机", "摄像机")
MODELS = {"打印机": ("惠普 LaserJet M403d", "奔图 P3305DN", "联想 LJ2655DN"), "复印机": ("理光 MP 2014AD", "震旦 ADC225"),
          "扫描仪": ("富士通 fi-7160", "紫光 Q400"), "传真机": ("松下 KX-FL338CN",), "多功能一体机": ("奔图 M7160DW", "兄弟 DCP-7195DW"),
          "照相机": ("佳能 EOS 850D",), "摄像机": ("索尼 FDR-AX45",)}

CONNECTED = "connected_computers"


def _level_of(record) -> str | None:
    field = record.ledger.level_field
    return record.values.get(field.name) if field is not None else None


def one_side_only(ctx: RuleContext) -> Mapping[str, str]:
    """Not shared between a classified and an unclassified computer (seed 002 §七.3)."""
    computers = ctx.referenced(CONNECTED)
    classified = [c for c in computers if levels.is_classified(_level_of(c))]
    unclassified = [c for c in computers if not levels.is_classified(_level_of(c))]
    if classified and unclassified:
        return {CONNECTED: "不得在涉密计算机与非涉密计算机之间共用(保密管理规定第七条):涉密计算机 "
                           + "、".join(c.label for c in classified) + ";非涉密计算机 "
                           + "、".join(c.label for c in unclassified)}
    return {}


def level_not_below_its_computers(ctx: RuleContext) -> Mapping[str, str]:
    """A device serving a classified computer is classified at least as high as it."""
    own = ctx.values.get("level")
    higher = [c for c in ctx.referenced(CONNECTED)
              if levels.is_classified(_level_of(c)) and levels.rank(_level_of(c)) > levels.rank(own)]
    if higher:
        top = levels.highest(_level_of(c) for c in higher)
        return {"level": f"密级不能低于所连接的涉密计算机:" + "、".join(f"{c.label}({_level_of(c)})" for c in higher)
                         + f",应为{top}或更高"}
    return {}


def _sample(ctx: SampleContext) -> Iterator[dict]:
    classified = list(ctx.made.get("computers", ()))
    unclassified = list(ctx.made.get("unclassified_computers", ()))
    rng = ctx.rng
    for n in range(1, ctx.count(40) + 1):
        kind = rng.choices(DEVICE_TYPES, (8, 2, 2, 1, 3, 1, 1))[0]
        secret = rng.random() < 0.7 and classified
        pool = classified if secret else unclassified
        row = {
            "asset_number": f"{'JB' if secret else 'FB'}-{n:04d}",
            "device_type": kind,
            "brand_model": rng.choice(MODELS[kind]),
            "serial_number": f"OA{n:05d}{rng.randint(100, 999)}",
            "level": levels.UNCLASSIFIED,
            "responsible_person": rng.choice(ctx.people),
            "department": rng.choice(samples.DEPARTMENTS),
            "location": samples.room(rng),
            "start_date": samples.past_date(rng, 8),
        }
        if pool and kind in ("打印机", "扫描仪", "多功能一体机"):
            served = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
            row[CONNECTED] = [c["asset_number"] for c in served]
            if secret:  # as high as the highest computer it serves
                row["level"] = levels.highest(c.get("level") for c in served)
        elif secret:
            row["level"] = rng.choice(levels.LEVELS[1:])
        yield row


OFFICE_DEVICES = Ledger(
    key="office_devices",
    title="办公自动化设备台账",
    noun="办公自动化设备",
    fields=(
        common.asset_number(),
        Field("device_type", "设备类型", Choice(DEVICE_TYPES), required=True, default="打印机", searchable=True,
              facet=True, synonyms=("类型", "设备种类", "设备名称")),
        common.brand_model(),
        common.serial_number(),
        common.level(with_unclassified=True),
        common.responsible_person(),
        common.department(),
        common.location(),
        Field(CONNECTED, "连接的计算机", Reference(("computers", "unclassified_computers")), many=True,
              searchable=True, synonyms=("连接计算机", "所连计算机", "连接主机", "使用计算机", "连接计算机编号", "所连计算机编号",
                        "连接的计算机编号", "连接计算机保密编号"),
              help="填写计算机的设备编号,多台用“;”分隔"),
        common.start_date(),
        common.status(DEVICE_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=DEVICE_LIFECYCLE,
    aliases=("办公自动化设备", "办公设备", "oa"),
    rules=(one_side_only, level_not_below_its_computers),
    label=LabelSpec("办公自动化设备", ("涉密办公自动化设备", "严禁连接", "互联网、", "严禁与", "非涉密计算机", "共用"),
                    lines=("asset_number", "responsible_person", "start_date")),
    forms=("maintenance", "destruction"),
    sample=_sample,
)
