"""The rules engine: the rule registry and runner, the audit context, the frames rules share and the
relationship model (close relatives, staff in scope, shared phones, dwellings and accounts).

May import ``auditor.core`` and ``auditor.ingest``. The rule modules themselves live in ``checks/``.
"""
