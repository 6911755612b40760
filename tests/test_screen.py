"""支付前筛查: hold list content and exit codes (0 clean, 1 held, 2 unusable input)."""

from __future__ import annotations

import polars as pl
import pytest

from auditor.cli.main import main
from auditor.demo.write import _write_xlsx
from tests.followup_helpers import add_users, as_user
from tests.rulecases import person, write_case

DROP = {
    "cases": [{"case_id": "C1", "payee_id": "@A"}, {"case_id": "C2", "payee_id": "@B"},
              {"case_id": "C3", "payee_id": "@C", "program": "temporary"},
              {"case_id": "C4", "payee_id": "@D", "status": "terminated", "end_month": "2026-09"},
              {"case_id": "C5", "payee_id": "@E", "status": "suspended"},
              {"case_id": "C6", "payee_id": "@F", "status": "terminated", "end_month": "2026-10"}],
    "members": [{"case_id": "C1", "person_id": "@A"}, {"case_id": "C1", "person_id": "@A2"},
                {"case_id": "C2", "person_id": "@B"}, {"case_id": "C3", "person_id": "@C"},
                {"case_id": "C4", "person_id": "@D"}, {"case_id": "C5", "person_id": "@E"},
                {"case_id": "C6", "person_id": "@F"}],
}
PAY = {"payment_id": "P{n}", "month": "2026-10", "amount": "1200.00", "bank_account": "6222000000000001",
       "street": "华阳路街道", "program": "dibao"}


def payments_file(tmp_path, rows: list[dict], fmt: str = "csv"):
    data = [PAY | {"payment_id": f"P{i}"} | {k: person(v) if str(v).startswith("@") else v for k, v in r.items()}
            for i, r in enumerate(rows, start=1)]
    frame = pl.DataFrame(data).select(list(PAY) + [c for c in data[0] if c not in PAY]).cast(pl.String)
    path = tmp_path / f"batch.{fmt}"
    if fmt == "csv":
        frame.write_csv(path)
    else:
        _write_xlsx(frame.rename({"payment_id": "发放编号", "payee_id": "领款人身份证号", "month": "所属月份"}),
                    path, "payments")
    return path


def drop(tmp_path, **tables):
    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {}, {"tables": DROP | tables})
    return d


def screen(tmp_path, pay, d, *extra):
    out = tmp_path / "out" / "hold.csv"
    db = f"sqlite:///{tmp_path / 'users.db'}"
    if not (tmp_path / "users.db").exists():
        add_users(db)
    code = main(["screen", "--payments", str(pay), "--data", str(d), "--out", str(out), *extra, *as_user(db, "alice")])
    holds = pl.read_csv(out, infer_schema=False, encoding="utf8-lossy") if out.exists() else None
    return code, holds


def held(holds) -> dict[str, str]:
    return {r["payment_id"]: r["reason_codes"] for r in holds.iter_rows(named=True)}


def test_clean_batch_exits_0_with_an_empty_hold_list(tmp_path, capsys):
    d = drop(tmp_path, deaths=[{"person_id": "@Z", "died_on": "2020-01-01"}])
    (d / "ledger.xlsx").write_bytes(b"not a workbook")  # tables screen does not need are never read
    code, holds = screen(tmp_path, payments_file(tmp_path, [{"payee_id": "@A", "case_id": "C1"}]), d)
    assert code == 0 and holds.height == 0
    assert (tmp_path / "out" / "hold.xlsx").exists()
    assert "暂停 0 笔" in capsys.readouterr().out


