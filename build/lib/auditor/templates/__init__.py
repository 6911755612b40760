"""Report and page templates (jinja2), shipped as ``auditor.templates``."""
