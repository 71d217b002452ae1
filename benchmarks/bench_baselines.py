"""Benchmark: the comparison baselines (greedy, per-capita quota fill, Method of Equal Shares) at
national size — the same ~10,000-project instance as ``bench_optimise.py``. Target for equal
shares: <= 2 s. Prints the median of ``--repeat`` runs.

    python benchmarks/bench_baselines.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from bench_optimise import instance

from allocsim.optimise.baselines import equal_shares, formula_weights, greedy, quota_fill


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data, params = instance()
    w = formula_weights("per_capita", data, np.ones(len(data.provinces)))
    runs = {"greedy": lambda: greedy(data, params),
            "per_capita": lambda: quota_fill(data, params, w),
            "equal_shares": lambda: equal_shares(data, params)}
    print(f"{data.n} projects, {len(data.provinces)} provinces")
    for name, fn in runs.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            x = fn()
            times.append(time.perf_counter() - t0)
        print(f"{name:>13}: median {statistics.median(times):.2f} s over {args.repeat} runs "
              f"({int(x.sum())} projects, benefit {float(data.benefit @ x):,.0f})")


if __name__ == "__main__":
    main()
