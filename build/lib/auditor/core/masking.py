"""The one masker of personal data: resident ids, phones and bank accounts.

Resident ids ``310105********1234`` (first 6 and last 4 kept), mobiles ``138****1234``,
accounts ``622202*********2011``. ``mask_text`` masks the numbers inside free text such as
titles and evidence JSON; ``short_id`` is the shortened form used in relationship path labels.
"""

from __future__ import annotations

import re
from typing import overload

import polars as pl

# an 18-char resident id, or any run of 11+ digits (phones, bank accounts), not inside a code
_SENSITIVE = re.compile(r"(?<![0-9A-Za-z-])(\d{17}[\dXx]|\d{11,30})(?![0-9A-Za-z])")
MASKED_COLUMNS = ("person_id", "bank_account", "title", "evidence", "phone")


@overload
def mask_value(value: str) -> str: ...
@overload
def mask_value(value: str | None) -> str | None: ...
def mask_value(value: str | None) -> str | None:
    """``310105199001011234`` -> ``310105********1234``; phone ``13812341234`` -> ``138****1234``."""
    if not value:
        return value
    s = str(value)
    if len(s) == 11 and s.startswith("1") and s.isdigit():
        return f"{s[:3]}****{s[-4:]}"
    if len(s) <= 10:
        return "*" * max(len(s) - 4, 0) + s[-4:]
    return f"{s[:6]}{'*' * (len(s) - 10)}{s[-4:]}"


@overload
def mask_text(text: str) -> str: ...
@overload
def mask_text(text: str | None) -> str | None: ...
def mask_text(text: str | None) -> str | None:
    """Mask every resident id, phone and account number inside free text (titles, evidence JSON)."""
    if not text:
        return text
    return _SENSITIVE.sub(lambda m: mask_value(m.group(1)), str(text))


def mask_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The same frame with personal data masked (id/account columns and free text)."""
    cols = []
    for c in MASKED_COLUMNS:
        if c in frame.columns:
            fn = mask_value if c in ("person_id", "bank_account", "phone") else mask_text
            cols.append(pl.col(c).map_elements(fn, return_dtype=pl.String, skip_nulls=True))
    return frame.with_columns(cols) if cols else frame


def short_id(e: pl.Expr) -> pl.Expr:
    """A resident id shortened for a path label, ``310105…1234`` (the same digits ``mask_value`` keeps)."""
    return pl.concat_str(e.str.slice(0, 6), pl.lit("…"), e.str.slice(-4, 4))
