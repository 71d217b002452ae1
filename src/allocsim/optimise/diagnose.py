"""Infeasibility explained in policy words.

When a scenario's rules cannot all hold, the elastic version of the same model gives every rule
row a non-negative slack and minimises the (scaled) total slack. The rows that still need slack at
the optimum are the conflicting rules, and their slack is by how much: "matching funds: Nan needs
41.0 M THB local co-funding, capacity is 12.0 M THB". Never a bare solver error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocsim.optimise.portfolio import build_portfolio
from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.solve import SolveOptions, Solver, SolveStatus

TOL = 1e-6


@dataclass
class Diagnosis:
    status: SolveStatus
    conflicts: pd.DataFrame  # rule, row, amount, message

    @property
    def rules(self) -> list[str]:
        return sorted(set(self.conflicts["rule"]))

    def messages(self) -> list[str]:
        return self.conflicts["message"].tolist()


def explain_infeasibility(data: PortfolioData, params: RuleParams, options: SolveOptions) -> Diagnosis:
    """Solve the elastic model and list the broken rule rows with their shortfall."""
    pm = build_portfolio(data, params, elastic=True)
    status = Solver(options).solve(pm.model)
    rows = []
    if status.has_solution:
        for name, fam in pm.families.items():
            slack = pm.model.component(f"slack_{name}")
            values = np.array([pyo.value(slack[r]) or 0.0 for r in range(fam.size)])
            for r in np.flatnonzero(values > TOL * np.maximum(1.0, np.abs(fam.rhs))):
                rows.append({"rule": name, "row": int(r), "amount": float(values[r]),
                             "message": fam.describe(int(r), float(values[r]))})
    conflicts = pd.DataFrame(rows, columns=["rule", "row", "amount", "message"])
    return Diagnosis(status, conflicts.sort_values(["rule", "amount"], ascending=[True, False],
                                                   ignore_index=True))