def test_every_reason_is_held_and_near_misses_pass(tmp_path, capsys):
    d = drop(tmp_path,
             deaths=[{"person_id": "@A2", "died_on": "2026-09-30"}, {"person_id": "@B", "died_on": "2026-10-01"}],
             public_payroll=[{"person_id": "@B", "employer": "区教育局", "start_date": "2026-10-31"},
                             {"person_id": "@C", "start_date": "2020-01-01"}],
             penalties=[{"person_id": "@D", "kind": "imprisonment", "start_date": "2026-01-01"},
                        {"person_id": "@F", "kind": "imprisonment", "start_date": "2026-01-01",
                         "end_date": "2026-10-30"}],
             dishonesty=[{"person_id": "@E", "recorded_on": "2026-03-01", "restricted_until": "2026-10-01"},
                         {"person_id": "@F", "recorded_on": "2026-03-01", "restricted_until": "2026-09-30"}])
    rows = [{"payee_id": "@A", "case_id": "C1"},                     # P1 member died before M
            {"payee_id": "@B"},                                      # P2 payroll from 10-31 (death in M ok)
            {"payee_id": "@C", "program": "temporary"},              # P3 payroll, not means-tested: pass
            {"payee_id": "@D", "case_id": "C4"},                     # P4 terminated + imprisoned
            {"payee_id": "@E", "case_id": "C5"},                     # P5 suspended + dishonesty
            {"payee_id": "@F", "case_id": "C6"},                     # P6 ends in M, released, restriction over
            {"payee_id": "@G"}]                                      # P7 no case at all
    code, holds = screen(tmp_path, payments_file(tmp_path, rows), d)
    assert code == 1
    assert held(holds) == {"P1": "death", "P2": "payroll", "P4": "prison;case", "P5": "dishonesty;case",
                           "P7": "no_case"}
    reasons = {r["payment_id"]: r["reasons"] for r in holds.iter_rows(named=True)}
    assert person("@A2") in reasons["P1"] and "2026-09-30" in reasons["P1"]
    out = capsys.readouterr().out
    assert "暂停 5 笔" in out and "6000.00" in out


def test_invalid_rows_are_held_and_other_months_skipped(tmp_path, capsys):
    d = drop(tmp_path)
    rows = [{"payee_id": "@A", "case_id": "C1"}, {"payee_id": "@A", "case_id": "C1", "amount": "12,34.5x"},
            {"payee_id": "@A", "case_id": "C1", "month": "2026-09"}]
    code, holds = screen(tmp_path, payments_file(tmp_path, rows, "xlsx"), d, "--month", "2026-10")
    assert code == 1
    assert held(holds) == {"P2": "invalid"}
    assert "amount" in holds["reasons"][0]
    assert "其他月份指令 1 笔" in capsys.readouterr().out


def test_instructions_above_the_approved_amount_are_held(tmp_path):
    d = drop(tmp_path)
    rows = [{"payee_id": "@A", "case_id": "C1", "amount": "1200.01", "small_amount": "否"},  # P1 one fen above
            {"payee_id": "@B", "case_id": "C2", "amount": "1200.00"},                        # P2 equal: pass
            {"payee_id": "@B", "case_id": "C2", "amount": "300.00", "small_amount": "是"},   # P3 small: pass
            {"payee_id": "@B", "case_id": "C2", "amount": "800.00", "program": "temporary"},  # P4 temporary: pass
            {"payee_id": "@A", "case_id": "C1", "amount": "1200.00", "month": "2026-09"},    # P5 other month
            {"payee_id": "@C", "case_id": "C3", "amount": "5000.00", "program": "temporary"},  # P6 temporary case
            {"payee_id": "@F", "case_id": "C6", "amount": "700.00"},                         # P7 + P8 split
            {"payee_id": "@F", "case_id": "C6", "amount": "500.01"}]
    code, holds = screen(tmp_path, payments_file(tmp_path, rows), d)
    assert code == 1
    assert held(holds) == {"P1": "over_approved", "P7": "over_approved", "P8": "over_approved"}
    reasons = {r["payment_id"]: r["reasons"] for r in holds.iter_rows(named=True)}
    assert "1200.01" in reasons["P1"] and "1200.00" in reasons["P1"] and "2026-10" in reasons["P1"]


@pytest.mark.parametrize("problem", ["no_file", "no_cases", "no_column", "bad_month"])
def test_unusable_input_exits_2(tmp_path, capsys, problem):
    d = drop(tmp_path)
    pay = payments_file(tmp_path, [{"payee_id": "@A", "case_id": "C1"}])
    extra = []
    if problem == "no_file":
        pay = tmp_path / "missing.csv"
    elif problem == "no_cases":
        (d / "cases.csv").unlink()
    elif problem == "no_column":
        pl.read_csv(pay, infer_schema=False).drop("payee_id").write_csv(pay)
    else:
        extra = ["--month", "2026-13"]
    code, _ = screen(tmp_path, pay, d, *extra)
    assert code == 2
    err = capsys.readouterr().err
    assert "错误" in err and "Traceback" not in err
