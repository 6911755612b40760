"""The permission matrix, generated from ``auditor.web.routes.ROUTES``: every route × every role and anonymous.

A route added to ``ROUTES`` without an example here fails ``test_every_route_has_an_example``, so no
page can be left out of the matrix.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from auditor import store
from auditor.core.config import load_profile
from auditor.followup.privacy import PERMISSIONS
from auditor.ingest.loader import load_drop
from auditor.jobs.snapshot import snapshot_root, write_snapshot
from auditor.services.search import token_of
from auditor.web.routes import ROUTES, Page
from tests.followup_helpers import PID_A, PID_B, finding, save
from tests.rulecases import write_case
from tests.web_helpers import PASSWORD, ROLES, Clock, cheap_hashes, client, make_users, session_csrf, sign_in  # noqa: F401

FID = finding(PID_A)["finding_id"]  # a finding of 华阳路街道, bob's street
STAFF_FINDING = finding(PID_B, rule="R02") | {"staff_id": "S0001"}  # a staff member's, also bob's street
DUE = (date.today() + timedelta(days=30)).isoformat()
# route name -> (path, form, answer when allowed); the form gets the session's CSRF token
EXAMPLES: dict[str, tuple[str, dict[str, str], int]] = {
    "login_form": ("/login", {}, 200),
    "login": ("/login", {"name": "nobody", "password": "wrong"}, 401),
    "logout": ("/logout", {}, 303),
    "password_form": ("/password", {}, 200),
    "password": ("/password", {"current": PASSWORD, "new": "Changed-pass-2026", "again": "Changed-pass-2026"}, 303),
    "home": ("/", {}, 200),
    "dashboard": ("/dashboard", {}, 200),
    "dashboard_dishonesty": ("/dashboard/dishonesty", {"month": "2026-09"}, 400),  # no run of that month
    "findings": ("/findings", {}, 200),
    "findings_assign": ("/findings/assign", {"fid": FID, "person": "王五", "due": DUE}, 303),
    "issues_xlsx": ("/findings/issues.xlsx?street=华阳路街道", {}, 200),
    "issues_form": ("/findings/import", {}, 200),
    "issues_upload": ("/findings/import", {}, 400),  # no file chosen
    "finding": (f"/findings/{FID}", {}, 200),
    "finding_assign": (f"/findings/{FID}/assign", {"person": "王五", "due": DUE}, 303),
    "finding_rectifying": (f"/findings/{FID}/rectifying", {}, 400),  # still new: assign first
    "finding_close": (f"/findings/{FID}/close", {"outcome": "dismissed"}, 400),  # no reason
    "finding_confirm": (f"/findings/{FID}/confirm", {"recovered": "abc"}, 400),
    "finding_verify": (f"/findings/{FID}/verify", {}, 400),  # nothing filled in
    "runs": ("/runs", {}, 200),
    "runs_upload": ("/runs/upload", {"month": "2026-10"}, 400),  # no file chosen
    "runs_inbox": ("/runs/inbox", {"month": "2026-13"}, 400),  # not a month
    "run_job": ("/runs/jobs/0123456789ab", {}, 400),  # no such job
    "run": ("/runs/1", {}, 200),  # the run ``save`` stored
    "run_quarantine": ("/runs/999/quarantine", {}, 400),  # no such run
    "run_download": ("/runs/999/files/issues.xlsx", {}, 400),

    "graph": (f"/graph?person={PID_A}&month=2026-10", {}, 200),
    "graph_data": (f"/graph/data?person={PID_A}&month=2026-10", {}, 200),  # bob's street: members of its case

    "search": ("/search", {}, 200),
    "search_run": ("/search", {"q": PID_A}, 200),
    "person": ("/people/{person}", {}, 200),  # PID_A: a person of bob's street
    "person_unmask": ("/people/{person}/unmask", {"reason": "纪检核查"}, 200),
    "staff": ("/staff/{staff}", {}, 200),
    "staff_unmask": ("/staff/{staff}/unmask", {"reason": "纪检核查"}, 200),
    "access_log": ("/access-log", {}, 200),
    "access_log_unmask": ("/access-log/unmask", {"reason": "核查访问记录"}, 200),
    "access_log_verify": ("/access-log/verify", {}, 200),
    "users": ("/users", {}, 200),
    "users_create": ("/users", {"name": "newbie", "role": "office"}, 200),
    "users_reset": ("/users/ole/reset", {}, 200),
    "users_disable": ("/users/ole/disable", {}, 200),
    "users_set": ("/users/ole/role", {"role": "inspector"}, 200),
}
IDENTITIES = [None, "ivy", "ole", "bob", "alice"]  # None: anonymous; the auditor last (she changes ole)


def keep_snapshot(db_url: str, run_id: int, folder: Path) -> None:
    """A snapshot for the run: PID_A a member of a case of 华阳路街道 (the graph pages read it)."""
    drop = folder / "drop"
    drop.mkdir()
    write_case(drop, {"tables": {"cases": [{"case_id": "C1", "payee_id": "@a"}],
                                 "members": [{"case_id": "C1", "person_id": "@a"}]}}, {})
    profile = load_profile(None)
    loaded = load_drop(drop, profile)  # PID_A's check digit is wrong: put it in after loading
    loaded.tables["cases"] = loaded.tables["cases"].with_columns(payee_id=pl.lit(PID_A))
    loaded.tables["members"] = loaded.tables["members"].with_columns(person_id=pl.lit(PID_A))
    write_snapshot(snapshot_root(profile, db_url), run_id=run_id, month="2026-10", profile=profile, drop=loaded,
                   inputs={})


def expected(page: Page, who: str | None) -> int:
    if page.access == "public":
        return EXAMPLES[page.name][2]
    if who is None:
        return 303  # to /login
    if page.access != "signed_in" and page.access not in PERMISSIONS[ROLES[who]]:
        return 403
    return EXAMPLES[page.name][2]


def test_every_route_has_an_example():
    assert {p.name for p in ROUTES} == set(EXAMPLES)


def test_the_runs_pages_are_for_auditors_only():
    """roles.md: uploading a drop, starting a run and seeing the quarantine are the auditor's."""
    assert [who for who in ROLES if "run" in PERMISSIONS[ROLES[who]]] == ["alice"]
    assert {p.access for p in ROUTES if p.path.startswith("/runs")} == {"run"}


