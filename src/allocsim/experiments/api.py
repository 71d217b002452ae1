"""Replicates, comparisons and sweeps as Python functions returning pandas objects (the CLI's
``run --replicates``, ``compare`` and ``sweep`` call these)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from allocsim.experiments.batch import (
    Batch,
    evaluate_run,
    metric_names,
    paired_differences,
    scenario_task,
    summarise,
)
from allocsim.experiments.executors import Evaluate
from allocsim.experiments.seeds import replicate_seeds
from allocsim.experiments.store import Task
from allocsim.experiments.sweep import apply_params, design_points, sensitivity
from allocsim.scenario.schema import Scenario
from allocsim.store import atomic_write_csv

#: A comparison needs several paired replicates to say anything; used when neither the command
#: line nor the baseline asks for more.
MIN_COMPARE_REPLICATES = 10


@dataclass
class ReplicateResult:
    table: pd.DataFrame      # one row per replicate
    summary: pd.DataFrame    # metric, mean, ci_low, ci_high, sd, n


@dataclass
class CompareResult:
    table: pd.DataFrame        # one row per scenario × replicate
    differences: pd.DataFrame  # reform − baseline per metric, with CI (paired by seed)
    provinces: pd.DataFrame    # the same per province
    summary: pd.DataFrame      # each scenario's metrics with CI

    def headline(self, metrics: list[str] | None = None) -> pd.DataFrame:
        d = self.differences
        return d[d["metric"].isin(metrics)] if metrics else d


@dataclass
class SweepResult:
    table: pd.DataFrame        # point, seed, parameters, metrics
    indices: pd.DataFrame      # metric, parameter, index, value, conf


def replicates(sc: Scenario, n: int | None = None, *, workers: int | None = None, scheduler: str | None = None,
               folder: Path | None = None, progress: bool = True) -> ReplicateResult:
    """N closed-loop runs with seeds derived from the scenario seed; metrics with confidence intervals."""
    n = n or sc.experiments.replicates
    tasks = [scenario_task(sc, s, k) for k, s in enumerate(replicate_seeds(sc.seed, n))]
    batch = Batch(tasks, folder)
    batch.run(workers=workers or sc.experiments.workers, scheduler=scheduler or sc.experiments.scheduler,
              progress=progress, description=f"{sc.name} replicates")
    table = batch.table()
    return ReplicateResult(table, summarise(table, metric_names(batch.results), sc.experiments.confidence))


def compare(baseline: Scenario, reforms: list[Scenario], n: int | None = None, *, workers: int | None = None,
            scheduler: str | None = None, folder: Path | None = None, progress: bool = True,
            out: Path | str | None = None, lang: str = "en") -> CompareResult:
    """Baseline and reforms on the same seeds (common random numbers): paired differences with CIs.
    With ``out`` the complete result folder is written (tables, report.html, charts, manifest),
    exactly as ``allocsim compare --out`` writes it; ``folder`` (default: ``out``) keeps the runs."""
    if out is not None:
        folder = Path(folder or out)
    names = [baseline.name] + [r.name for r in reforms]
    if len(set(names)) != len(names):
        from allocsim.errors import Problem, UserError

        raise UserError(Problem("compare", "name", f"scenario names must differ to be compared: {names}"))
    n = n or max(baseline.experiments.replicates, MIN_COMPARE_REPLICATES)
    seeds = replicate_seeds(baseline.seed, n)
    tasks = [scenario_task(sc, s, k * n + r) for k, sc in enumerate([baseline, *reforms]) for r, s in enumerate(seeds)]
    batch = Batch(tasks, folder)
    batch.run(workers=workers or baseline.experiments.workers, scheduler=scheduler or baseline.experiments.scheduler,
              progress=progress, description="compare")
    conf = baseline.experiments.confidence
    diffs, provs = paired_differences(batch.results, baseline.name, conf)
    table = batch.table()
    res = CompareResult(table, diffs, provs, summarise(table, metric_names(batch.results), conf))
    if out is not None:
        write_compare(res, Path(out), baseline, reforms, lang=lang)
    return res


def sweep(sc: Scenario, *, n: int | None = None, workers: int | None = None, scheduler: str | None = None,
          folder: Path | None = None, progress: bool = True, evaluate: Evaluate = evaluate_run,
          out: Path | str | None = None, lang: str = "en") -> SweepResult:
    """Run the scenario's sweep design; tidy table plus sensitivity indices. With ``out`` the
    result folder (sweep.csv, sensitivity.csv, charts, report.html, manifest.json) is written
    exactly as ``allocsim sweep`` writes it (both call :func:`write_sweep`)."""
    if out is not None:
        folder = Path(folder or out)
    cfg = sc.experiments.sweep
    file = str(sc.source) if sc.source else "scenario"
    points = design_points(cfg, sc.seed, file)
    n = n or sc.experiments.replicates
    seeds = replicate_seeds(sc.seed, n)
    tasks: list[Task] = []
    for p, params in enumerate(points):
        psc = apply_params(sc, params, file)
        typed = {k: _get(psc, k) for k in params}
        for r, s in enumerate(seeds):
            tasks.append(scenario_task(psc, s, p * n + r, label=f"point{p}", params={"point": p, **typed}))
    batch = Batch(tasks, folder)
    batch.run(evaluate, workers=workers or sc.experiments.workers, scheduler=scheduler or sc.experiments.scheduler,
              progress=progress, description=f"sweep ({cfg.design})")
    table = batch.table().drop(columns=["scenario"])
    metrics = cfg.metrics or metric_names(batch.results)
    res = SweepResult(table, sensitivity(cfg, points, table, metrics, sc.seed, file))
    if out is not None:
        write_sweep(res, Path(out), sc, lang=lang)
    return res


def _get(sc: Scenario, dotted: str) -> object:
    node: object = sc
    for part in dotted.split("."):
        node = getattr(node, part) if not isinstance(node, dict) else node[part]
    return node


def write_compare(res: CompareResult, folder: Path, baseline: Scenario | None = None,
                  reforms: list[Scenario] | None = None, *, lang: str = "en") -> None:
    """The comparison's tables; with the scenarios also its report, charts and manifest (the one
    place a comparison folder is written: the CLI and notebooks both call this)."""
    atomic_write_csv(res.differences, folder / "comparison.csv")
    atomic_write_csv(res.provinces, folder / "comparison_provinces.csv")
    atomic_write_csv(res.summary, folder / "summary.csv")
    atomic_write_csv(res.table, folder / "replicates.csv")
    if baseline is None:
        return
    from allocsim.experiments.provenance import environment, now_utc
    from allocsim.report import compare_report
    from allocsim.store import atomic_write_json

    reforms = reforms or []
    compare_report(folder, res, baseline, reforms, lang=lang)
    atomic_write_json({"command": "compare", "baseline": str(baseline.source),
                       "reforms": [str(r.source) for r in reforms],
                       "replicates": int(res.table["seed"].nunique()), "seeds": sorted(set(res.table["seed"])),
                       **environment(), "finished": now_utc(), "status": "ok"}, folder / "manifest.json")


def write_sweep(res: SweepResult, folder: Path, sc: Scenario | None = None, *, lang: str = "en") -> None:
    """The sweep's tables and one sensitivity chart per metric; with the scenario also its
    report.html and manifest.json (the one place a sweep folder is written: CLI and notebooks)."""
    atomic_write_csv(res.table, folder / "sweep.csv")
    atomic_write_csv(res.indices, folder / "sensitivity.csv")
    if sc is not None:
        from allocsim.experiments.provenance import environment, now_utc
        from allocsim.report import sweep_report
        from allocsim.store import atomic_write_json

        sweep_report(folder, res, sc, lang=lang)  # writes the charts it shows
        cfg = sc.experiments.sweep
        atomic_write_json({"command": "sweep", "scenario": str(sc.source) if sc.source else sc.name,
                           "design": cfg.design, "samples": cfg.samples,
                           "parameters": {k: list(v) for k, v in cfg.parameters.items()},
                           "points": int(res.table["point"].nunique()),
                           "replicates": int(res.table["seed"].nunique()),
                           "seeds": sorted(int(x) for x in set(res.table["seed"])),
                           **environment(), "finished": now_utc(), "status": "ok"}, folder / "manifest.json")
    elif len(res.indices):
        from allocsim.report import charts

        for metric in dict.fromkeys(res.indices["metric"]):
            charts.save(charts.sensitivity(res.indices, metric), folder / "charts" / f"sensitivity_{metric}.png")
