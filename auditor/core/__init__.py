"""The shared core: vocabulary (codes and Chinese labels), months and periods, money, masking,
profiles, the working-day calendar, the input error, safe spreadsheet cells (``cells``) and
owner-only files with safe names (``private``).

Imports nothing from the rest of ``auditor`` (but for the profile checking its header aliases against
the data contract, ``auditor.ingest.schema``); every other sub-package may import it.
"""
