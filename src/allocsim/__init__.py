"""allocsim: optimisation and agent-based simulation of Thailand's area-based budget.

The public API lives here so that notebooks need one import::

    import allocsim
    sc = allocsim.load_scenario("scenarios/baseline.toml")
    geo = allocsim.load_geography(sc.geography.cluster_map)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("allocsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from allocsim.data.geography import Geography, load_geography  # noqa: E402
from allocsim.errors import Problem, UserError  # noqa: E402
from allocsim.scenario import Scenario, load_scenario  # noqa: E402


def run(scenario: str | Scenario, *, replicates: int = 1, seed: int | None = None, out: str | None = None,
        workers: int | None = None, scheduler: str | None = None):
    """Run a scenario (file or object) end to end; returns the ``RunResult`` whose ``tables`` are
    pandas DataFrames. With ``out``, also writes the result folder."""
    from pathlib import Path

    from allocsim.experiments import run_scenario

    sc = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    if seed is not None:
        sc = sc.with_seed(seed)
    return run_scenario(sc, Path(out) if out else None, replicates=replicates, workers=workers, scheduler=scheduler)


def compare(baseline: str | Scenario, *reforms: str | Scenario, replicates: int | None = None,
            workers: int | None = None, scheduler: str | None = None, out: str | None = None,
            lang: str = "en"):
    """Baseline vs reforms on common random numbers → ``CompareResult`` (differences with CIs).
    With ``out`` the same folder as ``allocsim compare --out`` (tables, report, charts, manifest)."""
    from allocsim.experiments import compare as _compare

    scs = [load_scenario(s) if not isinstance(s, Scenario) else s for s in (baseline, *reforms)]
    return _compare(scs[0], scs[1:], replicates, workers=workers, scheduler=scheduler, progress=False,
                    out=out, lang=lang)


def sweep(scenario: str | Scenario, *, replicates: int | None = None, workers: int | None = None,
          scheduler: str | None = None, out: str | None = None):
    """The scenario's sweep design → ``SweepResult`` (tidy table + sensitivity indices)."""
    from allocsim.experiments import sweep as _sweep

    sc = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    return _sweep(sc, n=replicates, workers=workers, scheduler=scheduler, progress=False, out=out)


def select(projects: str, resources: str, *, objective: str = "benefit", mip_gap: float = 1e-4,
           time_limit_s: float = 60.0, year: int | None = None, out: str | None = None,
           overwrite: bool = False):
    """Portfolio MILP on a projects/resources table pair → ``PortfolioResult``; ``year``: the fiscal
    year of a table with a ``fiscal_year`` column (default: its earliest). With ``out``, the same
    folder as ``allocsim select --out`` (``optimise.selection.select_tables`` has every option)."""
    from allocsim.optimise.selection import select_tables

    return select_tables(projects, resources, objective=objective, gap=mip_gap, time_limit=time_limit_s,
                         year=year, out=out, overwrite=overwrite).portfolio


__all__ = [
    "compare",
    "run",
    "select",
    "sweep",
    "Geography",
    "Problem",
    "Scenario",
    "UserError",
    "__version__",
    "load_geography",
    "load_scenario",
]
