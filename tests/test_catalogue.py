"""docs/rules.md is generated from the catalogue and current; every rule's YAML cases assert evidence keys."""

from __future__ import annotations

import polars as pl
import pytest

from auditor.engine import catalogue_doc
from auditor.engine.registry import Rule
from auditor.engine.runner import load_catalogue
from tests.rulecases import evidence_key_errors, load_cases


def test_committed_catalogue_page_is_current():
    committed = catalogue_doc.DOC_PATH.read_text(encoding="utf-8") if catalogue_doc.DOC_PATH.exists() else ""
    assert committed == catalogue_doc.render(), (
        f"docs/rules.md is out of date: run `{catalogue_doc.COMMAND}` and commit the result")


def test_catalogue_page_lists_every_rule_with_its_sections():
    page = catalogue_doc.render()
    for code, cls in load_catalogue().items():
        section = page.split(f"\n## {code}\n", 1)[1].split("\n## ", 1)[0]
        assert cls.name in section and "**Fires:** " in section and "**Does not fire:** " in section, code
        doc = catalogue_doc.rule_doc(cls)
        assert doc.why and doc.fires and doc.does_not_fire, code
        assert all(f"`{p}`" in section for p in cls.params), code


def test_check_mode_fails_on_a_stale_page(tmp_path, capsys):
    page = tmp_path / "rules.md"
    assert catalogue_doc.main(["--out", str(page)]) == 0
    assert catalogue_doc.main(["--check", "--out", str(page)]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("## R01", "## R01 (edited)"), encoding="utf-8")
    assert catalogue_doc.main(["--check", "--out", str(page)]) == 1
    assert catalogue_doc.COMMAND in capsys.readouterr().err


def test_a_docstring_without_fires_sections_is_refused():
    class Z91(Rule):
        """某规则 — something.

        Why it matters, but no examples.
        """

        code = "Z91"

    with pytest.raises(ValueError, match="Z91: docstring needs a 'Fires:'"):
        catalogue_doc.rule_doc(Z91)


def test_every_rule_has_a_case_asserting_its_evidence_keys():
    stated = {doc["rule"] for _, doc, case in load_cases() if case.get("evidence_keys")}
    missing = sorted(set(load_catalogue()) - stated)
    assert not missing, f"rules whose YAML cases state no evidence_keys: {missing}"


def test_evidence_keys_mismatch_is_reported():
    findings = pl.DataFrame({"finding_id": ["R01-X"], "evidence": ['{"person_id": "1", "paid": "2"}']})
    assert evidence_key_errors({"fires": [{}], "evidence_keys": ["paid", "person_id"]}, findings) == []
    errors = evidence_key_errors({"fires": [{}], "evidence_keys": ["paid", "program"]}, findings)
    assert errors and "R01-X" in errors[0]
