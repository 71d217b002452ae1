"""Reform packages: which combinations of levers are worth their effort?

Every combination of the ``[packages.levers]`` levels (each lever at the baseline's own value or
one of its levels) is a package. Search is exhaustive when the space is small (the shipped levels:
2^7 × 2 × 2 = 512 packages); when it is larger than ``max_packages``, or a lever has a continuous
``range`` (data sharing, participation), NSGA-II (platypus-opt, :mod:`allocsim.robust.nsga`)
searches it within a budget of distinct packages, never simulating a package twice; the front is
then the non-dominated set of every package it evaluated. Every package
runs on the same seeds (common random numbers), so two packages differ by their levers, not by
luck; objectives are means over ``replicates`` seeds. The Pareto front keeps the packages no
other package beats on all four objectives at once: delivered benefit (higher), duplicate money
(lower), delay to first payment (lower) and reform effort (lower; the scenario's illustrative
score per lever). "Beats" is noise-aware (:func:`noisy_dominance`): A dominates B only when the
paired same-seed differences show A at least as good on every objective and better on one, by a
one-sided paired t-test at ``[packages] dominance_confidence``; a package is therefore dropped
only when another is demonstrably better, never because seed noise made another look better.
Each package's ``stability`` is the share of bootstrap resamples of the seeds (the same resample
for every package) in which it is undominated on the resampled means: a front package that owes
its place to noise has a low stability. Each front package then runs across sampled futures (``allocsim robust``'s
machinery) for its robustness share: how often it beats today's rules when the illustrative
parameters take other plausible values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from allocsim.errors import Problem, UserError  # noqa: E402
from allocsim.experiments.batch import Batch, evaluate_run, scenario_task  # noqa: E402
from allocsim.experiments.batch import confidence_interval as ci  # noqa: E402
from allocsim.experiments.executors import Evaluate, execute  # noqa: E402
from allocsim.experiments.seeds import replicate_seeds  # noqa: E402
from allocsim.experiments.store import RunStore, Task  # noqa: E402
from allocsim.report.format import fmt, label  # noqa: E402
from allocsim.robust.futures import RobustResult, get_field, robust, sign, threshold  # noqa: E402
from allocsim.robust.nsga import Decision, nsga2, search_seed  # noqa: E402
from allocsim.scenario.schema import Scenario  # noqa: E402
from allocsim.store import atomic_write_csv  # noqa: E402

#: A missing objective value counts as this much worse than any real one (finite, so paired
#: differences stay defined); values beyond MISSING_SCALE are not real figures.
MISSING = 1e100
MISSING_SCALE = 1e99

#: The package objectives besides effort (the headline metrics of a committee).
OBJECTIVES = ("effective_benefit_thb", "duplicate_money_thb", "mean_days_to_disbursement")


@dataclass
class PackageResult:
    packages: pd.DataFrame   # every package: levers, effort, objective means and CIs, on_front
    front: pd.DataFrame      # the non-dominated packages, with robustness shares
    levers: list[str]
    replicates: int
    futures: int
    robust: RobustResult | None = None
    search: str = "exhaustive"      # exhaustive | nsga2
    evaluations: int = 0            # distinct packages simulated (each on ``replicates`` seeds)
    budget: int | None = None       # NSGA-II: the evaluation budget, population, generations run
    population: int | None = None
    generations: int | None = None
    proposals: int | None = None    # NSGA-II: candidates proposed, cache hits included
    levels_only: bool = False       # exhaustive search although some lever has a continuous range
    confidence: float = 0.95        # one-sided paired-test confidence of the noise-aware dominance
    resamples: int = 0              # bootstrap resamples of the seeds behind ``stability``

    def noise_text(self) -> str:
        """How the front guards against seed noise, in words (report, console, manifest)."""
        s = (f"every package ran on the same {self.replicates} seed{'s' if self.replicates != 1 else ''} "
             "(common random numbers); a package is dropped from the front only when another is at "
             "least as good on every objective and better on one by a one-sided paired (same-seed) "
             f"t-test at {self.confidence:.0%}")
        if self.replicates < 2:
            return s + "; with one seed no difference can be shown beyond noise, so only exact ties count"
        if self.resamples:
            s += (f"; stability = share of {self.resamples} bootstrap resamples of the {self.replicates} "
                  "seeds in which the package is undominated on the resampled means")
        return s

    def search_text(self) -> str:
        """Which search produced the front, in words."""
        if self.search == "exhaustive":
            return (f"exhaustive search of all {self.evaluations} packages"
                    + (" of the listed levels; continuous ranges were not searched" if self.levels_only else ""))
        return (f"NSGA-II (platypus-opt, seeded from the scenario seed): {self.evaluations} distinct packages "
                f"simulated (budget {self.budget}) over {self.generations} generations of {self.population}; "
                f"{self.proposals} candidates proposed, repeats taken from the cache")


def _resolve_levers(baseline: Scenario, names: list[str] | None) -> list[str]:
    cfg = baseline.packages.levers
    file = str(baseline.source) if baseline.source else "scenario"
    if not cfg:
        raise UserError(Problem(file, "packages.levers", 'no levers to combine; add e.g. '
                                '"levers.single_gateway" = {levels = [true], effort = 3.0}'))
    if not names:
        return list(cfg)
    out = []
    for n in names:
        full = next((k for k in cfg if n in (k, _short(k))), None)
        if full is None:
            raise UserError(Problem(file, "--levers", f"{n!r} is not in [packages.levers]; valid: "
                                    f"{', '.join(_short(k) for k in cfg)}"))
        out.append(full)
    return out


def _short(key: str) -> str:
    """A lever's short name: ``levers.data_sharing`` -> ``data_sharing``,
    ``simulation.province_staff`` -> ``province_staff``."""
    return key.rsplit(".", 1)[-1]


def package_space(baseline: Scenario, levers: list[str]) -> list[dict[str, object]]:
    """Every combination: each lever at the baseline's value or one of its levels."""
    options = []
    for k in levers:
        base = get_field(baseline, k)
        options.append(list(dict.fromkeys([base, *baseline.packages.levers[k].levels])))
    space = [dict(zip(levers, combo, strict=True)) for combo in itertools.product(*options)]
    if len(space) > baseline.packages.max_packages:
        file = str(baseline.source) if baseline.source else "scenario"
        raise UserError(Problem(file, "packages.max_packages", f"{len(space)} packages exceed the "
                                f"exhaustive-search limit {baseline.packages.max_packages}; choose fewer "
                                "levers with --levers or fewer levels"))
    return space


