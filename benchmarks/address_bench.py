"""Cost of address normalisation (dwelling keys) on a province-sized address column.

``python benchmarks/address_bench.py [--rows 2000000] [--distinct 0.2] [--repeat 3]``

Builds ``--rows`` synthetic addresses of which about ``--distinct`` are distinct, written
in the forms of data-contract.md "Address normalisation" (with or without 上海市长宁区 /
上海长宁, lanes in Chinese numerals, a floor before the room, a bracketed remark), and
times (wall and CPU seconds of the fastest of ``--repeat`` runs):

* ``loader_s`` — the loader's path for ``members.address`` (value, error and dwelling key;
  a column whose values repeat is normalised once per distinct value and mapped back);
* ``every_row_s`` — ``address_key`` evaluated on every row, for comparison;

and counts the distinct keys against the dwellings (each is written two ways).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.core.config import load_profile  # noqa: E402
from auditor.ingest.loader import _column  # noqa: E402
from auditor.ingest.normalize import address_key  # noqa: E402
from auditor.ingest.schema import TABLES  # noqa: E402

ROADS = ["长宁路", "仙霞路", "天山路", "虹桥路", "娄山关路", "愚园路", "安化路", "遵义路"]
FORMS = 7  # see ``synthetic``


def synthetic(rows: int, distinct: float, seed: int = 17) -> pl.Series:
    """``rows`` addresses drawn from ``rows * distinct`` spellings: ``rows * distinct / 2`` dwellings,
    each written in two of FORMS ways (so that keys can be counted against dwellings)."""
    import cn2an

    rng = np.random.default_rng(seed)
    n = max(1, int(rows * distinct / 2))
    i = np.arange(n)
    lane = i % 900 + 10
    cn_lane = {v: cn2an.an2cn(v) for v in range(10, 910)}  # 900 numerals for the generator
    d = pl.DataFrame({
        "road": np.array(ROADS)[rng.integers(0, len(ROADS), n)], "lane": lane, "building": i // 900 + 1,
        "floor": i % 6 + 1, "room": (i % 6 + 1) * 100 + i % 4 + 1, "form": rng.integers(0, FORMS, n),
    }).with_columns(cn_lane=pl.col("lane").replace_strict(cn_lane, return_dtype=pl.String))
    other = d.with_columns(form=(pl.col("form") + pl.Series(rng.integers(1, FORMS, n))) % FORMS)
    plain = pl.format("{}{}弄{}号{}室", "road", "lane", "building", "room")
    numeral = pl.format("{}{}弄{}号{}室", "road", "cn_lane", "building", "room")
    floor = pl.format("{}{}弄{}号{}楼{}室", "road", "lane", "building", "floor", "room")
    form = pl.col("form")
    written = (pl.when(form == 0).then(plain)
               .when(form == 1).then(pl.concat_str(pl.lit("上海市长宁区"), plain))
               .when(form == 2).then(pl.concat_str(pl.lit("上海长宁"), plain))
               .when(form == 3).then(numeral)
               .when(form == 4).then(floor)
               .when(form == 5).then(pl.concat_str(plain, pl.lit("（租住）")))
               .otherwise(pl.concat_str(pl.lit("上海市长宁区 "), numeral, pl.lit("(租住)"))))
    spellings = pl.concat([d, other]).select(written.alias("address")).to_series()
    return spellings.gather(rng.integers(0, 2 * n, rows))


def best(fn, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` runs (CPU: all threads of this process)."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)))
    return min(runs)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--distinct", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    s = synthetic(args.rows, args.distinct)
    profile = load_profile("changning")
    col = TABLES["members"].column("address")
    frame = s.to_frame("raw")
    key = address_key(pl.col("raw"), profile.address.levels())
    (loader, loader_cpu), (every, every_cpu) = (best(lambda: _column(col, s, profile), args.repeat),
                                                best(lambda: frame.select(key), args.repeat))
    result = {"rows": s.len(), "distinct": s.n_unique(), "dwellings": int(args.rows * args.distinct / 2),
              "distinct_keys": frame.select(key).to_series().n_unique(), "loader_s": loader,
              "loader_cpu_s": loader_cpu, "every_row_s": every, "every_row_cpu_s": every_cpu}
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
