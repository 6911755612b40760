"""Reporting: the typed run summary and report data, the one jinja2 environment, the plain output files,
``issues.xlsx``, the relationship drawings, small SVG charts and the Chinese labels of codes and
evidence keys.

May import ``core``, ``ingest`` and ``engine``.
"""
