"""Run HiGHS on a Pyomo model and report honestly what it says.

Uses Pyomo's persistent HiGHS interface (``pyomo.contrib.solver`` 'highs', through highspy). With
default options it raises on an infeasible model (so does ``appsi_highs``); we pass
``raise_exception_on_nonoptimal_result=False`` and ``load_solutions=False`` and read the termination
condition instead. The session keeps the model loaded so that Pareto points re-solve after changing
mutable parameters. Status, objective, best bound and gap are HiGHS's own; anything that is not a proven
optimum within the requested gap is labelled so.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from allocsim.errors import SolverError


@dataclass(frozen=True)
class SolveOptions:
    mip_gap: float = 1e-3
    time_limit_s: float = 60.0
    threads: int | None = None


@dataclass
class SolveStatus:
    """What the solver said. ``status`` is one of: optimal, time_limit (with a feasible
    solution), time_limit_no_solution, infeasible, unbounded, infeasible_or_unbounded, error."""

    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    mip_gap: float
    time_limit_s: float
    solver: str = "highs"
    solver_version: str = ""

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def has_solution(self) -> bool:
        return self.objective is not None and self.status in (
            "optimal", "time_limit", "interrupted", "iteration_limit", "objective_limit")

    def label(self) -> str:
        if self.optimal:
            g = f", gap {self.gap:.2%}" if self.gap is not None else ""
            return f"optimal within the requested gap {self.mip_gap:g}{g}"
        if self.has_solution:
            return (f"NOT OPTIMAL ({self.status}): best found {self.objective:,.3f}, bound "
                    f"{self.bound:,.3f}, gap {self.gap:.2%}" if self.gap is not None
                    else f"NOT OPTIMAL ({self.status})")
        return f"NO SOLUTION ({self.status})"

    def as_dict(self) -> dict:
        return asdict(self) | {"optimal": self.optimal, "label": self.label()}


_TC = TerminationCondition
_STATUS = {
    _TC.convergenceCriteriaSatisfied: "optimal",
    _TC.maxTimeLimit: "time_limit",
    _TC.iterationLimit: "iteration_limit",
    _TC.objectiveLimit: "objective_limit",
    _TC.interrupted: "interrupted",
    _TC.provenInfeasible: "infeasible",
    _TC.locallyInfeasible: "infeasible",
    _TC.unbounded: "unbounded",
    _TC.infeasibleOrUnbounded: "infeasible_or_unbounded",
    _TC.error: "error",
}


def _finite(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """HiGHS's definition: |bound - objective| / max(|objective|, tiny)."""
    if objective is None or bound is None:
        return None
    return abs(bound - objective) / max(abs(objective), 1e-10)


class Solver:
    """A persistent HiGHS session for one model (re-solves reuse the loaded model)."""

    def __init__(self, options: SolveOptions) -> None:
        self.options = options
        self._opt = SolverFactory("highs")
        if not self._opt.available():
            raise SolverError("HiGHS is not available: install the 'highspy' package")
        self.version = ".".join(str(v) for v in self._opt.version())

    def solve(self, model: pyo.ConcreteModel, *, load: bool = True) -> SolveStatus:
        kw: dict = {"rel_gap": self.options.mip_gap, "time_limit": self.options.time_limit_s,
                    "raise_exception_on_nonoptimal_result": False, "load_solutions": False}
        if self.options.threads:
            kw["threads"] = self.options.threads
        t0 = time.perf_counter()
        res = self._opt.solve(model, **kw)
        seconds = time.perf_counter() - t0
        status = _STATUS.get(res.termination_condition, "error")
        # an unbounded or infeasible model may still come with a point; it is not a solution
        has_solution = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible) and status in (
            "optimal", "time_limit", "iteration_limit", "interrupted", "objective_limit")
        if status == "time_limit" and not has_solution:
            status = "time_limit_no_solution"
        if status == "optimal" and not has_solution:
            status = "error"
        obj = _finite(res.incumbent_objective) if has_solution else None
        bound = _finite(res.objective_bound)
        if has_solution and load:
            res.solution_loader.load_vars()
        return SolveStatus(status=status, termination=str(res.termination_condition.name),
                           objective=obj, bound=bound, gap=relative_gap(obj, bound),
                           solve_seconds=seconds, mip_gap=self.options.mip_gap,
                           time_limit_s=self.options.time_limit_s, solver_version=self.version)
