"""Profiles are typed and validated at load; bad parameters fail before any work."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest

from auditor.core import vocab
from auditor.core.config import Program, Relation, load_profile
from auditor.core.errors import AuditInputError


def test_profile_literals_are_the_vocabulary():
    assert list(get_args(Program)) == list(vocab.PROGRAMS)
    assert list(get_args(Relation)) == list(vocab.RELATIONS)


def test_default_profile_is_changning_with_policy_values():
    p = load_profile(None)
    assert p.name == "changning" and p.district == "上海市长宁区"
    assert (p.decision_working_days, p.decision_working_days_special) == (20, 45)
    assert p.small_amount_limit == Decimal("500") and p.tekun_minor_age_limit == 18
    assert p.idle_fund_ratio == Decimal("0.05") and p.disbursement_deadline_day == 10
    assert set(p.close_relations) == {"spouse", "parent", "child", "sibling", "grandparent", "grandchild"}
    assert len(p.streets) == 10


def test_datonghu_differs_where_its_seed_says():
    p = load_profile("datonghu")
    assert (p.decision_working_days, p.decision_working_days_special) == (25, 40)
    assert "南湾湖办事处" in p.streets


@pytest.mark.parametrize("body, field", [
    ('name="x"\ndistrict="y"\nidle_fund_ratio="1.5"', "idle_fund_ratio"),
    ('name="x"\ndistrict="y"\ndisbursement_deadline_day=31', "disbursement_deadline_day"),
    ('name="x"\ndistrict="y"\nclose_relations=["friend"]', "close_relations"),
    ('name="x"\ndistrict="y"\nrelative_scope="city"', "relative_scope"),
    ('name="x"\ndistrict="y"\nunknown_knob=1', "unknown_knob"),
    ('name="x"\ndistrict="y"\n[header_aliases.members]\n"号码"="phone_no"', "header_aliases"),
])
def test_bad_parameter_fails_at_load_naming_it(tmp_path, body, field):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(AuditInputError, match=field):
        load_profile(str(path))


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(AuditInputError, match="changning"):
        load_profile("shanghai")
