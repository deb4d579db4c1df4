"""Normalisers for what people type into hand-kept ledgers.

Each function takes raw user or spreadsheet input and returns a canonical value, or raises
:class:`FieldError` with a plain-Chinese message that says how to fix it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata


class FieldError(ValueError):
    """A single field's value is wrong; the message is shown to the user as is."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words with single spaces: nothing to fold

# Characters that show as nothing (or as a plain space) but make two identifiers differ: a
# number copied from a web page or a Word table often carries one. Removed from identifiers
# before they are compared, and the preview says so. The no-break space is one of them: it
# comes from a web page's &nbsp;, never from a person typing a space into a number (JM-2019 001
# with a no-break space is JM-2019001, and a duplicate of it). The ideographic space (全角空格),
# which a person does type, counts as a space.
_ZERO_WIDTH = {
    "\u200b": "零宽空格", "\u200c": "零宽非连接符", "\u200d": "零宽连接符", "\u2060": "零宽不换行符",
    "\ufeff": "BOM字符", "\u00ad": "软连字符",
}
INVISIBLE = {**_ZERO_WIDTH, "\u00a0": "不换行空格"}
_INVISIBLE = re.compile("[" + "".join(INVISIBLE) + "]")
# (what shows as nothing: dropped from search texts and from folded text that is no identifier)
_ZERO_WIDTH_RE = re.compile("[" + "".join(_ZERO_WIDTH) + "]")


def invisible_in(text: object) -> list[str]:
    """The names of the invisible characters in ``text`` (for a note that they were removed)."""
    if not isinstance(text, str) or text.isascii():
        return []
    return list(dict.fromkeys(INVISIBLE[c] for c in _INVISIBLE.findall(text)))


def clean_text(raw: object, *, multiline: bool = False, fold: bool = True, identifier: bool = False) -> str:
    """Trim, refuse control characters, normalise line breaks and (on one-line text) collapse
    spaces; with ``fold`` (identifiers, and text matched against a list) also remove invisible
    characters and fold full-width letters/digits/spaces to half width (NFKC); an ``identifier``
    (a number, a serial) loses a no-break space as well, a name or a listed word keeps it as a space.

    Hand-kept Chinese spreadsheets mix ``ＪＭ－００１`` with ``JM-001``; NFKC makes them the
    same string so that uniqueness and matching behave. Free text (``fold=False``: remarks,
    models, places, names) keeps every character as typed: ②, Ⅱ, ㎡ and ℃ stay what they are.
    (Plain ASCII, most of an import, is returned as it is without the Unicode work: an import
    checks a million cells.)
    """
    text = raw if isinstance(raw, str) else str(raw)
    if _PLAIN.fullmatch(text):
        return text
    if fold and not text.isascii():
        # an identifier loses a no-break space too; text matched against a list (Windows 10)
        # or a name keeps it as a space
        hidden = _INVISIBLE if identifier else _ZERO_WIDTH_RE
        if hidden.search(text):
            text = hidden.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        raise FieldError("含有不可见的控制字符,请重新输入")
    if _SURROGATE.search(text):  # half of a character pair: UTF-8 (and so the database) refuses it
        raise FieldError("含有无法识别的字符(不成对的代理字符),请重新输入")
    if not multiline:
        text = _SPACES.sub(" ", text)
    return text.strip()


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_GAP = re.compile(f"(?<=[{_HAN}])\\s+(?=[{_HAN}])")


def compact_name(text: str) -> str:
    """A Chinese name without the spaces that line it up in a list: 张  伟, 张　伟 → 张伟 (a space
    between Latin letters, Li Na, stays)."""
    return _HAN_GAP.sub("", text) if " " in text else text


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


# --- MAC addresses ---------------------------------------------------------------------

_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX12 = re.compile(r"[0-9A-F]{12}")


def normalise_mac(raw: object) -> str:
    """Any usual spelling (``00:1a:2b:3c:4d:5e``, ``001a.2b3c.4d5e``, full width) → ``00-1A-2B-3C-4D-5E``."""
    text = clean_text(raw)
    compact = (text if len(text) == 12 else _MAC_SEPARATORS.sub("", text)).upper()
    if len(compact) != 12 or not _HEX12.fullmatch(compact):
        raise FieldError(
            f"“{text}”不是有效的MAC地址:应为12位十六进制数,如 00-1A-2B-3C-4D-5E"
        )
    if compact in ("000000000000", "FFFFFFFFFFFF"):
        raise FieldError(f"“{text}”不是网卡的物理地址(全0或全F),请核对网卡标签或 ipconfig /all 的结果")
    c = compact
    return f"{c[0:2]}-{c[2:4]}-{c[4:6]}-{c[6:8]}-{c[8:10]}-{c[10:12]}"


# Classification levels (密级) and secrecy periods: mibao_desktop.ledgers.levels.


