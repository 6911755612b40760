"""Repeated keys told by sorted hashes (``auditor.core.repeats``) equal ``is_duplicated``."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.core import repeats

KEYS = st.lists(st.tuples(st.sampled_from(["a", "b", "310101199001011234", None]),
                          st.sampled_from(["dibao", "tekun", None])), max_size=40)


def _frame(rows: list[tuple[str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"payee_id": pl.String, "program": pl.String}, orient="row")


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_duplicated_is_is_duplicated(rows):
    frame = _frame(rows)
    for columns in (["payee_id"], ["payee_id", "program"]):
        expected = frame.select(pl.struct(columns).is_duplicated()).to_series()
        assert repeats.duplicated(frame, columns).to_list() == expected.to_list()
        maybe = repeats.may_repeat(frame, columns)
        assert not (expected & ~maybe).any()  # every repeated key is among those that may repeat


@settings(max_examples=100, deadline=None)
@given(KEYS)
def test_keys_sharing_a_hash_are_still_told_apart(rows):
    """As if every hash collided: the keys themselves decide."""
    frame = _frame(rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repeats, "repeated_hashes", lambda hashes: hashes.unique() if hashes.len() else None)
        got = repeats.duplicated(frame, ["payee_id", "program"])
    assert got.to_list() == frame.select(pl.struct("payee_id", "program").is_duplicated()).to_series().to_list()


def test_categorical_keys_repeat_as_their_text():
    frame = pl.DataFrame({"program": ["dibao", "tekun", "dibao"]}).with_columns(pl.col("program").cast(pl.Categorical))
    assert repeats.duplicated(frame, ["program"]).to_list() == [True, False, True]
    assert repeats.repeated_hashes(pl.Series([3, 1, 2], dtype=pl.UInt64)) is None
