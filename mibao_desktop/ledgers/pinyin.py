"""拼音首字母: the initials a Chinese text is found by in the search box (zw → 张伟,
kyyc → 科研一处, kylbz → 科研楼B座). Administrators who lived in Excel filter by typing the
initials of a name or a department, as their input methods taught them.

A character with several readings gives each of them (重庆 is found by cq and by zq, 单伟 by
sw and dw): pypinyin's dictionary of single characters with all their readings, without its
dictionary of phrases, which would pick one reading from context but holds 44 of the 56 MB
pypinyin takes (an import of 100,000 rows must stay under 400 MB). pypinyin is imported on
first use, so a start that only reads never pays for it.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from itertools import product

_HAN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
MAX_SPELLINGS = 4  # of a text with several characters of several readings, this many are kept
# A sort key's parts: below every printable character, so that 张伟 comes before 张伟明 and a
# syllable before a longer one that begins like it (西安 xi an before 先 xian); never shown
SORT_SEPARATOR = "\x02"
SORT_END = "\x01"


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


@lru_cache(maxsize=200_000)
def initials(text: str) -> tuple[str, ...]:
    """The text with each Chinese character replaced by a pinyin initial, other characters
    kept, case-folded, without spaces: 科研楼B座508室 → (kylbz508s,); one spelling per reading
    of a character with several, the common one first, at most MAX_SPELLINGS; () when the text
    holds no Chinese.

    Each run of Chinese is read on its own and remembered: rooms and numbers vary from record
    to record (科研楼B座508室, 科研楼B座509室) while the runs (科研楼, 座, 室) repeat, so an
    import of 100,000 records reads a few hundred runs instead of 100,000 texts."""
    if not has_han(text):
        return ()
    parts = _HAN_RUN.split(text)  # odd items are the runs of Chinese
    choices = [_run(p) if i % 2 else (p,) for i, p in enumerate(parts)]
    spellings = ("".join(c) for c in product(*choices))
    return tuple(dict.fromkeys(s.casefold().replace(" ", "") for s in _first(spellings, MAX_SPELLINGS)))


@lru_cache(maxsize=100_000)
def _run(han: str) -> tuple[str, ...]:
    # without the phrases dictionary (see the module's docstring); set before the first import
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    from pypinyin import Style, pinyin

    readings = pinyin(han, style=Style.FIRST_LETTER, heteronym=True, strict=False)
    return tuple(_first(("".join(c) for c in product(*[list(dict.fromkeys(r)) for r in readings])),
                        MAX_SPELLINGS))


def _first(items, n: int) -> list:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


@lru_cache(maxsize=200_000)
def sort_key(text: str) -> str | None:
    """What a name or a department sorts by (按拼音排序): each Chinese character as its pinyin
    with the tone's number (张 → zhang1), other text case-folded, then the text itself, so
    that 安全处 < 保密办 < 科研一处 < 张伟 < 章伟 < 赵敏 as an administrator expects from
    Excel's 按拼音排序, and two different texts never share a key (equal keys: equal texts, so
    a key can stand for its text in an index). ``None`` for an empty text.

    The first reading of a character with several is taken (without pypinyin's phrase
    dictionary, see the module's docstring): a sort only needs to be the same every time."""
    if not text:
        return None
    tokens = []
    for i, part in enumerate(_HAN_RUN.split(text)):
        if i % 2:
            tokens.extend(_syllables(part))
        elif part:
            tokens.append(part.casefold())
    return SORT_SEPARATOR.join(tokens) + SORT_END + text


@lru_cache(maxsize=100_000)
def _syllables(han: str) -> tuple[str, ...]:
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(han, style=Style.TONE3, neutral_tone_with_five=True))
