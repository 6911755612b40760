"""The plant registry: one plant per rule with a demo and a bench hook, taken by the demo and the generator."""

from __future__ import annotations

import pytest

from auditor.demo.plants import PLANTS, load_plants, register_plant
from auditor.engine.registry import REGISTRY, Rule, register
from auditor.engine.runner import load_catalogue


def test_every_rule_has_a_plant_with_both_hooks():
    plants = load_plants()
    assert list(plants) == list(load_catalogue())
    for code, plant in plants.items():
        assert plant.code == code and callable(plant.demo) and callable(plant.bench), code
        assert plant.demo.__module__.endswith(f".{code}_plant"), f"{code}'s plant lives beside its rule"


def test_a_plant_for_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown rule code 'X00'"):
        register_plant("X00", demo=lambda d: None, bench=lambda b: None)
    assert "X00" not in PLANTS


def test_a_plant_without_both_hooks_is_refused():
    with pytest.raises(ValueError, match="lacks its bench hook"):
        register_plant("R01", demo=lambda d: None)
    with pytest.raises(ValueError, match="lacks its demo and bench hook"):
        register_plant("R01")
    assert load_plants()["R01"].demo.__module__ == "checks.reconciliation.R01_plant"


def test_a_rule_without_a_plant_is_refused():
    load_catalogue()

    class Z90(Rule):
        """A rule nobody planted.

        Fires: never. Does not fire: ever.
        """

        code, name, severity, subject, stable_facts = "Z90", "无", "low", ("person_id",), ("person_id",)

        def find(self, ctx):
            raise NotImplementedError

    register(Z90)
    try:
        with pytest.raises(ValueError, match="rules without a plant.*Z90"):
            load_plants()
    finally:
        del REGISTRY["Z90"]
    assert "Z90" not in load_plants()