def effort(baseline: Scenario, values: dict[str, object]) -> float:
    """Illustrative reform effort: per lever, its effort score × how far it moves from the baseline
    (a boolean switched on moves 1)."""
    return float(sum(baseline.packages.levers[k].effort * abs(float(v) - float(get_field(baseline, k)))
                     for k, v in values.items()))


def describe(baseline: Scenario, values: dict[str, object]) -> str:
    parts = []
    for k, v in values.items():
        if v == get_field(baseline, k):
            continue
        short = _short(k)
        parts.append(short if v is True else f"{short}={v:g}" if isinstance(v, float) else f"{short}={v}")
    return ", ".join(parts) or "today's rules"


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``values`` where every column is to be maximised: a row is dominated
    when another is at least as good everywhere and strictly better somewhere."""
    values = np.asarray(values, float)
    n = len(values)
    keep = np.ones(n, bool)
    for a in range(0, n, 256):  # blocks of candidates: a (n, block, k) comparison at a time
        v = values[a:a + 256]
        ge = np.ones((n, len(v)), bool)
        gt = np.zeros((n, len(v)), bool)
        for j in range(values.shape[1]):  # few objectives: one (n, block) comparison each
            ge &= values[:, None, j] >= v[None, :, j]
            gt |= values[:, None, j] > v[None, :, j]
        keep[a:a + 256] = ~np.any(ge & gt, axis=0)
    return keep


def noisy_dominance(G: np.ndarray, confidence: float, exact: int = 1) -> np.ndarray:
    """``D[i, j]``: package i dominates package j beyond seed noise. ``G``: (packages, seeds,
    objectives), every objective to be maximised, seed r the same seed for every package (common
    random numbers); the last ``exact`` objectives are deterministic (effort) and compared exactly.
    On each objective the paired differences i − j over the seeds give a one-sided lower
    confidence bound of their mean (Student t, ``confidence``); i is at least as good there when
    the bound is >= 0 (all differences zero counts) and better when it is > 0. i dominates j when
    it is at least as good on every objective and better on one. With one seed nothing noisy can
    be shown: only exactly equal values count as at least as good."""
    n, r, k = G.shape
    real = np.isfinite(G) & (np.abs(G) < MISSING_SCALE)  # the stand-in for a missing value is no scale
    scale = np.max(np.where(real, np.abs(G), 0.0), axis=(0, 1))
    tol = 1e-9 * (1.0 + scale)  # float noise of a common-random-number difference
    tq = float(stats.t.ppf(confidence, r - 1)) if r > 1 else np.inf
    D = np.zeros((n, n), bool)
    for i in range(n):
        d = G[i][None, :, :] - G           # (n, seeds, objectives): i minus every package
        d = np.where(np.abs(d) <= tol, 0.0, d)
        mean = d.mean(axis=1)
        if r > 1:
            half = tq * d.std(axis=1, ddof=1) / np.sqrt(r)
            lower = mean - np.where(half > 0, half, 0.0)
        else:
            lower = np.where(mean == 0, 0.0, -np.inf)
        if exact:
            lower[:, k - exact:] = mean[:, k - exact:]
        D[i] = np.all(lower >= 0, axis=1) & np.any(lower > 0, axis=1)
        D[i, i] = False
    return D


def stability(G: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Share of bootstrap resamples of the seeds (drawn with replacement, the same draw for
    every package: common random numbers) in which each package is undominated on the resampled
    means. NaN with one seed or no resamples (nothing to resample)."""
    n, r, _ = G.shape
    if r < 2 or resamples < 1:
        return np.full(n, np.nan)
    count = np.zeros(n)
    for _ in range(resamples):
        idx = rng.integers(0, r, r)
        count += pareto_mask(G[:, idx, :].mean(axis=1))
    return count / resamples


