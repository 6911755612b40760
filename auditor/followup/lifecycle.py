"""The lifecycle of a finding: statuses, the allowed transitions and the reopen policy.

A leaf module: it imports nothing from the store or the workflow.
"""

from __future__ import annotations

from auditor.core.errors import AuditInputError
from auditor.core.vocab import FINDING_STATUS_LABELS, FINDING_STATUSES

OPEN = ("new", "assigned", "rectifying")
CLOSED = ("rectified", "confirmed", "dismissed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "dismissed"}),
    "assigned": frozenset({"assigned", "rectifying", "confirmed", "dismissed"}),
    "rectifying": frozenset({"rectified", "confirmed", "dismissed"}),
    "rectified": frozenset({"new"}),
    "confirmed": frozenset({"new"}),
    "dismissed": frozenset({"new"}),
}
# closed status -> does a recurrence reopen it as ``recurring``? (dismissed: only on changed facts)
REOPEN = {"rectified": True, "confirmed": True, "dismissed": False}


EVENT_LABELS = {"created": "发现", "assigned": "交办", "rectifying": "开始整改", "note": "备注",
                "closed_rectified": "结案：已整改", "closed_confirmed": "结案：查实违规",
                "closed_dismissed": "结案：排除", "reopened": "重新打开", "facts_changed": "事实变化"}


def status_label(status: str | None) -> str:
    """The Chinese name of a status (empty for none)."""
    return FINDING_STATUS_LABELS.get(status, status) if status else ""


class TransitionError(AuditInputError):
    """A status change the workflow does not allow."""


def transition_message(current: str, target: str) -> str:
    """``不允许的状态变更 新发现 → 查实违规（新发现 只能变为 …）``, status names in Chinese."""
    label = FINDING_STATUS_LABELS
    allowed = "、".join(label[s] for s in sorted(TRANSITIONS[current])) or "-"
    return (f"不允许的状态变更 {label[current]} → {label[target]}（{label[current]} 只能变为 {allowed}）"
            f" (illegal transition {current} → {target})")


def check_transition(current: str, target: str) -> None:
    if target not in FINDING_STATUSES:
        raise TransitionError(f"未知状态 {target!r}，应为 {'、'.join(FINDING_STATUS_LABELS.values())} "
                              f"(unknown status; one of {', '.join(FINDING_STATUSES)})")
    if target not in TRANSITIONS[current]:
        raise TransitionError(transition_message(current, target))
