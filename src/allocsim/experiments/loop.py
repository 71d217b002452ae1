"""The closed loop, now one world: each fiscal year the simulation's agents propose, the scenario's
allocation rule sets each holder's baht, selection decides (provinces' own ranking, or the
portfolio MILP under ``allocation_rule = "optimal"``), the simulation executes exactly those
projects, and next year's proposals and allocation see the needs, carry-overs and performance
left behind. The chain lives in ``allocsim.simulate.world``; this module runs it for a scenario.
Agents never touch the solver: the world passes plain tables between the two engines.
"""

from __future__ import annotations

import pandas as pd

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable
from allocsim.scenario.schema import Scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate.world import capacity_factor


def run_world(sc: Scenario, table: ProjectTable | None, seed: int) -> tuple[dict[str, pd.DataFrame], BudgetModel]:
    """Simulate the horizon in one world; returns the tables and the model (its ``plans`` hold
    each year's project book, money and selection). A user's project file
    (``projects.source = "file"``) is the project book as given; otherwise the proposing agents
    generate it each year."""
    user = table if (table is not None and sc.projects.source == "file") else None
    model = BudgetModel(sc, seed=seed, projects=user)
    model.run()
    tables = model.tables()
    tables["loop_allocation"] = tables.pop("world_years")
    return tables, model


def run_loop(sc: Scenario, geo: Geography | None, table: ProjectTable | None, seed: int) -> dict[str, pd.DataFrame]:
    """``run_world``'s tables (``geo`` is kept for callers; the model loads the geography)."""
    return run_world(sc, table, seed)[0]


__all__ = ["capacity_factor", "run_loop", "run_world"]