def bootstrap_rng(seed: int) -> np.random.Generator:
    """The stability bootstrap's own stream, derived from the scenario seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, 0xB007]))


def choose_search(baseline: Scenario, levers: list[str], search: str | None = None) -> str:
    """``exhaustive`` or ``nsga2``: auto picks exhaustive when no lever has a continuous range and
    the combinations fit ``max_packages``."""
    search = search or baseline.packages.search
    if search != "auto":
        return search
    cfg = baseline.packages.levers
    if any(cfg[k].range is not None for k in levers):
        return "nsga2"
    n = 1
    for k in levers:
        n *= len(dict.fromkeys([get_field(baseline, k), *cfg[k].levels]))
    return "exhaustive" if n <= baseline.packages.max_packages else "nsga2"


def decisions(baseline: Scenario, levers: list[str]) -> list[Decision]:
    """The NSGA-II decision space: a switch or a lever's discrete levels (the baseline's value
    first) as a choice, a lever with a ``range`` as a continuous level on its grid."""
    out = []
    for k in levers:
        lev = baseline.packages.levers[k]
        base = get_field(baseline, k)
        if lev.range is not None:
            low, high = lev.range
            integer = isinstance(base, int) and not isinstance(base, bool)
            step = lev.step or (high - low) / 20
            out.append(Decision(k, low=low, high=high, step=max(step, 1) if integer else step, integer=integer))
        else:
            out.append(Decision(k, values=tuple(dict.fromkeys([base, *lev.levels]))))
    return out


@dataclass
class _Runner:
    """Runs packages on common seeds (the same R seeds for every package) and keeps the results;
    package ``p``'s runs are tasks ``p * R .. p * R + R - 1`` (resumable run files)."""

    baseline: Scenario
    seeds: list[int]
    evaluate: Evaluate
    workers: int | None
    scheduler: str | None
    folder: Path | None
    progress: bool
    space: list[dict[str, object]] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    runs: dict[int, list[dict]] = field(default_factory=dict)

    def add(self, values: dict[str, object]) -> list[Task]:
        p = len(self.space)
        changes: dict[str, object] = {"name": f"pkg{p:04d}", **values}
        cpp = self.baseline.uncertainty.citizens_per_province
        if cpp is not None:
            changes["simulation.citizens_per_province"] = cpp
        psc = self.baseline.updated(changes)
        self.space.append(values)
        self.scenarios.append(psc)
        R = len(self.seeds)
        return [scenario_task(psc, s, p * R + r, label=psc.name, params={"package": p, "replicate": r})
                for r, s in enumerate(self.seeds)]

    def collect(self, results: list[dict]) -> None:
        """Each package's runs in replicate order, so run r of every package is on seed r (the
        pairing the noise-aware dominance test needs)."""
        by: dict[int, dict[int, dict]] = {}
        for res in results:
            by.setdefault(res["params"]["package"], {})[res["params"]["replicate"]] = res["national"]
        for p, runs in by.items():
            self.runs[p] = [runs[r] for r in sorted(runs)]

    def run(self, values: list[dict[str, object]], description: str) -> list[int]:
        """Simulate new packages (one parallel batch); return their package numbers."""
        first = len(self.space)
        tasks = [t for v in values for t in self.add(v)]
        store = RunStore(self.folder / "evolve" if self.folder else None)
        self.collect(execute(tasks, self.evaluate, store, workers=self.workers or self.baseline.experiments.workers,
                             scheduler=self.scheduler or self.baseline.experiments.scheduler,
                             progress=self.progress, description=description))
        return list(range(first, len(self.space)))

    def means(self, p: int) -> list[float]:
        """Objective means over the package's seeds (the table's means)."""
        return [ci(np.array([np.nan if r.get(m) is None else r[m] for r in self.runs[p]], float), 0.5)[0]
                for m in OBJECTIVES]


