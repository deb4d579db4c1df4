"""What typed text may hold. Qt-free.

A control character or a lone surrogate (half of a character pair, which a paste from a broken
source or a crafted input can carry) cannot be stored or hashed: UTF-8 refuses the surrogate and
a control character hides in what is shown. Such input is refused with a plain sentence before
anything else looks at it, instead of ending in a traceback deep in the database driver.
"""

from __future__ import annotations

import unicodedata


def unreadable(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be taken (a short Chinese sentence), or None when it can."""
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return "含有无法识别的字符(不成对的代理字符),请删除后重新输入"
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in "\n\r\t"):
            return "含有不可见的控制字符,请删除后重新输入"
    return None
