"""The demo: a synthetic 长宁区 drop with planted problems and the truth beside it."""

from __future__ import annotations

from auditor.demo.generate import generate

__all__ = ["generate"]
