"""Every page of the web application, once: ``ROUTES`` (the permission-matrix test reads it)."""

from __future__ import annotations

from auditor.web.routes import dashboard, findings, graph, pages, people, runs, users
from auditor.web.routes.base import Ctx, Page

ROUTES: tuple[Page, ...] = (
    Page("login_form", "GET", "/login", pages.login_form, "public"),
    Page("login", "POST", "/login", pages.login, "public"),
    Page("logout", "POST", "/logout", pages.logout, "signed_in", while_must_change=True),
    Page("password_form", "GET", "/password", pages.password_form, "signed_in", while_must_change=True),
    Page("password", "POST", "/password", pages.change_password, "signed_in", while_must_change=True),
    Page("home", "GET", "/", pages.home, "signed_in"),
    Page("dashboard", "GET", "/dashboard", dashboard.dashboard_page, "read"),
    Page("dashboard_dishonesty", "POST", "/dashboard/dishonesty", dashboard.dishonesty, "publish"),
    Page("findings", "GET", "/findings", findings.worklist, "read"),
    Page("findings_assign", "POST", "/findings/assign", findings.bulk_assign, "assign"),
    Page("issues_xlsx", "GET", "/findings/issues.xlsx", findings.issues_download, "read"),
    Page("issues_form", "GET", "/findings/import", findings.issues_form, "import"),
    Page("issues_upload", "POST", "/findings/import", findings.issues_upload, "import", upload=True),
    Page("finding", "GET", "/findings/{fid}", findings.finding_page, "read"),
    Page("finding_assign", "POST", "/findings/{fid}/assign", findings.assign, "assign"),
    Page("finding_rectifying", "POST", "/findings/{fid}/rectifying", findings.rectifying, "update"),
    Page("finding_close", "POST", "/findings/{fid}/close", findings.close, "close"),
    Page("finding_confirm", "POST", "/findings/{fid}/confirm", findings.confirm, "confirm"),
    Page("finding_verify", "POST", "/findings/{fid}/verify", findings.verify, "update"),
    Page("runs", "GET", "/runs", runs.runs_page, "run"),
    Page("runs_upload", "POST", "/runs/upload", runs.upload, "run", drop=True),
    Page("runs_inbox", "POST", "/runs/inbox", runs.start_inbox, "run"),
    Page("run_job", "GET", "/runs/jobs/{job}", runs.job_page, "run"),
    Page("run", "GET", "/runs/{run_id:int}", runs.run_page, "run"),
    Page("run_quarantine", "GET", "/runs/{run_id:int}/quarantine", runs.quarantine, "run"),
    Page("run_download", "GET", "/runs/{run_id:int}/files/{name}", runs.download, "run"),

    Page("graph", "GET", "/graph", graph.graph_page, "read"),
    Page("graph_data", "GET", "/graph/data", graph.graph_data, "read"),

    Page("search", "GET", "/search", people.search_page, "search"),
    Page("search_run", "POST", "/search", people.search_run, "search"),
    Page("person", "GET", "/people/{token}", people.person_page, "read"),
    Page("person_unmask", "POST", "/people/{token}/unmask", people.person_unmask, "unmask"),
    Page("staff", "GET", "/staff/{token}", people.staff_page, "read"),
    Page("staff_unmask", "POST", "/staff/{token}/unmask", people.staff_unmask, "unmask"),
    Page("access_log", "GET", "/access-log", people.access_log_page, "access_log"),
    Page("access_log_unmask", "POST", "/access-log/unmask", people.access_log_unmask, "access_log"),
    Page("access_log_verify", "POST", "/access-log/verify", people.access_log_verify, "access_log"),
    Page("users", "GET", "/users", users.users_page, "users"),
    Page("users_create", "POST", "/users", users.create, "users"),
    Page("users_reset", "POST", "/users/{name}/reset", users.reset, "users"),
    Page("users_disable", "POST", "/users/{name}/disable", users.disable, "users"),
    Page("users_set", "POST", "/users/{name}/role", users.set_role, "users"),
)

__all__ = ["ROUTES", "Ctx", "Page"]
