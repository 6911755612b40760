"""Dwelling keys (data-contract "Address normalisation") for both profiles: pairs that are one
dwelling and pairs that are not, the profile's place names, and the graph page's shared dwellings."""

from __future__ import annotations

import polars as pl
import pytest

from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.engine.context import AuditContext
from auditor.engine.relations import neighbourhood
from auditor.ingest.loader import load_drop
from auditor.ingest.normalize import address_key
from tests.rulecases import person, write_case

CN, DT = "changning", "datonghu"

# (profile, address, address, one dwelling?, what the contract says about the pair)
PAIRS = [
    (CN, "长宁路100弄5号301室", "上海市长宁区长宁路 100 弄 5 号 301 室", True, "full prefix, spaces"),
    (CN, "上海长宁长宁路100弄5号301室", "长宁路100弄5号301室", True, "prefix without 市/区"),
    (CN, "长宁区长宁路100弄5号301室", "长宁路100弄5号301室", True, "district only"),
    (CN, "上海市长宁路100弄5号301室", "长宁路100弄5号301室", True, "city only"),
    (CN, "长宁长宁路100弄5号301室", "上海市长宁区长宁路100弄5号301室", True, "bare short district"),
    (CN, "上海长宁区长宁路100弄5号301室", "上海市长宁长宁路100弄5号301室", True, "mixed forms"),
    (CN, "长宁新华路100弄5号301室", "新华路100弄5号301室", True, "short district before another road"),
    (CN, "长宁路100弄5号301室（租住）", "长宁路100弄5号301室", True, "full-width bracketed remark"),
    (CN, "长宁路100弄5号301室(租住)", "长宁路100弄5号301室", True, "half-width bracketed remark"),
    (CN, "仙霞路九十九弄5号301室", "仙霞路99弄5号301室", True, "九十九弄 = 99弄"),
    (CN, "长宁路一百弄五号三〇一室", "长宁路100弄5号301室", True, "numerals digit by digit"),
    (CN, "长宁路100弄5号3楼301室", "长宁路100弄5号301室", True, "floor before the room (楼)"),
    (CN, "长宁路100弄5号3层301室", "长宁路100弄5号301室", True, "floor before the room (层)"),
    (CN, "长宁路100弄5号三楼三零一室", "长宁路100弄5号301室", True, "floor and room in numerals"),
    (CN, "长宁路１００弄５号３０１室", "长宁路100弄5号301室", True, "full-width digits"),
    (CN, "长宁路100弄5幢301室", "长宁路100弄5号301室", True, "幢 = 号"),
    (CN, "长宁路100弄5栋301室", "长宁路100弄5号楼301室", True, "栋 = 号楼 = 号"),
    (CN, "长宁路100弄5号301户", "长宁路100弄5号301室", True, "户 = 室"),
    (CN, "长宁路100弄5号2单元301室", "上海长宁长宁路一百弄五号二单元三〇一室", True, "单元 with numerals"),
    (CN, "上海市长宁区仙霞路九十九弄5号3楼301室（租住）", "仙霞路99弄5号301室", True, "every form at once"),
    (CN, "长宁路100弄5号301室", "长宁路100弄5号302室", False, "301室 ≠ 302室"),
    (CN, "长宁路100弄5号301室", "长宁路1000弄5号301室", False, "100弄 ≠ 1000弄"),
    (CN, "长宁路100弄5号301室", "长宁路100弄15号301室", False, "5号 ≠ 15号"),
    (CN, "长宁路100弄5号301室", "长宁路100弄5号3011室", False, "301 ≠ 3011"),
    (CN, "仙霞路九十九弄5号301室", "仙霞路九弄5号301室", False, "99弄 ≠ 9弄"),
    (CN, "长宁路100弄5号3楼301室", "长宁路100弄5号3楼302室", False, "floor dropped, room still decides"),
    (CN, "长宁路100弄5号301室（租住）", "长宁路100弄5号302室（租住）", False, "remark dropped, room still decides"),
    (CN, "长宁路100弄5号301室", "长宁路100弄5号2单元301室", False, "an entrance (单元) is part of the unit"),
    (CN, "长宁路100弄5号301室", "长宁支路100弄5号301室", False, "长宁路 ≠ 长宁支路"),
    (CN, "上海市徐汇区虹桥路1号2室", "虹桥路1号2室", False, "another district's prefix is kept"),
    (CN, "湖南省益阳市大通湖区河坝镇永兴村3组12号", "河坝镇永兴村3组12号", False, "not this profile's prefix"),
    (DT, "湖南省益阳市大通湖区河坝镇永兴村三组12号", "河坝镇永兴村3组12号", True, "full prefix, 三组 = 3组"),
    (DT, "湖南益阳大通湖河坝镇永兴村3组12号", "大通湖区河坝镇永兴村三组十二号", True, "short forms"),
    (DT, "益阳市大通湖区金盆镇东南湖村五组8号", "金盆镇东南湖村5组8号", True, "city and district"),
    (DT, "大通湖区千山红镇十八组", "湖南省大通湖区千山红镇18组", True, "province and district"),
    (DT, "益阳大通湖北洲子镇中心街5号2栋301室", "湖南省益阳市大通湖区北洲子镇中心街5号2幢301室", True, "栋 = 幢"),
    (DT, "湖南省益阳市大通湖区河坝镇永兴村三组12号（租住）", "河坝镇永兴村3组12号", True, "remark"),
    (DT, "大通湖南湾湖办事处湖滨路8号3楼301室", "南湾湖办事处湖滨路8号301室", True, "floor before the room"),
    (DT, "益阳大通湖河坝镇永兴村第三村民小组12号", "河坝镇永兴村3组12号", True, "第三村民小组 = 3组"),
    (DT, "大通湖大通湖大道18号", "益阳市大通湖区大通湖大道18号", True, "a road named after the district"),
    (DT, "河坝镇永兴村三组12号", "河坝镇永兴村十三组12号", False, "3组 ≠ 13组"),
    (DT, "河坝镇永兴村3组12号", "河坝镇永兴村3组2号", False, "12号 ≠ 2号"),
    (DT, "大通湖区河坝镇永兴村三组12号", "大通湖区河坝镇永兴村四组12号", False, "三组 ≠ 四组"),
    (DT, "湖南省益阳市大通湖区河坝镇永兴村3组12号", "湖南省益阳市大通湖区河坝镇永安村3组12号", False, "another village"),
    (DT, "益阳市赫山区龙岭路5号", "龙岭路5号", False, "another district of the city is kept"),
    (DT, "大通湖大道18号", "大通湖大道180号", False, "18号 ≠ 180号"),
    (DT, "上海市长宁区长宁路100弄5号301室", "长宁路100弄5号301室", False, "not this profile's prefix"),
]


