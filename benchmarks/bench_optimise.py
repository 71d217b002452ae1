"""Benchmark: the portfolio MILP through allocsim against the IDENTICAL model passed to highspy
directly (the floor).

Both sides use one assembly (``allocsim.optimise.portfolio.assemble``: the same rows, columns and
their order, the same greedy warm start), so HiGHS follows the same branch-and-bound path. The
direct reference times only the raw ``passModel`` + ``setSolution`` + ``run``; allocsim is timed end
to end from the prepared arrays (``select_portfolio``: assembly, greedy start, passModel, solve,
reading the solution). Every point is the MEDIAN of ``--repeat`` runs (default 3); direct and
allocsim runs alternate so that load from other processes drifts onto both alike. Wall time is
the headline; process CPU time (all HiGHS threads) is printed too, as it is less sensitive to a
shared machine. Equal B&B node and simplex iteration counts show that both took the same path.

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


def _work(h: object) -> str:
    i = h.getInfo()
    return f"{i.mip_node_count}/{i.simplex_iteration_count}"


def direct(data: PortfolioData, rules: RuleParams, options: SolveOptions, warm: bool) -> tuple:
    """The same assembled matrix straight into highspy; times passModel + setSolution + run only."""
    from allocsim.optimise import feasible_start

    lp = assemble(data, rules)
    start = feasible_start(data, lp) if warm else None
    lo, hi = lp.default_bounds()
    hlp = lp.highs_lp(np.r_[lp.benefit, 0.0], lo, hi)
    h = new_highs(options)
    h.setOptionValue("mip_rel_gap", options.mip_gap)
    h.setOptionValue("time_limit", options.time_limit_s)
    t0, c0 = time.perf_counter(), time.process_time()
    h.passModel(hlp)
    if start is not None:
        z = float((-(lp.A[lp.equity_rows[0]:lp.equity_rows[1], : data.n] @ start)).min())
        h.setSolution(data.n + 1, np.arange(data.n + 1, dtype=np.int32), np.r_[start, z])
    h.run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    st = highs_status(h, options, seconds)
    return seconds, st.objective or float("nan"), st.status, _work(h), cpu


def through_allocsim(data: PortfolioData, rules: RuleParams, options: SolveOptions, warm: bool,
                     decompose: bool = False, workers: int | None = None) -> tuple:
    t0, c0 = time.perf_counter(), time.process_time()
    r = select_portfolio(data, rules, options=options, warm_start=warm, decompose=decompose,
                         workers=workers)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    note = r.decomposition["message"] if r.decomposition else ""
    work = _work(r.model.highs) if r.model and r.model.highs else "-"
    return seconds, r.status.objective or float("nan"), r.status.status, work, cpu, note


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
        print(f"{'projects':>9} {'gap':>6} {'direct s':>9} {'allocsim s':>10} {'ratio':>6}  cpu direct/allocsim  "
              "status  path")
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
                      f"time ratio {td / tm:.2f}\n    {dec[0][5]}")
                continue
            d, a = [], []
            for _ in range(args.repeat):  # alternate, so load drift hits both alike
                d.append(direct(data, rules, opt, warm))
                a.append(through_allocsim(data, rules, opt, warm))
            td, ta = statistics.median(x[0] for x in d), statistics.median(x[0] for x in a)
            cd, ca = statistics.median(x[4] for x in d), statistics.median(x[4] for x in a)
            same = (f"same objective, nodes/simplex iterations {d[0][3]} vs {a[0][3]}" if d[0][1] == a[0][1]
                    else f"direct {d[0][1]:,.3f} vs allocsim {a[0][1]:,.3f}")
            print(f"{data.n:>9} {gap:>6g} {td:>9.2f} {ta:>10.2f} {ta / td:>5.2f}x  cpu {cd:.2f}/{ca:.2f} "
                  f"{ca / cd:.2f}x  {d[0][2]}/{a[0][2]}  {same}  (runs: direct "
                  f"{', '.join(f'{x[0]:.2f}' for x in d)}; allocsim {', '.join(f'{x[0]:.2f}' for x in a)})")
    if not args.decompose:
        print("target: ratio <= 1.2x at every point")


if __name__ == "__main__":
    main()
