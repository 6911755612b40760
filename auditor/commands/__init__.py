"""One module per command; see ``auditor.cli``."""
