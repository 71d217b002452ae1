"""Allocation rules to compare the optimum against (each funds projects under the same rules).

* ``per_capita``  — every resource is split into province quotas by population (a formula);
                    each province funds its best benefit/cost projects within its quota;
* ``plan_score``  — the same with quotas proportional to a plan-quality score, today's practice
                    (`003` §5.3.2). The scores are **illustrative** draws from the scenario seed;
* ``greedy``      — fund projects nationally in order of benefit/cost while the rules allow;
* ``equal_shares``— the Method of Equal Shares from participatory budgeting: provinces are voters
                    with budget shares ∝ population, projects are bought by their supporting
                    provinces at the lowest per-utility price ρ; leftover money is completed greedily.

All of them check every switched-on rule row incrementally (:class:`Feasibility`), so their
portfolios are feasible for the same rules as the optimum and the gap is a like-for-like loss.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules import RULES, RuleRows
from allocsim.optimise.solve import SolveStatus

TOL = 1e-9
BASELINES = ("per_capita", "plan_score", "greedy", "equal_shares")


class Feasibility:
    """Incremental check that adding a project keeps every rule row satisfied."""

    def __init__(self, data: PortfolioData, families: dict[str, RuleRows],
                 quota: np.ndarray | None = None) -> None:
        self.data = data
        self.fams = [(f.A.tocsc(), f.rhs, f.sense, np.zeros(f.size)) for f in families.values()]
        self.x = np.zeros(data.n)
        self.quota = quota  # (I, R) province quotas, or None
        if quota is not None:
            self.quota_cols = (sp.diags(np.ones(data.n)) @ data.share).tocsc()
            self.quota_used = np.zeros_like(quota)
            self.cost = data.cost.tocsr()

    def can_add(self, j: int) -> bool:
        if self.x[j]:
            return False
        for A, rhs, sense, lhs in self.fams:
            lo, hi = A.indptr[j], A.indptr[j + 1]
            rows, vals = A.indices[lo:hi], A.data[lo:hi]
            new = lhs[rows] + vals
            if sense == "<=":
                if np.any(new > rhs[rows] + TOL * np.maximum(1, np.abs(rhs[rows]))):
                    return False
            elif np.any((vals < 0) & (new < rhs[rows] - TOL * np.maximum(1, np.abs(rhs[rows])))):
                return False
        if self.quota is not None:
            sh = self.data.share.getrow(j)
            c = self.cost.getrow(j).toarray().ravel()
            for i, s in zip(sh.indices, sh.data, strict=True):
                if np.any(self.quota_used[i] + s * c > self.quota[i] + TOL * (1 + self.quota[i])):
                    return False
        return True

    def add(self, j: int) -> None:
        self.x[j] = 1.0
        for A, _rhs, _sense, lhs in self.fams:
            lo, hi = A.indptr[j], A.indptr[j + 1]
            lhs[A.indices[lo:hi]] += A.data[lo:hi]
        if self.quota is not None:
            sh = self.data.share.getrow(j)
            c = self.cost.getrow(j).toarray().ravel()
            for i, s in zip(sh.indices, sh.data, strict=True):
                self.quota_used[i] += s * c


def _families(data: PortfolioData, params: RuleParams) -> dict[str, RuleRows]:
    out = {}
    for name, fn in RULES.items():
        fam = fn(data, params)
        if fam is not None and fam.size:
            out[name] = fam
    return out


def _ratio_order(data: PortfolioData) -> np.ndarray:
    ratio = np.where(data.total_cost > 0, data.benefit / np.maximum(data.total_cost, 1e-12), np.inf)
    return np.lexsort((np.arange(data.n), -ratio))  # best ratio first, ties by table order


def _start(data: PortfolioData, fams: dict[str, RuleRows], quota: np.ndarray | None = None) -> Feasibility:
    feas = Feasibility(data, fams, quota)
    for j in np.flatnonzero(data.committed):  # commitments come first, whatever the rule
        feas.add(int(j))
    return feas


def greedy(data: PortfolioData, params: RuleParams) -> np.ndarray:
    feas = _start(data, _families(data, params))
    for j in _ratio_order(data):
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


def greedy_rows(data: PortfolioData, A: sp.spmatrix, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """:func:`greedy` on already stacked rule rows (``lower <= A x <= upper``, A over the n
    projects), with the same checks as :class:`Feasibility`: every entry of a row with an upper
    bound, and negative entries of a row with a lower bound. A plain-Python loop over the nonzeros
    is ~10x faster than per-family numpy calls, which matters when it warm-starts the MILP."""
    A = sp.csc_matrix(A)
    indptr, idx, val = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    up = [u + TOL * max(1.0, abs(u)) for u in upper.tolist()]
    lo = [v - TOL * max(1.0, abs(v)) for v in lower.tolist()]
    lhs = [0.0] * A.shape[0]
    x = np.zeros(data.n)

    def add(j: int) -> None:
        x[j] = 1.0
        for k in range(indptr[j], indptr[j + 1]):
            lhs[idx[k]] += val[k]

    for j in np.flatnonzero(data.committed).tolist():
        add(j)
    for j in _ratio_order(data).tolist():
        if x[j]:
            continue
        ok = True
        for k in range(indptr[j], indptr[j + 1]):
            r, v = idx[k], val[k]
            new = lhs[r] + v
            if new > up[r] or (v < 0 and new < lo[r]):
                ok = False
                break
        if ok:
            add(j)
    return x


def quota_fill(data: PortfolioData, params: RuleParams, weights: np.ndarray) -> np.ndarray:
    """Province quotas of every resource ∝ ``weights``; fill each by benefit/cost."""
    quota = quota_matrix(data, np.asarray(weights, float))
    feas = _start(data, _families(data, params), quota)
    for j in _ratio_order(data):
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


def money_resources(data: PortfolioData) -> list[int]:
    """Budget-like resources for a one-dimensional budget (fiscal-year columns excluded)."""
    idx = [k for k, r in enumerate(data.resources) if not re.match(r"^y\d{4}$", r)]
    return idx or list(range(len(data.resources)))


def equal_shares(data: PortfolioData, params: RuleParams) -> np.ndarray:
    """Method of Equal Shares (utilities = benefit to each province), then greedy completion."""
    feas = _start(data, _families(data, params))
    money = money_resources(data)
    cost = np.asarray(data.cost[:, money].sum(axis=1)).ravel() if money else data.total_cost
    total = float(data.capacity[money].sum()) if money else float(cost.sum())
    pop = data.population / max(data.population.sum(), 1.0)
    budget = total * pop - (data.share.T @ (feas.x * cost))  # commitments paid by their provinces
    budget = np.maximum(budget, 0.0)
    util = data.province_benefit().tocsr()  # (n, I)
    nsup = np.diff(util.indptr)
    single = np.flatnonzero((nsup == 1) & (cost > 0))
    s_prov = util.indices[util.indptr[single]]
    s_util = util.data[util.indptr[single]]
    multi = [int(j) for j in np.flatnonzero((nsup > 1) & (cost > 0))]
    alive = np.ones(data.n, bool)
    alive[feas.x > 0] = False
    while True:
        # one supporter: affordable iff its budget covers the cost; price rho = cost / utility
        ok = alive[single] & (budget[s_prov] + TOL >= cost[single]) & (s_util > 0)
        rho = np.where(ok, cost[single] / np.where(s_util > 0, s_util, 1.0), np.inf)
        k = int(np.argmin(rho)) if len(rho) else -1
        best_rho, best_j = (float(rho[k]), int(single[k])) if k >= 0 and np.isfinite(rho[k]) else (np.inf, -1)
        for j in multi:  # several supporters: smallest rho with sum_i min(b_i, rho*u_i) >= cost
            if not alive[j]:
                continue
            lo, hi = util.indptr[j], util.indptr[j + 1]
            u, b = util.data[lo:hi], budget[util.indices[lo:hi]]
            if b.sum() + TOL < cost[j] or np.any(u <= 0):
                continue
            paid, rest_u = 0.0, u.sum()
            for q in np.argsort(b / u):
                r = (cost[j] - paid) / rest_u
                if r * u[q] <= b[q]:
                    if r < best_rho - 1e-15 or (r <= best_rho + 1e-15 and j < best_j):
                        best_rho, best_j = r, j
                    break
                paid += b[q]
                rest_u -= u[q]
        if best_j < 0:
            break
        alive[best_j] = False
        if not feas.can_add(best_j):
            continue
        feas.add(best_j)
        lo, hi = util.indptr[best_j], util.indptr[best_j + 1]
        idx = util.indices[lo:hi]
        budget[idx] -= np.minimum(budget[idx], best_rho * util.data[lo:hi])
    for j in _ratio_order(data):  # completion: spend what is left under the rules
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


def plan_scores(data: PortfolioData, rng: np.random.Generator) -> np.ndarray:
    """Plan-quality scores per province, **illustrative** draws in [0.5, 1): no scores are published."""
    return rng.uniform(0.5, 1.0, size=len(data.provinces))


def formula_weights(rule: str, data: PortfolioData, scores: np.ndarray) -> np.ndarray:
    """Province shares of each budget under a formula rule (sum to 1 over provinces)."""
    if rule == "per_capita":
        w = data.population.copy()
    elif rule == "plan_score":
        w = data.population * scores  # score-weighted: today's practice rewards plan quality
    elif rule == "need":
        w = np.asarray(data.province_benefit().sum(axis=0)).ravel()  # unmet demand for benefit
    else:
        raise ValueError(f"unknown formula rule {rule!r}")
    has = np.asarray(data.share.sum(axis=0)).ravel() > 0  # provinces with candidate projects
    w = np.where(has, w, 0.0)
    return w / w.sum() if w.sum() > 0 else w


def quota_matrix(data: PortfolioData, weights: np.ndarray) -> np.ndarray:
    """(I, R) quotas: budget resources split by weights; fiscal-year resources unquoted (inf)."""
    q = np.outer(weights, data.capacity)
    money = set(money_resources(data))
    for k in range(len(data.resources)):
        if k not in money:
            q[:, k] = np.inf
    return q


def run_baselines(data: PortfolioData, params: RuleParams, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Every baseline's funded-project vector (``scores``: plan-quality score per province)."""
    return {
        "per_capita": quota_fill(data, params, formula_weights("per_capita", data, scores)),
        "plan_score": quota_fill(data, params, formula_weights("plan_score", data, scores)),
        "greedy": greedy(data, params),
        "equal_shares": equal_shares(data, params),
    }


