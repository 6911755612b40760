"""The command line contract of outputs.md: outputs, exit codes, clear messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from auditor.cli.main import main
from auditor.jobs.monthly import OUTPUT_FILES
from tests.test_loader import A, write_minimal

ROOT = Path(__file__).resolve().parent.parent


def test_run_writes_every_output_and_exits_0(tmp_path, capsys):
    drop = tmp_path / "drop"
    drop.mkdir()
    write_minimal(drop)
    out = tmp_path / "out"
    code = main(["run", "--month", "2026年10月", "--data", str(drop), "--out", str(out),
                 "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert code == 0
    for name in OUTPUT_FILES:
        assert (out / name).exists(), name
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert summary["month"] == "2026-10"
    assert {"code": "R07", "reason": "缺少数据表 allocations（table allocations not in drop）"} in summary["checks_not_run"]
    assert summary["money"] == {"instructed": "1200.00", "paid": "1200.00", "matched": "1200.00", "at_risk": "0.00"}
    assert "审计完成" in capsys.readouterr().out
    header = pl.read_csv(out / "findings.csv").columns
    assert header == ["finding_id", "rule", "severity", "month", "street", "program", "person_id", "case_id",
                      "staff_id", "bank_account", "application_id", "record_id", "amount", "title", "evidence"]
    assert pl.read_csv(out / "quarantine.csv").columns == ["table", "source_row", "column", "value", "reason",
                                                           "location"]


def test_rerun_of_a_month_does_not_duplicate(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    write_minimal(drop, **{"payments.csv": "payment_id,case_id,payee_id,program,month,amount,bank_account,street\n"
                                           f"P1,C1,{A},dibao,2026-10,1000.00,6222000000000001,华阳路街道\n"})
    db = f"sqlite:///{tmp_path / 'a.db'}"
    from auditor import store
    counts = []
    for _ in range(2):
        assert main(["run", "--month", "2026-10", "--data", str(drop), "--out", str(tmp_path / "o"), "--db", db]) == 0
        engine = store.connect(db)
        counts.append((store.count_rows(engine, store.occurrences), store.count_rows(engine, store.findings)))
        engine.dispose()
    assert counts[0][0] >= 1 and counts[0] == counts[1]  # the paid-differs finding, once


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_audit.py"), *args], capture_output=True, text=True,
                          cwd=ROOT)


@pytest.mark.slow
def test_missing_column_exits_2_naming_file_and_column_without_traceback(tmp_path):
    write_minimal(tmp_path, **{"ledger.csv": "txn_id,payee_id,program,month,bank_account,paid_on,street,status\n"})
    proc = _run_cli("run", "--month", "2026-10", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                    "--db", f"sqlite:///{tmp_path / 'a.db'}")
    assert proc.returncode == 2
    assert "ledger.csv" in proc.stderr and "amount" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_missing_folder_bad_month_and_unknown_profile_exit_2(tmp_path):
    for args in (["--data", str(tmp_path / "nope"), "--month", "2026-10"],
                 ["--data", str(tmp_path), "--month", "2026-13"],
                 ["--data", str(tmp_path), "--month", "2026-10", "--config", "nowhere"]):
        proc = _run_cli("run", *args, "--out", str(tmp_path / "o"))
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.strip()
