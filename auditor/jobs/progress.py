"""Stage timing and progress: a bar per stage on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from auditor.engine.runner import CheckStatus

log = logging.getLogger("auditor")


class Stages:
    """Times named stages (``with stages("load"): ...``) and reports progress.

    A stage given a ``total`` shows a tqdm bar on a terminal, advanced by
    ``step`` (one table loaded) or ``tick`` (one rule done); elsewhere each
    step is a log line. Rule time is summed per family and logged when the
    stage ends. ``listener`` (if given) hears ``("start", name, total)``, ``("step", label, None)`` and
    ``("done", name, seconds)``, e.g. to show a run's progress in the browser.
    """

    def __init__(self, stream: TextIO | None = None,
                 listener: Callable[[str, str, float | None], None] | None = None) -> None:
        self.listener = listener
        self.t0 = time.perf_counter()
        self.durations: dict[str, float] = {}
        self.families: dict[str, float] = defaultdict(float)
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar: Any = None  # a tqdm bar while a stage with a total runs

    @contextmanager
    def __call__(self, name: str, total: int | None = None) -> Iterator[Stages]:
        start = time.perf_counter()
        if self.tty and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, file=self.stream, leave=False)
        log.info("stage %s started", name)
        if self.listener is not None:
            self.listener("start", name, total)
        try:
            yield self
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self.durations[name] = round(time.perf_counter() - start, 3)
            for family, seconds in sorted(self.families.items()):
                log.info("  family %s: %.2fs", family or "-", seconds)
            self.families.clear()
            log.info("stage %s done in %.2fs", name, self.durations[name])
            if self.listener is not None:
                self.listener("done", name, self.durations[name])

    def step(self, label: str) -> None:
        """Advance the current stage by one step named ``label``."""
        if self.listener is not None:
            self.listener("step", label, None)
        if self._bar is not None:
            self._bar.set_postfix_str(label)
            self._bar.update(1)
        else:
            log.info("  %s", label)

    def tick(self, status: CheckStatus) -> None:
        """Advance the current stage by one rule done (an engine ``CheckStatus``)."""
        self.families[status.family] += status.seconds
        if self.listener is not None:
            self.listener("step", status.code, None)
        if self._bar is not None:
            self._bar.set_postfix_str(status.code)
            self._bar.update(1)
        else:
            log.info("check %s: %s (%.2fs)", status.code,
                     f"{status.findings} findings" if status.ran else f"not run ({status.reason})", status.seconds)
