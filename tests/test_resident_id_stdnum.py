"""Our vectorised resident-id validator against python-stdnum's ``cn.ric`` (a maintained one).

They agree except for these deliberate differences (data-contract.md, issue #15):

1. REGION: stdnum knows the six-digit county codes (and the years each was in use) and refuses
   an id whose county it does not know; we check only the province code (first two digits, the
   contract's GB/T 2260 list). So we accept ids stdnum refuses for their county, e.g. ``110199``
   or the province code 83, which stdnum's table lacks.
2. BEFORE 1900: we refuse births before 1900-01-01; stdnum accepts any real date.
3. FUTURE: we refuse births after the day of loading; stdnum accepts them.

Everything else (length, digits, checksum, a real calendar date) must agree both ways.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from auditor.demo.district import resident_id
from auditor.ingest import normalize as N

TODAY = date.today()


def _county_codes() -> list[str]:
    """Every six-digit code in stdnum's table (province + county)."""
    codes = []
    for _, lo, hi, _, children in numdb.get("cn/loc").prefixes:
        for _, clo, chi, _, _ in children:
            if lo == hi and clo == chi:
                codes.append(lo + clo)
    return codes


COUNTIES = _county_codes()


def ours(ids: list[str]) -> list[bool]:
    frame = pl.DataFrame({"raw": ids}, schema={"raw": pl.String})
    return frame.select(N.person_id(pl.col("raw"), today=TODAY).error.is_null()).to_series().to_list()


def stdnum_valid(pid: str) -> bool:
    """stdnum's verdict. Its ``get_birth_place`` raises KeyError (not a ValidationError) for a
    known province with an unknown county (stdnum 2.2): read as refused."""
    try:
        return ric.is_valid(pid)
    except KeyError:
        return False


def stdnum_place_unknown(pid: str) -> bool:
    """stdnum refuses the id for its birth place (county code, or not in use that year)."""
    try:
        ric.get_birth_place(pid)
    except (ValidationError, KeyError):
        return True
    return False


def born(pid: str) -> date | None:
    try:
        return date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    except ValueError:
        return None


def _checksum(body: str) -> str:
    return ric.calc_check_digit(body + "0")


@st.composite
def ids(draw) -> str:
    """Ids near the edges: known and unknown regions, dates around 1900 and today, good and bad checks."""
    region = draw(st.one_of(st.sampled_from(COUNTIES),
                            st.text("0123456789", min_size=6, max_size=6),
                            st.sampled_from(sorted(N.PROVINCE_CODES)).map(lambda p: p + "0101")))
    birth = draw(st.one_of(
        st.dates(date(1880, 1, 1), TODAY + timedelta(days=800)).map(lambda d: f"{d:%Y%m%d}"),
        st.sampled_from([TODAY, TODAY + timedelta(days=1), date(1900, 1, 1), date(1899, 12, 31)])
        .map(lambda d: f"{d:%Y%m%d}"),
        st.text("0123456789", min_size=8, max_size=8),  # often not a real date
    ))
    body = region + birth + draw(st.text("0123456789", min_size=3, max_size=3))
    check = draw(st.one_of(st.just(_checksum(body)), st.sampled_from("0123456789X")))
    return body + check


@settings(max_examples=150)
@given(st.lists(ids(), min_size=1, max_size=200))
def test_agrees_with_stdnum_except_the_listed_differences(pids):
    for pid, valid in zip(pids, ours(pids), strict=False):
        theirs = stdnum_valid(pid)
        b = born(pid)
        in_range = b is not None and date(1900, 1, 1) <= b <= TODAY
        if theirs and not valid:  # differences 2 and 3
            assert not in_range, pid
        if valid and not theirs:  # difference 1
            assert stdnum_place_unknown(pid), pid
        # and our own rule, as the contract states it
        assert valid == (pid[17] == _checksum(pid[:17]) and pid[:2] in N.PROVINCE_CODES and in_range), pid


def test_each_listed_difference_is_real():
    unknown_county = resident_id(date(1980, 1, 1), 1, region="110199")
    province_83 = resident_id(date(1980, 1, 1), 1, region="830000")
    before_1900 = resident_id(date(1899, 6, 1), 1, region="110101")
    future = resident_id(TODAY + timedelta(days=1), 1, region="110101")
    assert [stdnum_valid(p) for p in (unknown_county, province_83, before_1900, future)] == [False, False, True, True]
    assert ours([unknown_county, province_83, before_1900, future]) == [True, True, False, False]


@pytest.mark.parametrize("pid", ["11010519491231002X", "360426199101010071", "110101200001010015"])
def test_both_accept_well_known_valid_ids(pid):
    pid = pid[:17] + _checksum(pid[:17])
    assert stdnum_valid(pid) and ours([pid]) == [True]
