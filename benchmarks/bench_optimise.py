"""Benchmark: the national-size portfolio MILP through allocsim (Pyomo + persistent HiGHS)
against the identical model passed to highspy directly as a sparse matrix (the floor).

Instance: 77 areas (76 provinces get projects), 18 clusters, 6 strategies, ~10,000 candidate
projects from the seeded synthetic catalogue (illustrative parameters), commitments over up to
5 fiscal years, every portfolio rule on. Both runs use the same gap and time limit. Prints the
ratio allocsim_total / direct_total; the target is <= 1.5.

    python benchmarks/bench_optimise.py [--gap 1e-3] [--time-limit 120] [--repeat 1]
"""

from __future__ import annotations

import argparse
import time

import highspy
import numpy as np
import scipy.sparse as sp

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.optimise.portfolio import build_portfolio
from allocsim.optimise.problem import PortfolioData, RuleParams, build_data
from allocsim.optimise.rules import RULES
from allocsim.optimise.solve import SolveOptions, Solver


def instance(seed: int = 2027) -> tuple[PortfolioData, RuleParams]:
    geo = load_geography()
    params = CatalogueParams(projects_per_province=108, projects_per_cluster=10, max_years=5,
                             multi_year_share=0.4)
    table = generate_catalogue(geo, params, np.random.default_rng(seed), 2027)
    data = build_data(table, geo)
    return data, RuleParams(alignment_threshold=0.6, matching_uptake=0.5, multi_year_allowed=True)


def direct(data: PortfolioData, rules: RuleParams, gap: float, limit: float) -> tuple[float, float, float]:
    """Same rows, same equity rows, same objective, straight into highspy."""
    t0 = time.perf_counter()
    blocks, lo, hi = [], [], []
    for fn in RULES.values():
        fam = fn(data, rules)
        if fam is None or fam.size == 0:
            continue
        blocks.append(sp.hstack([fam.A, sp.csr_matrix((fam.size, 1))]))
        lo.append(np.full(fam.size, -np.inf) if fam.sense == "<=" else fam.rhs)
        hi.append(fam.rhs if fam.sense == "<=" else np.full(fam.size, np.inf))
    pb = data.province_benefit().T.tocsr()
    has = np.flatnonzero(np.diff(pb.indptr) > 0)
    per_head = 1e6 / np.maximum(data.population[has], 1.0)
    eq = sp.hstack([-(sp.diags(per_head) @ pb[has]), sp.csr_matrix(np.ones((len(has), 1)))])
    blocks.append(eq)
    lo.append(np.full(len(has), -np.inf))
    hi.append(np.zeros(len(has)))
    A = sp.vstack(blocks).tocsc()
    n = data.n
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("time_limit", limit)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n + 1, A.shape[0]
    lp.col_cost_ = np.r_[data.benefit, 0.0]
    lp.col_lower_ = np.zeros(n + 1)
    lp.col_upper_ = np.r_[np.ones(n), highspy.kHighsInf]
    lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous]
    h.passModel(lp)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    solve = time.perf_counter() - t1
    return build, solve, h.getInfo().objective_function_value


def through_allocsim(data: PortfolioData, rules: RuleParams, gap: float, limit: float) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    pm = build_portfolio(data, rules)
    build = time.perf_counter() - t0
    st = Solver(SolveOptions(gap, limit)).solve(pm.model)
    return build, st.solve_seconds, st.objective or float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gap", type=float, default=1e-3)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    data, rules = instance()
    print(f"instance: {data.n} projects, {len(data.resources)} resources, {len(data.groups)} duplicate "
          f"groups, {int((data.requires >= 0).sum())} follow-ons; gap {args.gap:g}, limit {args.time_limit:g} s")
    for _ in range(args.repeat):
        db, ds, dobj = direct(data, rules, args.gap, args.time_limit)
        ab, as_, aobj = through_allocsim(data, rules, args.gap, args.time_limit)
        print(f"direct highspy : build {db:6.2f} s  solve {ds:6.2f} s  total {db + ds:6.2f} s  objective {dobj:,.2f}")
        print(f"allocsim/Pyomo : build {ab:6.2f} s  solve {as_:6.2f} s  total {ab + as_:6.2f} s  objective {aobj:,.2f}")
        print(f"ratio allocsim/direct total: {(ab + as_) / (db + ds):.2f}x  (target <= 1.5x); "
              f"objectives differ by {abs(aobj - dobj) / max(abs(dobj), 1e-9):.2e} (relative)")


if __name__ == "__main__":
    main()
