"""Classified and unclassified computers (涉密计算机 / 非涉密计算机), seed 002 §七.

Both ledgers are built from one field list: the classified one adds 密级, 定密时间 and the
protection installed; the unclassified one has no level and its own network choices.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

from mibao_desktop.ledgers import common, levels, samples
from mibao_desktop.ledgers.declaration import DEVICE_LIFECYCLE, LabelSpec, Ledger, SampleContext
from mibao_desktop.ledgers.fields import Choice, Field, MacAddress, Text

OPERATING_SYSTEMS = ("Windows 7", "Windows 10", "Windows 11", "银河麒麟", "中标麒麟", "统信UOS", "Linux")
PROTECTION_PRODUCTS = ("三合一", "主机审计", "身份鉴别", "防病毒", "移动介质管控", "打印审计")


def _computer_fields(*, classified: bool) -> tuple[Field, ...]:
    level_fields = (common.level(), common.classified_on()) if classified else ()
    networks = ("单机", "涉密网") if classified else ("互联网", "非涉密内网", "单机")
    protection = (
        (Field("protection", "安全防护", Choice(PROTECTION_PRODUCTS, open_list=True), many=True,
               shown=False, synonyms=("防护措施", "安全保密产品", "安装防护软件")),)
        if classified else ()
    )
    return (
        common.asset_number(carries=("disk_serials",)),  # 编号 cells that hold the disk serial too
        Field("device_type", "设备类型", Choice(("台式机", "便携机", "服务器")), required=True,
              default="台式机", searchable=True, facet=True, synonyms=("类型", "设备种类", "计算机类型")),
        common.brand_model(),
        common.serial_number("机器序列号"),
        *level_fields,
        common.user(),
        common.responsible_person(),
        common.department(),
        Field("disk_serials", "硬盘序列号", Text(max_length=60, upper=True), required=True,
              unique=True, many=True, searchable=True,
              synonyms=("硬盘序号", "硬盘编号", "硬盘SN", "硬盘序列号码", "磁盘序列号", "磁盘序号", "硬盘号")),
        Field("mac_addresses", "MAC地址", MacAddress(), required=True, unique=True, many=True,
              searchable=True, synonyms=("MAC", "物理地址", "网卡地址", "网卡MAC", "MAC 地址", "网卡物理地址", "MAC地址(网卡)")),
        Field("os", "操作系统", Choice(OPERATING_SYSTEMS, open_list=True), shown=False,
              synonyms=("系统", "操作系统版本")),
        common.location(),
        Field("purpose", "用途", Text(max_length=60), shown=False, synonyms=("主要用途",)),
        Field("network", "联网情况", Choice(networks), required=True, default=networks[0], facet=True,
              synonyms=("联网类型", "网络", "接入网络", "联网方式", "所在网络", "网络类型")),
        *protection,
        common.start_date(),
        common.status(DEVICE_LIFECYCLE),
        common.remarks(),
    )


COMPUTER_MODELS = ("联想 启天M437", "联想 开天M90z", "华为 擎云W515", "浪潮 英信NP3020", "长城 世恒TD120",
                   "清华同方 超越E500", "曙光 W330-H30", "联想 昭阳K4e")


def computer_rows(count: int, *, seed: int = 20261122, start: int = 1, classified: bool = True,
                  people: list[str] | None = None) -> Iterator[dict]:
    """``count`` valid computers with unique numbers, serials, disks and MACs (sample data and
    benchmarks). ``people`` are the names users and responsible persons are drawn from."""
    rng = random.Random(seed + (0 if classified else 7))
    prefix = "JM" if classified else "FM"
    mac_base = (0x001A2B000000 if classified else 0x3C5282000000) + start
    for n in range(start, start + count):
        user = rng.choice(people) if people else samples.person_name(rng)
        other = rng.choice(people) if people else samples.person_name(rng)
        row = {
            "asset_number": f"{prefix}-{n:06d}" if count > 9999 else f"{prefix}-{dt.date.today().year - rng.randint(0, 8)}-{n:04d}",
            "device_type": rng.choices(("台式机", "便携机", "服务器"), (8, 2, 0.3))[0],
            "brand_model": rng.choice(COMPUTER_MODELS),
            "serial_number": f"{prefix}SN{n:07d}{rng.randint(0, 9)}",
            "user": user,
            "responsible_person": user if rng.random() < 0.8 else other,
            "department": rng.choice(samples.DEPARTMENTS),
            "disk_serials": [f"WD-WCC{prefix}{n:07d}{rng.randint(10, 99)}"] + ([f"ST{prefix}{n:08d}"] if rng.random() < 0.15 else []),
            "mac_addresses": ["%012X" % (mac_base + 2 * (n - start))] + (["%012X" % (mac_base + 2 * (n - start) + 1)] if rng.random() < 0.1 else []),
            "os": rng.choice(("Windows 10", "Windows 7", "银河麒麟", "统信UOS")),
            "location": samples.room(rng),
            "purpose": rng.choice(("文件处理", "科研计算", "档案管理", "财务核算", "图纸设计")),
            "start_date": samples.past_date(rng),
        }
        if classified:
            row["level"] = rng.choices(levels.LEVELS, (1, 5, 10))[0]
            row["classified_on"] = row["start_date"]
            row["network"] = rng.choices(("单机", "涉密网"), (3, 1))[0]
            row["protection"] = ["三合一", "主机审计"] + (["身份鉴别"] if rng.random() < 0.5 else [])
        else:
            row["network"] = rng.choice(("互联网", "非涉密内网", "单机"))
        yield row


def _classified_sample(ctx: SampleContext) -> Iterator[dict]:
    return computer_rows(ctx.count(300), seed=ctx.rng.randint(0, 10**6), people=list(ctx.people))


def _unclassified_sample(ctx: SampleContext) -> Iterator[dict]:
    return computer_rows(ctx.count(120), seed=ctx.rng.randint(0, 10**6), classified=False, people=list(ctx.people))


CLASSIFIED_COMPUTERS = Ledger(
    key="computers",
    title="涉密计算机台账",
    noun="涉密计算机",
    fields=_computer_fields(classified=True),
    lifecycle=DEVICE_LIFECYCLE,
    unique_scope="computers",
    aliases=("classified_computers", "涉密计算机"),
    label=LabelSpec("涉密计算机", ("涉密计算机", "严禁接入", "互联网", "及其他", "公共信息网络")),
    forms=("takeout", "maintenance", "destruction"),
    sample=_classified_sample,
)

UNCLASSIFIED_COMPUTERS = Ledger(
    key="unclassified_computers",
    title="非涉密计算机台账",
    noun="非涉密计算机",
    fields=_computer_fields(classified=False),
    lifecycle=DEVICE_LIFECYCLE,
    unique_scope="computers",
    aliases=("非涉密计算机",),
    label=LabelSpec("非涉密计算机", ("禁止处理", "涉密信息"), level_field=None,
                    lines=("asset_number", "responsible_person", "department")),
    sample=_unclassified_sample,
)
