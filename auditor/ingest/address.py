"""Pieces of the dwelling key (``normalize.address_key``, data-contract "Address normalisation").

* ``read_numerals``: Chinese numerals before an address unit (九十九弄, 三组, 三〇一室) read as
  numbers with ``cn2an``; each distinct numeral is converted once, so the cost grows with the
  distinct numerals, not with the rows.
* ``drop_remarks``: a remark in brackets (``（租住）``) is dropped; a bracket holding an address
  part (``（301室）``) keeps its content.
* ``drop_place_prefix``: a leading province, city and district of the profile, in any of the
  spellings the profile lists. A short form (no 省/市/区/县 suffix) is dropped only when what
  follows does not continue a place or road name (``长宁长宁路`` loses ``长宁``, ``长宁路`` and
  ``长宁支路`` keep it).
* ``drop_floor``: a floor written before the room (``5号3楼301室`` -> ``5号301室``).
* ``unify_groups``: a rural group's spellings (``第三村民小组`` = ``三组`` = ``3组``).

Only polars expressions are used, plus one Python call per distinct numeral.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from auditor.core.vocab import LEVEL_SUFFIXES

# Suffixes that make a place name "full" (dropped wherever it leads the address).
# What may follow a bare short form when it is a road or place name rather than a prefix.
NAME_SUFFIXES = (
    "东路", "西路", "南路", "北路", "中路", "支路", "公路", "大道", "大街", "新村", "小区", "花园", "广场",
    "大厦", "公寓", "农场", "渔场", "社区", "居委", "路", "街", "道", "巷", "弄", "里", "村", "镇", "乡",
    "港", "湾", "桥", "浜", "塘", "苑", "园", "坊", "城", "庄",
)
# Address units a number stands before (a Chinese numeral is read only in front of one of these).
UNITS = ("村民小组", "小组", "支弄", "单元", "弄", "号", "组", "队", "巷", "栋", "幢", "座", "楼", "层", "室",
         "户", "房")
_CN_DIGITS = "零〇一二三四五六七八九十百千万两"
NUMERAL_TOKEN = rf"([{_CN_DIGITS}]+)({'|'.join(UNITS)})"  # (numeral, unit)
_OPEN, _CLOSE = r"(\[【〔", r")\]】〕"
_BRACKET = rf"[{_OPEN}][^{_OPEN}{_CLOSE}]*[{_CLOSE}]"
_BRACKETED_PART = rf"[{_OPEN}]([^{_OPEN}{_CLOSE}]*[0-9A-Z](?:{'|'.join(UNITS)})[^{_OPEN}{_CLOSE}]*)[{_CLOSE}]"


def _alternation(names: Sequence[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def _to_number(token: str) -> str:
    """``九十九弄`` -> ``99弄``; a numeral ``cn2an`` cannot read is kept as written."""
    import cn2an  # imported on first use: it takes ~0.1 s, and most registers write digits

    found = re.fullmatch(NUMERAL_TOKEN, token)
    if found is None:
        return token
    number, unit = found.groups()
    try:
        return f"{cn2an.cn2an(number, 'normal')}{unit}"
    except (ValueError, KeyError):  # cn2an raises KeyError for some (零十一)
        return token


def _read_numerals(s: pl.Series) -> pl.Series:
    found = s.str.extract_all(NUMERAL_TOKEN)
    rows = found.list.len().fill_null(0) > 0
    if not rows.any():
        return s
    # Distinct numerals only (few), longest first so that the longest wins at one position;
    # only the rows holding one are rewritten.
    tokens = sorted(found.explode().drop_nulls().unique(), key=len, reverse=True)
    written = s.filter(rows).str.replace_many(tokens, [_to_number(t) for t in tokens], leftmost=True)
    return s.scatter(rows.arg_true(), written)


def read_numerals(e: pl.Expr) -> pl.Expr:
    """Chinese numerals in front of an address unit as Arabic numbers (``三组`` -> ``3组``)."""
    return e.map_batches(_read_numerals, return_dtype=pl.String, is_elementwise=True)


def drop_remarks(e: pl.Expr) -> pl.Expr:
    """Drop a bracketed remark; a bracket holding a numbered address part keeps its content."""
    return e.str.replace_all(_BRACKETED_PART, "${1}").str.replace_all(_BRACKET, "")


def drop_place_prefix(e: pl.Expr, levels: Sequence[Sequence[str]]) -> pl.Expr:
    """Drop a leading province, city and district (each optional, in that order).

    ``levels`` lists, per level, its spellings (full names and short forms).
    """
    for names in levels:
        if not names:
            continue
        # Alternatives are tried in order: a full name is dropped; a short form followed by a
        # name suffix is captured and put back; a short form on its own is dropped.
        alternatives = [_alternation([n for n in names if n.endswith(LEVEL_SUFFIXES)])]
        short = _alternation([n for n in names if not n.endswith(LEVEL_SUFFIXES)])
        if short:
            alternatives += [rf"((?:{short})(?:{_alternation(NAME_SUFFIXES)}))", short]
        e = e.str.replace(rf"^(?:{'|'.join(alternatives)})", "${1}")
    return e


def drop_floor(e: pl.Expr) -> pl.Expr:
    """``5号3楼301室`` / ``5号3层301`` -> ``5号301室`` / ``5号301``: a floor between the building
    (号, 单元) and the room number is dropped; ``100弄5楼301`` keeps ``5楼`` (it may be a building)."""
    return e.str.replace(r"(号|单元)[0-9]+(?:楼|层)([0-9]+(?:室|$))", "${1}${2}")


def unify_groups(e: pl.Expr) -> pl.Expr:
    """Rural groups: ``第3村民小组`` / ``3小组`` / ``第3组`` -> ``3组`` (and ``第3队`` -> ``3队``)."""
    return e.str.replace_all(r"第?([0-9]+)(?:(?:村民小|小)?(组)|(队))", "${1}${2}${3}")
