"""Fault injection for crash tests: a run calls ``checkpoint(name)`` at each stage boundary.

``AUDITOR_FAULT=<name>`` makes the checkpoint ``name`` raise ``FaultInjected``;
``AUDITOR_FAULT=hang:<name>`` makes it print ``FAULT-HANG <name>`` on stderr and block until
stdin closes (a test kills the process there, without sleeping). Unset: nothing happens.

Checkpoints of the monthly audit: ``load``, ``checks``, ``store`` (inside the store transaction,
before commit), ``output:<file>`` (after each output file is written aside) and ``publish`` (all
outputs written, before they are moved into place).
"""

from __future__ import annotations

import os
import sys

ENV = "AUDITOR_FAULT"


class FaultInjected(RuntimeError):
    """The fault asked for by ``AUDITOR_FAULT``."""


def checkpoint(name: str) -> None:
    """Fail or hang here when ``AUDITOR_FAULT`` names this checkpoint."""
    fault = os.environ.get(ENV)
    if not fault:
        return
    if fault == name:
        raise FaultInjected(f"fault injected at {name}")
    if fault == f"hang:{name}":
        print(f"FAULT-HANG {name}", file=sys.stderr, flush=True)
        sys.stdin.read()
        raise FaultInjected(f"fault injected at {name} (released)")
