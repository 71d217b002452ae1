"""Benchmark: futures per minute of ``allocsim robust`` on 1 and 2 workers, and parallel efficiency.

The shipped baseline and the single-gateway reform run across ``--futures`` sampled futures
(``[uncertainty]`` defaults: the small per-future simulation size, ``--replicates`` seeds) twice:
  (a) one worker (in this process), and
  (b) a pool of 2 worker processes (forkserver, the default executor),
alternating, ``--repeat`` times, keeping each one's best time.
A future = every scenario's runs in it. Parallel efficiency = T(a) / (2 × T(b)) (target >= 80 %).
On a machine shared with other jobs the efficiency is a lower bound.

    python benchmarks/bench_robust.py [--futures 20] [--replicates 1]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from allocsim.robust.futures import robust
from allocsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1] / "scenarios"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--futures", type=int, default=20)
    ap.add_argument("--replicates", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2, help="alternate 1- and 2-worker runs this many "
                    "times and keep each one's best time (a shared machine's load comes and goes)")
    args = ap.parse_args()
    base = load_scenario(ROOT / "baseline.toml")
    reform = load_scenario(ROOT / "reform_single_gateway.toml")
    runs = args.futures * 2 * args.replicates
    print(f"robust: {args.futures} futures x 2 scenarios x {args.replicates} seeds = {runs} runs "
          f"({base.uncertainty.citizens_per_province} citizens per province); {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    times: dict[int, float] = {}
    tables = {}
    for _ in range(args.repeat):
        for workers in (1, 2):
            t0 = time.perf_counter()
            res = robust(base, [reform], args.futures, replicates=args.replicates, workers=workers, progress=False)
            times[workers] = min(times.get(workers, float("inf")), time.perf_counter() - t0)
            tables[workers] = res.robustness
    for workers in (1, 2):
        print(f"{workers} worker{'s' if workers > 1 else ''}: {times[workers]:7.1f} s  "
              f"{args.futures / times[workers] * 60:6.1f} futures/min (best of {args.repeat})")
    assert tables[1].equals(tables[2]), "results depend on the number of workers"
    eff = times[1] / (2 * times[2])
    print(f"parallel efficiency: {eff:.0%} (target >= 80 %); identical results on 1 and 2 workers")


if __name__ == "__main__":
    main()
