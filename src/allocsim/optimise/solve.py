"""Run HiGHS and report honestly what it says.

One status vocabulary (:class:`SolveStatus`) for every solve: allocsim's own allocation LP and
portfolio MILP are handed to highspy directly as sparse matrices (:func:`highs_status` maps HiGHS's
model status); :class:`Solver` runs any Pyomo model a researcher builds in a notebook with the same
honesty. Pyomo is imported only when that class is used, so ``allocsim select`` never pays for it.

The Pyomo path uses the persistent HiGHS interface (``pyomo.contrib.solver`` 'highs', through highspy). With
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
from typing import TYPE_CHECKING, Any

from allocsim.errors import SolverError

if TYPE_CHECKING:
    import pyomo.environ as pyo


@dataclass(frozen=True)
class SolveOptions:
    mip_gap: float = 1e-3
    time_limit_s: float = 60.0
    threads: int | None = None


@dataclass
class SolveStatus:
    """What the solver said. ``status`` is one of: optimal, time_limit (with a feasible
    solution), time_limit_no_solution, iteration_limit / objective_limit / interrupted (with a
    solution; ``*_no_solution`` without), infeasible, unbounded, infeasible_or_unbounded, error.
    ``gap`` is HiGHS's own ``mip_gap`` (None when it has no finite bound); ``note`` says how a
    multi-stage or decomposed solve got there."""

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
    note: str = ""  # e.g. "max-min stage: time_limit" or "returned the heuristic start"

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def has_solution(self) -> bool:
        return self.objective is not None and self.status in (
            "optimal", "time_limit", "interrupted", "iteration_limit", "objective_limit")

    def label(self) -> str:
        note = f" [{self.note}]" if self.note else ""
        if self.optimal:
            g = f", gap {self.gap:.2%}" if self.gap is not None else ""
            return f"optimal within the requested gap {self.mip_gap:g}{g}{note}"
        if self.has_solution:
            if self.gap is not None and self.bound is not None:
                return (f"NOT OPTIMAL ({self.status}): best found {self.objective:,.3f}, bound "
                        f"{self.bound:,.3f}, gap {self.gap:.2%}{note}")
            return f"NOT OPTIMAL ({self.status}): best found {self.objective:,.3f}, no bound{note}"
        return f"NO SOLUTION ({self.status}){note}"

    def as_dict(self) -> dict:
        return asdict(self) | {"optimal": self.optimal, "label": self.label()}


_PYOMO_STATUS = {
    "convergenceCriteriaSatisfied": "optimal",
    "maxTimeLimit": "time_limit",
    "iterationLimit": "iteration_limit",
    "objectiveLimit": "objective_limit",
    "interrupted": "interrupted",
    "provenInfeasible": "infeasible",
    "locallyInfeasible": "infeasible",
    "unbounded": "unbounded",
    "infeasibleOrUnbounded": "infeasible_or_unbounded",
    "error": "error",
}

# HiGHS model status (highspy.HighsModelStatus member name) -> our vocabulary. Statuses that can
# stop a MIP with an incumbent are split by whether HiGHS has a feasible primal solution.
_HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "iteration_limit",
    "kObjectiveBound": "objective_limit",
    "kObjectiveTarget": "objective_limit",
    "kInterrupt": "interrupted",
    "kHighsInterrupt": "interrupted",
    "kMemoryLimit": "error",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
}
_LIMITS = ("time_limit", "iteration_limit", "objective_limit", "interrupted")


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


def highs_version() -> str:
    import highspy

    return f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def highs_status(h: Any, options: SolveOptions, seconds: float, *, time_limit_s: float | None = None,
                 has_integers: bool = True) -> SolveStatus:
    """SolveStatus from a highspy ``Highs`` object after ``run()``: HiGHS's model status, objective,
    dual bound and ``mip_gap`` as HiGHS reports them (``time_limit_s``: the limit this run had)."""
    name = h.getModelStatus().name
    info = h.getInfo()
    feasible = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    status = _HIGHS_STATUS.get(name, "error")
    if status in _LIMITS and not feasible:
        status = "time_limit_no_solution" if status == "time_limit" else f"{status}_no_solution"
    if status == "optimal" and not feasible:
        status = "error"
    obj = _finite(info.objective_function_value) if status == "optimal" or status in _LIMITS else None
    if has_integers:
        bound = _finite(info.mip_dual_bound)
        gap = _finite(info.mip_gap) if obj is not None else None
    else:  # an LP (no integer column left): the bound is the optimum itself
        bound = obj if status == "optimal" else None
        gap = 0.0 if status == "optimal" else None
    if status == "optimal" and bound is None:
        bound = obj
    if status == "optimal" and gap is None:
        gap = relative_gap(obj, bound)
    return SolveStatus(status=status, termination=name, objective=obj, bound=bound, gap=gap,
                       solve_seconds=seconds, mip_gap=options.mip_gap,
                       time_limit_s=options.time_limit_s if time_limit_s is None else time_limit_s,
                       solver_version=highs_version())


class Solver:
    """A persistent HiGHS session for one Pyomo model (the allocation LP; re-solves reuse it)."""

    def __init__(self, options: SolveOptions) -> None:
        from pyomo.contrib.solver.common.factory import SolverFactory

        self.options = options
        self._opt = SolverFactory("highs")
        if not self._opt.available():
            raise SolverError("HiGHS is not available: install the 'highspy' package")
        self.version = ".".join(str(v) for v in self._opt.version())

    def solve(self, model: pyo.ConcreteModel, *, load: bool = True) -> SolveStatus:
        from pyomo.contrib.solver.common.results import SolutionStatus

        kw: dict = {"rel_gap": self.options.mip_gap, "time_limit": self.options.time_limit_s,
                    "raise_exception_on_nonoptimal_result": False, "load_solutions": False}
        if self.options.threads:
            kw["threads"] = self.options.threads
        t0 = time.perf_counter()
        res = self._opt.solve(model, **kw)
        seconds = time.perf_counter() - t0
        status = _PYOMO_STATUS.get(res.termination_condition.name, "error")
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
