"""Normalisers: the spellings hand-kept ledgers really contain."""

import datetime as dt

import pytest

from mibao_desktop.ledgers.levels import normalise_level
from mibao_desktop.ledgers.normalize import (
    FieldError,
    normalise_date,
    normalise_id_number,
    normalise_mac,
    split_values,
)

ALL = ("绝密", "机密", "秘密", "非涉密")


@pytest.mark.parametrize("raw", [
    "00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e", "001a.2b3c.4d5e", "001A2B3C4D5E",
    "００－１Ａ－２Ｂ－３Ｃ－４Ｄ－５Ｅ", " 00 1A 2B 3C 4D 5E ",
])
def test_mac_spellings_normalise_to_one_form(raw):
    assert normalise_mac(raw) == "00-1A-2B-3C-4D-5E"


@pytest.mark.parametrize("raw", ["00-1A-2B-3C-4D", "00-1A-2B-3C-4D-5G", "00-00-00-00-00-00", "FF:FF:FF:FF:FF:FF", "张三"])
def test_bad_macs_are_refused_with_a_chinese_message(raw):
    with pytest.raises(FieldError, match="MAC|物理地址"):
        normalise_mac(raw)


@pytest.mark.parametrize("raw,level", [
    ("机密", "机密"), ("机密级", "机密"), ("秘 密", "秘密"), ("秘密★", "秘密"), ("秘密★10年", "秘密"),
    ("绝密★长期", "绝密"), ("非密", "非涉密"), (" 机 密 级 ", "机密"), ("機密", "机密"),
])
def test_level_spellings(raw, level):
    assert normalise_level(raw, ALL) == level


def test_level_not_allowed_in_the_ledger_is_refused():
    with pytest.raises(FieldError, match="绝密、机密、秘密"):
        normalise_level("非涉密", ("绝密", "机密", "秘密"))
    with pytest.raises(FieldError):
        normalise_level("高度机密", ALL)


@pytest.mark.parametrize("raw", [
    "2019-03-05", "2019.3.5", "2019年3月5日", "2019/3/5", "20190305", "2019-03-05 00:00:00",
    43529, 43529.0, "43529", dt.date(2019, 3, 5), dt.datetime(2019, 3, 5, 14, 30), "２０１９年３月５日",
])
def test_date_spellings(raw):
    assert normalise_date(raw) == dt.date(2019, 3, 5)


@pytest.mark.parametrize("raw", ["2019-02-30", "下周一", "2019.13.1"])
def test_bad_dates(raw):
    with pytest.raises(FieldError):
        normalise_date(raw)


def test_id_number_checksum():
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(FieldError, match="校验位"):
        normalise_id_number("110105194912310021")
    with pytest.raises(FieldError, match="18位"):
        normalise_id_number("1101051949")


def test_several_values_in_one_cell():
    assert split_values("A；B,C，D、E\nF\r\nG;;") == list("ABCDEFG")
    assert split_values(["A;B", "C"]) == ["A", "B", "C"]
    assert split_values(None) == []