def search_packages(baseline: Scenario, *, levers: list[str] | None = None, replicates: int | None = None,
                    futures: int | None = None, workers: int | None = None, scheduler: str | None = None,
                    folder: Path | None = None, progress: bool = True, search: str | None = None,
                    evaluations: int | None = None, population: int | None = None,
                    evaluate: Evaluate = evaluate_run) -> PackageResult:
    """Package search with common random numbers — exhaustive, or NSGA-II when the space is large
    or has continuous levels — the Pareto front over every package evaluated, and each front
    package's robustness share across sampled futures."""
    keys = _resolve_levers(baseline, levers)
    method = choose_search(baseline, keys, search)
    R = replicates or baseline.packages.replicates
    F = baseline.packages.futures if futures is None else futures
    runner = _Runner(baseline, replicate_seeds(baseline.seed, R), evaluate, workers, scheduler, folder, progress)
    info: dict[str, object] = {"search": method}
    if method == "exhaustive":
        space = package_space(baseline, keys)
        tasks = [t for values in space for t in runner.add(values)]
        batch = Batch(tasks, folder / "search" if folder else None)
        batch.run(evaluate, workers=workers or baseline.experiments.workers,
                  scheduler=scheduler or baseline.experiments.scheduler, progress=progress,
                  description=f"packages ({len(space)} x {R} seeds)")
        runner.collect(batch.results)
        info["evaluations"] = len(space)
        info["levels_only"] = any(baseline.packages.levers[k].range is not None for k in keys)
    else:
        info.update(_evolve(baseline, keys, runner, evaluations, population))
    space, scenarios, by = runner.space, runner.scenarios, runner.runs
    conf = baseline.experiments.confidence
    rows = []
    for p, values in enumerate(space):
        row: dict[str, object] = {"package": f"pkg{p:04d}", "levers": describe(baseline, values)}
        row.update({_short(k): v for k, v in values.items()})
        row["effort"] = effort(baseline, values)
        for m in OBJECTIVES:
            x = np.array([np.nan if r.get(m) is None else r[m] for r in by[p]], float)
            mean, lo, hi = ci(x, conf)
            row.update({m: mean, f"{m}_ci_low": lo, f"{m}_ci_high": hi})
        rows.append(row)
    table = pd.DataFrame(rows)
    if "generation" in info:
        table["generation"] = info.pop("generation")
    table["clearly_better_on"] = [_clearly_better(by[p], by[0], conf) for p in range(len(space))]
    goals = np.column_stack([sign(m) * table[m].to_numpy(float) for m in OBJECTIVES] + [-table["effort"].to_numpy(float)])
    goals = np.where(np.isfinite(goals), goals, -np.inf)
    G = seed_goals(by, table["effort"].to_numpy(float), R)
    table["on_front"] = ~noisy_dominance(G, baseline.packages.dominance_confidence).any(axis=0)
    table["on_mean_front"] = pareto_mask(goals)
    # both fronts: a package on the noise-aware front that plain dominance on the means drops
    table["dominated_on_means"] = table["on_front"] & ~table["on_mean_front"]
    table["stability"] = stability(G, baseline.packages.bootstrap, bootstrap_rng(baseline.seed))
    table["seeds"] = R
    front = table[table["on_front"]].sort_values("effort", kind="stable").reset_index(drop=True)
    rres = None
    if F > 0:
        reforms = [scenarios[int(p[3:])] for p in front["package"] if front.loc[front["package"] == p, "effort"].iloc[0] > 0]
        if reforms:
            # a package holds every lever level it chose, including one equal to today's value
            # (else a future would overwrite it: the package would not be the package)
            rres = robust(baseline, reforms, F, workers=workers, scheduler=scheduler,
                          folder=folder / "futures" if folder else None, progress=progress, evaluate=evaluate,
                          metrics=list(OBJECTIVES), hold={r.name: list(keys) for r in reforms})
            rob = rres.robustness.set_index(["scenario", "metric"])["share_better"]
            for m in OBJECTIVES:
                front[f"share_better_{m}"] = [rob.get((p, m), np.nan) for p in front["package"]]
            front["share_better_all"] = [_share_all(rres, p) for p in front["package"]]
    return PackageResult(table, front, keys, R, F, rres, **info,  # type: ignore[arg-type]
                         confidence=baseline.packages.dominance_confidence,
                         resamples=baseline.packages.bootstrap if R > 1 else 0)