# --- dates -------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TIME_AFTER = re.compile(r"(?<=\d)\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_PATTERN = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")


def normalise_date(raw: object) -> dt.date:
    """Dates in every usual spelling: ``2019-03-05``, ``2019.3.5``, ``2019年3月5日``,
    ``2019/3/5``, ``20190305``, an Excel serial number, or a real date."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 1900 <= raw < 2200:  # a year typed alone (2019, or 2019.03): as a day number it is 1905
            raise FieldError(f"“{raw}”只有年份,请写出年月日,如 {int(raw)}-03-05")
        if 1 <= raw < 2958466:  # Excel's serial range (1900-01-01 .. 9999-12-31)
            return _EXCEL_EPOCH + dt.timedelta(days=int(raw))
        if 19000101 <= raw <= 99991231 and float(raw).is_integer():  # 20190305 typed as a number
            number = int(raw)
            try:
                return dt.date(number // 10000, number // 100 % 100, number % 100)
            except ValueError:
                raise FieldError(f"“{number}”不是存在的日期,请核对年月日") from None
        raise FieldError(f"“{raw}”不是有效日期")
    text = clean_text(raw)
    if " " in text:  # "2019-03-05 00:00:00", "2019/3/5 14:30": a date and time as spreadsheets write them
        text = _TIME_AFTER.sub("", text)
    match = _DATE_PATTERN.match(text)
    if not match and re.fullmatch(r"\d{8}", text):
        match = re.match(r"(\d{4})(\d{2})(\d{2})", text)
    if not match and re.fullmatch(r"\d{5}(\.0+)?", text):
        return normalise_date(float(text))
    if not match:
        if re.fullmatch(r"(19|20|21)\d\d\s*年?", text):
            raise FieldError(f"“{text}”只有年份,请写出年月日,如 {text[:4]}-03-05")
        raise FieldError(f"“{text}”不是可识别的日期,请写成 2024-03-05、2024.3.5 或 2024年3月5日")
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError(f"“{text}”不是存在的日期,请核对年月日") from None


# --- identity numbers (居民身份证号码) --------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def exact_number(raw: object) -> object:
    """A number cell that is to be read as text (a serial, an ID): refused when it has more
    digits than a spreadsheet number keeps. Excel holds 15 significant digits, so the end of a
    longer number typed into a number cell is already lost (110105199001011234 → …1200)."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # spreadsheets turn serial numbers such as 2023001 into 2023001.0
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**15:
        raise FieldError(f"“{raw}”在表格中存成了数字,超过 15 位的数字末几位已被 Excel/WPS 改成 0 或丢失;"
                         "请把该列设为“文本”格式,重新录入后再导入")
    return raw


def id_check_digit(first17: str) -> str:
    """The 18th character of an ID number (GB 11643, ISO 7064 MOD 11-2) from its first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalise_id_number(raw: object) -> str:
    """A mainland resident ID number: 18 characters with a valid ISO 7064 check digit."""
    raw = exact_number(raw)
    text = clean_text(raw).replace(" ", "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise FieldError(f"身份证号码“{text}”应为18位(最后一位可以是X)")
    # the digit it should be is not told: a typo among the first 17 would then be "fixed" by
    # changing the last one, and a wrong number kept as if checked
    if id_check_digit(text[:17]) != text[-1]:
        raise FieldError(f"身份证号码“{text}”校验位不符(第18位与前17位对不上),请对照身份证核对是否输错")
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldError(f"身份证号码“{text}”中的出生日期无效") from None
    return text


# --- several values in one cell ----------------------------------------------------------

_LIST_SPLIT = re.compile(r"[;；,\uff0c、\n]+")


def split_values(raw: object) -> list[str]:
    """``A；B``, ``A,B`` and line breaks all separate several disks or MACs in one cell."""
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        parts: list[str] = []
        for item in raw:
            parts.extend(split_values(item))
        return parts
    text = str(raw).replace("\r", "\n")
    return [p.strip() for p in _LIST_SPLIT.split(text) if p.strip()]


def search_form(text: str) -> str:
    """The form in which values are stored for, and compared against, the search box: folded
    (NFKC, case, no invisible characters), so that ＪＭ－００１ and ② are found as JM-001 and 2
    while the record itself keeps them as typed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", _ZERO_WIDTH_RE.sub("", text))
    return text.casefold()


_COLON_MAC = re.compile(r"[0-9a-f]{0,2}(?::[0-9a-f]{0,2})+")


def search_terms(text: str) -> list[str]:
    """The words of a search, in search form. A MAC typed with colons (``00:1a:2b``) is
    looked for in its stored hyphen form, so the colon spelling need not be stored too."""
    return [term.replace(":", "-") if _COLON_MAC.fullmatch(term) else term
            for term in search_form(text).split()]
