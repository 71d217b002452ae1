"""Benchmark: the portfolio MILP through allocsim against the IDENTICAL model passed to highspy
directly (the floor).

Both sides use one assembly (``allocsim.optimise.portfolio.assemble``: the same rows, columns and
their order, the same greedy warm start), so HiGHS follows the same branch-and-bound path. The
direct reference times only the raw ``passModel`` + ``setSolution`` + ``run``; allocsim is timed end
to end from the prepared arrays (``select_portfolio``: assembly, greedy start, passModel, solve,
reading the solution). Every point is the MEDIAN of ``--repeat`` runs (default 3).

Instance: the seeded synthetic catalogue (illustrative parameters), 77 areas, 18 clusters,
commitments over up to 5 fiscal years, every portfolio rule on; ``projects_per_province`` (and per
cluster) scaled so the catalogue has ~N projects. Target: allocsim <= 1.2x direct at every point.

``--decompose`` also compares the single MILP with the exact decomposition (every resource split
into per-capita province quotas, so no row couples provinces beyond cluster projects).

    python benchmarks/bench_optimise.py [--sizes 10000 25000] [--gaps 1e-2 1e-3] [--repeat 3]
    python benchmarks/bench_optimise.py --decompose --sizes 25000 100000 --gaps 1e-2
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.optimise import select_portfolio
from allocsim.optimise.baselines import formula_weights
from allocsim.optimise.portfolio import assemble, new_highs
from allocsim.optimise.problem import PortfolioData, RuleParams, build_data
from allocsim.optimise.solve import SolveOptions, highs_status

BASE_SIZE = 10_000  # nominal size of the 10,163-project instance (108 per province, 10 per cluster)


def instance(size: int = BASE_SIZE, seed: int = 2027) -> tuple[PortfolioData, RuleParams]:
    geo = load_geography()
    f = size / BASE_SIZE
    params = CatalogueParams(max_years=5, multi_year_share=0.4).model_copy(
        update={"projects_per_province": max(1, round(108 * f)), "projects_per_cluster": max(1, round(10 * f))})
    table = generate_catalogue(geo, params, np.random.default_rng(seed), 2027)
    data = build_data(table, geo)
    return data, RuleParams(alignment_threshold=0.6, matching_uptake=0.5, multi_year_allowed=True)


def direct(data: PortfolioData, rules: RuleParams, options: SolveOptions, warm: bool) -> tuple[float, float, str, int]:
    """The same assembled matrix straight into highspy; times passModel + setSolution + run only."""
    from allocsim.optimise import feasible_start

    lp = assemble(data, rules)
    start = feasible_start(data, lp) if warm else None
    lo, hi = lp.default_bounds()
    hlp = lp.highs_lp(np.r_[lp.benefit, 0.0], lo, hi)
    h = new_highs(options)
    h.setOptionValue("mip_rel_gap", options.mip_gap)
    h.setOptionValue("time_limit", options.time_limit_s)
    t0 = time.perf_counter()
    h.passModel(hlp)
    if start is not None:
        z = float((-(lp.A[lp.equity_rows[0]:lp.equity_rows[1], : data.n] @ start)).min())
        h.setSolution(data.n + 1, np.arange(data.n + 1, dtype=np.int32), np.r_[start, z])
    h.run()
    seconds = time.perf_counter() - t0
    st = highs_status(h, options, seconds)
    return seconds, st.objective or float("nan"), st.status, int(h.getInfo().mip_node_count)


def through_allocsim(data: PortfolioData, rules: RuleParams, options: SolveOptions, warm: bool,
                     decompose: bool = False, workers: int | None = None) -> tuple[float, float, str, str, int]:
    t0 = time.perf_counter()
    r = select_portfolio(data, rules, options=options, warm_start=warm, decompose=decompose,
                         workers=workers)
    seconds = time.perf_counter() - t0
    note = r.decomposition["message"] if r.decomposition else ""
    nodes = int(r.model.highs.getInfo().mip_node_count) if r.model and r.model.highs else -1
    return seconds, r.status.objective or float("nan"), r.status.status, note, nodes


def quota_rules(data: PortfolioData, rules: RuleParams) -> RuleParams:
    """Every resource (budget sources and fiscal years) split into per-capita province quotas."""
    w = formula_weights("per_capita", data, np.zeros(len(data.provinces)))
    return replace(rules, quota=np.outer(w, data.capacity), quota_rule="per_capita")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 25_000])
    ap.add_argument("--gaps", type=float, nargs="+", default=[1e-2, 1e-3])
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-warm-start", action="store_true", help="neither side gets the greedy start")
    ap.add_argument("--decompose", action="store_true",
                    help="compare the single MILP with the exact decomposition (province quotas)")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    warm = not args.no_warm_start
    print(f"median of {args.repeat} runs; time limit {args.time_limit:g} s; warm start: {warm}")
    if not args.decompose:
        print(f"{'projects':>9} {'gap':>6} {'direct s':>9} {'allocsim s':>10} {'ratio':>6}  status  objectives")
    for size in args.sizes:
        data, rules = instance(size)
        if args.decompose:
            rules = quota_rules(data, rules)
        for gap in args.gaps:
            opt = SolveOptions(gap, args.time_limit)
            if args.decompose:
                mono = [through_allocsim(data, rules, opt, warm) for _ in range(args.repeat)]
                dec = [through_allocsim(data, rules, opt, warm, True, args.workers) for _ in range(args.repeat)]
                tm, td = statistics.median(m[0] for m in mono), statistics.median(d[0] for d in dec)
                print(f"{data.n:>7} projects gap {gap:g}: single MILP {tm:7.2f} s objective {mono[0][1]:,.2f} "
                      f"({mono[0][2]}); decomposed {td:7.2f} s objective {dec[0][1]:,.2f} ({dec[0][2]}); "
                      f"time ratio {td / tm:.2f}\n    {dec[0][3]}")
                continue
            d = [direct(data, rules, opt, warm) for _ in range(args.repeat)]
            a = [through_allocsim(data, rules, opt, warm) for _ in range(args.repeat)]
            td, ta = statistics.median(x[0] for x in d), statistics.median(x[0] for x in a)
            same = (f"same objective, B&B nodes {d[0][3]}/{a[0][4]}" if d[0][1] == a[0][1]
                    else f"direct {d[0][1]:,.3f} vs allocsim {a[0][1]:,.3f}")
            print(f"{data.n:>9} {gap:>6g} {td:>9.2f} {ta:>10.2f} {ta / td:>5.2f}x  {d[0][2]}/{a[0][2]}  {same}"
                  f"  (runs: direct {', '.join(f'{x[0]:.2f}' for x in d)}; allocsim "
                  f"{', '.join(f'{x[0]:.2f}' for x in a)})")
    if not args.decompose:
        print("target: ratio <= 1.2x at every point")


if __name__ == "__main__":
    main()
