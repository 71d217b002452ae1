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
    """Incremental check that adding a project keeps every rule row satisfied.

    All rule families are stacked into one column-wise matrix, so a check is one slice and one
    comparison whatever the number of rules; quotas are checked on the project's dense cost row.
    """

    def __init__(self, data: PortfolioData, families: dict[str, RuleRows],
                 quota: np.ndarray | None = None) -> None:
        self.data = data
        fams = list(families.values())
        if fams:
            self.A = sp.vstack([f.A for f in fams]).tocsc()
            rhs = np.concatenate([f.rhs for f in fams])
            self.le = np.concatenate([np.full(f.size, f.sense == "<=") for f in fams])
        else:
            self.A = sp.csc_matrix((0, data.n))
            rhs, self.le = np.zeros(0), np.zeros(0, bool)
        slack = TOL * np.maximum(1, np.abs(rhs))
        self.hi = rhs + slack  # '<=' rows: the new activity may not exceed this
        self.lo = rhs - slack  # '>=' rows: a negative coefficient may not push it below this
        self.lhs = np.zeros(len(rhs))
        self.x = np.zeros(data.n)
        self.quota = quota  # (I, R) province quotas, or None
        if quota is not None:
            self.quota_hi = quota + TOL * (1 + quota)
            self.quota_used = np.zeros_like(quota)
            self.share = data.share.tocsr()
            self.cost = data.cost.toarray()

    def can_add(self, j: int) -> bool:
        if self.x[j]:
            return False
        lo, hi = self.A.indptr[j], self.A.indptr[j + 1]
        rows, vals = self.A.indices[lo:hi], self.A.data[lo:hi]
        new = self.lhs[rows] + vals
        le = self.le[rows]
        if np.any(np.where(le, new > self.hi[rows], (vals < 0) & (new < self.lo[rows]))):
            return False
        if self.quota is not None:
            a, b = self.share.indptr[j], self.share.indptr[j + 1]
            idx, s = self.share.indices[a:b], self.share.data[a:b]
            if np.any(self.quota_used[idx] + s[:, None] * self.cost[j] > self.quota_hi[idx]):
                return False
        return True

    def add(self, j: int) -> None:
        self.x[j] = 1.0
        lo, hi = self.A.indptr[j], self.A.indptr[j + 1]
        self.lhs[self.A.indices[lo:hi]] += self.A.data[lo:hi]
        if self.quota is not None:
            a, b = self.share.indptr[j], self.share.indptr[j + 1]
            for i, s in zip(self.share.indices[a:b], self.share.data[a:b], strict=True):
                self.quota_used[i] += s * self.cost[j]


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


def _mes_price(u: np.ndarray, b: np.ndarray, cost: float) -> float:
    """Smallest per-utility price rho with sum_i min(b_i, rho*u_i) >= cost (inf if none):
    supporters who cannot pay rho*u_i pay their whole budget, the rest share what is left."""
    if b.sum() + TOL < cost or np.any(u <= 0):
        return np.inf
    paid, rest_u = 0.0, u.sum()
    for q in np.argsort(b / u):
        r = (cost - paid) / rest_u
        if r * u[q] <= b[q]:
            return r
        paid += b[q]
        rest_u -= u[q]
    return np.inf