def test_the_users_pages_are_for_auditors_only():
    """The matrix's expectations come from the permissions: only auditors hold ``users``."""
    assert [who for who in ROLES if "users" in PERMISSIONS[ROLES[who]]] == ["alice"]
    assert {p.access for p in ROUTES if p.path.startswith("/users")} == {"users"}


@pytest.mark.parametrize("page", ROUTES, ids=lambda p: p.name)
def test_permission_matrix(db_url, page, tmp_path):
    make_users(db_url)
    engine = store.connect(db_url)
    run_id = save(engine, "2026-10", finding(PID_A), STAFF_FINDING)
    engine.dispose()
    if page.name.startswith("graph"):
        keep_snapshot(db_url, run_id, tmp_path)
    tokens = {"person": token_of(PID_A), "staff": token_of("S0001")}
    clock = Clock()
    wrong = []
    for who in IDENTITIES:
        c = client(db_url, clock)
        path, form, _ = EXAMPLES[page.name]
        path = path.replace("{person}", tokens["person"]).replace("{staff}", tokens["staff"])
        if who is not None:
            assert sign_in(c, who).status_code == 303
        if page.method == "GET":
            r = c.get(path)
        else:
            token = session_csrf(c) if who is not None else ""
            if page.name == "login":
                token = c.get("/login").cookies.get("auditor_login_csrf") or ""
            r = c.post(path, data=form | {"csrf": token})
        want = expected(page, who)
        if r.status_code != want:
            wrong.append(f"{who or 'anonymous'}: {r.status_code} (expected {want})")
        elif want == 303 and page.access != "public" and who is None:
            if r.headers["location"] != "/login" or "alice" in r.text:
                wrong.append(f"anonymous: redirected to {r.headers['location']}, not /login")
        c.app.state.engine.dispose()
    assert not wrong, f"{page.method} {page.path}: " + "; ".join(wrong)
