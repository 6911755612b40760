"""Benchmark the monthly audit at district, city, province or national scale.

``python benchmarks/bench.py --scale city [--json FILE] [--data DIR] [--db URL]``
``python benchmarks/bench.py --fit`` (only reads the saved results)

1. generates the drop if it is missing (``benchmarks/generate.py --density
   0.01``: about 1% of cases planted with a problem, cached under
   ``bench-data/<scale>``, gitignored), in a child process so that its memory
   does not count;
2. runs the full audit as users run it (``auditor.jobs.monthly.run_audit``:
   load, every registered rule, store, outputs, snapshot) and reports wall
   time, CPU time and peak RSS per stage (load, each rule family, sample,
   store, outputs, snapshot), sampled by a psutil thread;
3. runs the reconciliation again on its own — load of payments + ledger and
   rules R01–R05 (``reconcile_s``) — and the same reconciliation as ONE
   hand-written DuckDB SQL query over the same Parquet files
   (``duckdb_reconcile_s``), and checks that both find the same keys and
   amounts; a fast reconciliation (district) is run several times on both
   sides and the medians are compared, so fixed costs of a 0.1 s run do not
   decide the ratio by chance;
4. compares with the targets (issue 22) and names the bottleneck stage of a miss;
5. keeps the result as ``bench-data/results/<scale>.json`` and fits the growth
   exponent (log time and log memory against log cases) over every scale saved
   there, naming the stage that grows fastest.

With a memory cap (``--memory-cap MiB``; by default the national target, 16 GiB,
at national scale) a run whose RSS passes the cap is stopped there: the
benchmark reports the stage it reached, the time and the stages so far, keeps
that (marked not completed) and deletes its outputs and spill files, instead
of taking the machine's memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

import auditor  # noqa: E402,F401  (first: sets the allocator up before polars loads)
from auditor.core.config import load_profile  # noqa: E402
from auditor.engine.context import AuditContext  # noqa: E402
from auditor.engine.runner import rules_in, run_rules  # noqa: E402
from auditor.ingest.loader import load_tables  # noqa: E402
from auditor.jobs.monthly import run_audit  # noqa: E402
from auditor.jobs.snapshot import snapshot_root  # noqa: E402
from benchmarks import pages_bench  # noqa: E402

SCALES = ("tiny", "district", "city", "province", "national")
DENSITY = 0.01  # share of cases planted with a problem: a realistic finding load
RESULTS = ROOT / "bench-data" / "results"
# scale -> (max total seconds or None: completes, max peak RSS MiB); issue 22
TARGETS = {"city": (5.0, 1024.0), "province": (90.0, 10240.0), "national": (None, 16384.0)}
STRETCH = {"province": (60.0, 8192.0)}
# reconciliation: at most this many times the DuckDB query, (over trusted files?)
RATIO = {"district": (1.0, False), "city": (2.0, True), "province": (2.0, True)}
CAP = {"national": 16384.0}  # default memory cap (MiB) per scale: stop the run there (see --memory-cap)
NO_RECONCILE = ("national",)  # loading payments + ledger twice more at national is not the point there
# the pages' targets are for city and province; a national snapshot's people index (built by a detached
# child after the run) takes more than half an hour on this machine: the pages are not timed there
NO_PAGES = ("national",)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
log = logging.getLogger("auditor")


class Memory:
    """Samples this process's RSS every ``interval`` seconds; keeps the peak per stage. Past ``cap``
    (MiB), ``on_cap`` is called once from the sampling thread (it is expected to end the process)."""

    def __init__(self, interval: float = 0.02, cap: float | None = None,
                 on_cap: Callable[[Memory], None] | None = None) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.cap, self.on_cap = cap, on_cap
        self.t0 = time.perf_counter()
        self.stage = "setup"
        self.peaks: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._since = (time.perf_counter(), time.process_time())
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self) -> None:
        rss = self.proc.memory_info().rss / 2**20
        self.peaks[self.stage] = max(self.peaks[self.stage], rss)
        self.peak = max(self.peak, rss)
        if (self.cap is not None and rss > self.cap and self.on_cap is not None
                and threading.current_thread() is self._thread):
            on_cap, self.on_cap = self.on_cap, None
            on_cap(self)

    def enter(self, stage: str) -> None:
        """Book the time since the last stage change to the current stage, then switch."""
        self.sample()
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[self.stage] += wall - self._since[0]
        self.cpu[self.stage] += cpu - self._since[1]
        self._since = (wall, cpu)
        self.stage = stage
        self.sample()

    def __enter__(self) -> Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class StageFollower(logging.Handler):
    """Follows the audit's stage log lines so memory peaks are booked to the right stage."""

    def __init__(self, memory: Memory) -> None:
        super().__init__(logging.INFO)
        self.memory = memory

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("stage ") and msg.endswith(" started"):
            self.memory.enter(msg.split()[1])
        elif msg.startswith("family ") and msg.endswith(" started"):  # a rule family: its own memory stage
            self.memory.enter(f"rules:{msg.split()[1]}")
        elif msg.startswith("check "):  # a rule finished: the next one belongs to the checks stage
            self.memory.sample()


