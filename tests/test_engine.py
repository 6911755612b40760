"""The rule registry: metadata declared once, duplicates refused, catalogue complete."""

from __future__ import annotations

import pytest

from auditor.core.vocab import SEVERITIES
from auditor.engine.registry import REGISTRY, Rule, register
from auditor.engine.runner import load_catalogue


def test_catalogue_modules_are_named_by_code_and_declare_metadata():
    for code, cls in load_catalogue().items():
        assert cls.__module__.endswith(f".{code}"), cls.__module__
        assert cls.severity in SEVERITIES and cls.subject and cls.name and cls.family
        assert "Fires" in cls.__doc__ and "Does not fire" in cls.__doc__, code


def test_duplicate_code_is_refused():
    load_catalogue()

    with pytest.raises(ValueError, match="duplicate rule code R01"):
        @register
        class Imposter(Rule):
            """An imposter."""
            code, name, severity, subject = "R01", "x", "high", ("person_id",)
    assert REGISTRY["R01"].__name__ == "R01"


def test_rule_without_docstring_or_with_bad_subject_is_refused():
    with pytest.raises(ValueError, match="docstring"):
        register(type("Z98", (Rule,), {"code": "Z98", "name": "x", "severity": "low", "subject": ("person_id",)}))
    with pytest.raises(ValueError, match="subject"):
        register(type("Z99", (Rule,), {"__doc__": "d", "code": "Z99", "name": "x", "severity": "low",
                                        "subject": ("nobody",)}))


@pytest.mark.parametrize(("rows", "message"), [
    ({"person_id": ["a", None], "program": ["dibao", "dibao"]}, "empty subject column"),
    ({"person_id": ["a", "a"], "program": ["dibao", "dibao"]}, "two findings with one subject"),
])
def test_a_rule_output_without_a_usable_subject_is_refused(rows, message):
    import polars as pl

    from auditor.engine.runner import _complete

    rule = load_catalogue()["R01"]()
    assert rule.subject == ("person_id", "program")
    with pytest.raises(ValueError, match=message):
        _complete(rule, pl.DataFrame(rows), "2026-10")
