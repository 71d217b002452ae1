"""The portfolio MILP: which candidate projects to fund, in Pyomo.

x_p ∈ {0,1} per project. Each switched-on rule module adds one family of rows (see ``rules/``).
Objectives (DOMAIN.md §8):
  * ``benefit``  — maximise total benefit Σ b_p x_p;
  * ``equity``   — maximise the minimum per-capita benefit z over provinces with candidates
                   (ties broken by a tiny weight on total benefit);
  * ``weighted`` — (1-w)·benefit + w·Z, where Z = z × national population is the benefit the
                   country would get if every province had the minimum per-capita benefit, so both
                   terms are in the same money unit.
The equity rows and an epsilon constraint z >= ε (a mutable parameter, off unless a Pareto
frontier is traced) are always built, so objectives switch and frontier points re-solve on the
same model object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules import RULES, RuleRows

OBJECTIVES = ("benefit", "equity", "weighted")
EQUITY_TIEBREAK = 1e-3


@dataclass
class PortfolioModel:
    data: PortfolioData
    params: RuleParams
    model: pyo.ConcreteModel
    families: dict[str, RuleRows] = field(default_factory=dict)
    elastic: bool = False
    equity_provinces: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    per_head: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def decisions(self) -> np.ndarray:
        x = self.model.x
        return np.array([round(pyo.value(x[j]) or 0.0) for j in range(self.data.n)], dtype=float)

    def set_objective(self, kind: str, equity_weight: float = 0.5) -> None:
        if kind not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}")
        wb, we = {"benefit": (1.0, 0.0), "equity": (EQUITY_TIEBREAK, 1.0),
                  "weighted": (1.0 - equity_weight, equity_weight)}[kind]
        m = self.model
        m.w_benefit.set_value(wb)
        m.w_equity.set_value(we)

    def min_per_capita(self, x: np.ndarray) -> float:
        """Minimum per-capita benefit over the equity provinces for decisions x (THB per head
        when money is in million THB)."""
        if len(self.equity_provinces) == 0:
            return 0.0
        pb = self.data.province_benefit().T @ x
        return float(np.min(pb[self.equity_provinces] * self.per_head))


def _rows_to_constraints(m: pyo.ConcreteModel, fam: RuleRows, slack: pyo.Var | None) -> pyo.Constraint:
    A, rhs, x = fam.A, fam.rhs, m.x
    indptr, indices, data = A.indptr, A.indices, A.data

    def rule(_m: pyo.ConcreteModel, r: int) -> object:
        lo, hi = indptr[r], indptr[r + 1]
        expr = pyo.quicksum(data[k] * x[int(indices[k])] for k in range(lo, hi))
        if slack is not None:
            expr = expr - slack[r] if fam.sense == "<=" else expr + slack[r]
        if lo == hi and slack is None:
            return pyo.Constraint.Feasible if (rhs[r] >= 0 if fam.sense == "<=" else rhs[r] <= 0) \
                else pyo.Constraint.Infeasible
        return expr <= rhs[r] if fam.sense == "<=" else expr >= rhs[r]

    return pyo.Constraint(range(fam.size), rule=rule)


def build_portfolio(data: PortfolioData, params: RuleParams, *, objective: str = "benefit",
                    equity_weight: float = 0.5, elastic: bool = False,
                    rules: Iterable[str] | None = None) -> PortfolioModel:
    """Build the Pyomo model. ``elastic`` adds a penalised slack to every rule row (diagnosis)."""
    m = pyo.ConcreteModel(name="allocsim_portfolio")
    m.x = pyo.Var(range(data.n), within=pyo.Binary)
    pm = PortfolioModel(data, params, m, elastic=elastic)
    penalty = []
    for name in rules if rules is not None else RULES:
        fam = RULES[name](data, params)
        if fam is None or fam.size == 0:
            continue
        pm.families[name] = fam
        slack = None
        if elastic:
            slack = pyo.Var(range(fam.size), within=pyo.NonNegativeReals)
            m.add_component(f"slack_{name}", slack)
            penalty.extend((float(fam.scale[r]), slack[r]) for r in range(fam.size))
        m.add_component(f"rule_{name}", _rows_to_constraints(m, fam, slack))

    # equity: z <= per-capita benefit of every province that has candidate projects
    pb = data.province_benefit().T.tocsr()  # (I, n)
    has = np.flatnonzero(np.diff(pb.indptr) > 0)
    pm.equity_provinces = has
    scale = 1e6 if data.names else 1.0  # THB per head when money is M THB and population is real
    pm.per_head = scale / np.maximum(data.population[has], 1.0)
    m.z = pyo.Var(within=pyo.NonNegativeReals)

    def eq_rule(_m: pyo.ConcreteModel, r: int) -> object:
        i = int(has[r])
        lo, hi = pb.indptr[i], pb.indptr[i + 1]
        return m.z <= pyo.quicksum(pb.data[k] * pm.per_head[r] * m.x[int(pb.indices[k])]
                                    for k in range(lo, hi))

    m.equity_rows = pyo.Constraint(range(len(has)), rule=eq_rule)
    m.eps = pyo.Param(initialize=0.0, mutable=True)
    m.eps_con = pyo.Constraint(expr=m.z >= m.eps)
    m.eps_con.deactivate()

    benefit = pyo.quicksum((float(b) * m.x[j] for j, b in enumerate(data.benefit) if b != 0))
    pop_total = float(data.population[has].sum()) / scale if len(has) else 0.0
    m.w_benefit = pyo.Param(initialize=1.0, mutable=True)
    m.w_equity = pyo.Param(initialize=0.0, mutable=True)
    m.total_benefit = pyo.Expression(expr=benefit)
    m.obj = pyo.Objective(expr=m.w_benefit * m.total_benefit + m.w_equity * pop_total * m.z,
                          sense=pyo.maximize)
    if elastic:
        m.obj.deactivate()
        m.violation = pyo.Objective(expr=pyo.quicksum(w * s for w, s in penalty), sense=pyo.minimize)
    pm.set_objective(objective, equity_weight)
    return pm