def compare_to_optimum(data: PortfolioData, params: RuleParams, selections: dict[str, np.ndarray],
                       optimum: np.ndarray, min_per_capita: Callable[[np.ndarray], float],
                       reference: SolveStatus | None = None) -> pd.DataFrame:
    """One row per rule: benefit, share of the reference (first row: "optimal" only when the
    reference is a proven optimum), cost, projects, rule
    violations. ``reference`` is the reference solve's status: its status, gap and label are
    columns, so a time-limited reference is never read as the optimum, and ``share_of_bound``
    divides by HiGHS's best bound (a true upper limit on any feasible portfolio's benefit)."""
    fams = _families(data, params)
    best = float(data.benefit @ optimum)
    bound = reference.bound if reference is not None else None
    if reference is None:
        ref_name = "reference (status unknown)"
    else:
        ref_name = "optimal" if reference.optimal else f"best found (NOT OPTIMAL: {reference.status})"
    rows = []
    for name, x in {ref_name: optimum, **selections}.items():
        b = float(data.benefit @ x)
        rows.append({"rule": name, "total_benefit": b,
                     "share_of_optimum": b / best if best > 0 else np.nan,
                     "share_of_bound": b / bound if bound is not None and bound > 0 else np.nan,
                     "total_cost": float(data.total_cost @ x), "projects": int(x.sum()),
                     "min_per_capita_benefit": min_per_capita(x),
                     "rule_violations": int(sum((f.violation(x) > 0).sum() for f in fams.values()))})
    out = pd.DataFrame(rows)
    out["reference_status"] = reference.status if reference is not None else "unknown"
    out["reference_gap"] = reference.gap if reference is not None else np.nan
    out["reference_label"] = reference.label() if reference is not None else "status not given"
    return out
