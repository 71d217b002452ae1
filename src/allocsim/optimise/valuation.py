"""What one more unit of each resource is worth in the portfolio MILP.

Why: the allocation LP has exact shadow prices (its duals), but a MILP has none — its value is a
step function of each capacity. Two honest answers, on request:

* the **LP relaxation** of the same matrix: its optimum bounds the MILP's, and its duals are the
  relaxation's marginal values (an approximation for the integer problem, labelled so);
* **re-solves**: each capacity row is raised by ``step`` (a share of its capacity), the MILP is
  re-solved warm-started from the current portfolio (still feasible: the row was only relaxed),
  and the value is the benefit gained per unit. Each re-solve keeps HiGHS's status and gap, and
  the gain is reported with the two gaps it carries (a gain smaller than the gaps is noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocsim.optimise.solve import SolveOptions

#: default step of each re-solve, as a share of the resource's capacity
STEP_SHARE = 0.01


def lp_relaxation(pm, options: SolveOptions) -> tuple[float | None, np.ndarray | None]:  # noqa: ANN001
    """(LP-relaxation optimum, row duals) of the loaded MILP's matrix (benefit objective)."""
    import highspy

    from allocsim.optimise.portfolio import make_highs_lp, new_highs

    lp = pm.lp
    lo, hi = lp.default_bounds()
    h = new_highs(options)
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.passModel(make_highs_lp(lp.A, lp.row_lower, lp.row_upper, np.r_[lp.benefit, 0.0], lo, hi, n_integer=0))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None
    return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().row_dual)


def resource_values(pm, options: SolveOptions, x: np.ndarray, *,  # noqa: ANN001 - PortfolioModel
                    step_share: float = STEP_SHARE) -> pd.DataFrame:
    """One row per capacity resource: LP-relaxation dual and the MILP's value by re-solve."""
    data = pm.data
    fam = pm.lp.families.get("capacity")
    if fam is None or pm.highs is None:
        return pd.DataFrame(columns=["resource", "capacity", "used", "lp_relaxation_dual", "step",
                                     "benefit_gain", "value_per_unit", "status", "gap", "base_gap"])
    r0, _ = pm.lp.rows_of["capacity"]
    base = pm.run(options, start=x, kind="benefit")
    v0 = float(data.benefit @ pm.decisions())
    _, duals = lp_relaxation(pm, options)
    used = fam.A @ x
    rows = []
    h = pm.highs
    for r in range(fam.size):
        row = r0 + r
        cap = float(fam.rhs[r])
        step = max(step_share * abs(cap), 1e-9)
        lo = float(pm.lp.row_lower[row])
        h.changeRowBounds(row, lo, cap + step)
        st = pm.run(options, start=x, kind="benefit")
        v = float(data.benefit @ pm.decisions()) if st.has_solution else np.nan
        h.changeRowBounds(row, lo, cap)
        rows.append({"resource": data.resources[r], "capacity": cap, "used": float(used[r]),
                     "lp_relaxation_dual": float(duals[row]) if duals is not None else np.nan,
                     "step": step, "benefit_gain": v - v0, "value_per_unit": (v - v0) / step,
                     "status": st.status, "gap": st.gap, "base_gap": base.gap})
    pm._x = x
    return pd.DataFrame(rows)