def keys(profile: str, *addresses: str) -> list[str]:
    places = load_profile(profile).address.levels()
    frame = pl.DataFrame({"raw": list(addresses)}, schema={"raw": pl.String})
    return frame.select(address_key(pl.col("raw"), places)).to_series().to_list()


def test_the_table_covers_both_profiles_both_ways():
    counts = {(p, same): sum(1 for q, *_, s, _ in PAIRS if (q, s) == (p, same)) for p in (CN, DT) for same in (True, False)}
    assert len(PAIRS) >= 30 and min(counts.values()) >= 5


@pytest.mark.parametrize("profile, a, b, same, why", PAIRS, ids=[f"{p}-{w}" for p, *_, w in PAIRS])
def test_pair(profile, a, b, same, why):
    ka, kb = keys(profile, a, b)
    assert (ka == kb) is same, f"{why}: {a} -> {ka}, {b} -> {kb}"


@pytest.mark.parametrize("profile, address, key", [
    (CN, "长宁路100弄5号301室", "长宁路100弄5号301"),  # 长宁 before 路 is the road's name
    (CN, "上海长宁路100弄5号301室", "长宁路100弄5号301"),
    (CN, "长宁支路3号", "长宁支路3号"),
    (CN, "上海长宁长宁路3号", "长宁路3号"),  # a bare short form before another name is a prefix
    (DT, "大通湖大道18号", "大通湖大道18号"),
    (DT, "湖南路5号", "湖南路5号"),
    (DT, "湖南省湖南路5号", "湖南路5号"),
])
def test_bare_short_form_is_not_taken_from_a_road_name(profile, address, key):
    assert keys(profile, address) == [key]


