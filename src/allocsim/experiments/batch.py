"""Batches of runs: Monte Carlo replicates, reform comparisons with common random numbers, and
parameter sweeps. All three build :class:`Task`s, run them through one executor and store, and
summarise with confidence intervals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from allocsim.errors import Problem, UserError
from allocsim.experiments.executors import Evaluate, execute
from allocsim.experiments.store import RunStore, Task
from allocsim.metrics import METRICS
from allocsim.scenario.schema import Scenario
from allocsim.store import atomic_write_json


def scenario_task(sc: Scenario, seed: int, index: int, label: str | None = None, params: dict | None = None) -> Task:
    data = sc.model_dump(mode="json")
    data["seed"] = seed
    return Task(index=index, scenario=data, seed=seed, source=str(sc.source) if sc.source else None,
                label=label or sc.name, params=params or {})


def scenario_of(task: Task) -> Scenario:
    sc = Scenario.model_validate(task.scenario)
    if task.source:
        sc._source = Path(task.source)
    return sc


def evaluate_run(task: Task) -> dict:
    """One full closed-loop run → its headline metrics (runs in a worker process)."""
    from allocsim.experiments.loop import run_loop
    from allocsim.experiments.metrics import run_metrics
    from allocsim.experiments.run import build_inputs
    from allocsim.experiments.seeds import loop_seed

    sc = scenario_of(task)
    if sc.levers.allocation_rule == "optimal":  # only the optimiser needs geography + catalogue
        geo, table = build_inputs(sc)
        tables = run_loop(sc, geo, table, loop_seed(sc.seed))
    else:
        tables = run_loop(sc, None, None, loop_seed(sc.seed))
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
            "params": task.params, **run_metrics(tables)}


@dataclass
class Batch:
    tasks: list[Task]
    folder: Path | None = None
    results: list[dict] = field(default_factory=list)

    def run(self, evaluate: Evaluate = evaluate_run, *, workers: int | None = None, scheduler: str | None = None,
            progress: bool = True, description: str = "runs") -> list[dict]:
        if self.folder is not None:
            self._claim_folder()
        self.results = execute(self.tasks, evaluate, RunStore(self.folder), workers=workers,
                               scheduler=scheduler, progress=progress, description=description)
        return self.results

    def _claim_folder(self) -> None:
        """A folder holds one batch: the same batch resumes, a different one is refused."""
        assert self.folder is not None
        spec = {"tasks": [t.filename for t in self.tasks]}
        f = self.folder / "batch.json"
        if f.is_file():
            if json.loads(f.read_text(encoding="utf-8")) != spec:
                raise UserError(Problem(str(self.folder), "--out", "folder holds the runs of a different "
                                        "batch; choose another --out (finished runs are kept there)"))
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(spec, f)

    def table(self) -> pd.DataFrame:
        """One row per run: label, seed, parameters, national metrics."""
        rows = [{"run": r["index"], "scenario": r["label"], "seed": r["seed"], **r["params"], **r["national"]}
                for r in self.results]
        return pd.DataFrame(rows).sort_values("run", kind="stable").reset_index(drop=True)


def confidence_interval(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval; NaN interval with fewer than two values."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def summarise(table: pd.DataFrame, metrics: list[str], confidence: float) -> pd.DataFrame:
    rows = []
    for label, grp in table.groupby("scenario", sort=False):
        for m in metrics:
            mean, lo, hi = confidence_interval(grp[m].to_numpy(float), confidence)
            rows.append({"scenario": label, "metric": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "sd": float(grp[m].std(ddof=1)) if len(grp) > 1 else np.nan, "n": int(grp[m].notna().sum())})
    return pd.DataFrame(rows)


def metric_names(results: list[dict]) -> list[str]:
    return list(results[0]["national"]) if results else []


def paired_differences(results: list[dict], baseline: str, confidence: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reform − baseline per metric, paired by seed (common random numbers), national and per province."""
    by = {(r["label"], r["seed"]): r for r in results}
    labels = list(dict.fromkeys(r["label"] for r in results))
    seeds = list(dict.fromkeys(r["seed"] for r in results))
    metrics = metric_names(results)
    nat_rows, prov_rows = [], []
    for label in labels:
        if label == baseline:
            continue
        for m in metrics:
            b = np.array([by[(baseline, s)]["national"][m] for s in seeds], dtype=float)
            r = np.array([by[(label, s)]["national"][m] for s in seeds], dtype=float)
            d, lo, hi = confidence_interval(r - b, confidence)
            bm = float(np.nanmean(b)) if np.isfinite(b).any() else np.nan
            nat_rows.append({"scenario": label, "metric": m, "baseline_mean": bm,
                             "reform_mean": float(np.nanmean(r)) if np.isfinite(r).any() else np.nan,
                             "difference": d, "ci_low": lo, "ci_high": hi,
                             "relative_difference": d / bm if bm else np.nan,
                             "significant": bool(np.isfinite(lo) and (lo > 0 or hi < 0)),
                             "better": _better(m, d, lo, hi), "n": len(seeds)})
        provs = by[(baseline, seeds[0])]["provinces"]
        for m, per in provs.items():
            for iso in per:
                b = np.array([by[(baseline, s)]["provinces"][m][iso] for s in seeds], dtype=float)
                r = np.array([by[(label, s)]["provinces"][m][iso] for s in seeds], dtype=float)
                d, lo, hi = confidence_interval(r - b, confidence)
                prov_rows.append({"scenario": label, "province": iso, "metric": m, "difference": d,
                                  "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(nat_rows), pd.DataFrame(prov_rows)


def _better(metric: str, d: float, lo: float, hi: float) -> str:
    """Plain-words reading of a difference: better / worse (by the metric catalogue's direction),
    changed (a metric with no better direction, or one the catalogue does not know), or no
    clear change."""
    if d == 0 and (not np.isfinite(lo) or lo == hi == 0):
        return "no change"  # identical in every replicate
    if not np.isfinite(lo) or (lo <= 0 <= hi):
        return "no clear change"
    m = METRICS.get(metric)
    return m.reading(d) if m is not None else "changed"
