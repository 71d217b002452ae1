"""Near-optimal alternatives (modelling to generate alternatives, as calliope's SPORES and PyPSA's
MGA do for energy systems).

Why: a committee rarely wants *the* optimum; it wants to know what it can change without losing
much. Given the benefit optimum B*, every portfolio worth ≥ (1 − slack)·B* is "near-optimal".
:func:`near_optimal` finds K of them, each as different as possible from the optimum and from the
ones already found: portfolio k minimises Σ_p w_p·x_p, where w_p counts how many of the portfolios
found so far fund project p (so reusing a project costs, new projects are free), subject to every
rule row and the benefit row Σ_p b_p·x_p ≥ (1 − slack)·B*. Each solve is warm-started from the
previous portfolio (which satisfies the benefit row) on the same persistent HiGHS model.

For each province it also reports the least and most money it receives within the slack:
``found`` over the portfolios actually found, and ``bound`` from the LP relaxation of the
near-optimal region (no near-optimal portfolio can go outside it). A province whose lower bound
is positive is **must-fund**; one whose range is wide is **negotiable**.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocsim.optimise.problem import PortfolioData
from allocsim.optimise.solve import SolveOptions, SolveStatus

MONEY_SOURCES = ("province_budget", "ministry_budget", "local_grant", "private", "cluster_budget")
#: Search limits per alternative. Minimising overlap has many equally good answers and weak
#: bounds, so proving it optimal is slow and buys nothing: the benefit row already guarantees
#: every alternative is within the slack. Each search stops at this gap or time (its status says
#: which); the defaults keep a national run's alternatives to seconds each.
ALTERNATIVE_GAP = 0.01
ALTERNATIVE_TIME_S = 10.0


@dataclass
class Alternatives:
    portfolios: pd.DataFrame   # portfolio, project_id, selected (long table: portfolio × project)
    summary: pd.DataFrame      # portfolio, status, gap, total_benefit, share_of_optimum, projects, overlap
    ranges: pd.DataFrame       # province, optimum_mthb, min/max_found_mthb, min/max_bound_mthb, kind
    slack: float


def province_money(data: PortfolioData) -> np.ndarray:
    """(I, n) money each province receives per project funded (its share of the project's
    central cost on the money sources; total cost when the table names no such source)."""
    cols = [k for k, r in enumerate(data.resources) if r in MONEY_SOURCES]
    cost = (np.asarray(data.cost[:, cols].sum(axis=1)).ravel() if cols else data.total_cost)
    import scipy.sparse as sp

    return (sp.diags(cost) @ data.share).T.tocsr()


def near_optimal(pm, options: SolveOptions, optimum: np.ndarray, k: int,  # noqa: ANN001 - PortfolioModel
                 slack: float, *, time_limit_s: float = ALTERNATIVE_TIME_S,
                 gap: float = ALTERNATIVE_GAP, reference: SolveStatus | None = None) -> Alternatives:
    """K near-optimal portfolios and per-province money ranges (see the module docstring).
    Each alternative's search stops at ``gap`` or ``time_limit_s`` (never beyond ``options``).
    ``optimum`` should be the benefit optimum under the same rules; ``reference`` its status (row 0
    is called the optimum only when that is a proven optimum)."""
    from dataclasses import replace

    options = replace(options, mip_gap=max(options.mip_gap, gap),
                      time_limit_s=min(options.time_limit_s, time_limit_s))
    data: PortfolioData = pm.data
    h = pm.highs
    n = data.n
    best = float(data.benefit @ optimum)
    floor = (1.0 - slack) * best
    # the benefit row: sum_p b_p x_p >= (1 - slack) B*
    nz = np.flatnonzero(data.benefit)
    h.addRow(floor, np.inf, len(nz), nz.astype(np.int32), data.benefit[nz].astype(float))
    pm.set_objective("benefit")
    found = [np.round(optimum)]
    rows = [_row(0, reference, data, optimum, best, optimum)]
    rows[0]["status"] = ("optimum" if reference is None or reference.optimal
                         else f"best found (NOT OPTIMAL: {reference.status})")
    x_prev = optimum
    for j in range(1, k + 1):
        w = np.sum(found, axis=0)
        c = np.r_[-w, 0.0]  # maximise -overlap
        pm._set_costs(c)
        st = pm.run(options, start=x_prev, kind="benefit")
        if not st.has_solution:
            rows.append(_row(j, st, data, None, best, optimum))
            break
        x = pm.decisions()
        found.append(x)
        rows.append(_row(j, st, data, x, best, optimum))
        x_prev = x
    pm.set_objective("benefit")
    h.deleteRows(1, np.array([h.getNumRow() - 1], dtype=np.int32))
    port = pd.DataFrame({"portfolio": np.repeat(np.arange(len(found)), n),
                         "project_id": np.tile(data.ids, len(found)),
                         "selected": np.concatenate(found).astype(bool)})
    port = port[port["selected"]].drop(columns="selected").reset_index(drop=True)
    ranges = _ranges(pm, options, found, floor)
    return Alternatives(port, pd.DataFrame(rows), ranges, slack)


def _row(j: int, st: SolveStatus | None, data: PortfolioData, x: np.ndarray | None, best: float,
         optimum: np.ndarray) -> dict:
    if x is None:
        return {"portfolio": j, "status": st.status if st else "", "gap": st.gap if st else None,
                "total_benefit": np.nan, "share_of_optimum": np.nan, "projects": 0,
                "shared_with_optimum": 0, "jaccard_with_optimum": np.nan}
    b = float(data.benefit @ x)
    inter = int(np.sum((x > 0.5) & (optimum > 0.5)))
    union = int(np.sum((x > 0.5) | (optimum > 0.5)))
    return {"portfolio": j, "status": "optimum" if st is None else st.status,
            "gap": None if st is None else st.gap, "total_benefit": b,
            "share_of_optimum": b / best if best > 0 else np.nan, "projects": int(x.sum()),
            "shared_with_optimum": inter, "jaccard_with_optimum": inter / union if union else 1.0}


def _ranges(pm, options: SolveOptions, found: list[np.ndarray], floor: float) -> pd.DataFrame:  # noqa: ANN001
    """Least and most money per province: over the portfolios found, and the LP-relaxation
    bounds of the near-optimal region (one persistent LP, costs changed per province)."""
    import highspy

    from allocsim.optimise.portfolio import make_highs_lp, new_highs

    data: PortfolioData = pm.data
    lp = pm.lp
    M = province_money(data)  # (I, n)
    X = np.array(found)  # (K+1, n)
    money = np.asarray((M @ X.T).T if len(found) else np.zeros((0, M.shape[0])))  # (K+1, I)
    lo, hi = lp.default_bounds()
    g = new_highs(options)
    g.setOptionValue("time_limit", float(options.time_limit_s))
    relax = make_highs_lp(lp.A, lp.row_lower, lp.row_upper, np.zeros(lp.n + 1), lo, hi, n_integer=0)
    g.passModel(relax)
    nz = np.flatnonzero(data.benefit)
    g.addRow(floor, np.inf, len(nz), nz.astype(np.int32), data.benefit[nz].astype(float))
    has = np.flatnonzero(np.diff(M.indptr) > 0)
    out = []
    idx = np.arange(lp.n + 1, dtype=np.int32)
    for i in has:
        row = M.getrow(i).toarray().ravel()
        bounds = []
        for sign in (-1.0, 1.0):  # maximise -money (min), then money (max)
            g.changeColsCost(lp.n + 1, idx, np.r_[sign * row, 0.0])
            g.run()
            ok = g.getModelStatus() == highspy.HighsModelStatus.kOptimal
            bounds.append(sign * g.getInfo().objective_function_value if ok else np.nan)
        lo_b, hi_b = (max(bounds[0], 0.0) + 0.0) if np.isfinite(bounds[0]) else bounds[0], bounds[1]
        mf = money[:, i]
        out.append({"province": data.provinces[i], "name": data.name(i), "optimum_mthb": float(mf[0]),
                    "min_found_mthb": float(mf.min()), "max_found_mthb": float(mf.max()),
                    "min_bound_mthb": float(lo_b), "max_bound_mthb": float(hi_b),
                    "kind": "must-fund" if lo_b > 1e-6 else "negotiable"})
    return pd.DataFrame(out)
