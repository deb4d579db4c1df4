"""Removable storage media (涉密移动存储介质: U盘, 移动硬盘, 光盘, 存储卡), seed 002 §七."""

from __future__ import annotations

from mibao_desktop.ledgers import common
from mibao_desktop.ledgers.declaration import MEDIA_LIFECYCLE, LabelSpec, Ledger
from mibao_desktop.ledgers.fields import Choice, Field, Text

REMOVABLE_MEDIA = Ledger(
    key="media",
    title="涉密移动存储介质台账",
    noun="移动存储介质",
    fields=(
        common.asset_number("介质编号"),
        Field("media_type", "介质类型", Choice(("U盘", "移动硬盘", "光盘", "存储卡")), required=True,
              default="U盘", searchable=True, synonyms=("类型", "介质种类", "种类")),
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
    label=LabelSpec("涉密移动存储介质", "涉密移动存储介质严禁在非涉密计算机上使用",
                    lines=("asset_number", "responsible_person", "start_date")),
)