def seed_goals(by: dict[int, list[dict]], effort: np.ndarray, R: int) -> np.ndarray:
    """(packages, seeds, objectives + effort), all to be maximised; seed r is the r-th common seed
    (runs ordered by replicate). A missing value is worse than any real one."""
    G = np.empty((len(effort), R, len(OBJECTIVES) + 1))
    for p in range(len(effort)):
        runs = by[p]
        for j, m in enumerate(OBJECTIVES):
            G[p, :, j] = [sign(m) * r[m] if r.get(m) is not None and np.isfinite(r[m]) else -MISSING for r in runs]
        G[p, :, -1] = -effort[p]
    return G


def _evolve(baseline: Scenario, keys: list[str], runner: _Runner, evaluations: int | None,
            population: int | None) -> dict[str, object]:
    """NSGA-II (platypus-opt) over the package space; today's rules are package 0 (the
    reference of clearly_better_on). Objectives to minimise: −benefit, duplicates, delay, effort."""
    cfg = baseline.packages
    budget = evaluations or cfg.evaluations
    pop = population or cfg.population
    dec = decisions(baseline, keys)
    today = tuple(get_field(baseline, k) for k in keys)

    def objectives(cands: list[tuple]) -> list[list[float]]:
        values = [dict(zip(keys, c, strict=True)) for c in cands]
        done = len(runner.space)
        ps = runner.run(values, f"NSGA-II packages {done + 1}-{done + len(values)} (budget {budget}) x "
                        f"{len(runner.seeds)} seeds")
        return [[-sign(m) * v for m, v in zip(OBJECTIVES, runner.means(p), strict=True)]
                + [effort(baseline, values[i])] for i, p in enumerate(ps)]

    log = nsga2(dec, objectives, len(OBJECTIVES) + 1, budget=budget, population=pop,
                seed=search_seed(baseline.seed), initial=[today])
    assert [tuple(v.values()) for v in runner.space] == log.candidates
    return {"evaluations": len(log.candidates), "budget": budget, "population": pop,
            "generations": log.generations, "proposals": log.proposals, "generation": log.generation}


