"""Removable storage media (涉密移动存储介质: U盘, 移动硬盘, 光盘, 存储卡), seed 002 §七."""

from __future__ import annotations

import random
from typing import Iterator

from mibao_desktop.ledgers import common, levels, samples
from mibao_desktop.ledgers.declaration import MEDIA_LIFECYCLE, LabelSpec, Ledger, SampleContext
from mibao_desktop.ledgers.fields import Choice, Field, Text

MEDIA_MODELS = {"U盘": ("金士顿 DT50", "闪迪 CZ73", "朗科 U335", "华为 安全U盘"),
                "移动硬盘": ("希捷 睿品2TB", "西部数据 My Passport 1TB", "东芝 新小黑A5"),
                "光盘": ("啄木鸟 DVD-R", "铼德 CD-R"),
                "存储卡": ("三星 EVO Plus", "闪迪 Extreme")}
CAPACITY = {"U盘": ("16GB", "32GB", "64GB"), "移动硬盘": ("1TB", "2TB"), "光盘": ("700MB", "4.7GB"),
            "存储卡": ("32GB", "128GB")}


def media_rows(count: int, *, seed: int = 20261122, people: list[str] | None = None) -> Iterator[dict]:
    rng = random.Random(seed + 13)
    for n in range(1, count + 1):
        kind = rng.choices(tuple(MEDIA_MODELS), (6, 3, 2, 1))[0]
        yield {
            "asset_number": f"JMU-{n:04d}",
            "media_type": kind,
            "brand_model": rng.choice(MEDIA_MODELS[kind]),
            "serial_number": f"M{n:06d}{rng.randint(100, 999)}",
            "capacity": rng.choice(CAPACITY[kind]),
            "level": rng.choices(levels.DEVICE_LEVELS, (1, 4, 8, 2))[0],
            "responsible_person": rng.choice(people) if people else samples.person_name(rng),
            "department": rng.choice(samples.DEPARTMENTS),
            "location": f"{rng.choice(samples.DEPARTMENTS)}保密柜",
            "start_date": samples.past_date(rng, 6),
        }


def _sample(ctx: SampleContext) -> Iterator[dict]:
    return media_rows(ctx.count(200), seed=ctx.rng.randint(0, 10**6), people=list(ctx.people))


REMOVABLE_MEDIA = Ledger(
    key="media",
    title="涉密移动存储介质台账",
    noun="移动存储介质",
    fields=(
        common.asset_number("介质编号"),
        Field("media_type", "介质类型", Choice(tuple(MEDIA_MODELS)), required=True,
              default="U盘", searchable=True, facet=True, synonyms=("类型", "介质种类", "种类")),
        common.brand_model(),
        common.serial_number(),
        Field("capacity", "容量", Text(max_length=20, upper=True), synonyms=("存储容量", "容量(GB)")),
        common.level(with_unclassified=True),
        common.responsible_person(),
        common.department(),
        common.location("存放地点"),
        common.start_date(),
        common.status(MEDIA_LIFECYCLE),
        common.remarks(),
    ),
    lifecycle=MEDIA_LIFECYCLE,
    aliases=("removable_media", "介质", "移动存储介质"),
    label=LabelSpec("涉密移动存储介质", ("涉密移动存储介质", "严禁在", "非涉密计算机", "上使用"),
                    lines=("asset_number", "responsible_person", "start_date")),
    forms=("takeout", "maintenance", "destruction", "copy", "borrowing"),
    sample=_sample,
)
