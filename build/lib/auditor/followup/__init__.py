"""Follow-up of findings across months: the lifecycle (statuses, transitions, reopen policy), recording a
run's findings, the workflow and the street import, users and the access log, dossiers and the office report.

May import ``core``, ``ingest``, ``engine``, ``store`` and ``reporting``.
"""
