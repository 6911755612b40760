"""Reading the access log (auditors, inspectors): filtered pages, "who has looked at this person", and
verifying the chain. Targets and details are masked unless the reader unmasks with a reason; every
reading is itself logged (``access_log.view``, ``access_log.verify``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_evidence, mask_text
from auditor.core.periods import BEIJING
from auditor.followup.accesslog import LogCheck, log_access, verify_log
from auditor.services.session import Session

PAGE_SIZE = 50
ACTION_LABELS = {
    "search": "人员查询", "person.view": "查看人员页", "staff.view": "查看工作人员页", "graph.view": "查看关系图",
    "access_log.view": "查阅访问日志", "access_log.verify": "核验访问日志", "access_log.reanchor": "重新锚定访问日志",
    "findings.list": "查询问题线索", "findings.show": "查看问题线索", "findings.dossier": "生成案卷",
    "findings.assign": "交办", "findings.update": "整改登记", "findings.close": "结案", "findings.verify": "核查登记",
    "findings.issues": "下载问题清单", "findings.import": "导入问题清单", "dishonesty.publish": "发布失信名单",
    "office_report": "办公室报告", "quarterly.run": "季度核查", "run.audit": "月度审计", "schedule.cycle": "定时任务",
    "screen.holds": "支付前筛查", "snapshot.delete": "删除数据快照", "users.add": "开通用户", "users.list": "查看用户",
    "users.reset": "重置密码", "users.disable": "停用用户", "users.set": "调整角色", "web.view": "打开页面",
    "web.signin": "登录", "web.signin_failed": "登录失败", "web.locked": "账户锁定", "web.signout": "退出登录",
    "web.denied": "拒绝访问", "web.csrf_rejected": "拒绝过期表单", "web.password_changed": "修改密码",
    "web.password_failed": "修改密码失败"}
DETAIL_LABELS = {"page": "页码", "person": "人员", "finding": "问题编号", "user": "用户", "date_from": "起",
                 "date_to": "止", "people": "人员数", "staff": "工作人员数", "findings": "线索数", "reason": "事由",
                 "why": "原因", "state": "结果", "entries": "条数", "month": "月份", "rows": "行数"}


def action_label(action: str) -> str:
    """``person.view`` -> 查看人员页; a refusal ``denied:<action>`` -> 被拒绝：<label>."""
    if action.startswith("denied:"):
        return "被拒绝：" + ACTION_LABELS.get(action[7:], action[7:])
    return ACTION_LABELS.get(action, action)


def _detail_text(detail: str) -> str:
    """A detail's JSON as ``label：value`` pairs (text that is not a JSON object as it is)."""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return detail
    return "；".join(f"{DETAIL_LABELS.get(k, k)}：{v}" for k, v in data.items() if k != "reason")


@dataclass(frozen=True)
class LogFilter:
    """Every field optional: who acted, whom or which finding it was about, Beijing dates (inclusive)."""

    user: str | None = None
    person: str | None = None  # a resident id or staff id (the entry's target)
    finding: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    upto: int | None = None  # entries up to this sequence number: pages stay put while reading adds entries


def _utc_text(day: date) -> str:
    """The stored ``at`` text of the start of a Beijing day (ISO, UTC), comparable as text."""
    return datetime.combine(day, time(), BEIJING).astimezone(UTC).isoformat(timespec="microseconds")


def _where(f: LogFilter) -> list[Any]:
    log = store.access_log
    cond: list[Any] = []
    if f.user:
        cond.append(log.c.actor == f.user)
    if f.person:
        cond.append(log.c.target == f.person)
    if f.finding:
        cond.append(log.c.target.in_([f.finding, f"/findings/{f.finding}"]))
    if f.date_from:
        cond.append(log.c.at >= _utc_text(f.date_from))
    if f.date_to:
        cond.append(log.c.at < _utc_text(f.date_to + timedelta(days=1)))
    if f.upto is not None:
        cond.append(log.c.seq <= f.upto)
    return cond


def _entry(r: Any, unmasked: bool) -> dict[str, Any]:
    detail = r["detail"] or ""
    try:
        reason = json.loads(detail).get("reason") if detail.startswith("{") else None
    except ValueError:
        reason = None
    at = datetime.fromisoformat(r["at"]).astimezone(BEIJING)
    shown = detail if unmasked else mask_evidence(detail) or ""
    return {"seq": r["seq"], "at": at.strftime("%Y-%m-%d %H:%M:%S"), "actor": r["actor"], "role": r["role"],
            "action": r["action"], "action_label": action_label(r["action"]),
            "target": r["target"] if unmasked else mask_text(r["target"]), "detail": _detail_text(shown),
            "unmasked": bool(r["unmasked"]), "reason": reason if unmasked or not reason else mask_text(reason)}


def page_log(s: Session, f: LogFilter, *, page: int = 1, size: int = PAGE_SIZE, unmasked: bool = False,
             reason: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page (newest first) of the entries matching ``f`` and how many match; logged, with the reason
    when unmasked (which needs one)."""
    s.require("access_log", "access_log.view")
    if unmasked:
        s.unmasked(True, "access_log.view")
        if not (reason or "").strip():
            raise s.refuse("access_log.view.unmasked", AuditInputError(
                "查看完整信息须填写事由 (a reason is required to unmask)"))
    log = store.access_log
    cond = _where(f)
    with s.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(log).where(and_(True, *cond))).scalar_one()
        rows = conn.execute(select(log).where(and_(True, *cond)).order_by(log.c.seq.desc())
                            .offset((max(page, 1) - 1) * size).limit(size)).mappings().all()
    detail: dict[str, Any] = {k: str(v) for k, v in vars(f).items() if v} | {"page": page}
    if unmasked and reason:
        detail["reason"] = reason.strip()
    log_access(s.engine, s.user, "access_log.view", target=f.person or f.finding, detail=detail, unmasked=unmasked)
    return [_entry(r, unmasked) for r in rows], total


def latest_seq(s: Session) -> int:
    """The newest entry's sequence number (0 for an empty log): where a paged reading starts."""
    s.require("access_log", "access_log.view")
    with s.engine.connect() as conn:
        return int(conn.execute(select(func.max(store.access_log.c.seq))).scalar_one() or 0)


def viewers(s: Session, target: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Who has looked at ``target`` (a person or staff id), newest first; only for readers of the log."""
    if not s.user.can("access_log"):
        return []
    log = store.access_log
    with s.engine.connect() as conn:
        rows = conn.execute(select(log).where(log.c.target == target).order_by(log.c.seq.desc())
                            .limit(limit)).mappings().all()
    return [_entry(r, False) for r in rows]


def verify(s: Session) -> LogCheck:
    """Check the whole chain against the key and the anchor; logged with its outcome."""
    s.require("verify", "access_log.verify")
    check = verify_log(s.engine)
    log_access(s.engine, s.user, "access_log.verify", detail={"state": check.state, "entries": check.entries})
    return check
