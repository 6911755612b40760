"""双随机 archive-review sample: random cases, random reviewers, reproducible by anyone.

The random generator is seeded from the profile's published seed and the
month (SHA-256 of ``"<seed>|<month>"``); cases are drawn per street from the
active cases sorted by case_id, and each drawn case gets a reviewer drawn from
the staff with a reviewer role, preferring one who does not work in the case's
street (回避). The same drop, month and seed always give the same draw.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import active_case_rows

SAMPLE_SCHEMA = {"draw_no": pl.Int64, "month": pl.String, "seed": pl.String, "case_id": pl.String,
                 "street": pl.String, "community": pl.String, "program": pl.String,
                 "reviewer_staff_id": pl.String, "reviewer_name": pl.String, "reviewer_street": pl.String}


def seed_int(seed: str, month: str) -> int:
    return int(hashlib.sha256(f"{seed}|{month}".encode()).hexdigest()[:16], 16)


def reviewers(ctx: AuditContext) -> pl.DataFrame:
    """Staff in a reviewer role whose post covers M, sorted by staff_id."""
    if not ctx.has("staff"):
        return pl.DataFrame(schema={"staff_id": pl.String, "name": pl.String, "street": pl.String})
    staff = ctx.table("staff")
    covers = ((pl.col("active_from").is_null() | (pl.col("active_from") <= ctx.last_day))
              & (pl.col("active_to").is_null() | (pl.col("active_to") >= ctx.first_day)))
    return (staff.filter(covers & pl.col("role").is_in(ctx.profile.sample.reviewer_roles))
            .select("staff_id", "name", "street").sort("staff_id"))


def draw_sample(ctx: AuditContext) -> pl.DataFrame:
    settings = ctx.profile.sample
    rng = random.Random(seed_int(settings.seed, ctx.month))
    cases = active_case_rows(ctx, ("case_id", "street", "community", "program")).sort("case_id")
    pool = reviewers(ctx).rows(named=True)
    rows: list[dict[str, Any]] = []
    by_street = cases.partition_by("street", as_dict=True, maintain_order=True)
    for (street,) in sorted(by_street):
        in_street = by_street[(street,)]
        # sampling positions draws exactly what sampling the rows would, without building them all
        picked = rng.sample(range(in_street.height), min(settings.cases_per_street, in_street.height))
        for case in in_street[picked].rows(named=True):
            outside = [r for r in pool if r["street"] != street] or pool
            reviewer = rng.choice(outside) if outside else {"staff_id": None, "name": None, "street": None}
            rows.append({"draw_no": len(rows) + 1, "month": ctx.month, "seed": settings.seed, **case,
                         "reviewer_staff_id": reviewer["staff_id"], "reviewer_name": reviewer["name"],
                         "reviewer_street": reviewer["street"]})
    return pl.DataFrame(rows, schema=SAMPLE_SCHEMA)
