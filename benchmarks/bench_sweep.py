"""Benchmark: parallel efficiency of the experiment executor and its per-run overhead.

100 independent closed-loop runs of a small scenario (1 fiscal year, 30 citizens per province,
6 projects per province) are executed
  (a) in this process, one after another (pure compute, the reference),
  (b) on a pool of 1 worker process, and
  (c) on a pool of 2 worker processes.
Parallel efficiency = T(a) / (2 × T(c)) (target >= 80 %); per-run executor overhead =
(T(b) − T(a)) / 100, which includes starting the worker process once and sending every task
and result between processes.

    python benchmarks/bench_sweep.py [--runs 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from allocsim.experiments.batch import evaluate_run, scenario_task
from allocsim.experiments.executors import execute
from allocsim.experiments.seeds import replicate_seeds
from allocsim.experiments.store import RunStore
from allocsim.scenario import load_scenario

SCENARIO = """extends = "{base}"
name = "bench"
[catalogue]
projects_per_province = 6
projects_per_cluster = 1
[simulation]
years = 1
citizens_per_province = 30
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    base = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "bench.toml"
        (Path(tmp) / "baseline.toml").write_text(base.read_text())
        f.write_text(SCENARIO.format(base="baseline.toml"))
        sc = load_scenario(f)
        tasks = [scenario_task(sc, s, k) for k, s in enumerate(replicate_seeds(sc.seed, args.runs))]
        print(f"{args.runs} runs of a small closed-loop scenario; {os.cpu_count()} cores")
        times = {}
        for name, kw in (("in-process", {"workers": 1}), ("pool, 1 worker", {"workers": 1, "in_process": False}),
                         ("pool, 2 workers", {"workers": 2, "in_process": False})):
            t0 = time.perf_counter()
            results = execute(tasks, evaluate_run, RunStore(None), progress=False, **kw)
            times[name] = time.perf_counter() - t0
            print(f"{name:>16}: {times[name]:7.2f} s  ({times[name] / args.runs * 1000:6.1f} ms/run)")
            assert len(results) == args.runs
    eff = times["in-process"] / (2 * times["pool, 2 workers"])
    over = (times["pool, 1 worker"] - times["in-process"]) / args.runs
    print(f"parallel efficiency on 2 workers: {eff:.0%} (target >= 80 %)")
    print(f"executor overhead per run: {over * 1000:.1f} ms (process start, task and result transfer)")


if __name__ == "__main__":
    main()
