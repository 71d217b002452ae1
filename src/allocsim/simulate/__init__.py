"""Agent-based simulation of the budget cycle (Mesa 3): institutions as agents, projects and
citizens as numpy arrays. ``simulate_scenario`` runs a scenario and returns tidy tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocsim.scenario.schema import Scenario
from allocsim.simulate.model import BudgetModel, InvariantError, check_invariants


def simulate_scenario(sc: Scenario, *, seed: int | None = None,
                      allocation_weights: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """Run the scenario's fiscal years; returns the simulation tables (see ``metrics.py``)."""
    model = BudgetModel(sc, seed=seed, allocation_weights=allocation_weights)
    model.run()
    return model.tables()


__all__ = ["BudgetModel", "InvariantError", "check_invariants", "simulate_scenario"]
