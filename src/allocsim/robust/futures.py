"""Robust decisions: baseline and reforms across many plausible futures.

A *future* is one set of values for the uncertain parameters of ``[uncertainty.parameters]``,
drawn by a Latin hypercube seeded from the baseline's seed (the sweep's sampler). In each future,
the baseline and every reform run on the same seeds (common random numbers), so their
difference in that future is the reform's effect, not luck. A field a reform sets itself
(``levers.data_sharing = 0.9``) keeps the reform's value: the reform is the lever, the future
only says what today's world is like.

Runs go through the experiment machinery (:class:`~allocsim.experiments.batch.Batch`: local
processes or Dask, a progress bar, one file per finished run), so an interrupted ``robust``
resumes without repeating finished runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from allocsim.errors import Problem, UserError
from allocsim.experiments.batch import Batch, evaluate_run, scenario_task
from allocsim.experiments.executors import Evaluate
from allocsim.experiments.metrics import LOWER_IS_BETTER
from allocsim.experiments.seeds import replicate_seeds
from allocsim.experiments.store import Task
from allocsim.experiments.sweep import apply_params, design_points, typed
from allocsim.robust.prim import TRAJECTORY_COLUMNS, PrimResult, held_out_p_value, prim
from allocsim.scenario.schema import Scenario, SweepConfig

PROVINCE_COLUMNS = ["scenario", "metric", "province", "n_futures", "share_better", "median_difference",
                    "p10_difference", "p90_difference"]
PLAN_COLUMNS = ["scenario", "metric", "n_futures", "median", "p10", "p90"]
#: Plan against delivery: the share of the year's money disbursed by the end of each quarter
#: (the plan: an even 25/50/75/100 %), and the shares of the plan delivered and disbursed.
PLAN_METRICS = ("q1_disbursement_rate", "q2_disbursement_rate", "q3_disbursement_rate",
                "q4_disbursement_rate", "plan_delivered_share", "plan_disbursed_share")


@dataclass
class RobustResult:
    design: pd.DataFrame       # future + one column per uncertain parameter (as sampled)
    futures: pd.DataFrame      # future, scenario, parameters, metrics (mean over replicates)
    robustness: pd.DataFrame   # scenario × metric: shares, quantiles, worst case, regret
    boxes: pd.DataFrame        # PRIM box per reform × headline metric (one row per restriction)
    trajectories: pd.DataFrame  # PRIM peeling trajectories
    scores: pd.DataFrame       # feature scores: rank correlation of each parameter with the difference
    baseline: str
    reforms: list[str]
    replicates: int
    held: dict[str, list[str]] = field(default_factory=dict)  # reform -> parameters it sets itself
    prim: dict[tuple[str, str], PrimResult] = field(default_factory=dict)
    # per reform × province metric × province: the reform − baseline difference across futures
    provinces: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROVINCE_COLUMNS))
    # plan against delivery: per scenario × disbursement metric, median and p10/p90 over futures
    plan: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLAN_COLUMNS))
    noise_plan: tuple[int, int] = (0, 0)  # (futures run on extra seeds, extra seeds each)



def get_field(sc: Scenario, dotted: str) -> object:
    """The value of a dotted scenario field (dict keys included), as JSON data."""
    return _lookup(sc.model_dump(mode="json"), dotted)


def sample_futures(baseline: Scenario, n: int) -> pd.DataFrame:
    """N futures over the baseline's uncertain parameters (Latin hypercube seeded from the
    baseline's seed). Integer fields are sampled over [low - 0.5, high + 0.5] and rounded, so
    every integer in the range is equally likely."""
    unc = baseline.uncertainty.parameters
    file = str(baseline.source) if baseline.source else "scenario"
    if not unc:
        raise UserError(Problem(file, "uncertainty.parameters", "no uncertain parameters; add ranges "
                                "such as \"simulation.procurement_days\" = {low = 20, high = 45, reason = \"...\"}"))
    if n < 1:
        raise UserError(Problem(file, "--futures", "needs at least one future"))
    like = {k: get_field(baseline, k) for k in unc}
    ranges = {k: ([r.low - 0.5, r.high + 0.5] if isinstance(like[k], int) else [r.low, r.high])
              for k, r in unc.items()}
    points = design_points(SweepConfig(design="lhs", samples=n, parameters=ranges), baseline.seed, file)
    rows = []
    for f, p in enumerate(points):
        row: dict[str, object] = {"future": f}
        for k, v in p.items():
            t = typed(v, like[k])
            if isinstance(t, int) and not isinstance(t, bool):
                t = int(min(max(t, round(unc[k].low)), round(unc[k].high)))
            row[k] = t
        rows.append(row)
    return pd.DataFrame(rows)


def held_fields(sc: Scenario, baseline: Scenario) -> list[str]:
    """Uncertain parameters this scenario sets to a value of its own (kept in every future)."""
    a, b = sc.model_dump(mode="json"), baseline.model_dump(mode="json")
    return [k for k in baseline.uncertainty.parameters if _lookup(a, k) != _lookup(b, k)]


def _lookup(data: dict, dotted: str) -> object:
    for part in dotted.split("."):
        data = data[part]
    return data


def in_future(sc: Scenario, baseline: Scenario, values: dict[str, object],
              held: set[str] | None = None) -> Scenario:
    """The scenario in one future: uncertain values applied except the fields it sets itself
    (``held``, computed once per scenario by the caller when given), at the per-future
    simulation size."""
    held = set(held_fields(sc, baseline)) if held is None else held
    params = {k: v for k, v in values.items() if k not in held}
    cpp = baseline.uncertainty.citizens_per_province
    if cpp is not None:
        params["simulation.citizens_per_province"] = cpp
    file = str(sc.source) if sc.source else "scenario"
    return apply_params(sc, params, file)


def robust_tasks(baseline: Scenario, reforms: list[Scenario], design: pd.DataFrame, replicates: int,
                 hold: dict[str, list[str]] | None = None, noise: tuple[int, int] = (0, 0)) -> list[Task]:
    """Every scenario × future × replicate, with common random numbers: in future f every
    scenario runs on the same seeds. ``hold``: per reform name, fields it keeps in every future
    even where its value equals the baseline's (a package's chosen lever levels). ``noise``:
    (futures, extra seeds): the first futures also run on extra seeds, the same for every
    scenario, to measure seed noise (tasks marked ``noise``; appended after the main tasks, so
    the main runs keep their seeds and files)."""
    n = len(design)
    n_noise, extra = noise
    n_noise = min(n_noise, n) if extra > 0 else 0
    seeds = replicate_seeds(baseline.seed, n * replicates + n_noise * extra)
    params = [c for c in design.columns if c != "future"]
    hold = hold or {}
    tasks, later = [], []
    n_main = (1 + len(reforms)) * n * replicates
    for k, sc in enumerate([baseline, *reforms]):
        held = set(held_fields(sc, baseline)) | (set(hold.get(sc.name, ())) if k else set())
        for f, row in enumerate(design.itertuples(index=False)):
            fsc = in_future(sc, baseline, dict(zip(params, row[1:], strict=True)), held)
            for r in range(replicates):
                s = seeds[f * replicates + r]
                tasks.append(scenario_task(fsc, s, (k * n + f) * replicates + r, label=sc.name,
                                           params={"future": f, "replicate": r}))
            if f < n_noise:
                for j in range(extra):
                    s = seeds[n * replicates + f * extra + j]
                    later.append(scenario_task(fsc, s, n_main + (k * n_noise + f) * extra + j, label=sc.name,
                                               params={"future": f, "replicate": replicates + j, "noise": True}))
    return tasks + later


def noise_plan(u: object, futures: int, replicates: int) -> tuple[int, int]:
    """(noise futures, extra seeds each) for the ``[uncertainty]`` noise settings: none when
    the main replicates already give two or more seeds per future (they measure the noise)."""
    if replicates >= 2 or u.noise_futures == 0:
        return (0, 0)
    return (min(u.noise_futures, futures), max(0, u.noise_replicates - replicates))


def seed_noise(results: list[dict], names: list[str], metrics: list[str], replicates: int) -> pd.DataFrame:
    """Per reform × metric: the seed noise of one future's reform − baseline difference (the
    mean over ``replicates`` seeds), from every future run on two or more seeds. Pooled
    within-future variance of the paired (same-seed) difference, divided by ``replicates``;
    ``noise_df`` its degrees of freedom (NaN sd when no future has two seeds)."""
    rows = [{"scenario": r["label"], "future": r["params"]["future"], "seed": r["seed"], **r["national"]}
            for r in results]
    cols = ["scenario", "metric", "noise_sd", "noise_df"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    df[metrics] = df[metrics].apply(pd.to_numeric, errors="coerce")
    wide = df.set_index(["scenario", "future", "seed"])[metrics]
    base = wide.xs(names[0], level="scenario")
    out = []
    for reform in names[1:]:
        if reform not in wide.index.get_level_values("scenario"):
            continue
        d = (wide.xs(reform, level="scenario") - base).dropna(how="all")
        for m in metrics:
            x = d[m].dropna()
            g = x.groupby(level="future")
            k = g.transform("size")
            x = x[k >= 2]
            dof = int(len(x) - x.groupby(level="future").ngroups) if len(x) else 0
            if dof < 1:
                out.append({"scenario": reform, "metric": m, "noise_sd": np.nan, "noise_df": 0})
                continue
            ss = float(((x - x.groupby(level="future").transform("mean")) ** 2).sum())
            out.append({"scenario": reform, "metric": m, "noise_sd": float(np.sqrt(ss / dof / replicates)),
                        "noise_df": dof})
    return pd.DataFrame(out, columns=cols)


def explain_failures(X: pd.DataFrame, y: np.ndarray, **kw: float) -> PrimResult:
    """PRIM's box for the failures ``y`` and, when it restricts a parameter, the held-out p-value
    that a failure region exists (:func:`~allocsim.robust.prim.held_out_p_value`)."""
    res = prim(X, y, **kw)
    if res.box is not None and res.box.limits:
        res.box.p_value = held_out_p_value(X, y, **kw)
    return res


def holm_boxes(found: dict[tuple[str, str], PrimResult], alpha: float) -> None:
    """Holm-adjust the boxes' held-out p-values over every reform × metric of the run and drop
    (in place) the boxes not significant at ``alpha``: on pure-noise failures PRIM still finds
    a box about one time in twenty per reform × metric, and a run explains several."""
    keys = [k for k, r in found.items() if r.box is not None and r.box.limits]
    adj = holm(np.array([found[k].box.p_value for k in keys], float))
    for k, a in zip(keys, adj, strict=True):
        b = found[k].box
        b.p_holm = float(a)
        if not a < alpha:
            found[k] = PrimResult(None, found[k].trajectory,
                                  f"the densest box ({b.describe()}; held-out p {b.p_value:.2g}, Holm-adjusted "
                                  f"over {len(keys)} boxes {a:.2g}) cannot be told from chance")


def robust(baseline: Scenario, reforms: list[Scenario], futures: int, *, replicates: int | None = None,
           workers: int | None = None, scheduler: str | None = None, folder: Path | None = None,
           progress: bool = True, evaluate: Evaluate = evaluate_run,
           metrics: list[str] | None = None, hold: dict[str, list[str]] | None = None) -> RobustResult:
    """Run baseline and reforms across ``futures`` sampled futures; tables of robustness, PRIM
    boxes and feature scores. ``hold``: per reform, fields held at the reform's value in every
    future even when that value is the baseline's (a package holds every lever it chose)."""
    names = [baseline.name] + [r.name for r in reforms]
    if len(set(names)) != len(names):
        raise UserError(Problem("robust", "name", f"scenario names must differ to be compared: {names}"))
    R = replicates or baseline.uncertainty.replicates
    u = baseline.uncertainty
    design = sample_futures(baseline, futures)
    plan = noise_plan(u, futures, R)
    tasks = robust_tasks(baseline, reforms, design, R, hold, plan)
    batch = Batch(tasks, folder)
    batch.run(evaluate, workers=workers or baseline.experiments.workers,
              scheduler=scheduler or baseline.experiments.scheduler, progress=progress,
              description=f"robust ({futures} futures x {len(names)} scenarios x {R} seeds"
                          + (f", +{plan[1]} seeds in {plan[0]} futures for seed noise)" if plan[0] else ")"))
    main = [r for r in batch.results if not r["params"].get("noise")]
    table = futures_table(main, design, names)
    all_metrics = [c for c in table.columns if c not in design.columns and c != "scenario"]
    metrics = metrics or all_metrics
    noise = seed_noise(batch.results, names, metrics, R)
    z = u.noise_z if noise["noise_sd"].notna().any() else np.nan
    rob = robustness_table(table, baseline.name, metrics, noise, z)
    head = [m for m in u.headline_metrics if m in all_metrics]
    params = [c for c in design.columns if c != "future"]
    boxes, trajs, found = [], [], {}
    for reform in names[1:]:
        for m in head:
            fail = failures(table, baseline.name, reform, m, threshold(rob, reform, m))
            X = design.set_index("future").loc[fail.index, params]
            found[(reform, m)] = explain_failures(X, fail.to_numpy(), peel_alpha=u.prim_peel_alpha,
                                                  mass_min=u.prim_mass_min, min_coverage=u.prim_min_coverage)
    holm_boxes(found, u.prim_alpha)
    for (reform, m), res in found.items():
        boxes.append(box_rows(reform, m, res))
        if len(res.trajectory):
            trajs.append(res.trajectory.assign(scenario=reform, metric=m))
    cols = ["scenario", "metric", "box", "coverage", "density", "mass", "n_futures", "parameter",
            "low", "high", "p_value", "box_p_value", "box_p_holm", "note"]
    box_df = pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame(columns=cols)
    tcols = ["scenario", "metric", *TRAJECTORY_COLUMNS]
    traj_df = pd.concat(trajs, ignore_index=True)[tcols] if trajs else pd.DataFrame(columns=tcols)
    scores = feature_scores(table, design, baseline.name, names[1:], head)
    hold = hold or {}
    held = {r.name: list(dict.fromkeys([*held_fields(r, baseline),
                                        *[k for k in hold.get(r.name, ()) if k in baseline.uncertainty.parameters]]))
            for r in reforms}
    prov = province_differences(main, names)
    return RobustResult(design, table, rob, box_df, traj_df, scores, baseline.name, names[1:], R, held, found,
                        prov, plan_delivery(table, names), noise_plan=plan)


