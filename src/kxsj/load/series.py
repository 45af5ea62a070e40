"""Series from titles: ``生成扩散模型漫谈（十五）：…`` is part 15 of 生成扩散模型漫谈.

The archive numbers its series in these ways, all recognised here:
``名（十五）：``, ``名(三):``, ``《名》系列——8.``, ``【名】3. …``, ``【名】（三）…``
and ``名：17、`` / ``名：3. …``.  Chinese numerals are read fully
(十五 = 15, 二十三 = 23, 一百零一 = 101).

The last form looks like a numbered heading (「OCR技术浅探：3. 特征提取」) as
much as like a series, so a series read from it is *tentative*: the enrich
stage keeps it only when the site holds two or more posts of that name
(``kxsj.enrich.series``).  Unnumbered brackets (「【备忘】…」, 「【生活杂记】…」)
are column labels, not series.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

from kxsj.model import Series

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"[0-9零〇一二两三四五六七八九十百千]+"

_STRONG = [
    # 【外微分浅谈】7. 有力的计算   【不可思议的Word2Vec】 2.训练好的模型   【中文分词系列】 1、…
    re.compile(rf"^【(?P<name>[^】]+)】\s*(?P<num>{_NUM})\s*[.、](?!\d)"),
    # 【理解黎曼几何】（三）：…   【名】(3) …
    re.compile(rf"^【(?P<name>[^】]+)】\s*\((?P<num>{_NUM})\)"),
    # 生成扩散模型漫谈（十五）：…   SVD分解(三)：…   变分自编码器（八）
    re.compile(rf"^(?P<name>.+?)\s*\((?P<num>{_NUM})\)\s*(?::|$|\s)"),
    # 《自然极值》系列——8.极值分析
    re.compile(rf"^《(?P<name>[^》]+)》系列\s*[—\-–]+\s*(?P<num>{_NUM})\s*[.、](?!\d)"),
]
_TENTATIVE = [
    # Transformer升级之路：17、多模态位置编码的简单思考   OCR技术浅探：9. 代码共享(完)
    # (not 「圆周率：3.14…」: a dot followed by a digit is a decimal point)
    re.compile(rf"^(?P<name>[^:【】]+?)\s*:\s*(?P<num>{_NUM})\s*[、.](?!\d)"),
]


def chinese_number(text: str) -> Optional[int]:
    """``十五`` -> 15, ``二十三`` -> 23, ``一百零一`` -> 101, ``17`` -> 17; None if not a number."""
    if text.isdigit():
        return int(text)
    total = 0
    digit = None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit if digit is not None else 1) * _UNITS[ch]
            digit = None
        else:
            return None
    total += digit or 0
    return total or None


def detect_series(title: str) -> Optional[Series]:
    """The series a title belongs to, or None.  Matching is done on the NFKC form,
    so full-width and half-width brackets and colons are the same.  A series
    read from ``名：N. …`` comes back ``tentative`` (see the module's notes)."""
    t = unicodedata.normalize("NFKC", title).strip()
    for patterns, tentative in ((_STRONG, False), (_TENTATIVE, True)):
        for pat in patterns:
            m = pat.match(t)
            if m:
                number = chinese_number(m.group("num"))
                name = m.group("name").strip()
                if number is not None and name:
                    return Series(_display_name(title, name), number, tentative)
    return None


def _display_name(title: str, nfkc_name: str) -> str:
    """The series name as the title writes it (full-width kept), cut to the NFKC name's length."""
    out = []
    for ch in title:
        if unicodedata.normalize("NFKC", "".join(out)).strip() == nfkc_name:
            break
        out.append(ch)
    name = "".join(out).strip()
    return name if unicodedata.normalize("NFKC", name) == nfkc_name else nfkc_name
