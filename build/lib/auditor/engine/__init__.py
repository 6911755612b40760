"""The rules engine: the rule registry (metadata, groups) and runner, the audit context, the frames
rules share, the relationship model (close relatives, staff in scope, shared phones, dwellings and
accounts) and the generated catalogue page (``catalogue_doc``).

May import ``auditor.core`` and ``auditor.ingest``. The rule modules themselves live in ``checks/``.
"""
