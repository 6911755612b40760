"""Vectorised normalisers for raw input values (see data-contract.md).

Every normaliser takes a String expression of raw input, already stripped of
surrounding whitespace with empty strings turned into null, and returns a
``Normalized(value, error)`` pair of expressions:

* ``value`` -- the normalised value, null when the input is null or invalid;
* ``error`` -- a short Chinese reason when the input is non-null and invalid,
  else null. Null input is never an error here.

Only polars expressions are used (no per-row Python). Note that the polars
regex engine treats ``\\d`` as any Unicode digit, so ``[0-9]`` is used
throughout.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import polars as pl

from auditor.ingest import address as A

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

__all__ = [
    "Normalized",
    "fullwidth_to_halfwidth",
    "person_id",
    "PROVINCE_CODES",
    "birth_date",
    "month",
    "date",
    "amount",
    "AMOUNT_CAP_FEN",
    "boolean",
    "account",
    "phone",
    "address_key",
    "free_text",
    "code",
    "canonical",
    "canonical_mask",
    "CANONICAL_KINDS",
    "plain_address",
]


class Normalized(NamedTuple):
    """A normalised value expression and its error-reason expression."""

    value: pl.Expr
    error: pl.Expr


# --------------------------------------------------------------------------
# Helpers

_NULL_STR = pl.lit(None, dtype=pl.String)
_F = pl.field

# U+FF01..U+FF5E map to U+0021..U+007E; U+3000 (ideographic space) to space.
_FULLWIDTH_MAP: dict[str, str] = {chr(0xFF01 + i): chr(0x21 + i) for i in range(0x5E)}
_FULLWIDTH_MAP["\u3000"] = " "

# Full-width to half-width and whitespace removal in a single pass.
_WHITESPACE = " \t\r\n\v\f\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff"
_PRE_MAP: dict[str, str] = {**_FULLWIDTH_MAP, **{c: "" for c in _WHITESPACE}}


def fullwidth_to_halfwidth(e: pl.Expr) -> pl.Expr:
    """Convert full-width ASCII forms (digits, letters, punctuation, space)."""
    return e.str.replace_many(_FULLWIDTH_MAP)


def _pre(e: pl.Expr) -> pl.Expr:
    """Full-width to half-width, then drop all whitespace."""
    return e.str.replace_many(_PRE_MAP)


def _normalised(
    e: pl.Expr,
    stages: list[dict[str, pl.Expr]],
    value: pl.Expr,
    checks: list[tuple[pl.Expr, str]],
) -> Normalized:
    """Build (value, error) from staged intermediate fields.

    The raw input is field ``raw`` of a struct; each stage adds fields that
    refer to earlier ones with ``pl.field``. This evaluates the (possibly
    expensive) input expression once per output instead of once per reference.
    ``checks`` are ordered (is_valid, reason) pairs: the first failing one
    gives the reason (a null check counts as failing); ``value`` is kept only
    when the input is non-null and every check passes.
    """
    st = pl.struct(e.alias("raw"))
    for stage in stages:
        st = st.struct.with_fields(**stage)
    error: Then | ChainedThen = pl.when(_F("raw").is_null()).then(_NULL_STR)
    for ok, reason in checks:
        error = error.when(~ok.fill_null(False)).then(pl.lit(reason))
    st = st.struct.with_fields(error=error.otherwise(_NULL_STR))
    st = st.struct.with_fields(
        value=pl.when(_F("raw").is_not_null() & _F("error").is_null()).then(value)
    )
    return Normalized(st.struct.field("value"), st.struct.field("error"))


# --------------------------------------------------------------------------
# Person id (GB 11643-1999)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def birth_date(pid: pl.Expr) -> pl.Expr:
    """Birth date (pl.Date) read from a normalised 18-character id."""
    return pid.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


# First two digits: the province-level codes of GB/T 2260 (data-contract.md).
PROVINCE_CODES = frozenset(
    f"{c:02d}"
    for lo, hi in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 83))
    for c in range(lo, hi + 1)
)
_EARLIEST_BIRTH = _dt.date(1900, 1, 1)


def _check_char(body: pl.Expr) -> pl.Expr:
    """The GB 11643 check character of the 17 body digits given as one integer (digits taken arithmetically)."""
    total = pl.sum_horizontal([(body // 10 ** (16 - i)) % 10 * w for i, w in enumerate(_ID_WEIGHTS)])
    return (total % 11).replace_strict(dict(enumerate(_ID_CHECK_CHARS)), default=None, return_dtype=pl.String)


def _id_checks(s: pl.Expr, body: pl.Expr, born: pl.Expr, today: _dt.date) -> list[tuple[pl.Expr, str]]:
    """(is_valid, reason) of a resident id ``s`` (upper case, no spaces), in the order they are reported."""
    return [
        (s.str.contains(r"^[0-9]{17}[0-9X]$"), "身份证号格式错误"),
        (s.str.slice(17, 1) == _check_char(body), "身份证号校验位错误"),
        (s.str.slice(0, 2).is_in(sorted(PROVINCE_CODES)), "身份证号地区码无效"),
        (born >= _EARLIEST_BIRTH, "身份证号出生日期无效"),
        (born <= today, "身份证号出生日期晚于今天"),
    ]


def person_id(e: pl.Expr, today: _dt.date | None = None) -> Normalized:
    """18-character resident id: format, checksum, province code, birth date; a leading ``'`` (Excel's text
    mark) is dropped.

    The birth date must be a real date from 1900-01-01 to ``today`` (default:
    the day of loading).
    """
    today = today or _dt.date.today()
    s = _F("s")
    return _normalised(
        e,
        [{"s": _pre(_F("raw")).str.strip_prefix("'").str.to_uppercase()},
         {"body": s.str.slice(0, 17).str.to_integer(strict=False), "born": birth_date(s)}],
        s,
        _id_checks(s, _F("body"), _F("born"), today),
    )


# --------------------------------------------------------------------------
# Month and date

_YEAR_RANGE = (1900, 2100)


def month(e: pl.Expr) -> Normalized:
    """Month as "YYYY-MM" from YYYY-MM, YYYY/MM, YYYY.MM, YYYYMM or YYYY年M月."""
    # Bring every accepted form to "YYYY-M" or "YYYY-MM".
    canon = (
        _pre(_F("raw"))
        .str.replace(r"^([0-9]{4})(?:[/.]|年)([0-9]{1,2})$", "${1}-${2}")
        .str.replace(r"^([0-9]{4})年([0-9]{1,2})月$", "${1}-${2}")
        .str.replace(r"^([0-9]{4})([0-9]{2})$", "${1}-${2}")
    )
    s = _F("s")
    ok = s.str.contains(r"^[0-9]{4}-[0-9]{1,2}$")
    y = s.str.slice(0, 4)
    m = s.str.slice(5)
    in_range = m.str.to_integer(strict=False).is_between(1, 12) & y.str.to_integer(
        strict=False
    ).is_between(*_YEAR_RANGE)
    value = pl.concat_str([y, m.str.zfill(2)], separator="-")
    return _normalised(e, [{"s": canon}], value, [(ok & in_range, "月份格式错误")])


def date(e: pl.Expr) -> Normalized:
    """Date (pl.Date) from YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日.

    A trailing time part ("2026-10-05 00:00:00", "2026-10-05T00:00:00") is
    dropped.
    """
    # Bring every accepted form to "YYYY-M-D" (month and day 1 or 2 digits).
    canon = (
        fullwidth_to_halfwidth(_F("raw"))
        .str.replace(r"[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$", "")
        .str.replace_all(r"\s+", "")
        .str.replace(r"^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?$", "${1}-${2}-${3}")
        .str.replace(r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})$", "${1}-${2}-${3}")
        .str.replace(r"^([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})$", "${1}-${2}-${3}")
        .str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", "${1}-${2}-${3}")
    )
    parts = (
        _F("s")
        .str.replace(r"^([0-9]{4})-([0-9])-", "${1}-0${2}-")
        .str.replace(r"-([0-9])$", "-0${1}")
    )
    d = _F("d")
    return _normalised(
        e,
        [
            {"s": canon},
            {"d": pl.when(_F("s").str.contains(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"))
             .then(parts.str.to_date("%Y-%m-%d", strict=False))},
        ],
        d,
        [(d.dt.year().is_between(*_YEAR_RANGE), "日期格式错误")],
    )


# --------------------------------------------------------------------------
# Amount (exact, integer fen)

_AMOUNT_RE = r"^([-+]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.([0-9]*))?$"
AMOUNT_CAP_FEN = 100_000_000_00  # 100,000,000.00 yuan: above it a row is quarantined (no sum can overflow)


def amount(e: pl.Expr) -> Normalized:
    """Amount in yuan -> Int64 fen, parsed exactly from the digit strings.

    Accepts thousands separators, a leading ¥/￥ (before or after a sign) and
    a trailing 元. Extra decimals are accepted only when they are zeros.
    Above ``AMOUNT_CAP_FEN`` (however many digits) is an error.
    """
    canon = _pre(_F("raw")).str.replace(r"^([-+]?)[¥￥]", "${1}").str.replace(r"元$", "")
    parts = _F("parts").struct
    int_part, frac, fen = _F("int"), _F("frac"), _F("fen")
    yuan = pl.when(int_part == "").then(pl.lit(0, pl.Int64)).otherwise(
        int_part.str.to_integer(strict=False)
    )
    cents = frac.str.pad_end(2, "0").str.to_integer(strict=False)
    return _normalised(
        e,
        [
            {"parts": canon.str.extract_groups(_AMOUNT_RE)},
            {
                "sign": parts.field("1"),
                "int": parts.field("2").str.replace_all(",", "", literal=True),
                # Trailing zeros beyond two decimals are exact and harmless.
                "frac": parts.field("3").fill_null("").str.strip_chars_end("0"),
                "digits": (parts.field("2") + parts.field("3").fill_null("")).str.len_chars(),
            },
            # At most 15 integer digits keep yuan * 100 well inside Int64.
            {"fen": pl.when(int_part.str.len_chars() <= 15).then(yuan * 100 + cents)},
        ],
        fen,
        [
            (_F("digits") > 0, "金额格式错误"),
            (frac.str.len_chars() <= 2, "金额超过两位小数"),
            ((_F("sign") != "-") | (fen == 0), "金额为负"),
            (fen <= AMOUNT_CAP_FEN, "金额超出合理上限"),
        ],
    )


# --------------------------------------------------------------------------
# Boolean, account, phone

_BOOL_MAP = {
    "true": True, "1": True, "是": True, "y": True, "yes": True,
    "false": False, "0": False, "否": False, "n": False, "no": False,
}


def boolean(e: pl.Expr) -> Normalized:
    """Boolean from true/false, 1/0, 是/否, Y/N, yes/no; null means False."""
    raw, b = _F("raw"), _F("b")
    parsed = _pre(raw).str.to_lowercase().replace_strict(
        _BOOL_MAP, default=None, return_dtype=pl.Boolean
    )
    st = pl.struct(e.alias("raw")).struct.with_fields(b=parsed)
    st = st.struct.with_fields(
        value=pl.when(raw.is_null()).then(pl.lit(False)).otherwise(b),
        error=pl.when(raw.is_not_null() & b.is_null())
        .then(pl.lit("布尔值无法识别"))
        .otherwise(_NULL_STR),
    )
    return Normalized(st.struct.field("value"), st.struct.field("error"))


def account(e: pl.Expr) -> Normalized:
    """Bank account: digits only (8-30), spaces, dashes and a leading ``'`` (Excel's text mark) removed."""
    s = _F("s")
    return _normalised(
        e,
        [{"s": _pre(_F("raw")).str.strip_prefix("'").str.replace_all("-", "", literal=True)}],
        s,
        [(s.str.contains(r"^[0-9]{8,30}$"), "银行账号格式错误")],
    )


def phone(e: pl.Expr) -> Normalized:
    """Phone: 11-digit mobile (country prefix dropped) or 7-12 digit landline."""
    canon = (
        _pre(_F("raw"))
        .str.replace_all(r"[-()]", "")
        .str.replace(r"^(?:\+86|0086|86)(1[0-9]{10})$", "${1}")
    )
    s = _F("s")
    ok = s.str.contains(r"^(?:1[0-9]{10}|0[0-9]{9,11}|[2-9][0-9]{6,7})$")
    return _normalised(e, [{"s": canon}], s, [(ok, "电话号码格式错误")])


# --------------------------------------------------------------------------
# Free text

_CONTROL_RE = r"[\x00-\x1F\x7F]"


def free_text(e: pl.Expr) -> pl.Expr:
    """Free text with each control character (U+0000-U+001F, U+007F) turned into a space."""
    return e.str.replace_all(_CONTROL_RE, " ")


# --------------------------------------------------------------------------
# Address key

_NUM = r"[0-9A-Z]"


def address_key(e: pl.Expr, places: Sequence[Sequence[str]]) -> pl.Expr:
    """Dwelling key for comparing addresses down to the unit (室), per data-contract.md.

    Full-width to half-width, upper-case, whitespace removed; Chinese numerals
    before a unit read as numbers; a bracketed remark dropped; punctuation
    removed; a leading province/city/district of ``places`` (per level, the
    profile's spellings) dropped; 幢/栋/座/号楼/# unified to 号, 户/房/房间 to
    室; a floor before the room dropped; 第N村民小组/小组 to N组; a trailing 室
    dropped. Never an error.
    """
    key = _pre(e).str.to_uppercase().pipe(A.read_numerals).pipe(A.drop_remarks)
    key = key.str.replace_all(r"([0-9A-Z])#", "${1}号").str.replace_all(r"[\p{P}\p{S}\p{Cc}]", "")
    key = (
        A.drop_place_prefix(key, places)
        .str.replace_all(rf"({_NUM})(?:幢|栋|座)", "${1}号")
        .str.replace_all("号楼", "号", literal=True)
        .str.replace_all(rf"({_NUM})(?:房间|户|房)", "${1}室")
    )
    return A.drop_floor(key).pipe(A.unify_groups).str.replace(r"室$", "")


# --------------------------------------------------------------------------
# Values already in normal form

_CLEAN_TEXT = r"^\s|\s$|[\x00-\x1F\x7F]"  # what free text loses to stripping and control characters
_CANONICAL_FORMS = {
    "account": r"^[0-9]{8,30}$",
    "phone": r"^(?:1[0-9]{10}|0[0-9]{9,11}|[2-9][0-9]{6,7})$",
}
CANONICAL_KINDS = frozenset({"str", "person_id", *_CANONICAL_FORMS})


def canonical(kind: str, e: pl.Expr, today: _dt.date | None = None) -> pl.Expr:
    """True where the raw value ``e`` is already in normal form and valid: its normaliser (after
    stripping) would return it unchanged with no error. Null where ``e`` is null.

    A cheap test without string rewriting, so that the loader normalises only the other rows (in
    an export, nearly all rows are canonical). ``kind``: one of ``CANONICAL_KINDS``.
    """
    if kind == "str":
        return ~e.str.contains(_CLEAN_TEXT) & (e.str.len_bytes() > 0)
    if kind == "person_id":  # body and birth date computed once, as fields of a struct
        s = _F("s")
        checks = _id_checks(s, _F("body"), _F("born"), today or _dt.date.today())
        st = pl.struct(e.alias("s")).struct.with_fields(
            body=s.str.slice(0, 17).str.to_integer(strict=False), born=birth_date(s))
        ok = st.struct.with_fields(ok=pl.all_horizontal([ok for ok, _ in checks])).struct.field("ok")
        return ok.fill_null(False) & e.is_not_null()
    return e.str.contains(_CANONICAL_FORMS[kind])


_ID_WIDTH = 18
_ID_BLOCK = 1 << 16  # rows per numpy block (its temporaries, ~60 bytes a row, are reused, not kept by malloc)
_ID_CHECK_BYTES = np.frombuffer(_ID_CHECK_CHARS.encode(), dtype=np.uint8)
_ID_WEIGHTS_NP = np.array(_ID_WEIGHTS, dtype=np.uint16)
_PROVINCE_TABLE = np.zeros(256 * 11, dtype=bool)  # indexed by 10 * first digit + second digit
_PROVINCE_TABLE[[int(c) for c in PROVINCE_CODES]] = True
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0], dtype=np.int32)


_HIGH_NIBBLES, _DIGIT_HIGH, _SIX = (np.uint64(int(b * 8, 16)) for b in ("F0", "30", "06"))


def _digits8(word: np.ndarray) -> np.ndarray:
    """Whether each of the 8 bytes of each uint64 is an ASCII digit: its high nibble is 3, and adding 6
    to it leaves it 3 (a low nibble up to 9; with every high nibble 3 no addition carries into the
    next byte)."""
    return ((word & _HIGH_NIBBLES) == _DIGIT_HIGH) & (((word + _SIX) & _HIGH_NIBBLES) == _DIGIT_HIGH)


def _id_block_ok(x: np.ndarray, today: int) -> np.ndarray:
    """The resident-id checks of ``_id_checks`` on an (n, 18) uint8 block of ASCII bytes: format,
    GB 11643 check character, province code, birth date from 1900-01-01 to ``today`` (YYYYMMDD)."""
    x = np.ascontiguousarray(x)
    n = x.shape[0]
    d = x - np.uint8(48)  # a digit's value; anything else wraps to >= 10
    body = d[:, :17]
    ok = d[:, 16] < 10  # bytes 0-15 read as two 8-byte words per row
    for offset in (0, 8):
        ok &= _digits8(np.ndarray((n,), dtype="<u8", buffer=x, offset=offset, strides=(_ID_WIDTH,)))
    ok &= (d[:, 17] < 10) | (x[:, 17] == ord("X"))
    total = np.zeros(n, dtype=np.uint16)  # at most 255 * 100: no overflow
    for i, weight in enumerate(_ID_WEIGHTS_NP):  # column by column: quicker than an integer matmul
        total += body[:, i] * weight
    ok &= _ID_CHECK_BYTES[total % 11] == x[:, 17]
    ok &= _PROVINCE_TABLE[d[:, 0].astype(np.int32) * 10 + d[:, 1]]
    digits = body[:, 6:14].astype(np.int32)
    year = ((digits[:, 0] * 10 + digits[:, 1]) * 10 + digits[:, 2]) * 10 + digits[:, 3]
    mon = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS_IN_MONTH[np.clip(mon, 0, 15)] + ((mon == 2) & leap)
    ok &= (year >= 1900) & (mon >= 1) & (mon <= 12) & (day >= 1) & (day <= days)
    ok &= year * 10000 + mon * 100 + day <= today
    return ok


def _id_canonical(s: pl.Series, today: _dt.date) -> pl.Series:
    """``canonical("person_id")`` of a String Series computed on its bytes (no string kernels):
    a value of other than 18 bytes or null is not canonical."""
    fixed = s.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, _ID_WIDTH))
    present = fixed.is_not_null()
    n_present = int(present.sum())
    out = np.zeros(s.len(), dtype=bool)
    if n_present == 0:
        return pl.Series(s.name, out)
    if n_present < s.len():
        fixed = fixed.filter(present)
    stamp = today.year * 10000 + today.month * 100 + today.day
    ok = np.empty(n_present, dtype=bool)
    for i in range(0, n_present, _ID_BLOCK):  # small blocks: numpy's temporaries stay small and reused
        ok[i:i + _ID_BLOCK] = _id_block_ok(fixed.slice(i, _ID_BLOCK).to_numpy(), stamp)
    if n_present == s.len():
        out = ok
    else:
        out[present.arg_true().to_numpy()] = ok
    return pl.Series(s.name, out)


_PRINTABLE = (0x21, 0x7E)  # printable ASCII but the space


def _same_width(s: pl.Series) -> int | None:
    """The byte length shared by every non-null value of the String Series ``s`` (at least 1), else None."""
    lengths = s.str.len_bytes().drop_nulls()
    if lengths.is_empty() or not lengths[0]:
        return None
    width = int(lengths[0])
    return width if (lengths == width).all() else None


def _bytes_ok(s: pl.Series, width: int, ok_byte: tuple[int, int]) -> pl.Series:
    """Where every byte of the value (all ``width`` bytes long, or null) lies in ``ok_byte`` (inclusive
    range, which must leave out 0); False where ``s`` is null. Checked with numpy, a byte position at a time."""
    nulls = s.null_count()
    filled = s.fill_null("\x00" * width) if nulls else s  # a null's placeholder fails every check
    x = filled.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width)).to_numpy()
    low, span = np.uint8(ok_byte[0]), np.uint8(ok_byte[1] - ok_byte[0] + 1)
    ok = np.empty(x.shape[0], dtype=bool)
    for i in range(0, x.shape[0], _ID_BLOCK):  # blocks: the temporaries stay small and reused
        block = x[i:i + _ID_BLOCK]
        good = (block[:, 0] - low) < span  # a byte below ``low`` wraps to >= 128 > span
        for j in range(1, width):
            good &= (block[:, j] - low) < span
        ok[i:i + _ID_BLOCK] = good
    return pl.Series(s.name, ok)


def _width_canonical(kind: str, s: pl.Series) -> pl.Series | None:
    """``canonical_mask`` of a free text or account column whose values all have one byte length, from
    their bytes; None when they do not. Text of printable ASCII without spaces is canonical; a row
    with any other byte (non-ASCII, space, control) is left to the expression. An account of 8-30
    bytes is canonical exactly when every byte is a digit."""
    width = _same_width(s)
    if width is None:
        return None
    if kind == "account":
        if not 8 <= width <= 30:
            return pl.Series(s.name, np.zeros(s.len(), dtype=bool))
        return _bytes_ok(s, width, (0x30, 0x39))
    if not _bytes_ok(s.head(_ID_BLOCK), width, _PRINTABLE).any():  # e.g. Chinese text: all left to the expression
        return None
    ok = _bytes_ok(s, width, _PRINTABLE)
    rest = ~ok & s.is_not_null()
    if rest.any():
        other = s.filter(rest).to_frame("raw").select(canonical(kind, pl.col("raw")).fill_null(False)).to_series()
        ok = ok.scatter(rest.arg_true(), other)
    return ok


def canonical_mask(kind: str, s: pl.Series, today: _dt.date | None = None) -> pl.Series:
    """``canonical(kind, ...)`` of the String Series ``s`` as a Boolean Series, False where ``s`` is
    null. Resident ids, and free text or accounts whose values share one byte length (ids, case
    numbers, card numbers), are checked on their bytes (numpy), several times quicker than the
    expression."""
    if kind == "person_id":
        return _id_canonical(s, today or _dt.date.today())
    if kind in ("str", "account"):
        fast = _width_canonical(kind, s)
        if fast is not None:
            return fast
    return s.to_frame("raw").select(canonical(kind, pl.col("raw")).fill_null(False)).to_series()


# An address whose dwelling key is the address itself without a trailing 室: only digits, upper-case
# ASCII letters and CJK ideographs, and nothing any step of ``address_key`` but the last rewrites
# (``_ADDRESS_REWRITTEN``, or a leading place name of the profile).
_ADDRESS_ALPHABET = r"^[0-9A-Z\x{4E00}-\x{9FFF}]+$"
_ADDRESS_REWRITTEN = "|".join([
    A.NUMERAL_TOKEN,  # a Chinese numeral before a unit
    r"[0-9A-Z](?:幢|栋|座|户|房)", "号楼",  # building and room spellings
    r"(?:号|单元)[0-9]+(?:楼|层)",  # a floor before the room
    r"[0-9](?:村民小组|小组|组|队)",  # rural groups
])


def plain_address(e: pl.Expr, places: Sequence[Sequence[str]]) -> pl.Expr:
    """True where the raw address ``e`` needs no cleaning (free text keeps it) and its dwelling key
    (``address_key`` with ``places``) is ``e`` without a trailing 室; null where ``e`` is null.

    A cheap test (two regex passes instead of a dozen rewrites), so that the loader computes the key
    only for the other addresses."""
    rewritten = _ADDRESS_REWRITTEN
    names = [n for level in places for n in level]
    if names:
        rewritten += "|^(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"
    return e.str.contains(_ADDRESS_ALPHABET) & ~e.str.contains(rewritten)


def plain_address_key(e: pl.Expr) -> pl.Expr:
    """The dwelling key of an address for which ``plain_address`` holds."""
    return e.str.strip_suffix("室")


# --------------------------------------------------------------------------
# Code mapping


def _lookup(mapping: dict[str, list[str]]) -> dict[str, str]:
    """Lower-cased code or label -> canonical code; rejects ambiguous keys."""
    table: dict[str, str] = {}
    for canonical, labels in mapping.items():
        for key in (canonical, *labels):
            key = key.lower()
            if table.get(key, canonical) != canonical:
                raise ValueError(f"ambiguous code label: {key!r}")
            table[key] = canonical
    return table


def code(e: pl.Expr, mapping: dict[str, list[str]], reason: str) -> Normalized:
    """Canonical code from a code (case-insensitive) or a Chinese label."""
    lookup = _lookup(mapping)
    canon = _pre(_F("raw")).str.to_lowercase()
    c = _F("c")
    return _normalised(
        e,
        [{"c": canon.replace_strict(lookup, default=None, return_dtype=pl.String)}],
        c,
        [(c.is_not_null(), reason)],
    )
