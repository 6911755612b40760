"""The one jinja2 environment every page and document is rendered through (templates in ``reports/``)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.core.vocab import PROGRAM_LABELS, SEVERITY_LABELS
from auditor.engine.runner import family_label

TEMPLATE_DIR = Path(str(files("auditor.templates")))  # the top-level reports/ folder, shipped in the wheel

@cache
def environment() -> Environment:
    """The one jinja2 environment every template is rendered through."""
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["severity_label"] = lambda s: SEVERITY_LABELS.get(s, s)
    env.filters["program_label"] = lambda p: PROGRAM_LABELS.get(p, p or "")
    env.filters["family_label"] = family_label
    env.filters["thousands"] = _thousands
    return env


def _thousands(amount: str) -> str:
    """``"1234567.50"`` -> ``"1,234,567.50"`` (exact, on the text)."""
    if not amount:
        return ""
    sign, body = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, _, frac = body.partition(".")
    return f"{sign}{int(whole):,}.{frac}" if frac else f"{sign}{int(whole):,}"
