"""Benchmark: the national budget-cycle simulation with vectorised citizens, against a naive
reference in which every citizen is a Mesa agent; and the cost of one Mesa agent per local
government.

National run at the baseline's scale: ``scenarios/baseline.toml`` (its envelopes and catalogue
sizing, ``catalogue.oversubscription``, so the proposals a year are the baseline's), 76 provinces
+ their 18 clusters, the 7,841 local governments (real per-province
counts by type, Bangkok's BMA not simulated) aggregated as one agent per type per province (331
agents), 10 ministries, >= 1 M citizens, 10 fiscal years.
The naive reference is the same model with the citizens replaced by one ``mesa.Agent`` each (same
methods, same caching, Python loops instead of numpy). It is too slow to run at 1 M, so it runs on
two samples and its time is extrapolated linearly in the number of citizens (t = a + b·N, fitted
to the two samples); memory likewise. Prints the speed ratio, wall time and peak memory.

Local-government modes: the national run in ``aggregated`` and ``per_body`` mode (7,841 agents,
capacities drawn per body), each repeated ``--repeats`` times (>= 3) in a fresh process so that
peak RSS is that run's own; prints the median wall time and peak RSS of each and the difference.
The headline national figure is the median of the ``aggregated`` runs (the default mode).

    python benchmarks/bench_simulate.py [--citizens-per-province 13200] [--years 10] [--repeats 3]
                                        [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import mesa
import numpy as np

from allocsim.scenario import load_scenario
from allocsim.scenario.schema import Scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate.citizens import Citizens
from allocsim.simulate.local_governments import build_local_governments

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def national(mode: str = "aggregated") -> Scenario:
    """The baseline scenario (its catalogue sizing: the proposals a year of the default run) with
    local governments in ``mode``."""
    return load_scenario(BASELINE).updated({"simulation.local_government_agents": mode})


class CitizenAgent(mesa.Agent):
    def __init__(self, model: mesa.Model, province: int, need: list[float], participates: bool) -> None:
        super().__init__(model)
        self.province, self.need, self.participates, self.satisfaction = province, need, participates, 0.5


class NaiveCitizens:
    """Same interface as ``Citizens``, one Mesa agent per citizen."""

    def __init__(self, model: BudgetModel, like: Citizens) -> None:
        self.n_provinces, self.strategies = like.n_provinces, like.strategies
        self.population, self.per_province = like.population, like.per_province
        self.province = like.province  # read by the recorder for participation counts
        self.participates = like.participates
        self.agents = [CitizenAgent(model, int(p), [float(x) for x in like.need[k]], bool(like.participates[k]))
                       for k, p in enumerate(like.province)]
        self._cache: dict[str, np.ndarray] = {}

    @property
    def need(self) -> np.ndarray:  # read by the end-of-run plausibility checks
        return np.array([a.need for a in self.agents])

    @property
    def satisfaction(self) -> np.ndarray:
        return np.array([a.satisfaction for a in self.agents])

    def _mean(self, get, only_participants: bool = False) -> np.ndarray:
        tot = np.zeros((self.n_provinces, self.strategies))
        cnt = np.zeros(self.n_provinces)
        for a in self.agents:
            if only_participants and not a.participates:
                continue
            v = get(a)
            tot[a.province] += v
            cnt[a.province] += 1
        return np.divide(tot, np.maximum(cnt, 1)[:, None])

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key].copy()

    def province_need(self):
        return self._cached("need", lambda: self._mean(lambda a: a.need))

    def voiced_need(self):
        def compute():
            heard = self._mean(lambda a: a.need, True)
            heard[heard.sum(axis=1) == 0] = 1.0 / self.strategies
            return heard
        return self._cached("voiced", compute)

    def unmet_need(self):
        return self._cached("unmet", lambda: self.province_need().mean(axis=1))

    def mean_satisfaction(self):
        return self._cached("sat", lambda: self._mean(lambda a: [a.satisfaction] * self.strategies)[:, 0])

    def receive(self, effective_thb, relief_thb_per_head, growth):
        self._cache.clear()
        per_head = effective_thb / np.maximum(self.population, 1.0)[:, None]
        factor = np.exp(-per_head / relief_thb_per_head)
        relief = np.zeros(self.n_provinces)
        for a in self.agents:
            before = sum(a.need) / len(a.need)
            a.need = [n * f + growth * (1 - n * f) for n, f in zip(a.need, factor[a.province], strict=True)]
            relief[a.province] += before - sum(a.need) / len(a.need)
        return relief / self.per_province

    def update_satisfaction(self, relief, delay_days, relief_weight, delay_weight_per_100):
        self._cache.clear()
        target = np.clip(0.6 + relief_weight * relief - delay_weight_per_100 * delay_days / 100.0, 0, 1)
        for a in self.agents:
            a.satisfaction += (0.6 if a.participates else 0.5) * (target[a.province] - a.satisfaction)


class NaiveModel(BudgetModel):
    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.citizens = NaiveCitizens(self, self.citizens)


def timed(cls: type[BudgetModel], per_province: int, years: int) -> tuple[float, int]:
    """Wall time of a full run (no tracing: tracemalloc itself slows Python code severalfold)."""
    t0 = time.perf_counter()
    m = cls(national(), seed=1, years=years, citizens_per_province=per_province)
    m.run()
    return time.perf_counter() - t0, m.n_provinces * per_province


def traced_peak(cls: type[BudgetModel], per_province: int) -> float:
    """Peak traced Python memory (MB) of building the model and running one year."""
    tracemalloc.start()
    m = cls(national(), seed=1, years=1, citizens_per_province=per_province)
    m.run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def one_run(mode: str, per_province: int, years: int) -> dict:
    """One national run in this process: wall time (build + run) and this process's peak RSS."""
    sc = national(mode)
    t0 = time.perf_counter()
    m = BudgetModel(sc, seed=1, years=years, citizens_per_province=per_province)
    build = time.perf_counter() - t0
    m.run()
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the local governments' own share, measured after the run: build table + agents again ...
    rng = np.random.default_rng(0) if mode == "per_body" else None

    def build_lg() -> list:
        table = build_local_governments(m.lg_counts, sc.simulation, rng)
        return [m.local_government_class(m, k) for k in range(len(table))]

    t1 = time.perf_counter()
    build_lg()
    lg_build = time.perf_counter() - t1
    tracemalloc.start()
    keep = build_lg()
    lg_mem = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del keep
    # ... and the yearly province sum of co-funding capacity (vectorised in both modes)
    t1 = time.perf_counter()
    for _ in range(100):
        m.local_cofunding_thb()
    sum_us = (time.perf_counter() - t1) / 100 * 1e6
    return {"mode": mode, "agents": len(m.local_governments), "bodies": int(m.lg.bodies.sum()),
            "citizens": int(m.citizens.size), "proposals_per_year": len(m.book) / years,
            "build_s": build, "wall_s": wall, "rss_mb": rss, "lg_build_s": lg_build,
            "lg_traced_mb": lg_mem, "cofund_sum_us": sum_us}


