"""Realistic sample data (演示数据): Chinese names, departments, several hundred devices.

Deterministic for a seed, so screenshots and tests see the same ledgers. Everything goes
through LedgerService, like any other write.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

from mibao_desktop.services.ledger_service import LedgerService

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春晓鹏飞宇浩然欣怡子涵"
DEPARTMENTS = ("保密办", "办公室", "科研一处", "科研二处", "科研三处", "财务处", "人事处", "后勤保障处", "信息中心", "档案室")
BUILDINGS = ("行政楼", "科研楼A座", "科研楼B座", "综合楼")
COMPUTER_MODELS = ("联想 启天M437", "联想 开天M90z", "华为 擎云W515", "浪潮 英信NP3020", "长城 世恒TD120",
                   "清华同方 超越E500", "曙光 W330-H30", "联想 昭阳K4e")
MEDIA_MODELS = {"U盘": ("金士顿 DT50", "闪迪 CZ73", "朗科 U335", "华为 安全U盘"),
                "移动硬盘": ("希捷 睿品2TB", "西部数据 My Passport 1TB", "东芝 新小黑A5"),
                "光盘": ("啄木鸟 DVD-R", "铼德 CD-R"),
                "存储卡": ("三星 EVO Plus", "闪迪 Extreme")}
CAPACITY = {"U盘": ("16GB", "32GB", "64GB"), "移动硬盘": ("1TB", "2TB"), "光盘": ("700MB", "4.7GB"),
            "存储卡": ("32GB", "128GB")}
DEMO_SEED = 20261122


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def past_date(rng: random.Random, years_back: int = 10) -> str:
    day = dt.date.today() - dt.timedelta(days=rng.randint(30, 365 * years_back))
    return day.isoformat()


def computer_rows(count: int, *, seed: int = DEMO_SEED, start: int = 1, classified: bool = True) -> Iterator[dict]:
    """``count`` valid computers with unique numbers, serials, disks and MACs."""
    rng = random.Random(seed + (0 if classified else 7))
    prefix = "JM" if classified else "FM"
    mac_base = (0x001A2B000000 if classified else 0x3C5282000000) + start
    for n in range(start, start + count):
        user = person(rng)
        row = {
            "asset_number": f"{prefix}-{n:06d}" if count > 9999 else f"{prefix}-{dt.date.today().year - rng.randint(0, 8)}-{n:04d}",
            "device_type": rng.choices(("台式机", "便携机", "服务器"), (8, 2, 0.3))[0],
            "brand_model": rng.choice(COMPUTER_MODELS),
            "serial_number": f"{prefix}SN{n:07d}{rng.randint(0, 9)}",
            "user": user,
            "responsible_person": user if rng.random() < 0.8 else person(rng),
            "department": rng.choice(DEPARTMENTS),
            "disk_serials": [f"WD-WCC{prefix}{n:07d}{rng.randint(10, 99)}"] + ([f"ST{prefix}{n:08d}"] if rng.random() < 0.15 else []),
            "mac_addresses": ["%012X" % (mac_base + 2 * (n - start))] + (["%012X" % (mac_base + 2 * (n - start) + 1)] if rng.random() < 0.1 else []),
            "os": rng.choice(("Windows 10", "Windows 7", "银河麒麟", "统信UOS")),
            "location": f"{rng.choice(BUILDINGS)}{rng.randint(1, 6)}{rng.randint(1, 30):02d}室",
            "purpose": rng.choice(("文件处理", "科研计算", "档案管理", "财务核算", "图纸设计")),
            "start_date": past_date(rng),
        }
        if classified:
            row["level"] = rng.choices(("绝密", "机密", "秘密"), (1, 5, 10))[0]
            row["classified_on"] = row["start_date"]
            row["network"] = rng.choices(("单机", "涉密网"), (3, 1))[0]
            row["protection"] = ["三合一", "主机审计"] + (["身份鉴别"] if rng.random() < 0.5 else [])
        else:
            row["network"] = rng.choice(("互联网", "非涉密内网", "单机"))
        yield row


def media_rows(count: int, *, seed: int = DEMO_SEED) -> Iterator[dict]:
    rng = random.Random(seed + 13)
    for n in range(1, count + 1):
        kind = rng.choices(tuple(MEDIA_MODELS), (6, 3, 2, 1))[0]
        yield {
            "asset_number": f"JMU-{n:04d}",
            "media_type": kind,
            "brand_model": rng.choice(MEDIA_MODELS[kind]),
            "serial_number": f"M{n:06d}{rng.randint(100, 999)}",
            "capacity": rng.choice(CAPACITY[kind]),
            "level": rng.choices(("绝密", "机密", "秘密", "非涉密"), (1, 4, 8, 2))[0],
            "responsible_person": person(rng),
            "department": rng.choice(DEPARTMENTS),
            "location": f"{rng.choice(DEPARTMENTS)}保密柜",
            "start_date": past_date(rng, 6),
        }


def fill_demo(service: LedgerService, *, scale: float = 1.0, seed: int = DEMO_SEED) -> dict[str, int]:
    """Register sample ledgers; a few records are then sent for repair, retired, lent or voided."""
    rng = random.Random(seed)
    plan = {
        "computers": list(computer_rows(max(1, int(300 * scale)), seed=seed)),
        "unclassified_computers": list(computer_rows(max(1, int(120 * scale)), seed=seed, classified=False)),
        "media": list(media_rows(max(1, int(200 * scale)), seed=seed)),
    }
    made: dict[str, int] = {}
    for ledger, rows in plan.items():
        result = service.create_many(ledger, rows, source="演示数据")
        made[ledger] = len(result.created)
        ids = result.created
        for record_id in rng.sample(ids, k=min(len(ids), max(1, len(ids) // 40))):
            service.change_status(record_id, "维修" if ledger != "media" else "借出", reason="演示")
        for record_id in rng.sample(ids, k=min(len(ids), max(1, len(ids) // 60))):
            view = service.get(record_id)
            if view.status == "在用":
                service.change_status(record_id, "报废", reason="超过使用年限,经审批报废")
        if len(ids) > 10:
            service.void(ids[-1], "重复登记(演示)")
    return made
