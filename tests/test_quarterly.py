"""按季度信息共享核查: E01–E05 over a quarter's months, CSV and HTML page."""

from __future__ import annotations

import polars as pl
import pytest

from auditor.cli.main import main
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_value
from auditor.core.periods import quarter_months
from tests.followup_helpers import as_user
from tests.rulecases import person, write_case


def test_quarter_months():
    assert quarter_months("2026Q3") == ["2026-07", "2026-08", "2026-09"]
    assert quarter_months("2026-q1") == ["2026-01", "2026-02", "2026-03"]
    with pytest.raises(AuditInputError):
        quarter_months("2026Q5")


def test_quarterly_runs_e01_to_e05_on_each_month(tmp_path, capsys, users_db):
    drop = tmp_path / "drop"
    drop.mkdir()
    tables = {
        "cases": [{"case_id": "C1", "payee_id": "@A"}, {"case_id": "C2", "payee_id": "@B"}],
        "members": [{"case_id": "C1", "person_id": "@A"}, {"case_id": "C2", "person_id": "@B"}],
        "ledger": [{"payee_id": p, "month": m} for p in ("@A", "@B") for m in ("2026-07", "2026-08", "2026-09")],
        "deaths": [{"person_id": "@A", "died_on": "2026-07-20"}],
        "employment": [{"person_id": "@B", "monthly_income": "2500.00", "start_date": "2026-09-01"}],
    }
    write_case(drop, {}, {"tables": tables})
    out = tmp_path / "q"
    assert main(["quarterly", "--quarter", "2026Q3", "--data", str(drop), "--out", str(out),
                 *as_user(users_db, "alice")]) == 0
    found = pl.read_csv(out / "quarterly.csv", infer_schema=False)
    assert sorted(found.select("rule", "month", "person_id").iter_rows()) == [
        ("E01", "2026-08", person("@A")), ("E01", "2026-09", person("@A")), ("E05", "2026-09", person("@B"))]
    assert found.filter(pl.col("month") == "2026-09", pl.col("rule") == "E01")["amount"].item() == "2400.00"
    html = (out / "quarterly.html").read_text(encoding="utf-8")
    assert "2026Q3" in html and mask_value(person("@A")) in html and "2026-08、2026-09" in html
    assert person("@A") not in html  # the page is masked; quarterly.csv is the auditor's working file
    # E02-E04 tables are absent: reported as not run for every month, not silently skipped
    assert html.count("缺少数据表 public_payroll") == 3
    assert "线索 2 条" in capsys.readouterr().out


def test_bad_quarter_exits_2(tmp_path, capsys, users_db):
    assert main(["quarterly", "--quarter", "Q3", "--data", str(tmp_path), *as_user(users_db, "alice")]) == 2
    assert "2026Q3" in capsys.readouterr().err