def equal_shares(data: PortfolioData, params: RuleParams) -> np.ndarray:
    """Method of Equal Shares (utilities = benefit to each province), then greedy completion.

    Each round buys the project with the lowest per-utility price rho (ties: table order). Budgets
    only fall, so a price only changes when a supporter's budget does: single-province projects
    keep a fixed price c/u and are scanned in price order, dropping out for good once their
    province cannot pay; multi-province prices are cached and recomputed only for projects that
    share a province with the one just bought.
    """
    feas = _start(data, _families(data, params))
    money = money_resources(data)
    cost = np.asarray(data.cost[:, money].sum(axis=1)).ravel() if money else data.total_cost
    total = float(data.capacity[money].sum()) if money else float(cost.sum())
    pop = data.population / max(data.population.sum(), 1.0)
    budget = total * pop - (data.share.T @ (feas.x * cost))  # commitments paid by their provinces
    budget = np.maximum(budget, 0.0)
    util = data.province_benefit().tocsr()  # (n, I)
    nsup = np.diff(util.indptr)
    alive = np.ones(data.n, bool)
    alive[feas.x > 0] = False

    # one supporter: price cost/utility, affordable while the province's budget covers the cost
    single = np.flatnonzero((nsup == 1) & (cost > 0))
    s_prov = util.indices[util.indptr[single]]
    s_util = util.data[util.indptr[single]]
    s_rho = np.where(s_util > 0, cost[single] / np.where(s_util > 0, s_util, 1.0), np.inf)
    s_order = np.lexsort((np.arange(len(single)), s_rho))  # argmin order: price, then table
    s_order = s_order[np.isfinite(s_rho[s_order])]
    s_dead = np.zeros(len(single), bool)  # once unaffordable or gone, never back (budgets fall)
    pos = 0

    # several supporters: cached prices, recomputed when a supporter's budget changes
    multi = np.flatnonzero((nsup > 1) & (cost > 0))
    m_rho = np.full(len(multi), np.inf)

    def price(k: int) -> float:
        j = multi[k]
        lo, hi = util.indptr[j], util.indptr[j + 1]
        return _mes_price(util.data[lo:hi], budget[util.indices[lo:hi]], float(cost[j]))

    for k in range(len(multi)):
        m_rho[k] = price(k) if alive[multi[k]] else np.inf
    by_prov = util[multi].T.tocsr()  # (I, |multi|): which multi projects each province supports

    while True:
        while pos < len(s_order):
            k = s_order[pos]
            j = single[k]
            if not s_dead[k] and alive[j] and budget[s_prov[k]] + TOL >= cost[j]:
                break
            s_dead[k] = True
            pos += 1
        best_rho, best_j = (float(s_rho[s_order[pos]]), int(single[s_order[pos]])) \
            if pos < len(s_order) else (np.inf, -1)
        if len(multi):
            low = min(best_rho, float(m_rho.min()))
            # only prices within the tie tolerance's reach of the minimum can win the scan below
            for k in np.flatnonzero(m_rho <= low + 1e-9):
                r, j = float(m_rho[k]), int(multi[k])
                if r < best_rho - 1e-15 or (r <= best_rho + 1e-15 and j < best_j):
                    best_rho, best_j = r, j
        if best_j < 0:
            break
        alive[best_j] = False
        bought = feas.can_add(best_j)
        if bought:
            feas.add(best_j)
            lo, hi = util.indptr[best_j], util.indptr[best_j + 1]
            idx = util.indices[lo:hi]
            budget[idx] -= np.minimum(budget[idx], best_rho * util.data[lo:hi])
            touched = np.unique(np.concatenate(
                [by_prov.indices[by_prov.indptr[i]:by_prov.indptr[i + 1]] for i in idx]))
        else:
            touched = np.zeros(0, np.int64)
        if nsup[best_j] > 1:
            m_rho[np.searchsorted(multi, best_j)] = np.inf
        for k in touched:
            m_rho[k] = price(int(k)) if alive[multi[k]] else np.inf
    for j in _ratio_order(data):  # completion: spend what is left under the rules
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


def plan_scores(data: PortfolioData, seed: int, score_range: tuple[float, float] = (0.5, 1.0)) -> np.ndarray:
    """Plan-quality scores of the table's provinces, **illustrative** (no scores are published):
    ``allocsim.data.scores.plan_scores``, the one function the simulation reads too."""
    from allocsim.data.scores import plan_scores as scores_of

    return scores_of(list(data.provinces), seed, score_range)


#: the allocation rules that split every envelope by fixed province weights
FORMULA_RULES = ("actual", "per_capita", "plan_score", "need", "fitted")


def formula_weights(rule: str, data: PortfolioData, scores: np.ndarray, *, actual_year: int = 2569,
                    fit_year: int = 2568) -> np.ndarray:
    """Province shares of each budget under a formula rule (sum to 1 over provinces).

    ``actual`` is each province's real share of ``actual_year``'s provincial budgets and ``fitted``
    the formula fitted on ``fit_year`` (``allocsim.data.formula``); both are applied to every
    source, since the provincial budget is the only allocation the budget bills measure."""
    if rule == "incremental":  # one year ahead, last year's amounts are the latest real allocation
        rule = "actual"
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


def quota_matrix(data: PortfolioData, weights: np.ndarray,
                 cluster_weights: np.ndarray | None = None) -> np.ndarray:
    """(I, R) quotas: budget resources split by weights (the cluster budget by ``cluster_weights``
    when given, e.g. the real cluster shares); fiscal-year resources unquoted (inf)."""
    q = np.outer(weights, data.capacity)
    if cluster_weights is not None and "cluster_budget" in data.resources:
        k = data.resources.index("cluster_budget")
        q[:, k] = np.asarray(cluster_weights, float) * data.capacity[k]
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