def _clearly_better(runs: list[dict], today: list[dict], conf: float) -> str:
    """Objectives on which the package beats today's rules beyond noise: the paired (same-seed)
    confidence interval of the difference lies wholly on the better side."""
    out = []
    for m in OBJECTIVES:
        d = np.array([np.nan if (a.get(m) is None or b.get(m) is None) else a[m] - b[m]
                      for a, b in zip(runs, today, strict=True)], float)
        _, lo, hi = ci(d, conf)
        if np.isfinite(lo) and ((sign(m) > 0 and lo > 0) or (sign(m) < 0 and hi < 0)):
            out.append(m)
    return ", ".join(out)


def _share_all(res: RobustResult, package: str) -> float:
    """Share of futures in which the package beats the baseline on every objective at once, each
    by more than its seed-noise bar (robustness.csv's noise_z × noise_sd)."""
    t = res.futures
    b = t[t["scenario"] == res.baseline].set_index("future")
    p = t[t["scenario"] == package].set_index("future")
    if len(p) == 0:
        return np.nan
    ok = np.ones(len(p), bool)
    for m in OBJECTIVES:
        ok &= (sign(m) * (p[m] - b.loc[p.index, m])).to_numpy(float) > threshold(res.robustness, package, m)
    return float(ok.mean())


