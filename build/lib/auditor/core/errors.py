"""Errors that stop a run with a clear message (exit 2), never a traceback."""


class AuditInputError(Exception):
    """Unusable input: a missing table or column, an unreadable file, a bad config."""
