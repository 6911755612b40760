"""The auditor's runs: upload a drop or pick an inbox month, start it, watch it, read what it did."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from starlette.responses import FileResponse, Response

from auditor.core.errors import AuditInputError
from auditor.core.vocab import SEVERITY_LABELS
from auditor.engine.runner import load_catalogue
from auditor.ingest.schema import TABLES
from auditor.jobs.drops import STAGES, Job
from auditor.jobs.monthly import MonthBusy
from auditor.services import runs as svc
from auditor.services.session import Refused
from auditor.web.routes.base import BEIJING, Ctx, beijing, redirect, render

PAGE_SIZE = 50
REFRESH_SECONDS = 2
JOB_STATES = {"starting": "准备中", "running": "运行中", "ok": "已完成", "failed": "运行失败",
              "refused": "未运行", "interrupted": "已中断（服务器进程已停止）"}
OUTPUT_LABELS = {"report.html": "月度审计报告", "issues.xlsx": "问题清单", "findings.csv": "问题线索明细（未脱敏）",
                 "quarantine.csv": "隔离数据（未脱敏）", "sample.csv": "双随机抽查名单", "run.json": "运行摘要"}
RUN_STATES = {"ok": "已完成", "outputs_pending": "输出文件未写完", "outputs_failed": "输出文件写入失败"}


def _db_url(ctx: Ctx) -> str:
    return ctx.engine.url.render_as_string(hide_password=False)


def _at(text: str) -> str:
    return beijing(datetime.fromisoformat(text)) if text else ""


def runs_page(ctx: Ctx, *, error: str | None = None, status: int = 200, month: str = "") -> Response:
    listing = svc.list_runs(ctx.session, ctx.profile, _db_url(ctx))
    runs = [{**r, "state": RUN_STATES.get(r["status"], r["status"]), "started": beijing(r["started_at"]),
             "findings": r["summary"].get("findings", {}).get("total", ""),
             "quarantined": r["summary"].get("quarantined_rows", "")} for r in listing.runs]
    jobs = [_job_row(j) for j in listing.jobs]
    return render(ctx, "runs.html.j2", status=status, runs=runs, jobs=jobs, inbox=listing.inbox, error=error,
                  month=month or ctx.now.astimezone(BEIJING).strftime("%Y-%m"),
                  upload_mb=ctx.profile.web.drop_upload_mb, unpacked_mb=ctx.profile.web.drop_unpacked_mb,
                  tables=[(t.name, t.label, t.required) for t in TABLES.values()])


def _job_row(job: Job) -> dict[str, object]:
    return {"job": job, "state": job.state, "state_label": JOB_STATES.get(job.state, job.state),
            "created": _at(job.created_at), "finished": _at(job.finished_at), "deleted": _at(job.drop_deleted_at),
            "source": "上传" if job.source == "upload" else "收件目录"}


def _start(ctx: Ctx, *, inbox: bool) -> Response:
    month = ctx.form.get("month", "").strip()
    try:
        job = svc.start_run(ctx.session, month=month, profile=ctx.profile, db_url=_db_url(ctx),
                            files=ctx.uploads, inbox=inbox)
    except Refused:
        raise
    except AuditInputError as exc:
        return runs_page(ctx, error=str(exc), status=409 if isinstance(exc, MonthBusy) else 400, month=month)
    return redirect(f"/runs/jobs/{job.job_id}")


def upload(ctx: Ctx) -> Response:
    return _start(ctx, inbox=False)


def start_inbox(ctx: Ctx) -> Response:
    return _start(ctx, inbox=True)


def job_page(ctx: Ctx) -> Response:
    job = svc.job_status(ctx.session, ctx.profile, _db_url(ctx), ctx.param("job"))
    row = _job_row(job)
    return render(ctx, "run_job.html.j2", row=row, job=job, refresh=row["state"] in ("starting", "running"),
                  refresh_seconds=REFRESH_SECONDS, known=STAGES)


def run_page(ctx: Ctx) -> Response:
    view = svc.run_view(ctx.session, int(ctx.param("run_id")), ctx.profile, _db_url(ctx))
    s = view.summary
    names = {code: cls.name for code, cls in load_catalogue().items()}
    month = view.month
    by_rule = [{"code": code, "name": names.get(code, ""), "n": n,
                "link": "/findings?" + urlencode({"rule": code, "month_from": month, "month_to": month})}
               for code, n in sorted(s.get("findings", {}).get("by_rule", {}).items())]
    tables = [{"name": name, "label": TABLES[name].label if name in TABLES else "", **stats}
              for name, stats in s.get("tables", {}).items()]
    return render(ctx, "run.html.j2", view=view, s=s, by_rule=by_rule, tables=tables,
                  state=RUN_STATES.get(view.status, view.status), started=beijing(view.started_at),
                  finished=beijing(view.finished_at), severities=SEVERITY_LABELS, names=names,
                  outputs=[(n, OUTPUT_LABELS[n]) for n in view.outputs])


def quarantine(ctx: Ctx) -> Response:
    run_id = int(ctx.param("run_id"))
    q = ctx.request.query_params
    try:
        page = max(int(q.get("page") or 1), 1)
    except ValueError:
        page = 1
    table = q.get("table") or None
    reason = q.get("reason", "").strip() or None  # unmasked only for a reason, logged with it
    result = svc.quarantine_page(ctx.session, run_id, ctx.profile, _db_url(ctx), page=page, size=PAGE_SIZE,
                                 table=table, unmask_reason=reason)
    pages = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    kept = {k: v for k, v in {"table": table or "", "reason": reason or ""}.items() if v}
    link = lambda n: f"/runs/{run_id}/quarantine?" + urlencode(kept | {"page": n})  # noqa: E731
    labels = {name: t.label for name, t in TABLES.items()}
    columns = {(t.name, c.name): c.label for t in TABLES.values() for c in t.columns}
    return render(ctx, "run_quarantine.html.j2", run_id=run_id, result=result, page=page, pages=pages,
                  table=table or "", labels=labels, columns=columns, unmasked=reason is not None, reason=reason or "",
                  can_unmask=ctx.session.user.can("unmask"),
                  prev=link(page - 1) if page > 1 else None, next=link(page + 1) if page < pages else None)


def download(ctx: Ctx) -> Response:
    path, name, media = svc.output_file(ctx.session, int(ctx.param("run_id")), ctx.param("name"), ctx.profile,
                                        _db_url(ctx))
    return FileResponse(path, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
