"""The store: tables, connecting and migrating, bulk inserts and locks. No follow-up policy lives here.

May import ``auditor.core`` only. ``from auditor import store`` gives the public names below.
"""

from auditor.store.bulk import batches, bulk_insert
from auditor.store.db import DEFAULT_DB, connect, count_rows, migrate, month_findings, schema_revision
from auditor.store.lock import LockBusy, holder_text, lock
from auditor.store.tables import (
           OCCURRENCE_COLUMNS,
           access_log,
           event_row,
           events,
           finding_people,
           findings,
           locks,
           metadata,
           now,
           occurrences,
           runs,
           sessions,
           users,
)

__all__ = ["DEFAULT_DB", "OCCURRENCE_COLUMNS", "LockBusy", "access_log", "batches", "bulk_insert", "connect",
           "count_rows", "event_row", "events", "finding_people", "findings", "holder_text", "lock", "locks",
           "metadata", "migrate", "month_findings", "now", "occurrences", "runs", "schema_revision", "sessions",
           "users"]
