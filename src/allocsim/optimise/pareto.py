"""Epsilon-constraint Pareto frontier between total benefit and equity.

First the equity optimum gives the largest achievable minimum per-capita benefit z*. Then, for N
values ε from 0 to z*, maximise benefit subject to z >= ε. Every point re-solves the *same* model
object through the persistent HiGHS session, changing only the mutable parameter ε.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocsim.optimise.portfolio import PortfolioModel
from allocsim.optimise.solve import Solver


def pareto_frontier(pm: PortfolioModel, solver: Solver, points: int) -> pd.DataFrame:
    """Benefit–equity frontier with ``points`` points (status and gap reported for each)."""
    if points < 2:
        raise ValueError("a frontier needs at least 2 points")
    m = pm.model
    pm.set_objective("equity")
    st = solver.solve(m)
    zmax = pm.min_per_capita(pm.decisions()) if st.has_solution else 0.0
    rows = []
    m.eps_con.activate()
    pm.set_objective("benefit")
    try:
        for k, eps in enumerate(np.linspace(0.0, zmax * (1 - 1e-9), points)):
            m.eps.set_value(float(eps))
            st = solver.solve(m)
            x = pm.decisions() if st.has_solution else None
            rows.append({
                "point": k, "epsilon_min_per_capita": float(eps),
                "total_benefit": float(pyo.value(m.total_benefit)) if x is not None else np.nan,
                "min_per_capita_benefit": pm.min_per_capita(x) if x is not None else np.nan,
                "projects": int(x.sum()) if x is not None else 0,
                "status": st.status, "gap": st.gap, "solve_seconds": st.solve_seconds})
    finally:
        m.eps_con.deactivate()
        m.eps.set_value(0.0)
    return pd.DataFrame(rows)
