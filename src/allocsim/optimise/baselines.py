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

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules import RULES, RuleRows

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


#: the allocation rules that split every envelope by fixed province weights
FORMULA_RULES = ("actual", "per_capita", "plan_score", "need", "fitted")


def formula_weights(rule: str, data: PortfolioData, scores: np.ndarray, *, actual_year: int = 2569,
                    fit_year: int = 2568) -> np.ndarray:
    """Province shares of each budget under a formula rule (sum to 1 over provinces).

    ``actual`` is each province's real share of ``actual_year``'s provincial budgets and ``fitted``
    the formula fitted on ``fit_year`` (``allocsim.data.formula``); both are applied to every
    source, since the provincial budget is the only allocation the budget bills measure."""
    if rule in ("actual", "fitted"):
        from allocsim.data.budget import real_envelopes
        from allocsim.data.formula import fitted_shares

        known = [c for c in data.provinces if c in set(real_envelopes(actual_year).province_mthb.index)]
        vals = (real_envelopes(actual_year).province_mthb.reindex(known).to_numpy(float) if rule == "actual"
                else fitted_shares(known, fit_year))
        by = dict(zip(known, vals, strict=True))
        w = np.array([by.get(c, 0.0) for c in data.provinces], dtype=float)
    elif rule == "per_capita":
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
                       optimum: np.ndarray, min_per_capita) -> pd.DataFrame:
    """One row per rule: benefit, share of the optimum, cost, projects, rule violations."""
    fams = _families(data, params)
    best = float(data.benefit @ optimum)
    rows = []
    for name, x in {"optimal": optimum, **selections}.items():
        b = float(data.benefit @ x)
        rows.append({"rule": name, "total_benefit": b,
                     "share_of_optimum": b / best if best > 0 else np.nan,
                     "total_cost": float(data.total_cost @ x), "projects": int(x.sum()),
                     "min_per_capita_benefit": min_per_capita(x),
                     "rule_violations": int(sum((f.violation(x) > 0).sum() for f in fams.values()))})
    return pd.DataFrame(rows)
