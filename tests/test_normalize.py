"""Tests for auditor.normalize (vectorised value normalisers)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.core import vocab
from auditor.core.config import load_profile  # noqa: E402
from auditor.ingest import normalize as n  # noqa: E402

# --------------------------------------------------------------------------
# Helpers


def run(fn, values, *args):
    """Apply a normaliser to a String column; return [(value, error), ...]."""
    df = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    res = fn(pl.col("raw"), *args)
    out = df.select(res.value.alias("value"), res.error.alias("error"))
    return list(out.iter_rows())


def one(fn, value, *args):
    return run(fn, [value], *args)[0]


def value_dtype(fn, *args):
    df = pl.DataFrame({"raw": ["x", None]}, schema={"raw": pl.String})
    res = fn(pl.col("raw"), *args)
    return df.select(res.value.alias("v"), res.error.alias("e")).schema


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_checksum(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=False))
    return first17 + "10X98765432"[total % 11]


def bad_checksum(first17: str) -> str:
    good = with_checksum(first17)
    wrong = "0" if good[-1] != "0" else "1"
    return first17 + wrong


# --------------------------------------------------------------------------
# fullwidth_to_halfwidth


def test_fullwidth_to_halfwidth():
    df = pl.DataFrame({"raw": ["１２３ＡＢｃ，．（）＃\u3000－", "abc", None]})
    out = df.select(n.fullwidth_to_halfwidth(pl.col("raw"))).to_series().to_list()
    assert out == ["123ABc,.()# -", "abc", None]


# --------------------------------------------------------------------------
# person_id / birth_date


def test_person_id_known_valid():
    assert one(n.person_id, "11010519491231002X") == ("11010519491231002X", None)


def test_person_id_lowercase_x_and_inner_spaces():
    assert one(n.person_id, "11010519491231002x") == ("11010519491231002X", None)
    assert one(n.person_id, "110105 19491231 002X") == ("11010519491231002X", None)
    assert one(n.person_id, "１１０１０５１９４９１２３１００２Ｘ") == ("11010519491231002X", None)


@pytest.mark.parametrize(
    "first17",
    ["31010519800229123", "31010520000101001", "44030419991231987", "31010519000101555"],
)
def test_person_id_computed_valid(first17):
    pid = with_checksum(first17)
    assert one(n.person_id, pid) == (pid, None)


def test_person_id_bad_checksum():
    assert one(n.person_id, "110105194912310021") == (None, "身份证号校验位错误")
    pid = bad_checksum("31010519800101123")
    assert one(n.person_id, pid) == (None, "身份证号校验位错误")


@pytest.mark.parametrize(
    "first17",
    [
        "31010519810229123",  # 1981 is not a leap year
        "31010519801301123",  # month 13
        "31010519800132123",  # day 32
        "31010518991231123",  # before 1900
        "31010519800000123",  # month and day zero
    ],
)
def test_person_id_bad_birth_date(first17):
    assert one(n.person_id, with_checksum(first17)) == (None, "身份证号出生日期无效")


@pytest.mark.parametrize(
    "raw",
    ["1101051949123100", "11010519491231002XX", "1101051949123100A2", "X10105194912310021", "abc"],
)
def test_person_id_bad_format(raw):
    assert one(n.person_id, raw) == (None, "身份证号格式错误")


def test_person_id_null_is_not_error():
    assert one(n.person_id, None) == (None, None)


def test_person_id_dtypes():
    assert value_dtype(n.person_id) == pl.Schema({"v": pl.String, "e": pl.String})


def test_birth_date():
    df = pl.DataFrame({"pid": ["11010519491231002X", with_checksum("31010519800229123"), None]})
    out = df.select(n.birth_date(pl.col("pid"))).to_series()
    assert out.dtype == pl.Date
    assert out.to_list() == [dt.date(1949, 12, 31), dt.date(1980, 2, 29), None]


# --------------------------------------------------------------------------
# month


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2026-03", "2026-03"),
        ("2026/03", "2026-03"),
        ("202603", "2026-03"),
        ("2026年03月", "2026-03"),
        ("2026年3月", "2026-03"),
        ("2026-1", "2026-01"),
        ("2026/1", "2026-01"),
        ("2026年1月", "2026-01"),
        ("2026年12月", "2026-12"),
        ("２０２６－０３", "2026-03"),
        ("２０２６年１月", "2026-01"),
        ("2026 年 3 月", "2026-03"),
    ],
)
def test_month_valid(raw, expected):
    assert one(n.month, raw) == (expected, None)


@pytest.mark.parametrize(
    "raw",
    ["2026-13", "2026-00", "202613", "20261", "2026", "26-03", "2026-03-01", "March", "2026年13月"],
)
def test_month_invalid(raw):
    assert one(n.month, raw) == (None, "月份格式错误")


def test_month_null():
    assert one(n.month, None) == (None, None)


# --------------------------------------------------------------------------
# date


@pytest.mark.parametrize(
    "raw",
    [
        "2026-10-05",
        "2026/10/05",
        "20261005",
        "2026年10月05日",
        "2026年10月5日",
        "2026-10-5",
        "2026/10/5",
        "２０２６－１０－０５",
        "２０２６年１０月５日",
        "2026-10-05 00:00:00",
        "2026-10-05T00:00:00",
        "2026-10-05 00:00:00.000000",
        "2026-10-05 00:00",
        "2026/10/05 00:00:00",
    ],
)
def test_date_valid(raw):
    assert one(n.date, raw) == (dt.date(2026, 10, 5), None)


def test_date_single_digit_month_and_day():
    assert one(n.date, "2026-1-2") == (dt.date(2026, 1, 2), None)
    assert one(n.date, "2026年1月2日") == (dt.date(2026, 1, 2), None)


def test_date_leap_day():
    assert one(n.date, "2024-02-29") == (dt.date(2024, 2, 29), None)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-02-30", "2025-02-29", "2026-13-01", "20260230", "2026-10",
        "2026-10/05", "05/10/2026", "abc", "2026-10-05x", "1899-12-31",
    ],
)
def test_date_invalid(raw):
    assert one(n.date, raw) == (None, "日期格式错误")


def test_date_null_and_dtype():
    assert one(n.date, None) == (None, None)
    assert value_dtype(n.date) == pl.Schema({"v": pl.Date, "e": pl.String})


# --------------------------------------------------------------------------
# amount


@pytest.mark.parametrize(
    "raw, fen",
    [
        ("1234.50", 123450),
        ("1,234.50", 123450),
        ("1234.5元", 123450),
        ("1,234.50元", 123450),
        ("￥1234.5", 123450),
        ("¥1,234", 123400),
        ("１２３４．５", 123450),
        ("１，２３４．５０", 123450),
        ("1234", 123400),
        ("0.01", 1),
        ("0", 0),
        ("0.1", 10),
        (".5", 50),
        ("1234.", 123400),
        ("1,234,567.89", 123456789),
        ("1234.500", 123450),  # extra zero decimals are exact
        ("12 345.6", 1234560),
        ("-0.00", 0),
        ("100,000,000.00", 10000000000),  # the cap itself is accepted
    ],
)
def test_amount_valid(raw, fen):
    assert one(n.amount, raw) == (fen, None)


def test_amount_is_exact_for_many_small_values():
    # Values that are inexact as binary floats must still sum exactly in fen.
    vals = ["0.10", "0.20", "0.30", "1000000.07", "9999999.99"]
    fen = [v for v, _ in run(n.amount, vals)]
    assert fen == [10, 20, 30, 100000007, 999999999]
    assert sum(fen) == 1100000066


@pytest.mark.parametrize("raw", ["1234.505", "0.001", "1.999"])
def test_amount_too_many_decimals(raw):
    assert one(n.amount, raw) == (None, "金额超过两位小数")


@pytest.mark.parametrize("raw", ["-5", "-0.01", "-1,234.50元", "-¥5", "¥-5"])
def test_amount_negative(raw):
    assert one(n.amount, raw) == (None, "金额为负")


@pytest.mark.parametrize(
    "raw", ["abc", "1.2.3", "12,34", "1,2345", ".", "元", "1e3", "12a"]
)
def test_amount_bad_format(raw):
    assert one(n.amount, raw) == (None, "金额格式错误")


def test_amount_null_and_dtype():
    assert one(n.amount, None) == (None, None)
    assert value_dtype(n.amount) == pl.Schema({"v": pl.Int64, "e": pl.String})


# --------------------------------------------------------------------------
# boolean


@pytest.mark.parametrize("raw", ["true", "TRUE", "True", "1", "是", "Y", "y", "yes", "YES", "１"])
def test_boolean_true(raw):
    assert one(n.boolean, raw) == (True, None)


@pytest.mark.parametrize("raw", ["false", "FALSE", "0", "否", "N", "n", "no", "No"])
def test_boolean_false(raw):
    assert one(n.boolean, raw) == (False, None)


def test_boolean_null_is_false():
    assert one(n.boolean, None) == (False, None)


@pytest.mark.parametrize("raw", ["maybe", "2", "对", "t"])
def test_boolean_unrecognised(raw):
    assert one(n.boolean, raw) == (None, "布尔值无法识别")


def test_boolean_dtype():
    assert value_dtype(n.boolean) == pl.Schema({"v": pl.Boolean, "e": pl.String})


# --------------------------------------------------------------------------
# account


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("6222 0212 3456 7890", "6222021234567890"),
        ("6222-0212-3456-7890", "6222021234567890"),
        ("６２２２０２１２３４５６７８９０", "6222021234567890"),
        ("6222 －0212", "62220212"),
        ("12345678", "12345678"),
    ],
)
def test_account_valid(raw, expected):
    assert one(n.account, raw) == (expected, None)


@pytest.mark.parametrize("raw", ["1234567", "6222A21234567890", "1" * 31, "6222/0212/3456"])
def test_account_invalid(raw):
    assert one(n.account, raw) == (None, "银行账号格式错误")


def test_account_null():
    assert one(n.account, None) == (None, None)


# --------------------------------------------------------------------------
# phone


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("021-62345678", "02162345678"),
        ("(021)62345678", "02162345678"),
        ("（021）6234 5678", "02162345678"),
        ("62345678", "62345678"),
        ("6234567", "6234567"),
        ("0571-8765432", "05718765432"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_phone_valid(raw, expected):
    assert one(n.phone, raw) == (expected, None)


@pytest.mark.parametrize(
    "raw",
    ["12345", "138123456789", "+1 415 555 0100", "abc", "62345678ext1", "+8662345678", "1381234567"],
)
def test_phone_invalid(raw):
    assert one(n.phone, raw) == (None, "电话号码格式错误")


def test_phone_null():
    assert one(n.phone, None) == (None, None)


# --------------------------------------------------------------------------
# address_key


def keys(values):
    df = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return df.select(n.address_key(pl.col("raw"), load_profile(None).address.levels())).to_series().to_list()


BASE = "长宁路100弄5号301"


@pytest.mark.parametrize(
    "raw",
    [
        "长宁路100弄5号301室",
        "上海市长宁区长宁路 100 弄 5 号 301 室",
        "上海市长宁区长宁路１００弄５号３０１室",
        "上海长宁区长宁路100弄5号301室",
        "上海市长宁路100弄5号301室",
        "上海长宁路100弄5号301室",
        "长宁区长宁路100弄5号301室",
        "长宁路100弄5幢301室",
        "长宁路100弄5栋301室",
        "长宁路100弄5座301室",
        "长宁路100弄5号楼301室",
        "长宁路100弄5号楼301",
        "长宁路100弄5号301",
        "长宁路100弄5号301户",
        "长宁路100弄5号301房",
        "长宁路100弄5#301室",
        "长宁路100弄，5号（301室）",
        "长宁路100弄·5号-301室",
        "上海市\u3000长宁区\u3000长宁路100弄5号301室。",
    ],
)
def test_address_same_dwelling(raw):
    assert keys([raw]) == [BASE]


def test_address_different_units_differ():
    a, b = keys(["长宁路100弄5号301室", "上海市长宁区长宁路 100 弄 5 号 302 室"])
    assert a != b


def test_address_different_buildings_differ():
    a, b = keys(["长宁路100弄5号301室", "长宁路100弄6号301室"])
    assert a != b


def test_address_street_name_not_stripped():
    # 长宁路 must not lose 长宁 (it is a street, not the 长宁区 prefix).
    assert keys(["长宁路100弄5号301室"])[0].startswith("长宁路")
    assert keys(["上海市长宁区长宁路100弄5号301室"])[0].startswith("长宁路")
    # A residential compound ending in 区 is not a district.
    assert keys(["阳光小区5号301室"]) == ["阳光小区5号301"]


def test_address_other_district_prefix_is_kept():
    # Only the profile's (长宁区) prefixes are dropped: 虹桥路 runs through 徐汇 and 长宁.
    assert keys(["上海市徐汇区虹桥路1号2室"]) == keys(["徐汇区虹桥路1号2室"]) == ["徐汇区虹桥路1号2"]


def test_address_unit_kept_and_chinese_numerals_read():
    assert keys(["长宁路100弄5号2单元301室"]) == ["长宁路100弄5号2单元301"]
    assert keys(["长宁路一百弄五号"]) == ["长宁路100弄5号"]
    assert keys(["长宁路一百弄五幢"]) == ["长宁路100弄5号"]


def test_address_numeral_cn2an_cannot_read_is_kept():
    assert keys(["长宁路零十一号2室", "长宁路十十号"]) == ["长宁路零十一号2", "长宁路十十号"]


def test_address_letters_case_insensitive():
    assert keys(["虹桥路1号a座301室"]) == keys(["虹桥路1号A号301"])


def test_address_null():
    assert keys([None]) == [None]


# --------------------------------------------------------------------------
# code


def test_code_programs():
    raw = ["dibao", "DIBAO", "低保", "特困", "低保边缘", "Dibao_Edge", "刚性支出困难", "重残无业", "临时救助"]
    out = run(n.code, raw, vocab.PROGRAMS, "救助类型无法识别")
    assert [v for v, _ in out] == [
        "dibao", "dibao", "dibao", "tekun", "dibao_edge", "dibao_edge",
        "rigid_expense", "disability", "temporary",
    ]
    assert all(e is None for _, e in out)


def test_code_unknown_is_error_with_given_reason():
    out = run(n.code, ["低保x", "unknown", None], vocab.PROGRAMS, "救助类型无法识别")
    assert out == [(None, "救助类型无法识别"), (None, "救助类型无法识别"), (None, None)]


@pytest.mark.parametrize(
    "mapping, raw, expected",
    [
        (vocab.CASE_STATUS, "在保", "active"),
        (vocab.CASE_STATUS, "Suspended", "suspended"),
        (vocab.CASE_STATUS, "终止", "terminated"),
        (vocab.LEDGER_STATUS, "成功", "paid"),
        (vocab.LEDGER_STATUS, "已支付", "paid"),
        (vocab.LEDGER_STATUS, "支付成功", "paid"),
        (vocab.LEDGER_STATUS, "退回", "returned"),
        (vocab.LEDGER_STATUS, "FAILED", "failed"),
        (vocab.RELATIONS, "配偶", "spouse"),
        (vocab.RELATIONS, "祖父母/外祖父母", "grandparent"),
        (vocab.RELATIONS, "外祖父母", "grandparent"),
        (vocab.RELATIONS, "外孙子女", "grandchild"),
        (vocab.RELATIONS, "配偶父母", "parent_in_law"),
        (vocab.RELATIONS, "子女配偶", "child_in_law"),
        (vocab.RELATIONS, "配偶兄弟姐妹", "sibling_in_law"),
        (vocab.RELATIONS, "表兄弟姐妹", "cousin"),
        (vocab.RELATIONS, "其他", "other"),
        (vocab.MEMBER_RELATIONS, "本人", "self"),
        (vocab.MEMBER_RELATIONS, "SELF", "self"),
        (vocab.MEMBER_RELATIONS, "子女", "child"),
        (vocab.STAFF_ROLES, "社区救助顾问", "advisor"),
        (vocab.STAFF_ROLES, "经办人", "case_worker"),
        (vocab.REVIEW_CYCLES, "半年", "semiannual"),
        (vocab.REVIEW_CYCLES, "季度", "quarterly"),
        (vocab.BUSINESS_ROLES, "法定代表人", "legal_rep"),
        (vocab.BUSINESS_ROLES, "股东", "shareholder"),
        (vocab.PENALTY_KINDS, "服刑", "imprisonment"),
        (vocab.PENALTY_KINDS, "有期徒刑", "imprisonment"),
        (vocab.PENALTY_KINDS, "缓刑", "probation"),
    ],
)
def test_code_mappings(mapping, raw, expected):
    assert one(n.code, raw, mapping, "代码无法识别") == (expected, None)


def test_code_self_not_in_plain_relations():
    assert one(n.code, "本人", vocab.RELATIONS, "关系无法识别") == (None, "关系无法识别")


def test_code_ambiguous_mapping_rejected():
    with pytest.raises(ValueError):
        n.code(pl.col("raw"), {"a": ["甲"], "b": ["甲"]}, "x")


# --------------------------------------------------------------------------
# General contract


ALL = [
    n.person_id, n.month, n.date, n.amount, n.boolean, n.account, n.phone,
    lambda e: n.code(e, vocab.PROGRAMS, "救助类型无法识别"),
]


@pytest.mark.parametrize("fn", ALL)
def test_lazy_and_loader_style_input(fn):
    # The loader passes a stripped, empty-to-null expression, not a bare column.
    lf = pl.LazyFrame({"c": ["  2026-01 ", "", None, "???"]}, schema={"c": pl.String})
    raw = pl.col("c").str.strip_chars()
    raw = pl.when(raw == "").then(None).otherwise(raw)
    res = fn(raw)
    out = lf.with_columns(res.value.alias("v"), res.error.alias("e")).collect()
    assert out.height == 4
    assert out["e"][1] is None and out["e"][2] is None  # empty/null: no error
    assert out["e"][3] is not None


@pytest.mark.parametrize("fn", ALL)
def test_all_null_column(fn):
    df = pl.DataFrame({"raw": [None, None]}, schema={"raw": pl.String})
    res = fn(pl.col("raw"))
    out = df.select(res.value.alias("v"), res.error.alias("e"))
    assert out["e"].to_list() == [None, None]


def test_many_normalisers_in_one_select():
    df = pl.DataFrame({"pid": ["11010519491231002x"], "amt": ["¥1,234.5"], "m": ["2026年1月"]})
    p, a, m = n.person_id(pl.col("pid")), n.amount(pl.col("amt")), n.month(pl.col("m"))
    out = df.select(
        p.value.alias("pid"), p.error.alias("pid_e"),
        a.value.alias("amt"), a.error.alias("amt_e"),
        m.value.alias("m"), m.error.alias("m_e"),
    )
    assert out.row(0) == ("11010519491231002X", None, 123450, None, "2026-01", None)


def test_normalized_is_namedtuple():
    res = n.account(pl.col("raw"))
    value, error = res
    assert isinstance(value, pl.Expr) and isinstance(error, pl.Expr)
    assert res.value is value and res.error is error


# --------------------------------------------------------------------------
# canonical: the loader's shortcut for values already in normal form

TRICKY = {
    "str": ["C001", " C001", "C001 ", "C\x01001", "", "案件\u3000", "a b", "\u00a0x", "x\t", None],
    "person_id": ["11010519491231002X", "11010519491231002x", "110105194912310021", "990105194912310025",
                  with_checksum("11010518991231001"), with_checksum("11010520991231001"), "１１０１０５１９４９１２３１００２Ｘ",
                  "'11010519491231002X", " 11010519491231002X", with_checksum("11010519490230001"), None],
    "account": ["6222020000000001", "6222-0200-0000-0001", "1234567", "'62220200000001", "６２２２０２００００", None],
    "phone": ["13812345678", "+8613812345678", "8613812345678", "02112345678", "12345678", "1381234567", None],
}
NORMALISERS = {"str": lambda e: n.Normalized(e, pl.lit(None, pl.String)), "person_id": n.person_id,
               "account": n.account, "phone": n.phone}


@pytest.mark.parametrize("kind", sorted(TRICKY))
def test_canonical_values_are_exactly_those_the_normaliser_keeps(kind):
    """A value flagged canonical is returned unchanged without error; a value the normaliser would
    change or refuse is never flagged (else the loader would keep a wrong value)."""
    assert n.CANONICAL_KINDS == set(TRICKY)
    values = TRICKY[kind]
    flags = pl.DataFrame({"raw": values}, schema={"raw": pl.String}).select(
        n.canonical(kind, pl.col("raw"))).to_series().to_list()
    if kind == "str":  # the loader turns control characters in free text into spaces before stripping
        values_in = [None if v is None else re.sub(r"[\x00-\x1f\x7f]", " ", v) for v in values]
    else:
        values_in = values
    stripped = [None if v is None or v.strip() == "" else v.strip() for v in values_in]
    results = run(NORMALISERS[kind], stripped)
    for raw, flag, (value, error) in zip(values, flags, results, strict=True):
        kept = raw is not None and value == raw and error is None
        assert bool(flag) == kept, (raw, flag, value, error)
    assert any(flags) and not all(flags)


# --------------------------------------------------------------------------
# The loader's quicker tests: resident ids checked on their bytes, addresses needing no rewrite

def _id_flags(values, today=None):
    """(canonical_mask, the canonical expression) of resident ids, as lists of bools."""
    s = pl.Series("raw", values, dtype=pl.String)
    fast = n.canonical_mask("person_id", s, today).to_list()
    slow = s.to_frame().select(n.canonical("person_id", pl.col("raw"), today).fill_null(False)).to_series().to_list()
    return fast, slow


def test_id_bytes_check_agrees_with_the_expression_on_tricky_values():
    base = "11010519491231002"
    non_ascii = "110105194912长宁"  # 18 bytes, 14 characters
    assert len(non_ascii.encode()) == 18
    values = TRICKY["person_id"] + [
        with_checksum(base), bad_checksum(base), base, with_checksum(base) + "0", "", " " * 18,
        with_checksum(base).replace("2", "２", 1), non_ascii, "11010519491231002X", "11010519491231002x",
        with_checksum("99010519491231002"), with_checksum("00010519491231002"), "1A0105194912310021",
        with_checksum("11010519000229001"), with_checksum("11010520000229001"), with_checksum("11010519000101001"),
        with_checksum("11010518991231001"), with_checksum("11010519491300001"), with_checksum("11010519491232001"),
        with_checksum("11010519490001001"), with_checksum("11010519490100001"), "1101051949123100/X", "11010519491231002\x00",
        "11010519491231002 ", "\t1010519491231002X", "110105194912310021" * 2, None, None,
    ]
    fast, slow = _id_flags(values)
    assert fast == slow
    assert fast.count(True) >= 5 and fast.count(False) >= 25


def test_id_bytes_check_agrees_on_every_birth_date_and_today():
    """Every month 00-13 and day 00-32 of years around the limits and leap rules, checksum right."""
    values = [with_checksum(f"310104{y:04d}{m:02d}{d:02d}123")
              for y in (1899, 1900, 1904, 1999, 2000, 2023, 2024, 2026, 2027, 2100, 9999)
              for m in range(14) for d in range(33)]
    for today in (dt.date(2026, 11, 30), dt.date(2024, 2, 29), dt.date(2000, 1, 1), None):
        fast, slow = _id_flags(values, today)
        assert fast == slow
        assert 300 < fast.count(True) < len(values) - 300


def test_id_bytes_check_agrees_on_random_ids():
    import random

    rng = random.Random(11643)
    values = []
    for _ in range(20_000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        if rng.random() < 0.5:
            body = rng.choice(sorted(n.PROVINCE_CODES)) + body[2:6] + f"{rng.randint(1890, 2030)}{rng.randint(0, 13):02d}" \
                f"{rng.randint(0, 31):02d}" + body[14:]
        last = with_checksum(body)[-1] if rng.random() < 0.7 else rng.choice("0123456789Xx ")
        values.append(body + last)
    for _ in range(2_000):  # sliced rows: nulls and other lengths between them
        values.append(rng.choice([None, values[rng.randrange(20_000)][: rng.randint(0, 19)]]))
    fast, slow = _id_flags(values)
    assert fast == slow and fast.count(True) > 3_000


def test_id_bytes_check_agrees_on_ids_with_an_odd_byte():
    """One byte anywhere replaced by a neighbour of the digits, a control or a high byte (the digit test
    reads 8 bytes at a time)."""
    import random

    rng = random.Random(17)
    odd = [":", "/", ";", "?", "@", "\x00", "\x7f", " ", "X", "x", "é"]  # é: two bytes, in place of two digits
    good = [with_checksum(f"310104{rng.randint(1950, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                          f"{rng.randint(0, 999):03d}") for _ in range(300)]
    values = list(good)
    for value in good:
        for pos in range(18):
            c = rng.choice(odd)
            values.append(value[:pos] + c + value[pos + len(c.encode()):])
    fast, slow = _id_flags(values)
    assert fast == slow and fast.count(True) >= 300


PLACES = load_profile(None).address.levels()
RISKY_PIECES = ["长宁", "上海", "上海市", "长宁区", "徐汇区", "路", "弄", "号", "楼", "层", "室", "组", "小组", "村民小组",
                "队", "第", "三", "十", "一百", "〇", "零", "两", "幢", "栋", "座", "户", "房", "房间", "单元", "1", "23", "405",
                "A", "b", "#", "（", "）", "(", "[", "-", "·", " ", "\u3000", "１", "Ｂ", "新", "村", "阳光小区", "\x01",
                "\U00020000", "ǅ", "ß"]


def _address_check(values):
    """Assert that every address ``plain_address`` flags keeps itself as value and itself without a
    trailing 室 as its dwelling key; returns the flags."""
    raw = pl.col("raw")
    cleaned = n.free_text(raw).str.strip_chars()
    out = pl.DataFrame({"raw": values}, schema={"raw": pl.String}).select(
        raw, n.plain_address(raw, PLACES).alias("plain"), cleaned.alias("clean"),
        n.address_key(cleaned, PLACES).alias("key"), n.plain_address_key(raw).alias("simple"))
    for value, plain, clean, key, simple in out.iter_rows():
        if plain:
            assert (clean, key) == (value, simple), value
    return out["plain"].to_list()


def test_plain_addresses_keep_their_dwelling_key():
    values = ["长伊路210弄1号301室", "阳光小区5号301室", "虹桥路1号A座301室", "长宁路100弄5号2单元301室", "室", "室室",
              "1号301室室", "100弄5楼301", "红星村3组12号", "红星村第3队", "五组12号", "第三村民小组", "5号3楼301室", "5号3层301",
              "长宁", "上海路1号", "长宁路1号", "长宁区长宁路1号", "上海市徐汇区虹桥路1号2室", "长宁路一百弄五号", "3号楼2室",
              "3幢2室", "3栋", "2户", "2房间", "〇号", "虹桥路1号a座301室", " 长宁路1号", "长宁路1号\x01", "", None]
    flags = _address_check(values)
    assert flags[:2] == [True, True] and flags[4] is True and flags[7] is True  # 100弄5楼301: 楼 may be a building
    assert not any(flags[8:27]) and not any(flags[28:])


def test_plain_addresses_keep_their_dwelling_key_on_random_addresses():
    import random

    rng = random.Random(2260)
    values = ["".join(rng.choice(RISKY_PIECES) for _ in range(rng.randint(1, 7))) for _ in range(30_000)]
    flags = _address_check(values)
    assert 1_000 < flags.count(True) < 29_000


def _width_flags(kind, values):
    """(canonical_mask, the canonical expression) of one kind, as lists of bools."""
    s = pl.Series("raw", values, dtype=pl.String)
    fast = n.canonical_mask(kind, s).to_list()
    slow = s.to_frame().select(n.canonical(kind, pl.col("raw")).fill_null(False)).to_series().to_list()
    return fast, slow


@pytest.mark.parametrize("width", [1, 8, 11, 30, 31])
def test_same_width_bytes_check_agrees_with_the_expression(width):
    """Free text and accounts whose values share one byte length are checked on their bytes: spaces,
    control characters, non-ASCII, nulls and non-digits give what the expression gives."""
    import random

    rng = random.Random(width)
    odd = [" ", "\t", "\x00", "\x1f", "\x7f", "~", "!", "/", ":", "-", "a", "长", "\u3000", "\u00a0", "\u2002", "０"]
    values = []
    for _ in range(3_000):
        chars = [rng.choice("0123456789") for _ in range(width)]
        if rng.random() < 0.3:
            chars[rng.randrange(width)] = rng.choice(odd)
        text = "".join(chars).encode()[:width].decode(errors="ignore")
        values.append(text.ljust(width, "7") if len(text.encode()) < width else text)
    values += [None] * 50 + ["9" * width]
    assert {len(v.encode()) for v in values if v is not None} == {width}
    for kind in ("str", "account"):
        fast, slow = _width_flags(kind, values)
        assert fast == slow, kind
        assert fast.count(True) > (1_000 if kind == "str" or 8 <= width <= 30 else -1)
        assert fast.count(False) > 50


def test_same_width_chinese_text_is_left_to_the_expression():
    values = ["长宁路", " 长宁路", "长宁路\u3000", "长宁\x01路", None] * 20_000  # 9 bytes each but the nulls
    fast, slow = _width_flags("str", values)
    assert fast == slow and fast.count(True) == 20_000