def test_floor_is_dropped_only_after_a_building():
    # 100弄5楼 may be building 5: it is kept, so it never meets another building's 301.
    assert keys(CN, "长宁路100弄5楼301室", "长宁路100弄6楼301室") == ["长宁路100弄5楼301", "长宁路100弄6楼301"]


def test_unreadable_numeral_and_bracketed_address_part_are_kept():
    assert keys(CN, "某路百弄5号", "长宁路100弄，5号（301室）") == ["某路百弄5号", "长宁路100弄5号301"]


def test_many_rows_same_keys_as_one_by_one():
    # Numerals are converted once per distinct numeral for the whole column: same answer as row by row.
    rows = [x for p, a, b, *_ in PAIRS if p == CN for x in (a, b)] * 50
    one_by_one = {r: keys(CN, r)[0] for r in set(rows)}
    assert keys(CN, *rows) == [one_by_one[r] for r in rows]


@pytest.mark.parametrize("address, message", [
    ('district = ["徐汇区", "徐汇"]', "district"),
    ('district = ["长宁", "长宁区"]', "full name"),
    ('district = ["长宁区", "宁"]', "short form"),
    ('province = ["上海"]', "full name"),
])
def test_bad_place_names_fail_at_load(tmp_path, address, message):
    path = tmp_path / "p.toml"
    path.write_text(f'name = "p"\ndistrict = "上海市长宁区"\n[address]\n{address}\n', encoding="utf-8")
    with pytest.raises(AuditInputError, match=message):
        load_profile(str(path))


def test_profile_without_place_names_of_its_district_fails(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\ndistrict = "益阳市大通湖区"\n', encoding="utf-8")
    with pytest.raises(AuditInputError, match="address"):
        load_profile(str(path))


def test_graph_page_links_one_dwelling_written_two_ways_in_datonghu(tmp_path):
    doc = {"tables": {
        "staff": [{"staff_id": "S1", "person_id": "@cadre", "role": "cadre", "street": "河坝镇",
                   "address": "湖南省益阳市大通湖区河坝镇永兴村三组12号"}],
        "cases": [{"case_id": "C1", "payee_id": "@friend", "street": "河坝镇"},
                  {"case_id": "C2", "payee_id": "@other", "street": "河坝镇"}],
        "members": [{"case_id": "C1", "person_id": "@friend", "address": "大通湖河坝镇永兴村3组12号（租住）"},
                    {"case_id": "C2", "person_id": "@other", "address": "大通湖河坝镇永兴村13组12号"}],
    }}
    month = write_case(tmp_path, doc, {})
    profile = load_profile(DT)
    ctx = AuditContext(month=month, profile=profile, drop=load_drop(tmp_path, profile))
    shared = neighbourhood(ctx, person("@cadre"))["lists"]["共用电话或住址"]
    assert [(s["共用者"], s["类型"], s["内容"]) for s in shared] == [
        (person("@friend"), "住址", "大通湖河坝镇永兴村3组12号（租住）")]


def test_loader_keys_per_distinct_address_match_row_by_row(tmp_path, monkeypatch):
    from auditor.ingest import loader
    from auditor.ingest.schema import TABLES

    written = [a for p, a, b, *_ in PAIRS if p == DT for a in (a, b)] + [None, "  "]
    frame = pl.DataFrame({"case_id": "C1", "person_id": person("@m"), "name": "张三", "relation_to_payee": "self",
                          "address": written * 3})
    path = tmp_path / "members.parquet"
    frame.write_parquet(path)
    direct = loader.load_table(path, TABLES["members"], load_profile(DT))[0]
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    deduped = loader.load_table(path, TABLES["members"], load_profile(DT))[0]
    assert direct.equals(deduped)
    assert direct["address_key"].to_list()[:2] == ["河坝镇永兴村3组12号"] * 2
