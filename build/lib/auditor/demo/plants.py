"""The plant registry: one plant per rule code, beside its rule in ``checks/<family>/<CODE>_plant.py``.

A plant has two hooks: ``demo(district)`` plants the rule's problems and
near-misses into the demo district row by row (recording the truth with
``District.expect`` / ``near_miss``); ``bench(planting)`` plants it into the
benchmark generator's columnar drop (``auditor.demo.columnar``). The demo and
the generator take every plant from here; a rule without a plant, or a plant
without both hooks or for an unknown code, is refused.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from auditor.engine.runner import PLANT_SUFFIX, load_catalogue


@dataclass(frozen=True)
class Plant:
    code: str
    demo: Callable
    bench: Callable


PLANTS: dict[str, Plant] = {}


def register_plant(code: str, *, demo: Callable | None = None, bench: Callable | None = None) -> Plant:
    """Register the plant of rule ``code``; refuses an unknown code, a missing hook, a second plant."""
    if code not in load_catalogue():
        raise ValueError(f"plant for unknown rule code {code!r}")
    missing = [name for name, hook in (("demo", demo), ("bench", bench)) if not callable(hook)]
    if missing:
        raise ValueError(f"plant {code} lacks its {' and '.join(missing)} hook")
    if code in PLANTS and (PLANTS[code].demo, PLANTS[code].bench) != (demo, bench):
        raise ValueError(f"duplicate plant for rule {code}")
    PLANTS[code] = Plant(code, demo, bench)
    return PLANTS[code]


def load_plants() -> dict[str, Plant]:
    """Import every ``checks/<family>/<CODE>_plant.py``; every rule of the catalogue must have a plant."""
    import checks

    catalogue = load_catalogue()
    for info in pkgutil.walk_packages(checks.__path__, prefix="checks."):
        if info.name.endswith(PLANT_SUFFIX):
            importlib.import_module(info.name)
    missing = [code for code in catalogue if code not in PLANTS]
    if missing:
        raise ValueError(f"rules without a plant (checks/<family>/<CODE>{PLANT_SUFFIX}.py): {', '.join(missing)}")
    return {code: PLANTS[code] for code in sorted(PLANTS) if code in catalogue}