def ensure_data(scale: str, data: Path, month: str) -> dict:
    """The drop's manifest; the drop is (re)generated when missing or of another density or month."""
    manifest = data / "manifest.json"
    old = json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
    if old.get("density") != DENSITY or old.get("month") != month:
        print(f"generating {scale} data into {data} ...", file=sys.stderr)
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--scale", scale,
                               "--out", str(data), "--month", month, "--density", str(DENSITY)])
        if done.returncode:
            raise SystemExit(f"no {scale} drop in {data}: the generator failed (see above)")
    return json.loads(manifest.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ reconciliation

def our_reconcile(data: Path, month: str, profile) -> tuple[float, dict[str, float], pl.DataFrame]:
    """Load payments + ledger as the audit does (``load_tables``: both at once, few-valued columns as
    categoricals) and run R01–R05; seconds, parts, findings."""
    parts = {}
    start = time.perf_counter()
    drop = load_tables(data, profile, ["payments", "ledger"], stream_rows=profile.stream_above_rows, compact=True)
    parts["load"] = time.perf_counter() - start
    t0 = time.perf_counter()
    ctx = AuditContext(month=month, profile=profile, drop=drop)
    findings, _ = run_rules(ctx, list(rules_in("reconciliation_totals")))
    parts["rules"] = time.perf_counter() - t0
    return time.perf_counter() - start, parts, findings.select("rule", "person_id", "program", "amount_fen")


def _id_ok(col: str) -> str:
    """SQL: ``col`` is a GB 11643 id (format, checksum, birth date)."""
    total = " + ".join(f"try_cast(substr({col}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(ID_WEIGHTS))
    return (f"(regexp_full_match({col}, '[0-9]{{17}}[0-9X]') "
            f"AND substr('10X98765432', (({total}) % 11)::INTEGER + 1, 1) = substr({col}, 18, 1) "
            f"AND year(try_strptime(substr({col}, 7, 8), '%Y%m%d')) BETWEEN 1900 AND 2099)")


def duckdb_sql(data: Path, month: str, validate: bool = True) -> str:
    """R01–R05 as one query. With ``validate``, rows pass the contract checks the
    reconciliation depends on (required values present, valid ids, known codes,
    non-negative exact amounts, unique keys) like the loader's quarantine; spelling
    variants (full-width digits, Chinese labels) are not handled. Without it, the
    query trusts the files (a lower bound, not the same work as the loader)."""
    programs = "('dibao','tekun','dibao_edge','rigid_expense','temporary','medical','education','housing','employment','disability')"
    norm = ("upper(trim(payee_id)) AS payee_id, lower(trim(program)) AS program, trim(month) AS month, "
            "CAST(amount * 100 AS BIGINT) AS fen, regexp_replace(bank_account, '[\\s-]', '', 'g') AS bank_account")
    valid = "TRUE" if not validate else (f"payee_id IS NOT NULL AND {_id_ok('payee_id')} AND program IN {programs} "
             "AND regexp_full_match(month, '[0-9]{4}-(0[1-9]|1[0-2])') AND fen >= 0 "
             "AND regexp_full_match(bank_account, '[0-9]{8,30}') AND street IS NOT NULL")
    unique = "QUALIFY count(*) OVER (PARTITION BY {}) = 1" if validate else ""
    return f"""
WITH p0 AS (SELECT payment_id, {norm}, street FROM read_parquet('{data / "payments.parquet"}')),
p AS (SELECT * FROM p0 WHERE payment_id IS NOT NULL AND {valid} {unique.format("payment_id")}),
l0 AS (SELECT txn_id, {norm}, street, paid_on, lower(trim(status)) AS status
       FROM read_parquet('{data / "ledger.parquet"}')),
l AS (SELECT * FROM l0 WHERE txn_id IS NOT NULL AND {valid} AND status IN ('paid', 'returned', 'failed')
      {unique.format("txn_id")}),
instr AS (SELECT * FROM p WHERE month = '{month}'),
paid AS (SELECT * FROM l WHERE month = '{month}' AND status = 'paid'),
ik AS (SELECT payee_id, program, count(*) AS n_instr, sum(fen) AS instructed FROM instr GROUP BY ALL),
pk AS (SELECT payee_id, program, count(*) AS n_paid, sum(fen) AS paid FROM paid GROUP BY ALL),
k AS (SELECT payee_id, program, coalesce(n_instr, 0) AS n_instr, coalesce(instructed, 0) AS instructed,
             coalesce(n_paid, 0) AS n_paid, coalesce(paid, 0) AS paid
      FROM ik FULL JOIN pk USING (payee_id, program)),
extra AS (SELECT payee_id, program, sum(fen) AS extra
          FROM (SELECT *, row_number() OVER (PARTITION BY payee_id, program
                                             ORDER BY paid_on NULLS LAST, txn_id) AS rn FROM paid)
          JOIN k USING (payee_id, program)
          WHERE n_paid >= 2 AND n_paid > n_instr AND rn > greatest(n_instr, 1) GROUP BY ALL),
stray AS (SELECT payee_id, program, sum(fen) AS other FROM paid
          WHERE (payee_id, program) IN (SELECT payee_id, program FROM instr)
            AND (payee_id, program, bank_account) NOT IN (SELECT payee_id, program, bank_account FROM instr)
          GROUP BY ALL)
SELECT 'R01' AS rule, payee_id AS person_id, program, paid AS amount_fen FROM k WHERE n_paid > 0 AND n_instr = 0
UNION ALL SELECT 'R02', payee_id, program, instructed FROM k WHERE n_instr > 0 AND n_paid = 0
UNION ALL SELECT 'R03', payee_id, program, abs(paid - instructed) FROM k
          WHERE n_instr > 0 AND n_paid > 0 AND paid <> instructed AND NOT (n_paid >= 2 AND n_paid > n_instr)
UNION ALL SELECT 'R04', payee_id, program, other FROM stray
UNION ALL SELECT 'R05', payee_id, program, extra FROM extra
"""


def repeats(budget_s: float = 3.0, most: int = 7):
    """Yield run numbers: at least one run, more (up to ``most``) while the runs so far took
    under ``budget_s`` in total. A sub-second measurement is then the median of several runs;
    both reconciliations are measured the same way."""
    start = time.perf_counter()
    for i in range(most):
        if i and time.perf_counter() - start >= budget_s:
            return
        yield i


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def duckdb_reconcile(data: Path, month: str, validate: bool = True) -> tuple[float, pl.DataFrame]:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    rows = con.execute(duckdb_sql(data, month, validate)).fetchall()
    seconds = time.perf_counter() - start
    con.close()
    frame = pl.DataFrame(rows, schema={"rule": pl.String, "person_id": pl.String, "program": pl.String,
                                       "amount_fen": pl.Int64}, orient="row")
    return seconds, frame


# ------------------------------------------------------------------ the run

def stopped_report(scale: str, manifest: dict, month: str, mem: Memory, profile) -> dict:
    """What a run stopped at the memory cap got to: the stage it was in, the time, the stages so far."""
    stage = mem.stage
    mem.enter("stopped")
    return {
        "scale": scale, "cases": manifest["cases"], "rows": sum(manifest["rows"].values()),
        "density": manifest.get("density"), "planted_cases": manifest.get("planted_cases"), "month": month,
        "completed": False, "stopped_at": stage, "memory_cap_mb": mem.cap,
        "total_s": round(time.perf_counter() - mem.t0, 2), "cpu_s": round(time.process_time(), 2),
        "peak_rss_mb": round(mem.peak, 1),
        "stages": {k: round(v, 3) for k, v in mem.wall.items() if k not in ("setup", "stopped")},
        "stage_cpu_s": {k: round(v, 3) for k, v in mem.cpu.items() if k not in ("setup", "stopped")},
        "stage_peak_rss_mb": {k: round(v, 1) for k, v in mem.peaks.items() if k != "stopped"},
        "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 1),
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "stream_above_rows": profile.stream_above_rows,
    }


def bench(scale: str, data: Path, db_url: str | None, month: str, out_dir: Path, reconcile: bool = True,
          stream_above_rows: int | None = None, cap: float | None = None,
          on_stop: Callable[[dict], None] | None = None) -> dict:
    """Run the benchmark at ``scale``; past ``cap`` MiB of RSS, ``on_stop`` gets the stopped run's report
    (from the sampling thread, while the audit still runs: it is expected to end the process)."""
    manifest = ensure_data(scale, data, month)
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(out_dir / "snapshots")}
                                            | ({"stream_above_rows": stream_above_rows} if stream_above_rows else {}))
    if not sys.stderr.isatty():  # plain progress lines (a terminal gets bars)
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    stop = None if on_stop is None else (lambda m: on_stop(stopped_report(scale, manifest, month, m, profile)))
    with Memory(cap=cap, on_cap=stop) as mem:
        follower = StageFollower(mem)
        log.addHandler(follower)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            result = run_audit(month=month, data_dir=data, out_dir=out_dir / "out", profile=profile,
                               db_url=db_url or f"sqlite:///{out_dir / 'auditor.db'}")
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
            mem.enter("done")
        finally:
            log.removeHandler(follower)
        audit_peak = mem.peak
        summary = result.summary
        del result  # release the findings before the reconciliation is measured
        gc.collect()
        # The pages first: they wait for the snapshot's people index, whose detached child (at province
        # scale) would otherwise share the two cores with the reconciliation being timed.
        pages: dict = {}
        if scale not in NO_PAGES:
            mem.enter("pages")
            url = db_url or f"sqlite:///{out_dir / 'auditor.db'}"  # the pages over the run's store (pages_bench.py)
            pages = pages_bench.measure(url, snapshot_root(profile, url), month, months=12 if scale == "city" else 1)
        runs, duck_runs, duck_raw = [], [], []
        if reconcile:
            mem.enter("reconcile")
            runs = [our_reconcile(data, month, profile) for _ in repeats()]
            mem.enter("duckdb")
            duck_runs = [duckdb_reconcile(data, month) for _ in repeats()]
            duck_raw = [duckdb_reconcile(data, month, validate=False)[0] for _ in repeats()]
    durations = summary["durations"]
    families: dict[str, float] = defaultdict(float)
    for check in summary["checks"]:
        families[check["family"] or "other"] += check["seconds"]
    rules_s = sum(families.values())
    stages = {"load": durations["load"]}
    stages |= {f"rules:{fam}": round(s, 3) for fam, s in sorted(families.items())}
    stages["sample+summary"] = round(max(durations["checks"] - rules_s, 0.0), 3)
    stages |= {"store": durations["store"], "outputs": durations["outputs"],
               "snapshot": round(mem.wall.get("snapshot", 0.0), 3)}
    report = {
        "scale": scale, "cases": manifest["cases"], "rows": sum(manifest["rows"].values()),
        "density": manifest.get("density"), "planted_cases": manifest.get("planted_cases"),
        "month": month, "total_s": round(total, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(audit_peak, 1),
        "stages": stages,
        "stage_cpu_s": {k: round(v, 3) for k, v in mem.cpu.items() if k not in ("setup", "done", "duckdb")},
        "stage_peak_rss_mb": {k: round(v, 1) for k, v in mem.peaks.items()},
        "findings": summary["findings"]["total"], "findings_by_rule": summary["findings"]["by_rule"],
        "quarantined_rows": summary["quarantined_rows"], "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),  # other jobs on the machine: wall times are noisy
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "stream_above_rows": profile.stream_above_rows,  # None: the drop held in memory
    }
    if runs:
        key = ["rule", "person_id", "program", "amount_fen"]
        reconcile_s, duck_s, duck_raw_s = median([r[0] for r in runs]), median([r[0] for r in duck_runs]), median(duck_raw)
        report |= {
            "reconcile_s": round(reconcile_s, 3),
            "reconcile_parts": {k: round(median([r[1][k] for r in runs]), 3) for k in runs[0][1]},
            "duckdb_reconcile_s": round(duck_s, 3), "reconcile_ratio": round(reconcile_s / duck_s, 2),
            "duckdb_unvalidated_reconcile_s": round(duck_raw_s, 3),
            "reconcile_ratio_trusted": round(reconcile_s / duck_raw_s, 2),
            "reconcile_findings": runs[0][2].height,
            "duckdb_agrees": runs[0][2].sort(key).equals(duck_runs[0][1].sort(key)), "reconcile_runs": len(runs)}
    report["targets"] = check_targets(report)
    return report | pages


def _memory_bottleneck(r: dict) -> str:
    audit_peaks = {k: v for k, v in r["stage_peak_rss_mb"].items() if k not in ("pages", "reconcile", "duckdb", "done")}
    top = max(audit_peaks.values())
    return next(k for k, v in audit_peaks.items() if v >= 0.99 * top)  # the stage that got there


def check_targets(r: dict) -> dict:
    """Which targets of issue 22 hold; for a miss, the stage that is the bottleneck."""
    out: dict[str, dict] = {}
    slowest = max(r["stages"], key=r["stages"].get)
    for name, table in (("", TARGETS), ("stretch_", STRETCH)):
        if r["scale"] not in table:
            continue
        max_s, max_mb = table[r["scale"]]
        if max_s is not None:
            ok = r["total_s"] <= max_s
            out[f"{name}total"] = {"target_s": max_s, "ok": ok, **({} if ok else {"bottleneck": slowest})}
        ok = r["peak_rss_mb"] <= max_mb
        out[f"{name}memory"] = {"target_mb": max_mb, "ok": ok, **({} if ok else {"bottleneck": _memory_bottleneck(r)})}
    if r["scale"] in RATIO and "reconcile_s" in r:
        most, trusted = RATIO[r["scale"]]
        ratio = r["reconcile_ratio_trusted"] if trusted else r["reconcile_ratio"]
        ok = ratio <= most and r["duckdb_agrees"]
        parts = r["reconcile_parts"]
        out["reconcile"] = {"target_ratio": most, "against": "trusted files" if trusted else "validating query",
                            "ratio": ratio, "ok": ok, **({} if ok else {"bottleneck": max(parts, key=parts.get)})}
    return out


def print_stopped(r: dict) -> None:
    print(f"scale {r['scale']}: {r['cases']:,} cases, {r['rows']:,} rows: STOPPED in stage {r['stopped_at']} after "
          f"{r['total_s']:.1f}s ({r['cpu_s']:.1f}s CPU): peak RSS {r['peak_rss_mb']:.0f} MiB passed the memory cap "
          f"{r['memory_cap_mb']:.0f} MiB (load average {r.get('load_avg_1m')} on {r['cpus']} CPUs)")
    for name, s in r["stages"].items():
        print(f"  {name:24s} {s:8.2f}s {r['stage_cpu_s'].get(name, 0.0):8.2f}s CPU   "
              f"peak RSS {r['stage_peak_rss_mb'].get(name, 0.0):8.0f} MiB")


def print_report(r: dict) -> None:
    if r.get("completed") is False:
        print_stopped(r)
        return
    print(f"scale {r['scale']}: {r['cases']:,} cases, {r['rows']:,} rows, {r['findings']:,} findings "
          f"({r.get('planted_cases')} planted cases), {r['quarantined_rows']} quarantined")
    print(f"  total {r['total_s']:.2f}s wall, {r['cpu_s']:.2f}s CPU, peak RSS {r['peak_rss_mb']:.0f} MiB "
          f"(load average at the end {r.get('load_avg_1m')} on {r['cpus']} CPUs)")
    peaks, cpu = r["stage_peak_rss_mb"], r.get("stage_cpu_s", {})
    for name, s in r["stages"].items():
        key = {"sample+summary": None, "snapshot": "snapshot"}.get(name, name)
        line = f"  {name:24s} {s:8.2f}s"
        if key in cpu:
            line += f" {cpu[key]:8.2f}s CPU"
        if key in peaks:  # the sample's memory is booked to the last rule family
            line += f"   peak RSS {peaks[key]:8.0f} MiB"
        print(line)
    if "reconcile_s" in r:
        print(f"  reconcile (load payments+ledger + R01–R05) {r['reconcile_s']:.2f}s vs DuckDB validating "
              f"{r['duckdb_reconcile_s']:.2f}s = {r['reconcile_ratio']}x, vs DuckDB trusting the files "
              f"{r['duckdb_unvalidated_reconcile_s']:.2f}s = {r['reconcile_ratio_trusted']}x "
              f"(median of {r['reconcile_runs']} run(s)); same findings: {r['duckdb_agrees']}")
    if "search_ms" in r:
        print(f"  pages: search {r['search_ms']} ms, person page {r['person_page_ms']} ms, worklist {r['worklist_ms']} ms"
              f" (medians; {r['pages']['months_in_store']} month(s) in the store)")
    for name, t in r["targets"].items():
        goal = (f"≤ {t['target_s']:g} s" if "target_s" in t else f"≤ {t['target_mb'] / 1024:g} GiB"
                if "target_mb" in t else f"≤ {t['target_ratio']:g}× DuckDB ({t['against']}): {t['ratio']}×")
        status = "ok" if t["ok"] else f"MISSED (bottleneck: {t['bottleneck']})"
        print(f"  target {name} {goal}: {status}")


# ------------------------------------------------------------------ growth across scales

def load_results(folder: Path = RESULTS) -> list[dict]:
    """The saved result of every scale, smallest first."""
    found = [json.loads(f.read_text(encoding="utf-8")) for f in (folder / f"{s}.json" for s in SCALES[1:])
             if f.exists()]
    return sorted(found, key=lambda r: r["cases"])


def exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x (None with fewer than two points or y <= 0)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx, my = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    var = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / var if var else None


def growth(results: list[dict]) -> dict:
    """Growth exponents of total time, CPU and peak memory, and of each stage's time, over the saved scales."""
    cases = [r["cases"] for r in results]
    stage_names = [k for k in results[-1]["stages"]] if results else []
    per_stage = {k: exponent(cases, [r["stages"].get(k, 0.0) for r in results]) for k in stage_names}
    big = results[-1]["stages"] if results else {}
    # the fastest-growing stage among those that matter (≥ 2% of the largest run's total)
    weighty = {k: e for k, e in per_stage.items() if e is not None and big.get(k, 0) >= 0.02 * results[-1]["total_s"]}
    return {"scales": [r["scale"] for r in results], "cases": cases,
            "time": exponent(cases, [r["total_s"] for r in results]),
            "cpu": exponent(cases, [r.get("cpu_s", r["total_s"]) for r in results]),
            "memory": exponent(cases, [r["peak_rss_mb"] for r in results]),
            "stages": per_stage, "fastest_stage": max(weighty, key=weighty.get) if weighty else None}


def print_fit(results: list[dict]) -> None:
    if not results:
        print(f"no saved results in {RESULTS}")
        return
    print("scale       cases        total      CPU    peak RSS  findings  targets")
    for r in results:
        if r.get("completed") is False:
            print(f"{r['scale']:9s} {r['cases']:>11,} stopped in {r['stopped_at']} after {r['total_s']:.0f}s: "
                  f"over the {r['memory_cap_mb'] / 1024:g} GiB memory cap (not in the fit)")
            continue
        misses = [f"{k} missed ({t['bottleneck']})" for k, t in r["targets"].items() if not t["ok"]]
        print(f"{r['scale']:9s} {r['cases']:>11,} {r['total_s']:9.1f}s {r.get('cpu_s', 0):7.1f}s "
              f"{r['peak_rss_mb'] / 1024:7.2f} GiB {r['findings']:>8,}  {'; '.join(misses) or 'all met'}")
    g = growth([r for r in results if r.get("completed") is not False])

    def fmt(e: float | None) -> str:
        return "n/a" if e is None else f"{e:.2f}"

    print(f"growth exponent over {', '.join(g['scales'])}: time {fmt(g['time'])}, CPU {fmt(g['cpu'])}, "
          f"peak memory {fmt(g['memory'])} (1.0 = linear in cases)")
    stages = ", ".join(f"{k} {fmt(e)}" for k, e in g["stages"].items())
    print(f"  per stage: {stages}")
    print(f"  fastest-growing stage: {g['fastest_stage']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Benchmark the monthly audit (see RESULTS.md).")
    p.add_argument("--scale", choices=SCALES)
    p.add_argument("--fit", action="store_true", help="only read the saved results and fit the growth exponent")
    p.add_argument("--json", default=None, help=f"also write the results as JSON here (always kept in {RESULTS})")
    p.add_argument("--data", default=None, help="data drop folder (default bench-data/<scale>, generated if missing)")
    p.add_argument("--db", default=None, help="SQLAlchemy URL of the store (default: fresh SQLite)")
    p.add_argument("--month", default="2026-10")
    p.add_argument("--no-reconcile", action="store_true", help="skip the reconciliation comparison with DuckDB")
    p.add_argument("--stream-above-rows", type=int, default=None, metavar="N",
                   help="load a table of more than N rows through the streaming (out-of-core) path (profile "
                        "setting stream_above_rows); the result is then not kept for the growth fit")
    p.add_argument("--memory-cap", type=float, default=None, metavar="MIB",
                   help="stop the run when its RSS passes this many MiB and report how far it got (exit 3; "
                        "default: " + ", ".join(f"{k} {v:.0f}" for k, v in CAP.items()) + ", else none)")
    args = p.parse_args(argv)
    if args.fit:
        print_fit(load_results())
        return 0
    if not args.scale:
        p.error("--scale is required (or --fit)")
    data = Path(args.data) if args.data else ROOT / "bench-data" / args.scale
    cap = args.memory_cap if args.memory_cap is not None else CAP.get(args.scale)
    standard = args.scale != "tiny" and not args.data and not args.stream_above_rows  # kept for the fit

    def publish(report: dict) -> None:
        print_report(report)
        text = json.dumps(report, ensure_ascii=False, indent=2)
        if args.json:
            Path(args.json).write_text(text, encoding="utf-8")
        if standard:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"{args.scale}.json").write_text(text, encoding="utf-8")
            print()
            print_fit(load_results())

    # ignore_cleanup_errors: at national the snapshot's people index is still being built by its detached
    # child when the run ends (the pages are not timed there), and its files may appear while the folder goes
    with tempfile.TemporaryDirectory(prefix="bench-out-", ignore_cleanup_errors=True) as tmp:
        spill = Path(tmp) / "tmp"  # the audit's spill folders too: deleted with the outputs, also when stopped
        spill.mkdir()
        tempfile.tempdir = str(spill)

        def stop(report: dict) -> None:
            publish(report)
            sys.stdout.flush()
            # The audit's threads may still write under ``tmp``: it is moved aside first (their next file
            # fails), and removed until it stays gone.
            trash = Path(f"{tmp}.stopped")
            os.replace(tmp, trash)
            for _ in range(100):
                shutil.rmtree(trash, ignore_errors=True)
                shutil.rmtree(tmp, ignore_errors=True)
                if not trash.exists() and not Path(tmp).exists():
                    break
                time.sleep(0.01)
            os._exit(3)  # the audit is still running in the main thread: end here

        try:
            report = bench(args.scale, data, args.db, args.month, Path(tmp),
                           reconcile=not args.no_reconcile and args.scale not in NO_RECONCILE,
                           stream_above_rows=args.stream_above_rows, cap=cap, on_stop=stop)
        finally:
            tempfile.tempdir = None
        publish(report)  # before the folder is removed: a failing removal cannot lose the report
    return 0


if __name__ == "__main__":
    sys.exit(main())