def chart_front(res: PackageResult) -> plt.Figure:
    t = res.packages
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, m in zip(axes, OBJECTIVES, strict=True):
        scale = 1e6 if m.endswith("_thb") else 1.0
        off = t[~t["on_front"]]
        on = t[t["on_front"]].sort_values("effort")
        ax.scatter(off["effort"], off[m] / scale, s=10, color="#bbb", label="dominated")
        ax.scatter(on["effort"], on[m] / scale, s=28, color="#d7191c", label="Pareto front")
        ax.set_xlabel("reform effort (illustrative score)")
        ax.set_ylabel(label(m) + (" (M THB)" if scale > 1 else ""))
        ax.set_title(f"{label(m)} ({'lower' if sign(m) < 0 else 'higher'} is better)", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    how = "exhaustive search" if res.search == "exhaustive" else f"NSGA-II, {res.generations} generations"
    fig.suptitle(f"{len(t)} packages ({how}) x {res.replicates} common seeds; front (noise-aware, paired "
                 f"test at {res.confidence:.0%}): {int(t['on_front'].sum())}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def write_packages(res: PackageResult, folder: Path) -> None:
    from allocsim.report import charts
    from allocsim.report.html import Report

    atomic_write_csv(res.packages, folder / "packages.csv")
    atomic_write_csv(res.front, folder / "package_front.csv")
    if res.robust is not None:
        from allocsim.robust.report import write_tables

        write_tables(res.robust, folder / "futures")
    rep = Report("allocsim packages — reform packages against effort", folder)
    rep.p(front_paragraph(res), "summary")
    rep.h2("The Pareto front", "front")
    rep.figure(chart_front(res), "package_front", "package objectives against effort")
    cols = ["package", "levers", "effort", *OBJECTIVES, "clearly_better_on", "stability", "seeds",
            "dominated_on_means",
            *[c for c in res.front.columns if c.startswith("share_better")]]
    rep.table(res.front[cols])
    if res.search != "exhaustive":
        rep.p("NSGA-II searched the switches as binaries and data sharing / participation over their "
              "ranges on a grid; the front is the non-dominated set of every package it simulated, so "
              "a package outside it may be missing, never a dominated one on it. Same scenario seed, "
              "same front.", "muted")
    rep.p(f"Replicates: {res.noise_text()}. Objectives are means over the {res.replicates} seeds, with "
          "confidence intervals in packages.csv (on_mean_front: plain dominance on the means, for "
          "comparison); clearly_better_on names the objectives on which the package beats today's "
          "rules beyond seed noise (paired interval). Robustness shares: share of "
          f"{res.futures} sampled futures in which the package beats today's rules (share_better_all: on "
          "all three objectives at once).", "muted")
    rep.write()
    charts.save(chart_front(res), folder / "charts" / "package_front.png")


def front_paragraph(res: PackageResult) -> str:
    t, f = res.packages, res.front
    base = t[t["effort"] == 0].iloc[0] if (t["effort"] == 0).any() else None
    s = (f"{len(t)} packages of {len(res.levers)} levers were run on {res.replicates} common seeds each "
         f"({res.search_text()}); {len(f)} are on the Pareto front of delivered benefit, duplicate money, "
         "delay and reform effort (no other package evaluated is shown, by a paired test over the "
         f"{res.replicates} seeds at {res.confidence:.0%}, to be at least as good on all four and better on one).")
    s += " " + fronts_sentence(res)
    if res.resamples and len(f):
        st = f["stability"].to_numpy(float)
        s += (f" {int((st >= 0.9).sum())} of them stay on the front in at least 90 % of {res.resamples} "
              "bootstrap resamples of the seeds (stability).")
    if base is not None and len(f) > 1:
        cheap = f[f["effort"] > 0].iloc[0]
        s += (f" The cheapest front package ({cheap['levers']}, effort {cheap['effort']:g}) changes duplicate "
              f"money by {fmt('duplicate_money_thb', cheap['duplicate_money_thb'] - base['duplicate_money_thb'], signed=True)} "
              f"and delay by {fmt('mean_days_to_disbursement', cheap['mean_days_to_disbursement'] - base['mean_days_to_disbursement'], signed=True)}")
        if "share_better_all" in f.columns and pd.notna(cheap.get("share_better_all")):
            s += f"; it beats today's rules on all three in {cheap['share_better_all']:.0%} of {res.futures} futures"
        s += "."
    return s


def fronts_sentence(res: PackageResult) -> str:
    """Both fronts in words: plain dominance on the means against the noise-aware rule."""
    t = res.packages
    kept = int(t["dominated_on_means"].sum()) if "dominated_on_means" in t.columns else 0
    return (f"Plain dominance on the means would keep {int(t['on_mean_front'].sum())}; {kept} front "
            f"package{'s are' if kept != 1 else ' is'} dominated on the means yet kept, because no package "
            "is better beyond seed noise (dominated_on_means in package_front.csv).")


def package_lines(res: PackageResult) -> list[str]:
    lines = [front_paragraph(res), ""]
    for r in res.front.itertuples():
        d = r._asdict()
        extra = f"  robust (all three) {d['share_better_all']:.0%}" if "share_better_all" in d and pd.notna(d["share_better_all"]) else ""
        extra += f"  stability {d['stability']:.0%}" if pd.notna(d.get("stability")) else ""
        lines.append(f"  {r.package} effort {r.effort:5.2f}  benefit {fmt('effective_benefit_thb', d['effective_benefit_thb'])}"
                     f"  duplicates {fmt('duplicate_money_thb', d['duplicate_money_thb'])}"
                     f"  delay {fmt('mean_days_to_disbursement', d['mean_days_to_disbursement'])}{extra}  [{r.levers}]")
    return lines
