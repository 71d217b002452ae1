"""Infeasibility explained in policy words, completely.

When a scenario's rules cannot all hold, two things are reported:

* **by how much** (``conflicts``): the elastic version of the model gives every rule row a
  non-negative slack and minimises the total slack. Each row is first divided by its own size
  (max of |rhs| and its largest |coefficient|), so the slack is unit-free: multiplying all money by
  1000 leaves the elastic model — and the rules it blames — unchanged. The rows that still need slack
  at the optimum are the cheapest repair, e.g. "matching funds: Nan needs 41.0 M THB local
  co-funding, capacity is 12.0 M THB".
* **every side of each conflict** (``iis``): irreducible infeasible subsets of the rule rows. The
  rules in one cannot all hold together, and dropping any one of them makes the remaining rules
  satisfiable by a binary portfolio. So the report names the commitments that overload the
  budget, not only the budget. Up to ``max_conflicts`` disjoint conflicts are found, each set
  aside before looking for the next.

The IIS is built on the binary model itself (HiGHS's own ``getIis`` works on LPs only): a seed set
that is already infeasible — HiGHS's IIS of the LP relaxation when the relaxation is infeasible,
otherwise the rows an elastic filter (Chinneck) enforces one repair at a time — is shrunk by a
deletion filter of MILP feasibility checks. Every check has ``options.time_limit_s``; when one
times out the row is kept and the set is labelled "not proven irreducible". Each conflict is then
checked again by separate solves (each member's least breach while the others hold), which also
gives the amounts in its policy words.

:func:`lp_iis` is the same idea for a plain LP (e.g. the budget-allocation LP), through highspy's
``getIis``. Everything here reads :class:`~allocsim.optimise.rules.RuleRows`, not a model builder.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules import RULES, RuleRows
from allocsim.optimise.solve import SolveOptions, SolveStatus

TOL = 1e-6
INF = highspy.kHighsInf
SIG_DIGITS = 12  # normalised rows are rounded so that rescaled money gives a bit-identical model
IIS_BUDGET_FACTOR = 10.0  # default total time for the IIS search, in multiples of time_limit_s

# kIisModelStatus* by value (highspy binds the field as a plain int)
_IIS_STATUS = {-1: "feasible", 0: "unknown", 1: "time_limit", 2: "reducible", 3: "irreducible"}
_MODEL_STATUS = {
    "kOptimal": "optimal", "kInfeasible": "infeasible", "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded", "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit", "kInterrupt": "interrupted",
    "kObjectiveBound": "objective_limit", "kObjectiveTarget": "objective_limit",
}


# ---- the diagnosis ------------------------------------------------------------------------------

@dataclass
class Diagnosis:
    """``status``: HiGHS's status of the elastic model; ``conflicts``: rows the cheapest repair
    breaks (rule, row, amount, message); ``iis``: disjoint irreducible conflicts (conflict, rule,
    row, amount, message), ``amount`` being the least breach of that row when all other members
    of its conflict hold."""

    status: SolveStatus
    conflicts: pd.DataFrame
    iis: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["conflict", "rule", "row", "amount", "message"]))
    iis_irreducible: bool = True  # False when a feasibility check timed out
    iis_note: str = ""

    @property
    def rules(self) -> list[str]:
        """Every rule involved: the IIS's and the repair's."""
        return sorted(set(self.iis["rule"]) | set(self.conflicts["rule"]))

    def messages(self) -> list[str]:
        """One line per irreducible conflict naming every rule in it, then any other row the
        cheapest repair breaks."""
        seen = set(zip(self.iis["rule"], self.iis["row"], strict=True))
        why = ("dropping any one of them lets the rest hold" if self.iis_irreducible
               else "NOT proven irreducible: a feasibility check timed out")
        head = [f"these rules cannot all hold together ({why}): " + "; ".join(grp["message"])
                for _, grp in self.iis.groupby("conflict", sort=True)]
        rest = [m for r, k, m in zip(self.conflicts["rule"], self.conflicts["row"],
                                     self.conflicts["message"], strict=True) if (r, k) not in seen]
        return head + rest


@dataclass
class StackedRules:
    """All switched-on rule rows as one matrix over binary x, each row normalised to unit size."""

    A: sp.csr_matrix          # (m, n) normalised rows
    lower: np.ndarray         # (m,) normalised row bounds (-inf / +inf where open)
    upper: np.ndarray
    norm: np.ndarray          # (m,) the divisor of each row (rule units per normalised unit)
    rule: np.ndarray          # (m,) rule name of each row
    row: np.ndarray           # (m,) row index within its rule family
    families: dict[str, RuleRows]

    @property
    def m(self) -> int:
        return self.A.shape[0]

    def describe(self, k: int, amount_normalised: float) -> str:
        fam = self.families[str(self.rule[k])]
        return fam.describe(int(self.row[k]), float(amount_normalised * self.norm[k]))


def _round_sig(v: np.ndarray, digits: int = SIG_DIGITS) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    out = v.copy()
    ok = np.isfinite(v) & (v != 0)
    mag = 10.0 ** np.floor(np.log10(np.abs(v[ok])))
    out[ok] = np.round(v[ok] / mag, digits - 1) * mag
    return out


def stack_rules(data: PortfolioData, params: RuleParams,
                rules: Sequence[str] | None = None) -> StackedRules:
    """Every rule family that is on, stacked and normalised: row r divided by
    max(|rhs_r|, max_j |A_rj|) — a homogeneous size, so the result does not depend on the money
    unit. Rows with an infinite right-hand side never bind and are left out."""
    fams, blocks, lo, hi, norm, rule, row = {}, [], [], [], [], [], []
    for name in rules if rules is not None else RULES:
        fam = RULES[name](data, params)
        if fam is None or fam.size == 0:
            continue
        fams[name] = fam
        keep = np.flatnonzero(np.isfinite(fam.rhs))
        A = fam.A[keep]
        rhs = fam.rhs[keep]
        big = np.zeros(len(keep))
        if A.nnz:
            big = np.maximum(big, np.asarray(abs(A).max(axis=1).todense()).ravel())
        s = np.maximum(np.abs(rhs), big)
        s = np.where(s > 0, s, 1.0)
        blocks.append(sp.diags(1.0 / s) @ A)
        b = rhs / s
        lo.append(np.full(len(keep), -INF) if fam.sense == "<=" else b)
        hi.append(b if fam.sense == "<=" else np.full(len(keep), INF))
        norm.append(s)
        rule.append(np.full(len(keep), name, dtype=object))
        row.append(keep)
    if not blocks:
        z = np.zeros(0)
        return StackedRules(sp.csr_matrix((0, data.n)), z, z, z, z.astype(object),
                            z.astype(np.int64), fams)
    A = sp.vstack(blocks).tocsr()
    A.data = _round_sig(A.data)
    return StackedRules(A, _round_sig(np.concatenate(lo)), _round_sig(np.concatenate(hi)),
                        np.concatenate(norm), np.concatenate(rule), np.concatenate(row), fams)


# ---- highspy plumbing ---------------------------------------------------------------------------

@dataclass
class _Run:
    status: str          # optimal, infeasible, time_limit, time_limit_no_solution, ...
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    termination: str


def _highs(A: sp.spmatrix, row_lo: np.ndarray, row_hi: np.ndarray, col_lo: np.ndarray,
           col_hi: np.ndarray, cost: np.ndarray | None = None,
           integer: np.ndarray | None = None) -> highspy.Highs:
    """A silent highspy model (minimise ``cost``); ``integer`` marks integer columns."""
    A = sp.csc_matrix(A)
    nrow, ncol = A.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_ = np.zeros(ncol) if cost is None else np.asarray(cost, float)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lo, float), np.asarray(col_hi, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lo, float), np.asarray(row_hi, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
    lp.a_matrix_.value_ = A.data.astype(float)
    if integer is not None:  # span every column: HiGHS must not read an unset vector
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in integer]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h


def _run(h: highspy.Highs, time_limit: float, gap: float = 0.0) -> _Run:
    h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    h.setOptionValue("mip_rel_gap", gap)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    ms = h.getModelStatus()
    name = ms.name if hasattr(ms, "name") else str(ms).split(".")[-1]
    status = _MODEL_STATUS.get(name, "error")
    info = h.getInfo()
    has = info.primal_solution_status == 2 and status not in (
        "infeasible", "unbounded", "infeasible_or_unbounded", "error")
    if status == "time_limit" and not has:
        status = "time_limit_no_solution"
    x = np.asarray(h.getSolution().col_value) if has else None
    obj = float(info.objective_function_value) if has else None
    bound = float(info.mip_dual_bound) if has and np.isfinite(info.mip_dual_bound) else None
    g = float(info.mip_gap) if has and np.isfinite(info.mip_gap) else None
    return _Run(status, x, obj, bound, g, seconds, name)


def _submodel(st: StackedRules, rows: np.ndarray, elastic: np.ndarray | None = None
              ) -> tuple[highspy.Highs, np.ndarray, int]:
    """The MILP over ``rows`` (hard) plus ``elastic`` rows with a slack each (minimised).
    Only the projects these rows touch are columns. Returns (model, columns, number of x)."""
    elastic = np.zeros(0, dtype=np.int64) if elastic is None else elastic
    allrows = np.r_[rows, elastic].astype(np.int64)
    A = st.A[allrows]
    cols = np.unique(A.indices)
    A = A[:, cols]
    ne, nx = len(elastic), len(cols)
    if ne:
        sign = np.where(np.isfinite(st.upper[elastic]), -1.0, 1.0)  # <= rows give, >= rows take
        S = sp.csr_matrix((sign, (len(rows) + np.arange(ne), np.arange(ne))), shape=(len(allrows), ne))
        A = sp.hstack([A, S])
    ncol = nx + ne
    h = _highs(A, st.lower[allrows], st.upper[allrows], np.zeros(ncol),
               np.r_[np.ones(nx), np.full(ne, INF)], np.r_[np.zeros(nx), np.ones(ne)],
               np.r_[np.ones(nx, bool), np.zeros(ne, bool)])
    return h, cols, nx


def _feasible(st: StackedRules, rows: np.ndarray, time_limit: float) -> str:
    """'feasible', 'infeasible' or 'unknown' (time limit) for the binary model on ``rows``."""
    if len(rows) == 0:
        return "feasible"
    if st.A[rows].nnz == 0:  # no project in these rows: they hold iff 0 is within their bounds
        ok = (st.lower[rows] <= TOL) & (st.upper[rows] >= -TOL)
        return "feasible" if ok.all() else "infeasible"
    h, _, _ = _submodel(st, rows)
    r = _run(h, time_limit)
    if r.x is not None or r.status == "optimal":
        return "feasible"
    return "infeasible" if r.status == "infeasible" else "unknown"


def _elastic(st: StackedRules, hard: np.ndarray, time_limit: float, gap: float,
             universe: np.ndarray | None = None) -> tuple[_Run, np.ndarray]:
    """Minimise the total normalised slack of the rows of ``universe`` (default: all) that are
    not in ``hard``. Returns the run and the slack of every row (0 for hard rows and rows outside
    the universe; nan everywhere when there is no solution)."""
    universe = np.arange(st.m) if universe is None else universe
    soft = np.setdiff1d(universe, hard)
    h, _, nx = _submodel(st, hard, soft)
    r = _run(h, time_limit, gap)
    slack = np.full(st.m, np.nan)
    if r.x is not None:
        slack[:] = 0.0
        slack[soft] = np.maximum(r.x[nx:], 0.0)
    return r, slack


# ---- public API ---------------------------------------------------------------------------------

@dataclass
class LpIis:
    """An IIS of an LP from HiGHS: ``rows``/``cols`` are indices of the rows and column bounds in
    it, ``labels`` the caller's names of those rows; ``status`` is HiGHS's IIS status
    (irreducible, reducible, time_limit, feasible, unknown) or 'error'."""

    status: str
    rows: np.ndarray
    cols: np.ndarray
    labels: list = field(default_factory=list)

    @property
    def irreducible(self) -> bool:
        return self.status == "irreducible"


def lp_iis(model: highspy.Highs | sp.spmatrix, row_lower: np.ndarray | None = None,
           row_upper: np.ndarray | None = None, col_lower: np.ndarray | None = None,
           col_upper: np.ndarray | None = None, *, row_labels: Sequence | None = None,
           time_limit_s: float | None = None) -> LpIis:
    """Irreducible infeasible subset of an LP, by HiGHS (``getIis``, strategy from-LP +
    irreducible). Pass either a loaded ``highspy.Highs`` or the sparse matrix with its row and
    column bounds. Integrality, if any, is ignored: HiGHS's IIS is for the LP relaxation. A
    feasible LP gives status 'feasible' and no rows."""
    if isinstance(model, highspy.Highs):
        h = model
    else:
        if row_lower is None or row_upper is None:
            raise ValueError("lp_iis needs row_lower and row_upper with a matrix")
        A = sp.csc_matrix(model)
        ncol = A.shape[1]
        h = _highs(A, row_lower, row_upper,
                   np.zeros(ncol) if col_lower is None else col_lower,
                   np.full(ncol, INF) if col_upper is None else col_upper)
    h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyFromLp)
                     | int(highspy.IisStrategy.kIisStrategyIrreducible))
    if time_limit_s is not None:
        h.setOptionValue("iis_time_limit", float(time_limit_s))
    st, iis = h.getIis()
    if st == highspy.HighsStatus.kError or not iis.valid_:
        return LpIis("error", np.zeros(0, np.int64), np.zeros(0, np.int64))
    rows = np.asarray(list(iis.row_index_), dtype=np.int64)
    cols = np.asarray([c for c, b in zip(iis.col_index_, iis.col_bound_, strict=True)
                       if b not in (0, 1)], dtype=np.int64)  # free/null bounds are not in it
    labels = [row_labels[int(k)] for k in rows] if row_labels is not None else rows.tolist()
    return LpIis(_IIS_STATUS.get(int(iis.status_), "unknown"), rows, cols, labels)


def _seed(st: StackedRules, universe: np.ndarray, first_slack: np.ndarray, time_limit: float,
          gap: float, deadline: float, lp_seed: bool = True) -> tuple[np.ndarray, bool, str]:
    """Rows of ``universe`` that are already infeasible together for the binary model. Returns
    (rows, proven infeasible, how they were found)."""
    if len(universe) == 0:
        return np.zeros(0, np.int64), False, ""
    if lp_seed:
        ncol = st.A.shape[1]
        relax = lp_iis(_highs(st.A[universe], st.lower[universe], st.upper[universe],
                              np.zeros(ncol), np.ones(ncol)), time_limit_s=time_limit)
        # an infeasible subset of the relaxation is one of the binary model too (a timed-out
        # search may return a partial set, so only a finished one is used)
        if relax.status in ("irreducible", "reducible") and len(relax.rows):
            return np.sort(universe[relax.rows]), True, "seeded by HiGHS's IIS of the LP relaxation"
    # elastic filter: enforce what the repair breaks until the enforced rows alone conflict
    hard = np.intersect1d(np.flatnonzero(np.nan_to_num(first_slack) > TOL), universe)
    while time.perf_counter() < deadline:
        r, slack = _elastic(st, hard, min(time_limit, deadline - time.perf_counter()), gap,
                            universe)
        if r.status == "infeasible":
            return hard, True, "seeded by an elastic filter"
        if r.x is None:
            break
        more = np.flatnonzero(slack > TOL)
        if len(more) == 0:  # nothing left to break: the rules hold together
            return np.zeros(0, np.int64), False, "the rules hold together"
        hard = np.union1d(hard, more)
    return universe, False, "the elastic filter ran out of time; seeded by all rows"


def irreducible_subset(st: StackedRules, universe: np.ndarray, first_slack: np.ndarray,
                       options: SolveOptions, deadline: float, lp_seed: bool = True
                       ) -> tuple[np.ndarray, bool, str]:
    """Deletion filter over the rule rows of ``universe``: drop a row whenever the rest stays
    infeasible. Every check is a MILP limited to ``options.time_limit_s`` (and the ``deadline``,
    a ``time.perf_counter`` value). Returns the rows, whether irreducibility is proven (no check
    timed out) and a note. ``lp_seed=False`` always seeds by the elastic filter."""
    cand, proven, how = _seed(st, universe, first_slack, options.time_limit_s, options.mip_gap,
                              deadline, lp_seed)
    if len(cand) == 0:
        return cand, False, how
    if not proven:  # make sure the seed really is infeasible
        left = deadline - time.perf_counter()
        if left <= 0 or _feasible(st, cand, min(options.time_limit_s, left)) != "infeasible":
            return np.zeros(0, np.int64), False, how + "; infeasibility not proven"
    irreducible = True
    keep = list(cand)
    for k in list(cand):
        left = deadline - time.perf_counter()
        if left <= 0:
            irreducible = False
            break
        rest = np.array([r for r in keep if r != k], dtype=np.int64)
        verdict = _feasible(st, rest, min(options.time_limit_s, left))
        if verdict == "infeasible":
            keep = rest.tolist()
        elif verdict == "unknown":
            irreducible = False
    note = "irreducible" if irreducible else "NOT proven irreducible: a check timed out"
    return np.asarray(keep, dtype=np.int64), irreducible, f"{note}; {how}"


def _least_breach(st: StackedRules, members: np.ndarray, k: int, time_limit: float
                  ) -> tuple[float, str]:
    """Smallest normalised breach of row ``k`` when every other member holds, and HiGHS's status.
    A solution is a check that the other members alone hold; a proven optimum above zero is a
    check that all members together do not."""
    rest = members[members != k]
    h, _, nx = _submodel(st, rest, np.array([k]))
    r = _run(h, time_limit)
    return (float(max(r.x[nx], 0.0)) if r.x is not None else float("nan")), r.status


def explain_infeasibility(data: PortfolioData, params: RuleParams, options: SolveOptions, *,
                          max_conflicts: int = 5, iis_time_limit_s: float | None = None,
                          lp_seed: bool = True) -> Diagnosis:
    """Solve the (unit-free) elastic model for the cheapest repair, then find up to
    ``max_conflicts`` disjoint irreducible conflicts (each found one is set aside before looking
    for the next) and say every rule of each in policy words. ``iis_time_limit_s`` caps the whole
    search (default ``IIS_BUDGET_FACTOR`` × ``options.time_limit_s``); ``lp_seed=False`` seeds it
    by the elastic filter even when the LP relaxation is infeasible."""
    st = stack_rules(data, params)
    r, slack = _elastic(st, np.zeros(0, np.int64), options.time_limit_s, options.mip_gap)
    status = SolveStatus(status=r.status, termination=r.termination, objective=r.objective,
                         bound=r.bound, gap=r.gap, solve_seconds=r.seconds,
                         mip_gap=options.mip_gap, time_limit_s=options.time_limit_s,
                         solver_version=highspy.Highs().version())
    rows = []
    for k in np.flatnonzero(np.nan_to_num(slack) > TOL):
        amount = float(slack[k] * st.norm[k])
        rows.append({"rule": str(st.rule[k]), "row": int(st.row[k]), "amount": amount,
                     "message": st.describe(int(k), float(slack[k]))})
    conflicts = pd.DataFrame(rows, columns=["rule", "row", "amount", "message"]).sort_values(
        ["rule", "amount"], ascending=[True, False], ignore_index=True)
    if not rows:
        return Diagnosis(status, conflicts, iis_irreducible=False,
                         iis_note="no conflict: the elastic model needs no slack"
                         if r.x is not None else f"elastic model: {r.status}")
    budget = iis_time_limit_s if iis_time_limit_s is not None else (
        IIS_BUDGET_FACTOR * options.time_limit_s)
    deadline = time.perf_counter() + budget
    universe, first = np.arange(st.m), slack
    iis_rows, proven_all, notes = [], True, []
    for c in range(max_conflicts):
        members, proven, note = irreducible_subset(st, universe, first, options, deadline, lp_seed)
        if len(members) == 0:
            break
        breaches = [_least_breach(st, members, int(k), options.time_limit_s) for k in members]
        # verify independently of the filter's bookkeeping: each member's removal leaves a
        # satisfiable rest, and at least one member has a proven positive least breach
        verified = all(np.isfinite(b) for b, _ in breaches) and any(
            st_ == "optimal" and b > TOL for b, st_ in breaches)
        if proven and not verified:
            note = "NOT proven irreducible: the verification solves did not confirm it; " + note
        proven_all &= proven and verified
        notes.append(note)
        for k, (b, _) in zip(members, breaches, strict=True):
            if not np.isfinite(b):
                b = float(np.nan_to_num(slack[k]))
            iis_rows.append({"conflict": c, "rule": str(st.rule[k]), "row": int(st.row[k]),
                             "amount": float(b * st.norm[k]), "message": st.describe(int(k), b)})
        universe = np.setdiff1d(universe, members)  # set this conflict aside, look for another
        left = deadline - time.perf_counter()
        if c + 1 == max_conflicts or left <= 0:
            break
        nxt, first = _elastic(st, np.zeros(0, np.int64), min(options.time_limit_s, left),
                              options.mip_gap, universe)
        if nxt.x is None or not (np.nan_to_num(first) > TOL).any():
            break  # the rest holds together (or the repair of the rest could not be solved)
    iis = pd.DataFrame(iis_rows, columns=["conflict", "rule", "row", "amount", "message"])
    return Diagnosis(status, conflicts, iis, proven_all and bool(notes), "; ".join(dict.fromkeys(notes)))
