"""Reporting: the typed run summary and report data, the one jinja2 environment, the plain output files,
``issues.xlsx`` and the relationship drawings.

May import ``core``, ``ingest`` and ``engine``.
"""
