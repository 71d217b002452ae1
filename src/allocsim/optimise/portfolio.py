"""The portfolio MILP: which candidate projects to fund, handed to HiGHS as ONE sparse matrix.

Columns: x_p ∈ {0,1} per project (table order), then one continuous column z. Rows: every
switched-on rule family in ``RULES`` order (each module gives sparse rows, see ``rules/``), then one
"equity row" per province with candidate projects:  z - per_head_i · Σ_p benefit_pi x_p <= -t_i.
:func:`assemble` builds this once; the benchmark's direct-highspy reference passes the very same
matrix, so both follow one branch-and-bound path.

Objectives (DOMAIN.md §8), on one persistent ``highspy.Highs`` (only costs and bounds change):
  * ``benefit``   — maximise total benefit Σ b_p x_p;
  * ``equity``    — true max-min, lexicographic: first maximise z, the minimum per-capita benefit
                    over provinces with candidates (t = 0); then, holding z >= z*·(1 - tol)
                    (``tol`` relative, default :data:`EQUITY_TOL`), maximise total benefit;
  * ``shortfall`` — the same two stages against a per-head need target t_i (THB of benefit per
                    head, a parameter ``need_target``): first minimise the largest shortfall
                    max_i (t_i - per-capita benefit_i)^+ (z <= 0 is minus that shortfall), then
                    maximise benefit holding it;
  * ``weighted``  — (1-w)·benefit + w·Z, where Z = z × national population is the benefit the
                    country would get if every province had the minimum per-capita benefit, so both
                    terms are in the same money unit.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules import RULES, RuleRows
from allocsim.optimise.solve import SolveOptions, SolveStatus, highs_status, relative_gap

OBJECTIVES = ("benefit", "equity", "shortfall", "weighted")
EQUITY_TOL = 1e-6  # stage 2 of max-min holds z >= z* - EQUITY_TOL·|z*| (relative)
INF = float("inf")


@dataclass
class PortfolioLp:
    """The assembled MILP as arrays: ``A`` is (rows, n + 1) column-wise; the last column is z."""

    n: int
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    families: dict[str, RuleRows]
    rows_of: dict[str, tuple[int, int]]      # family -> [start, stop) row range
    equity_rows: tuple[int, int]
    equity_provinces: np.ndarray             # province index of each equity row
    per_head: np.ndarray                     # per-head factor of each equity row
    benefit: np.ndarray
    pop_total: float                         # population of the equity provinces / per-head scale

    @property
    def z(self) -> int:
        return self.n

    def highs_lp(self, cost: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray) -> Any:
        """A ``highspy.HighsLp`` (maximise ``cost``), x integer, z continuous."""
        return make_highs_lp(self.A, self.row_lower, self.row_upper, cost, col_lower, col_upper,
                             n_integer=self.n)

    def default_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """x in [0, 1]; z free (bounded above by the equity rows), fixed at 0 without them."""
        lo, hi = np.zeros(self.n + 1), np.ones(self.n + 1)
        has = self.equity_rows[1] > self.equity_rows[0]
        lo[-1], hi[-1] = (-INF, INF) if has else (0.0, 0.0)
        return lo, hi


def make_highs_lp(A: sp.csc_matrix, row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray,
                  col_lower: np.ndarray, col_upper: np.ndarray, *, n_integer: int) -> Any:
    """A maximisation ``highspy.HighsLp`` from a column-wise matrix; the first ``n_integer``
    columns are integer, the rest continuous."""
    import highspy

    A = sp.csc_matrix(A)
    m, k = A.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lower, float), np.asarray(col_upper, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lower, float), np.asarray(row_upper, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = k, m
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_integer
                       + [highspy.HighsVarType.kContinuous] * (k - n_integer))
    return lp


def assemble(data: PortfolioData, params: RuleParams, rules: Iterable[str] | None = None) -> PortfolioLp:
    """Stack every switched-on rule family and the equity rows into one sparse matrix."""
    n = data.n
    families: dict[str, RuleRows] = {}
    rows_of: dict[str, tuple[int, int]] = {}
    blocks, lo, hi = [], [], []
    m = 0
    for name in rules if rules is not None else RULES:
        fam = RULES[name](data, params)
        if fam is None or fam.size == 0:
            continue
        families[name] = fam
        rows_of[name] = (m, m + fam.size)
        m += fam.size
        blocks.append(fam.A)
        lo.append(np.full(fam.size, -INF) if fam.sense == "<=" else fam.rhs)
        hi.append(fam.rhs if fam.sense == "<=" else np.full(fam.size, INF))
    pb = data.province_benefit().T.tocsr()  # (I, n)
    has = np.flatnonzero(np.diff(pb.indptr) > 0)
    scale = 1e6 if data.names else 1.0  # THB per head when money is M THB and population is real
    per_head = scale / np.maximum(data.population[has], 1.0)
    blocks.append(-(sp.diags(per_head) @ pb[has]))
    lo.append(np.full(len(has), -INF))
    hi.append(np.zeros(len(has)))
    eq = (m, m + len(has))
    M = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n))
    zcol = np.zeros(M.shape[0])
    zcol[eq[0]:eq[1]] = 1.0
    A = sp.hstack([M, sp.csr_matrix(zcol[:, None])], format="csc")
    A.sort_indices()
    return PortfolioLp(n=n, A=A, row_lower=np.concatenate(lo), row_upper=np.concatenate(hi),
                       families=families, rows_of=rows_of, equity_rows=eq, equity_provinces=has,
                       per_head=per_head, benefit=np.asarray(data.benefit, float),
                       pop_total=float(data.population[has].sum()) / scale if len(has) else 0.0)


def new_highs(options: SolveOptions | None = None) -> Any:
    """A silent ``highspy.Highs``. HiGHS prints a banner on stdout when the first instance of a
    process is created; it is swallowed so that ``select --json`` prints only JSON."""
    import highspy

    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no usable stdout: nothing to protect
        saved = None
    if saved is None:
        h = highspy.Highs()
    else:
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    h.setOptionValue("output_flag", False)
    if options is not None and options.threads:
        h.setOptionValue("threads", int(options.threads))
    return h


def need_per_province(lp: PortfolioLp, need_target: float | np.ndarray | None,
                      n_provinces: int) -> np.ndarray:
    """Need target t_i per equity row: a scalar (THB per head, every province) or an array over
    all provinces. No target means 0 (plain max-min)."""
    if need_target is None:
        return np.zeros(len(lp.equity_provinces))
    t = np.asarray(need_target, dtype=float)
    if t.ndim == 0:
        return np.full(len(lp.equity_provinces), float(t))
    if t.shape != (n_provinces,):
        raise ValueError(f"need_target must be a number or one value per province ({n_provinces})")
    return t[lp.equity_provinces]


@dataclass
class PortfolioModel:
    """The assembled MILP loaded once into a persistent HiGHS; objectives switch on it."""

    data: PortfolioData
    params: RuleParams
    lp: PortfolioLp
    highs: Any
    objective: str = "benefit"
    equity_weight: float = 0.5
    need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tol: float = EQUITY_TOL
    stages: list[SolveStatus] = field(default_factory=list)
    _x: np.ndarray | None = None
    _cost: np.ndarray | None = None
    _z: tuple[float, float] = (-INF, INF)

    @property
    def families(self) -> dict[str, RuleRows]:
        return self.lp.families

    @property
    def equity_provinces(self) -> np.ndarray:
        return self.lp.equity_provinces

    @property
    def per_head(self) -> np.ndarray:
        return self.lp.per_head

    def decisions(self) -> np.ndarray:
        """0/1 decisions of the last solution (zeros before any)."""
        return np.zeros(self.data.n) if self._x is None else self._x.copy()

    def per_capita(self, x: np.ndarray) -> np.ndarray:
        """Per-capita benefit of every equity province for decisions x (THB per head when money is
        in million THB and populations are real)."""
        r0, r1 = self.lp.equity_rows
        return -(self.lp.A[r0:r1, : self.data.n] @ x)

    def min_per_capita(self, x: np.ndarray) -> float:
        """Minimum per-capita benefit over the equity provinces for decisions x."""
        pc = self.per_capita(x)
        return float(pc.min()) if len(pc) else 0.0

    def max_shortfall(self, x: np.ndarray) -> float:
        """Largest shortfall below the need target, max_i (t_i - per-capita benefit_i)^+."""
        pc = self.per_capita(x)
        return float(max(0.0, (self.need - pc).max())) if len(pc) else 0.0

    def z_value(self, x: np.ndarray, kind: str) -> float:
        """The z column that makes decisions x a full solution for objective ``kind``."""
        if len(self.lp.equity_provinces) == 0:
            return 0.0
        pc = self.per_capita(x)
        return float(min(0.0, (pc - self.need).min())) if kind == "shortfall" else float(pc.min())

    # --- low-level changes on the loaded model -----------------------------------------------
    def _set_costs(self, c: np.ndarray) -> None:
        k = self.data.n + 1
        self._cost = np.asarray(c, float)
        self.highs.changeColsCost(k, np.arange(k, dtype=np.int32), self._cost)

    def _set_z(self, lo: float, hi: float) -> None:
        self._z = (lo, hi)
        self.highs.changeColBounds(self.lp.z, lo, hi)

    def _set_targets(self, t: np.ndarray) -> None:
        r0, r1 = self.lp.equity_rows
        if r1 > r0:
            self.highs.changeRowsBounds(r1 - r0, np.arange(r0, r1, dtype=np.int32),
                                        np.full(r1 - r0, -INF), -np.asarray(t, float))

    def _z_bounds(self, kind: str) -> tuple[float, float]:
        if len(self.lp.equity_provinces) == 0:
            return 0.0, 0.0
        return (-INF, 0.0) if kind == "shortfall" else (-INF, INF)

    def set_objective(self, kind: str, equity_weight: float | None = None) -> None:
        """Costs and bounds for a single-stage solve of ``kind`` (equity/shortfall: stage 1)."""
        if kind not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}")
        w = self.equity_weight if equity_weight is None else equity_weight
        c = np.zeros(self.data.n + 1)
        if kind == "benefit":
            c[:-1] = self.lp.benefit
        elif kind == "weighted":
            c[:-1] = (1.0 - w) * self.lp.benefit
            c[-1] = w * self.lp.pop_total
        else:
            c[-1] = 1.0
        self._set_costs(c)
        self._set_z(*self._z_bounds(kind))
        self._set_targets(self.need if kind == "shortfall" else np.zeros(len(self.need)))

    def hold_z(self, z_min: float, kind: str = "equity") -> None:
        """Benefit objective with z >= z_min (a Pareto epsilon or the max-min stage-2 floor)."""
        self.set_objective("benefit")
        self._set_targets(self.need if kind == "shortfall" else np.zeros(len(self.need)))
        self._set_z(z_min, self._z_bounds(kind)[1])

    # --- solving -----------------------------------------------------------------------------
    def run(self, options: SolveOptions, *, time_limit_s: float | None = None,
            start: np.ndarray | None = None, kind: str = "benefit") -> SolveStatus:
        """One HiGHS run on the loaded model, optionally warm-started from decisions ``start``
        (which must satisfy every rule row). If HiGHS stops at a limit with nothing better than
        the start, the start is returned, with HiGHS's bound and the true gap."""
        h = self.highs
        limit = options.time_limit_s if time_limit_s is None else time_limit_s
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        h.setOptionValue("time_limit", float(max(limit, 1e-3)))
        start_obj = None
        if start is not None:
            z = self.z_value(start, kind)
            lo, hi = self._z
            if z >= lo - 1e-9 * max(1.0, abs(lo)):
                col = np.r_[np.round(start), min(z, hi)]
                start_obj = float(self._cost @ col)
                h.setSolution(self.data.n + 1, np.arange(self.data.n + 1, dtype=np.int32), col)
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
        st = highs_status(h, options, seconds, time_limit_s=limit, has_integers=self.data.n > 0)
        if st.has_solution:
            self._x = np.round(np.asarray(h.getSolution().col_value)[: self.data.n])
        if start_obj is not None and not st.optimal and st.status not in (
                "infeasible", "unbounded", "infeasible_or_unbounded", "error") and (
                not st.has_solution or st.objective < start_obj - 1e-9 * max(1.0, abs(start_obj))):
            self._x = np.round(start).astype(float)
            status = st.status.removesuffix("_no_solution")
            st = replace(st, status=status, objective=start_obj,
                         gap=relative_gap(start_obj, st.bound),
                         note="HiGHS found nothing better than the heuristic start in the limit")
        return st

    def solve(self, options: SolveOptions, *, start: np.ndarray | None = None,
              kind: str | None = None) -> SolveStatus:
        """Solve objective ``kind`` (default: the model's); equity and shortfall in two stages.
        ``self.stages`` keeps every stage's own status."""
        kind = kind or self.objective
        self.stages = []
        if kind in ("benefit", "weighted"):
            self.set_objective(kind)
            st = self.run(options, start=start, kind=kind)
            self.stages.append(st)
            return st
        self.set_objective(kind)
        st1 = self.run(options, start=start, kind=kind)
        self.stages.append(replace(st1, note=(st1.note + "; " if st1.note else "") + f"{kind} stage 1"))
        if not st1.has_solution:
            self.set_objective(kind)
            return st1
        x1 = self.decisions()
        z1 = self.z_value(x1, kind)
        floor = z1 - self.tol * abs(z1)
        self.hold_z(floor, kind)
        left = options.time_limit_s - st1.solve_seconds
        st2 = self.run(options, time_limit_s=max(left, 0.01 * options.time_limit_s), start=x1,
                       kind=kind)
        self.stages.append(replace(st2, note=(st2.note + "; " if st2.note else "")
                                   + f"{kind} stage 2: benefit with z >= {floor:.6g}"))
        if not st2.has_solution:  # cannot happen with x1 as start, but never hide it
            self._x = x1
            st2 = replace(st1, note="benefit stage found no solution; max-min stage solution")
        self.set_objective(kind)
        what = "max-min" if kind == "equity" else "min max-shortfall"
        if not st1.optimal:
            return replace(st2, status=st1.status if st2.optimal else st2.status,
                           solve_seconds=st1.solve_seconds + st2.solve_seconds,
                           note=f"{what} stage stopped at {st1.status} (gap {st1.gap or 0:.2%})")
        return replace(st2, solve_seconds=st1.solve_seconds + st2.solve_seconds,
                       note=f"lexicographic: {what} z* = {z1:.6g}, then benefit")


