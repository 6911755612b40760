"""Benchmark what grows with the number of findings, at 5,000 and 50,000 findings.

``python benchmarks/findings_bench.py [--counts 5000 50000] [--pg URL] [--json FILE]``

Real findings come from auditing a 50,000-case drop planted at 10% density
(``benchmarks/generate.py``, ~5,000 findings of every rule); they are repeated
with fresh finding ids up to each count. Timed per count (wall and CPU
seconds), as the monthly job does them: findings.csv, the store save
(``save_run``: facts, occurrences, finding_people, findings, events) on SQLite
and PostgreSQL, the 问题清单 rows (``issue_rows`` + ``fill_programs``), the
``issues.xlsx`` writer (masking its columns), the report (relations drawing,
data, HTML; masking the findings it lists) and the office report
(``build_office_report`` + render).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

import auditor  # noqa: E402,F401  (first: sets the allocator up before polars loads)
from auditor import store  # noqa: E402
from auditor.core.config import load_profile  # noqa: E402
from auditor.core.masking import mask_frame  # noqa: E402
from auditor.engine.runner import load_catalogue  # noqa: E402
from auditor.followup.office import build_office_report, render_office_report  # noqa: E402
from auditor.followup.recurrence import save_run  # noqa: E402
from auditor.followup.workflow import issue_rows  # noqa: E402
from auditor.jobs.monthly import run_audit  # noqa: E402
from auditor.reporting.data import build_report_data  # noqa: E402
from auditor.reporting.drawings import relations_section  # noqa: E402
from auditor.reporting.files import findings_csv_frame, write_csv  # noqa: E402
from auditor.reporting.issues_xlsx import fill_programs, write_issues_xlsx  # noqa: E402

MONTH = "2026-10"
SOURCE_CASES, SOURCE_DENSITY = 50_000, 0.1


def timed(fn: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    """Run ``fn``; wall and CPU seconds (CPU: every thread of this process) and its result."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return {"wall_s": round(time.perf_counter() - w, 3), "cpu_s": round(time.process_time() - c, 3)}, out


def source_findings(data: Path, work: Path) -> tuple[pl.DataFrame, Any, pl.DataFrame]:
    """Findings, run summary and cases of one audit of the source drop (generated if missing)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    manifest = data / "manifest.json"
    if not manifest.exists() or json.loads(manifest.read_text(encoding="utf-8")).get("density") != SOURCE_DENSITY:
        generate(SOURCE_CASES, data, month=MONTH, density=SOURCE_DENSITY)
    result = run_audit(month=MONTH, data_dir=data, out_dir=work / "source-out", profile=load_profile(None),
                       db_url=f"sqlite:///{work / 'source.db'}")
    cases = pl.read_parquet(data / "cases.parquet", columns=["case_id", "program"])
    return result.findings, result.run, cases


def repeated(frame: pl.DataFrame, n: int) -> pl.DataFrame:
    """``n`` findings: ``frame`` repeated, each copy with fresh finding ids (rule + 12 hex digits)."""
    copies = -(-n // frame.height)
    big = pl.concat([frame] * copies).head(n)
    return big.with_columns(finding_id=pl.format("{}-{}", pl.col("rule"),
                                                 pl.int_range(pl.len()).map_batches(
                                                     lambda s: s.cast(pl.String).str.zfill(12))))


def measure(frame: pl.DataFrame, summary: Any, cases: pl.DataFrame, work: Path, pg: str | None) -> dict:
    """Time each finding-proportional stage on ``frame``."""
    profile = load_profile(None)
    names = {c: cls.name for c, cls in load_catalogue().items()}
    out: dict[str, Any] = {"findings": frame.height}
    out["findings_csv"], _ = timed(lambda: write_csv(findings_csv_frame(frame), work / "findings.csv"))
    urls = {"sqlite": f"sqlite:///{work / f'store-{frame.height}.db'}"} | ({"postgresql": pg} if pg else {})
    for dialect, url in urls.items():
        engine = store.connect(url)
        out[f"store_{dialect}"], _ = timed(lambda e=engine: save_run(
            e, month=MONTH, profile=profile.name, data_dir="bench", started_at=datetime.now().astimezone(),
            frame=frame, summary={}, actor="bench"))
        if dialect == "sqlite":
            out["issue_rows"], issues = timed(lambda e=engine: fill_programs(issue_rows(e, frame, MONTH), cases))
            out["issues_xlsx"], _ = timed(lambda i=issues: write_issues_xlsx(i, work / "issues.xlsx", month=MONTH,
                                                                      district=profile.district, mask=mask_frame))
            out["issues_xlsx"]["mb"] = round((work / "issues.xlsx").stat().st_size / 2**20, 2)
            out["office_report"], html = timed(lambda e=engine: render_office_report(
                build_office_report(e, MONTH, district=profile.district)))
        engine.dispose()

    def report() -> str:
        section = relations_section(frame, names, mask=mask_frame)
        return build_report_data(frame, summary, [section] if section else [], mask=mask_frame).render()

    out["report"], html = timed(report)
    out["report"]["mb"] = round(len(html.encode()) / 2**20, 2)
    return out


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A throwaway schema in the PostgreSQL database ``url``; yields the URL that uses it."""
    from sqlalchemy import create_engine, text

    schema = f"findings_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Time the finding-proportional stages (see RESULTS.md).")
    p.add_argument("--counts", type=int, nargs="+", default=[5000, 50000])
    p.add_argument("--data", default=str(ROOT / "bench-data" / "findings-source"))
    p.add_argument("--pg", default=None, help="PostgreSQL URL (a throwaway schema is created and dropped in it)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="findings-bench-") as tmp:
        work = Path(tmp)
        frame, summary, cases = source_findings(Path(args.data), work)
        print(f"source: {frame.height} findings of {frame['rule'].n_unique()} rules", file=sys.stderr)
        for n in args.counts:
            with pg_schema(args.pg) if args.pg else nullcontext(None) as pg:
                r = measure(repeated(frame, n), summary, cases, work, pg)
            results.append(r)
            print(f"{n:,} findings")
            for stage, t in r.items():
                if isinstance(t, dict):
                    extra = f"  {t['mb']:.1f} MB" if "mb" in t else ""
                    print(f"  {stage:20s} {t['wall_s']:8.2f}s wall {t['cpu_s']:8.2f}s CPU{extra}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
