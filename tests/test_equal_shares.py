"""The vectorised Method of Equal Shares and the stacked feasibility checker against the
previous, plainly-looped implementations (copied here verbatim as the oracle): the same
selections, bit for bit, on many seeded random catalogues."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.optimise.baselines import (
    _families,
    _ratio_order,
    equal_shares,
    formula_weights,
    greedy,
    money_resources,
    quota_fill,
    quota_matrix,
)
from allocsim.optimise.problem import PortfolioData, RuleParams, build_data
from allocsim.optimise.rules import RuleRows

TOL = 1e-9


# ---- reference: the implementation before vectorisation (allocsim 35e0e0d) ----------------------

class _ReferenceFeasibility:
    def __init__(self, data: PortfolioData, families: dict[str, RuleRows],
                 quota: np.ndarray | None = None) -> None:
        self.data = data
        self.fams = [(f.A.tocsc(), f.rhs, f.sense, np.zeros(f.size)) for f in families.values()]
        self.x = np.zeros(data.n)
        self.quota = quota
        if quota is not None:
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


def _reference_start(data, fams, quota=None) -> _ReferenceFeasibility:
    feas = _ReferenceFeasibility(data, fams, quota)
    for j in np.flatnonzero(data.committed):
        feas.add(int(j))
    return feas


def _reference_fill(data: PortfolioData, params: RuleParams, quota=None) -> np.ndarray:
    feas = _reference_start(data, _families(data, params), quota)
    for j in _ratio_order(data):
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


def _reference_equal_shares(data: PortfolioData, params: RuleParams) -> np.ndarray:
    feas = _reference_start(data, _families(data, params))
    money = money_resources(data)
    cost = np.asarray(data.cost[:, money].sum(axis=1)).ravel() if money else data.total_cost
    total = float(data.capacity[money].sum()) if money else float(cost.sum())
    pop = data.population / max(data.population.sum(), 1.0)
    budget = total * pop - (data.share.T @ (feas.x * cost))
    budget = np.maximum(budget, 0.0)
    util = data.province_benefit().tocsr()
    nsup = np.diff(util.indptr)
    single = np.flatnonzero((nsup == 1) & (cost > 0))
    s_prov = util.indices[util.indptr[single]]
    s_util = util.data[util.indptr[single]]
    multi = [int(j) for j in np.flatnonzero((nsup > 1) & (cost > 0))]
    alive = np.ones(data.n, bool)
    alive[feas.x > 0] = False
    while True:
        ok = alive[single] & (budget[s_prov] + TOL >= cost[single]) & (s_util > 0)
        rho = np.where(ok, cost[single] / np.where(s_util > 0, s_util, 1.0), np.inf)
        k = int(np.argmin(rho)) if len(rho) else -1
        best_rho, best_j = (float(rho[k]), int(single[k])) if k >= 0 and np.isfinite(rho[k]) else (np.inf, -1)
        for j in multi:
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
    for j in _ratio_order(data):
        if feas.can_add(int(j)):
            feas.add(int(j))
    return feas.x


# ---- random catalogues --------------------------------------------------------------------------

GEO = load_geography()


def catalogue(seed: int) -> tuple[PortfolioData, RuleParams]:
    """A small seeded catalogue with every rule in play: clusters, duplicates, follow-ons,
    multi-year costs, matching, alignment and a few commitments; settings drawn from the seed."""
    rng = np.random.default_rng(seed)
    cp = CatalogueParams(projects_per_province=int(rng.integers(5, 16)),
                         projects_per_cluster=int(rng.integers(2, 9)),
                         cluster_partners_range=(2, int(rng.integers(2, 7))),
                         budget_tightness=float(rng.uniform(0.2, 0.9)),
                         local_capacity_ratio=float(rng.uniform(0.3, 1.2)),
                         multi_year_share=0.4, max_years=3)
    data = build_data(generate_catalogue(GEO, cp, rng, 2027), GEO)
    committed = rng.random(data.n) < 0.02
    data = replace(data, committed=committed)
    params = RuleParams(alignment_threshold=float(rng.choice([0.0, 0.5])),
                        matching_uptake=float(rng.uniform(0.3, 1.0)),
                        multi_year_allowed=bool(rng.random() < 0.7))
    return data, params


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_equal_shares_matches_the_reference(seed: int) -> None:
    data, params = catalogue(seed)
    new, ref = equal_shares(data, params), _reference_equal_shares(data, params)
    assert ref.sum() > 0
    np.testing.assert_array_equal(new, ref)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_equal_shares_matches_the_reference_under_a_formula_quota(seed: int) -> None:
    # the province_quota rule joins the rule rows: another '<=' family in the stacked checker
    data, params = catalogue(seed)
    q = quota_matrix(data, formula_weights("per_capita", data, np.ones(len(data.provinces))))
    params = replace(params, quota=q, quota_rule="per_capita")
    np.testing.assert_array_equal(equal_shares(data, params), _reference_equal_shares(data, params))


def test_equal_shares_breaks_exact_price_ties_by_table_order() -> None:
    # duplicate copies of one idea: identical price; the reference and the new code must agree
    data, params = catalogue(3)
    twins = sp.vstack([data.cost, data.cost]).tocsr()
    data2 = replace(data, ids=np.r_[data.ids, [f"{i}-copy" for i in data.ids]],
                    benefit=np.r_[data.benefit, data.benefit],
                    total_cost=np.r_[data.total_cost, data.total_cost], cost=twins,
                    province=np.r_[data.province, data.province],
                    share=sp.vstack([data.share, data.share]).tocsr(), groups=[],
                    requires=np.r_[data.requires, data.requires],
                    local_share=np.r_[data.local_share, data.local_share],
                    aligned=np.r_[data.aligned, data.aligned],
                    committed=np.r_[data.committed, np.zeros(data.n, bool)],
                    channel=np.r_[data.channel, data.channel],
                    n_partners=np.r_[data.n_partners, data.n_partners],
                    is_cluster_project=np.r_[data.is_cluster_project, data.is_cluster_project],
                    multi_year=np.r_[data.multi_year, data.multi_year])
    new, ref = equal_shares(data2, params), _reference_equal_shares(data2, params)
    np.testing.assert_array_equal(new, ref)
    # ties were really broken: some twin pairs (same price) are split
    assert (new[: data.n] != new[data.n:]).any()


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_greedy_and_quota_fill_match_the_reference(seed: int) -> None:
    data, params = catalogue(seed)
    np.testing.assert_array_equal(greedy(data, params), _reference_fill(data, params))
    w = formula_weights("per_capita", data, np.ones(len(data.provinces)))
    np.testing.assert_array_equal(quota_fill(data, params, w),
                                  _reference_fill(data, params, quota_matrix(data, w)))
