"""Epsilon-constraint Pareto frontier between total benefit and equity (max-min per-capita benefit).

The two ends are solved first: the benefit optimum (its own minimum per-capita benefit z_b) and the
lexicographic max-min optimum z* (then most benefit). For N values ε evenly spaced from z_b to z*,
maximise benefit subject to z >= ε. Points are traced from the equity end downwards so that every
point is warm-started (``setSolution``) from the previous one, which is feasible for it. Duplicate
and dominated points are dropped; status and gap of every kept point are reported as HiGHS gave
them. Every point re-solves the same loaded HiGHS model: only the bound on z and the costs change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocsim.optimise.portfolio import PortfolioModel
from allocsim.optimise.solve import SolveOptions, SolveStatus

COLUMNS = ["point", "epsilon_min_per_capita", "total_benefit", "min_per_capita_benefit", "projects",
           "status", "gap", "solve_seconds"]


def _row(pm: PortfolioModel, eps: float, st: SolveStatus) -> dict:
    x = pm.decisions() if st.has_solution else None
    return {"epsilon_min_per_capita": float(eps) + 0.0,  # no "-0.0" in the table
            "total_benefit": float(pm.data.benefit @ x) if x is not None else np.nan,
            "min_per_capita_benefit": pm.min_per_capita(x) if x is not None else np.nan,
            "projects": int(x.sum()) if x is not None else 0,
            "status": st.status, "gap": st.gap, "solve_seconds": st.solve_seconds,
            "_x": x}


def non_dominated(f: pd.DataFrame, rtol: float = 1e-9) -> pd.DataFrame:
    """Keep points no other point matches or beats on both benefit and min per-capita benefit;
    of equal points keep one. Sorted by min per-capita benefit, increasing."""
    f = f.dropna(subset=["total_benefit", "min_per_capita_benefit"])
    b, z = f["total_benefit"].to_numpy(), f["min_per_capita_benefit"].to_numpy()
    tb = rtol * max(1.0, float(np.abs(b).max(initial=0)))
    tz = rtol * max(1.0, float(np.abs(z).max(initial=0)))
    keep = []
    for i in range(len(f)):
        dominated = False
        for j in range(len(f)):
            if i == j:
                continue
            ge = b[j] >= b[i] - tb and z[j] >= z[i] - tz
            gt = b[j] > b[i] + tb or z[j] > z[i] + tz
            if ge and (gt or j < i):  # beaten, or an equal point that comes first
                dominated = True
                break
        if not dominated:
            keep.append(i)
    out = f.iloc[keep].sort_values("min_per_capita_benefit", kind="stable").reset_index(drop=True)
    out["point"] = np.arange(len(out))
    return out


def pareto_frontier(pm: PortfolioModel, options: SolveOptions, points: int,
                    start: np.ndarray | None = None,
                    benefit: tuple[SolveStatus, np.ndarray] | None = None) -> pd.DataFrame:
    """Benefit–equity frontier with at most ``points`` points (fewer when points coincide).
    ``benefit``: the benefit optimum's status and decisions when already solved on ``pm``."""
    if points < 2:
        raise ValueError("a frontier needs at least 2 points")
    kind = pm.objective
    rows = []
    try:
        if benefit is not None:
            st_b, pm._x = benefit[0], benefit[1].copy()
        else:
            st_b = pm.solve(options, start=start, kind="benefit")
        if not st_b.has_solution:
            return pd.DataFrame([_row(pm, np.nan, st_b)]).drop(columns="_x").reindex(columns=COLUMNS)
        xb = pm.decisions()
        zb = pm.min_per_capita(xb)
        rows.append(_row(pm, zb, st_b))
        st_e = pm.solve(options, start=xb, kind="equity")
        if st_e.has_solution:
            ze = pm.min_per_capita(pm.decisions())
            rows.append(_row(pm, ze, st_e))
            prev = pm.decisions()
            for eps in np.linspace(zb, ze, points)[-2:0:-1]:  # interior points, equity end first
                pm.hold_z(float(eps))
                st = pm.run(options, start=prev, kind="benefit")
                rows.append(_row(pm, eps, st))
                if st.has_solution:
                    prev = pm.decisions()
    finally:
        pm.set_objective(kind)
    return non_dominated(pd.DataFrame(rows)).drop(columns="_x")[COLUMNS]