def local_government_modes(per_province: int, years: int, repeats: int) -> dict[str, dict]:
    """Median wall time and peak RSS of each mode, every run in a fresh process."""
    res: dict[str, list[dict]] = {}
    for _ in range(repeats):  # interleaved, so load changes on the machine hit both modes alike
        for mode in ("aggregated", "per_body"):
            out = subprocess.run([sys.executable, __file__, "--one", mode, "--years", str(years),
                                  "--citizens-per-province", str(per_province)],
                                 check=True, capture_output=True, text=True).stdout
            res.setdefault(mode, []).append(json.loads(out.strip().splitlines()[-1]))
    med = {}
    keys = ("build_s", "wall_s", "rss_mb", "lg_build_s", "lg_traced_mb", "cofund_sum_us")
    for mode, runs in res.items():
        med[mode] = md = {k: statistics.median(r[k] for r in runs) for k in keys}
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        print(f"local governments {mode:10s}: {runs[0]['agents']:,} agents for {runs[0]['bodies']:,} bodies; "
              f"median of {len(runs)} runs: wall {md['wall_s']:6.2f} s (model build {md['build_s']:.2f} s; "
              f"runs {walls}), peak RSS {md['rss_mb']:,.0f} MB; local governments alone: build "
              f"{md['lg_build_s'] * 1e3:.1f} ms, traced {md['lg_traced_mb']:.2f} MB, yearly province "
              f"sum {md['cofund_sum_us']:.0f} us")
    a, b = med["aggregated"], med["per_body"]
    print(f"per-body cost vs aggregated: wall {b['wall_s'] - a['wall_s']:+.2f} s "
          f"({b['wall_s'] / a['wall_s'] - 1:+.1%}), peak RSS {b['rss_mb'] - a['rss_mb']:+,.0f} MB "
          f"(aggregated targets < 10 s, < 1 GB for {years} years)")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens-per-province", type=int, default=13200)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--samples", type=int, nargs=2, default=(40, 120), help="naive sample sizes per province")
    ap.add_argument("--repeats", type=int, default=3, help="runs per local-government mode (>= 3)")
    ap.add_argument("--skip-naive", action="store_true", help="only the national and local-government runs")
    ap.add_argument("--one", choices=("aggregated", "per_body"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # a child process of local_government_modes
        print(json.dumps(one_run(args.one, args.citizens_per_province, args.years)))
        return
    if args.repeats < 3:
        ap.error("--repeats must be at least 3 (a median of fewer runs says little)")

    res = local_government_modes(args.citizens_per_province, args.years, args.repeats)
    runs = res["aggregated"]
    wall = statistics.median(r["wall_s"] for r in runs)
    rss = statistics.median(r["rss_mb"] for r in runs)
    n = runs[0]["citizens"]
    print(f"national run (baseline scale: {BASELINE.name}, {runs[0]['proposals_per_year']:,.0f} book rows "
          f"(proposals and tranches) a year): 76 provinces, {runs[0]['agents']} local-government agents "
          f"({runs[0]['bodies']:,} bodies), {n:,} citizens, {args.years} fiscal years")
    walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
    print(f"vectorised   : median of {len(runs)} runs (fresh processes): wall {wall:6.2f} s, peak RSS "
          f"{rss:,.0f} MB (targets < 10 s, < 1 GB; runs {walls} s)")
    if args.skip_naive:
        return
    vec_peak = traced_peak(BudgetModel, args.citizens_per_province)

    pts = [timed(NaiveModel, s, args.years) for s in args.samples]
    mems = [traced_peak(NaiveModel, s) for s in args.samples]
    (t1, n1), (t2, n2) = pts
    b = (t2 - t1) / (n2 - n1)
    a = t1 - b * n1
    naive = a + b * n
    mem = mems[0] + (mems[1] - mems[0]) / (n2 - n1) * (n - n1)
    for (t, k), mm in zip(pts, mems, strict=True):
        print(f"naive sample : {k:,} citizen agents, wall {t:6.2f} s, traced peak (1 year) {mm:,.0f} MB")
    print(f"naive at {n:,} (extrapolated): wall {naive:,.0f} s, memory ~{mem:,.0f} MB (traced, 1 year)")
    print(f"vectorised at {n:,}: traced peak (1 year) {vec_peak:,.0f} MB")
    print(f"speed ratio naive/vectorised: {naive / wall:,.0f}x (target >= 20x)")


if __name__ == "__main__":
    main()