def load_model(data: PortfolioData, params: RuleParams, lp: PortfolioLp, *,
               options: SolveOptions | None = None, objective: str = "benefit",
               equity_weight: float = 0.5, need_target: float | np.ndarray | None = None,
               tol: float = EQUITY_TOL) -> PortfolioModel:
    """Pass an assembled MILP to a fresh HiGHS (passModel) and wrap it."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    h = new_highs(options)
    lo, hi = lp.default_bounds()
    h.passModel(lp.highs_lp(np.r_[lp.benefit, 0.0], lo, hi))
    need = need_per_province(lp, need_target, len(data.provinces))
    pm = PortfolioModel(data, params, lp, h, objective, equity_weight, need, tol)
    pm.set_objective(objective)
    return pm


def build_portfolio(data: PortfolioData, params: RuleParams, *, objective: str = "benefit",
                    equity_weight: float = 0.5, rules: Iterable[str] | None = None,
                    options: SolveOptions | None = None, need_target: float | np.ndarray | None = None,
                    tol: float = EQUITY_TOL) -> PortfolioModel:
    """Assemble the MILP and load it into HiGHS (infeasibility is diagnosed on the same rule rows
    by ``diagnose``)."""
    lp = assemble(data, params, rules)
    return load_model(data, params, lp, options=options, objective=objective,
                      equity_weight=equity_weight, need_target=need_target, tol=tol)
