"""Rule metadata: groups validated and read by the callers, family labels, params checked against the profile."""

from __future__ import annotations

import inspect
import re

import pytest

from auditor.core.config import Profile
from auditor.engine.registry import GROUPS, REGISTRY, Rule, register
from auditor.engine.runner import family_label, load_catalogue, rules_in


def _rule(code: str, **attrs) -> type[Rule]:
    base = {"__doc__": "d", "code": code, "name": "x", "severity": "low", "subject": ("person_id",),
            "stable_facts": ("person_id",), "find": lambda self, ctx: None}
    return type(code, (Rule,), base | attrs)


def test_a_param_that_is_not_a_profile_field_is_refused():
    with pytest.raises(ValueError, match="no_such_threshold.*not fields of auditor.core.config.Profile"):
        register(_rule("Z95", params=("close_relations", "no_such_threshold")))
    assert "Z95" not in REGISTRY


def test_an_undeclared_group_is_refused():
    with pytest.raises(ValueError, match="groups \\['weekly'\\]"):
        register(_rule("Z94", groups=frozenset({"graph", "weekly"})))
    with pytest.raises(ValueError, match="groups"):
        register(_rule("Z93", groups=("graph",)))  # a tuple, not a frozenset
    assert not {"Z94", "Z93"} & set(REGISTRY)


def test_every_rule_declares_the_profile_fields_its_module_reads():
    for code, cls in load_catalogue().items():
        read = set(re.findall(r"profile\.(\w+)", inspect.getsource(inspect.getmodule(cls))))
        read |= {p for p in re.findall(r"\bp\.(\w+)", inspect.getsource(cls)) if p in Profile.model_fields}
        assert read <= set(cls.params), f"{code} reads {sorted(read - set(cls.params))} without declaring them"
        assert set(cls.params) <= set(Profile.model_fields), code


def test_groups_select_the_rules_that_declare_them():
    catalogue = load_catalogue()
    for group in GROUPS:
        codes = rules_in(group)
        assert codes, f"no rule in group {group}"
        assert set(codes) == {c for c, cls in catalogue.items() if group in cls.groups}
    assert {catalogue[c].family for c in rules_in("quarterly")} == {"eligibility"}
    assert {catalogue[c].family for c in rules_in("reconciliation_totals")} == {"reconciliation"}
    assert set(rules_in("drawn")) <= set(rules_in("graph"))
    with pytest.raises(ValueError, match="unknown rule group 'weekly'"):
        rules_in("weekly")


def test_every_family_has_a_chinese_label():
    for family in {cls.family for cls in load_catalogue().values()}:
        label = family_label(family)
        assert label != family and re.search(r"[\u4e00-\u9fff]", label), family
    assert family_label("no_such_family") == "no_such_family"
