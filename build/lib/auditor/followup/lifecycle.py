"""The lifecycle of a finding: statuses, the allowed transitions and the reopen policy.

A leaf module: it imports nothing from the store or the workflow.
"""

from __future__ import annotations

from auditor.core.errors import AuditInputError
from auditor.core.vocab import FINDING_STATUSES

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


class TransitionError(AuditInputError):
    """A status change the workflow does not allow."""


def check_transition(current: str, target: str) -> None:
    if target not in FINDING_STATUSES:
        raise TransitionError(f"未知状态 {target!r} (unknown status; one of {', '.join(FINDING_STATUSES)})")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "-"
        raise TransitionError(f"不允许的状态变更 {current} → {target} (illegal transition; from {current}: {allowed})")
