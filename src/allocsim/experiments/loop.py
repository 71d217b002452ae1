"""The closed loop: each fiscal year the optimiser allocates, the simulation executes, the outcome
feeds next year's allocation.

With ``levers.allocation_rule = "optimal"`` the allocation LP is re-solved at the start of every
fiscal year from what the simulation left behind: the needs citizens have after last year's
services (the benefit of a province × strategy's candidate projects scales with its current need), and each
province's capacity — its absorption capacity scaled by how well it disbursed last year relative to
the national rate (within 0.5–1.5×) and reduced by the share of its budget already committed to
carried-over projects. The LP's province shares then set the simulation's provincial budgets. With a fixed rule (per capita, plan score, need) the
simulation applies the formula itself, so "optimal allocation" is a lever like any other.
Agents never touch the solver: the loop passes plain arrays between the two engines.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable
from allocsim.optimise.allocation import OBJECTIVES, allocation_inputs, solve_allocation
from allocsim.optimise.solve import SolveOptions
from allocsim.scenario.schema import Scenario
from allocsim.simulate import BudgetModel


def run_loop(sc: Scenario, geo: Geography | None, table: ProjectTable | None, seed: int) -> dict[str, pd.DataFrame]:
    """Simulate the horizon, re-optimising the allocation each year when the scenario says so
    (``geo`` and ``table`` are needed only then)."""
    model = BudgetModel(sc, seed=seed)
    optimal = sc.levers.allocation_rule == "optimal"
    if optimal and (geo is None or table is None):
        raise ValueError("the optimal allocation rule needs the geography and project table")
    inp = allocation_inputs(geo, table, sc.allocation) if optimal else None
    if inp is not None and inp.provinces != model.iso:
        raise RuntimeError("allocation LP and simulation disagree on the province order")
    options = SolveOptions(sc.solver.mip_gap, sc.solver.time_limit_s, sc.solver.threads)
    rows = []
    for y in range(sc.simulation.years):
        if inp is not None:
            need = model.citizens.province_need()
            factor = capacity_factor(model) if y > 0 else None
            year_inp = replace(inp, benefit_factor=need / max(float(need.mean()), 1e-12),
                               absorption_factor=factor)
            kind = sc.objective.kind if sc.objective.kind in OBJECTIVES else "benefit"
            res = solve_allocation(year_inp, options, objective=kind, need_target=sc.objective.need_target)
            t = res.table
            per = t[t["level"] == "province"].groupby("area")["amount_mthb"].sum().reindex(model.iso, fill_value=0.0)
            if res.total_benefit is not None and per.sum() > 0:
                model.allocation_weights = per.to_numpy(float)
            rows.append({"fiscal_year": sc.first_fiscal_year + y, "allocation_status": res.status.status,
                         "allocation_gap": res.status.gap, "allocation_benefit": res.total_benefit,
                         "used_optimiser_shares": res.total_benefit is not None,
                         "min_capacity_factor": float(factor.min()) if factor is not None else 1.0,
                         "max_capacity_factor": float(factor.max()) if factor is not None else 1.0})
        for _ in range(model.calendar.steps_per_year):
            model.step()
    tables = model.tables()
    if rows:
        tables["loop_allocation"] = pd.DataFrame(rows)
    return tables


def capacity_factor(model: BudgetModel) -> np.ndarray:
    """Per-province multiplier of absorption capacity from last year's simulation: disbursement
    performance relative to the national rate (clipped to 0.5–1.5) × the share of the province's
    budget not already committed to carried-over projects."""
    led = model.recorder.ledger_rows[-1]
    n = model.n_provinces
    alloc = led["allocated_thb"].to_numpy(float)[:n]
    rate = np.divide(led["disbursed_thb"].to_numpy(float)[:n], alloc, out=np.zeros(n), where=alloc > 0)
    national = rate[alloc > 0].mean() if (alloc > 0).any() else 1.0
    perf = np.clip(rate / max(national, 1e-12), 0.5, 1.5)
    committed = np.divide(led["carried_over_thb"].to_numpy(float)[:n], alloc, out=np.zeros(n), where=alloc > 0)
    return perf * np.clip(1.0 - committed, 0.1, 1.0)


__all__ = ["capacity_factor", "run_loop"]