def futures_table(results: list[dict], design: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per future × scenario: the sampled parameters and each metric's mean over the
    future's replicates."""
    rows = [{"scenario": r["label"], "future": r["params"]["future"], **r["national"]} for r in results]
    df = pd.DataFrame(rows)
    metrics = [c for c in df.columns if c not in ("scenario", "future")]
    df[metrics] = df[metrics].apply(pd.to_numeric, errors="coerce")
    mean = df.groupby(["scenario", "future"], sort=False)[metrics].mean().reset_index()
    mean["scenario"] = pd.Categorical(mean["scenario"], names, ordered=True)
    mean = mean.sort_values(["scenario", "future"]).reset_index(drop=True)
    mean["scenario"] = mean["scenario"].astype(str)
    out = mean.merge(design, on="future", how="left")
    return out[["future", "scenario", *[c for c in design.columns if c != "future"], *metrics]]


def province_differences(results: list[dict], names: list[str]) -> pd.DataFrame:
    """Per reform × province metric × province: the reform − baseline difference across futures
    (each future's value the mean over its replicates; same seeds in both): share of futures
    better, median, 10th and 90th percentile. From what every run already returns
    (``evaluate_run``'s ``provinces``: metric -> {ISO code: value})."""
    frames = []
    for r in results:
        p = r.get("provinces") or {}
        if p:
            f = pd.DataFrame(p).apply(pd.to_numeric, errors="coerce")
            f.index.name = "province"
            frames.append(f.reset_index().assign(scenario=r["label"], future=r["params"]["future"]))
    if not frames:
        return pd.DataFrame(columns=PROVINCE_COLUMNS)
    long = pd.concat(frames, ignore_index=True)
    metrics = [c for c in long.columns if c not in ("province", "scenario", "future")]
    mean = long.groupby(["scenario", "future", "province"], sort=False)[metrics].mean()
    base = mean.xs(names[0], level="scenario")
    rows = []
    for reform in names[1:]:
        if reform not in mean.index.get_level_values("scenario"):
            continue
        diff = (mean.xs(reform, level="scenario") - base).dropna(how="all")
        for m in metrics:
            s = sign(m)
            for prov, d in diff[m].groupby(level="province", sort=True):
                x = d.dropna().to_numpy(float)
                st = _difference_stats(x, s)
                rows.append({"scenario": reform, "metric": m, "province": prov, "n_futures": int(x.size),
                             "share_better": st["share_better"], "median_difference": st["median_difference"],
                             "p10_difference": st["p10_difference"], "p90_difference": st["p90_difference"]})
    return pd.DataFrame(rows, columns=PROVINCE_COLUMNS)


def plan_delivery(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Plan against delivery per scenario, across futures: median and 10th/90th percentile of
    the quarterly disbursement rates and the plan shares (from futures.csv's metrics)."""
    rows = []
    for name in names:
        t = table[table["scenario"] == name]
        for m in PLAN_METRICS:
            if m not in t.columns:
                continue
            x = pd.to_numeric(t[m], errors="coerce").dropna().to_numpy(float)
            rows.append({"scenario": name, "metric": m, "n_futures": int(x.size),
                         "median": float(np.median(x)) if x.size else np.nan,
                         "p10": float(np.percentile(x, 10)) if x.size else np.nan,
                         "p90": float(np.percentile(x, 90)) if x.size else np.nan})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def sign(metric: str) -> float:
    """+1 where more is better, -1 where less is better."""
    return -1.0 if metric in LOWER_IS_BETTER else 1.0


def differences(table: pd.DataFrame, baseline: str, reform: str, metric: str) -> pd.Series:
    """Reform minus baseline per future (same seeds in both)."""
    b = table[table["scenario"] == baseline].set_index("future")[metric]
    r = table[table["scenario"] == reform].set_index("future")[metric]
    return (r - b).dropna()


def failures(table: pd.DataFrame, baseline: str, reform: str, metric: str, bar: float = 0.0) -> pd.Series:
    """In the futures where the sign of the difference is decided (|difference| > ``threshold``,
    the seed-noise bar): True where the reform is worse than the baseline on ``metric``. Futures
    within the noise are left out: PRIM models failures only where the sign is decided."""
    d = sign(metric) * differences(table, baseline, reform, metric)
    d = d[d.abs() > (bar if np.isfinite(bar) else 0.0)]
    return d < 0


def threshold(rob: pd.DataFrame, reform: str, metric: str) -> float:
    """The seed-noise bar of robustness.csv for one reform × metric (noise_z × noise_sd; 0 when
    there is no noise model)."""
    r = rob[(rob["scenario"] == reform) & (rob["metric"] == metric)]
    if not len(r):
        return 0.0
    t = float(r["noise_z"].iloc[0] * r["noise_sd"].iloc[0])
    return t if np.isfinite(t) else 0.0


def robustness_table(table: pd.DataFrame, baseline: str, metrics: list[str], noise: pd.DataFrame | None = None,
                     z: float = np.nan) -> pd.DataFrame:
    """Per scenario × metric: share of futures better / worse than the baseline / within seed
    noise, median and 10th/90th percentiles of the difference, the worst difference, and regret
    (how far each option falls short of the best option in the same future; the baseline is an
    option too). A future is better or worse only when |difference| > ``z`` × the noise sd
    (``noise``: per reform × metric, from :func:`seed_noise`); without a noise model, the sign."""
    names = list(dict.fromkeys(table["scenario"]))
    sd = ({(r.scenario, r.metric): (r.noise_sd, r.noise_df) for r in noise.itertuples()}
          if noise is not None else {})
    rows = []
    for m in metrics:
        s = sign(m)
        wide = table.pivot(index="future", columns="scenario", values=m)[names]
        best = (s * wide).max(axis=1, skipna=False)
        for name in names:
            regret = (best - s * wide[name]).dropna()
            row = {"scenario": name, "metric": m, "better_is": "lower" if s < 0 else "higher",
                   "n_futures": int(regret.size),
                   "mean_regret": float(regret.mean()) if len(regret) else np.nan,
                   "max_regret": float(regret.max()) if len(regret) else np.nan}
            if name == baseline:
                row.update({k: np.nan for k in ("share_better", "share_worse", "share_undecided",
                                                "median_difference", "p10_difference", "p90_difference",
                                                "worst_difference", "noise_sd", "noise_df", "noise_z")})
            else:
                d = (wide[name] - wide[baseline]).dropna().to_numpy(float)
                nsd, ndf = sd.get((name, m), (np.nan, 0))
                row.update(_difference_stats(d, s, float(z * nsd) if np.isfinite(z * nsd) else 0.0))
                row.update(n_futures=int(d.size), noise_sd=nsd, noise_df=ndf, noise_z=z)
            rows.append(row)
    return pd.DataFrame(rows)[ROBUSTNESS_COLUMNS]


ROBUSTNESS_COLUMNS = ["scenario", "metric", "better_is", "n_futures", "share_better", "share_worse",
                      "share_undecided", "median_difference", "p10_difference", "p90_difference",
                      "worst_difference", "mean_regret", "max_regret", "noise_sd", "noise_df", "noise_z"]


def _difference_stats(d: np.ndarray, s: float, bar: float = 0.0) -> dict:
    if d.size == 0:
        return {k: np.nan for k in ("share_better", "share_worse", "share_undecided", "median_difference",
                                    "p10_difference", "p90_difference", "worst_difference")}
    return {"share_better": float(np.mean(s * d > bar)), "share_worse": float(np.mean(s * d < -bar)),
            "share_undecided": float(np.mean(np.abs(d) <= bar)),
            "median_difference": float(np.median(d)), "p10_difference": float(np.percentile(d, 10)),
            "p90_difference": float(np.percentile(d, 90)),
            "worst_difference": float(d[np.argmin(s * d)])}


def box_rows(reform: str, metric: str, res: PrimResult) -> pd.DataFrame:
    """The chosen PRIM box as rows: one per restricted parameter (one row with a note when there
    is no box)."""
    base = {"scenario": reform, "metric": metric}
    if res.box is None:
        return pd.DataFrame([{**base, "box": "", "coverage": np.nan, "density": np.nan, "mass": np.nan,
                              "n_futures": 0, "parameter": "", "low": np.nan, "high": np.nan,
                              "p_value": np.nan, "note": res.note}])
    b = res.box
    head = {**base, "box": b.describe(), "coverage": b.coverage, "density": b.density, "mass": b.mass,
            "n_futures": b.n}
    if not b.limits:
        return pd.DataFrame([{**head, "parameter": "", "low": np.nan, "high": np.nan, "p_value": np.nan,
                              "note": "no parameter restriction explains the failures"}])
    return pd.DataFrame([{**head, "parameter": p, "low": lo, "high": hi, "p_value": b.p_values.get(p, np.nan),
                          "box_p_value": b.p_value, "box_p_holm": b.p_holm, "note": ""}
                         for p, (lo, hi) in b.limits.items()])


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control, valid under any dependence
    between the tests — the feature scores share their futures). NaN p-values are not tests: they
    stay NaN and do not count in the family size."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


def feature_scores(table: pd.DataFrame, design: pd.DataFrame, baseline: str, reforms: list[str],
                   metrics: list[str]) -> pd.DataFrame:
    """Which uncertainties drive each reform's effect: Spearman rank correlation of every
    parameter with the reform-minus-baseline difference across futures (robust to scale and
    monotone transforms; the sign says in which direction the effect moves). ``p_value`` is each
    test's own; ``p_holm`` is Holm-adjusted over the whole family (every parameter × reform ×
    metric tested), and is the one to read significance from."""
    params = [c for c in design.columns if c != "future"]
    X = design.set_index("future")
    rows = []
    for reform in reforms:
        for m in metrics:
            d = differences(table, baseline, reform, m)
            for p in params:
                x = X.loc[d.index, p].to_numpy(float)
                if len(d) < 3 or np.ptp(x) == 0 or np.ptp(d.to_numpy(float)) == 0:
                    rho, pv = np.nan, np.nan
                else:
                    rho, pv = stats.spearmanr(x, d.to_numpy(float))
                rows.append({"scenario": reform, "metric": m, "parameter": p, "spearman_rho": float(rho),
                             "p_value": float(pv)})
    df = pd.DataFrame(rows, columns=["scenario", "metric", "parameter", "spearman_rho", "p_value"])
    df["p_holm"] = holm(df["p_value"].to_numpy(float))
    if len(df):
        df["rank"] = (df.assign(a=df["spearman_rho"].abs()).groupby(["scenario", "metric"])["a"]
                      .rank(ascending=False, method="first", na_option="bottom").astype(int))
        df = df.sort_values(["scenario", "metric", "rank"], kind="stable").reset_index(drop=True)
    return df
