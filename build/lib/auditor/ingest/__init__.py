"""Ingest: the data contract (``schema``), vectorised value normalisers and the loader with its quarantine.

May import ``auditor.core`` only.
"""
