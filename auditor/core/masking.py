"""The one masker of personal data: resident ids, phones and bank accounts.

Resident ids ``310105********1234`` (first 6 and last 4 kept), mobiles ``138****1234``,
landlines ``62****78``, accounts ``622202*********2011``. Structured data (evidence JSON,
page rows) is masked by field (``mask_evidence``, ``mask_record``): the values of personal keys
are masked whatever their form, and in other strings only the written forms of ids, mobiles,
accounts and phones named as such (``电话 62345678``), so dates and amounts are left alone.
``mask_text`` masks those forms in free text such as titles; ``short_id`` is the shortened form
used in relationship path labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, overload

import polars as pl

# written forms: an 18-char resident id, a mobile, a 16-19 digit account, a phone named as such
_FORMS = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|1[3-9]\d{9}|\d{16,19})(?![0-9A-Za-z])"
                    r"|(?<=电话)([ :：]?)((?:0\d{2,3}-)?\d{7,8})(?!\d)")
_LANDLINE = re.compile(r"(0\d{2,3}-)?(\d{7,8})")
_NODE = re.compile(r"^([PA]):(.+)$")  # relationship node ids: P:<person id>, A:<account>
MASKED_COLUMNS = ("person_id", "bank_account", "title", "evidence", "phone")

# keys whose values are personal (in evidence JSON and contract tables), masked whatever their form
PERSONAL_KEYS = frozenset({
    "person_id", "payee_id", "holder_id", "custodian_id", "relative_id", "applicant_id", "phone",
    "bank_account", "account", "payee_ids", "person_ids", "holders", "relatives", "relative_ids",
    "instr_accounts", "other_accounts", "shared_values", "accounts_used", "members",
})


@overload
def mask_value(value: str) -> str: ...
@overload
def mask_value(value: str | None) -> str | None: ...
def mask_value(value: str | None) -> str | None:
    """``310105199001011234`` -> ``310105********1234``; ``13812341234`` -> ``138****1234``;
    landline ``62345678`` -> ``62****78`` (``021-62345678`` -> ``021-62****78``)."""
    if not value:
        return value
    s = str(value)
    if len(s) == 11 and s.startswith("1") and s.isdigit():
        return f"{s[:3]}****{s[-4:]}"
    landline = _LANDLINE.fullmatch(s)
    if landline:
        digits = landline.group(2)
        return f"{landline.group(1) or ''}{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    if len(s) <= 10:
        return "*" * max(len(s) - 4, 0) + s[-4:]
    return f"{s[:6]}{'*' * (len(s) - 10)}{s[-4:]}"


def _personal(value: str) -> str:
    """A personal field: an id, phone or account masked whole; other text (an address) by its forms."""
    compact = value.replace(" ", "")
    if re.fullmatch(r"[\dXx-]+", compact):
        return mask_value(compact) or value
    return mask_text(value) or value


@overload
def mask_text(text: str) -> str: ...
@overload
def mask_text(text: str | None) -> str | None: ...
def mask_text(text: str | None) -> str | None:
    """Mask the written forms of ids, mobiles, accounts and named phones inside free text."""
    if not text:
        return text

    def sub(m: re.Match) -> str:
        if m.group(1):
            return mask_value(m.group(1)) or ""
        return m.group(2) + (mask_value(m.group(3)) or "")

    return _FORMS.sub(sub, str(text))


def mask_record(obj: Any, keys: frozenset[str] = PERSONAL_KEYS) -> Any:
    """``obj`` (dicts, lists, strings) with the values of ``keys`` masked and every other string
    masked by its written forms; numbers, dates and amounts unchanged."""
    if isinstance(obj, dict):
        return {k: (_mask_personal(v, keys) if k in keys else
                    _node(v) if k in ("id", "source", "target") and isinstance(v, str) else mask_record(v, keys))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask_record(v, keys) for v in obj]
    if isinstance(obj, str):
        return mask_text(obj)
    return obj


def _mask_personal(v: Any, keys: frozenset[str]) -> Any:
    if isinstance(v, str):
        return _personal(v)
    if isinstance(v, list):
        return [_personal(x) if isinstance(x, str) else mask_record(x, keys) for x in v]
    return mask_record(v, keys)


def _node(v: str) -> str:
    m = _NODE.match(v)
    return f"{m.group(1)}:{mask_value(m.group(2))}" if m else mask_text(v) or v


def mask_evidence(evidence: str | None) -> str | None:
    """Evidence JSON with personal fields masked (``mask_record``); text that is not JSON by its forms."""
    if not evidence:
        return evidence
    try:
        data = json.loads(evidence)
    except ValueError:
        return mask_text(evidence)
    return json.dumps(mask_record(data), ensure_ascii=False, separators=(",", ":"))


_BY_COLUMN: dict[str, Callable[[Any], Any]] = {
    "person_id": mask_value, "bank_account": mask_value, "phone": mask_value, "evidence": mask_evidence}


def mask_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The same frame with personal data masked (id/account/phone columns, evidence by field, titles)."""
    cols = [pl.col(c).map_elements(_BY_COLUMN.get(c, mask_text), return_dtype=pl.String, skip_nulls=True)
            for c in MASKED_COLUMNS if c in frame.columns]
    return frame.with_columns(cols) if cols else frame


def short_id(e: pl.Expr) -> pl.Expr:
    """A resident id shortened for a path label, ``310105…1234`` (the same digits ``mask_value`` keeps)."""
    return pl.concat_str(e.str.slice(0, 6), pl.lit("…"), e.str.slice(-4, 4))
