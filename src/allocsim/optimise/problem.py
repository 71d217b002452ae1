"""Plain arrays for the portfolio problem, prepared once from tables (no files, no Pyomo).

Rule modules, the MILP and LP assembly, the direct-matrix benchmark, the feasibility checker and the
baseline heuristics all read the same :class:`PortfolioData`, so they agree on what a rule means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable

YEAR_RESOURCE = re.compile(r"^y\d{4}$")


@dataclass(frozen=True)
class RuleParams:
    """What the rules need besides the tables (from the scenario, or defaults for ``select``)."""

    capacity: bool = True
    duplicates: bool = True
    follow_on: bool = True
    matching: bool = True
    alignment: bool = True
    alignment_threshold: float = 0.0
    cluster_partners: bool = True
    min_cluster_partners: int = 2
    committed: bool = True
    multi_year_allowed: bool = True
    area_based_budgeting: bool = False
    matching_uptake: float = 1.0
    quota: np.ndarray | None = field(default=None, compare=False, repr=False)  # (I, R) or None
    quota_rule: str = "optimal"

    def switched_on(self) -> list[str]:
        """The switchable rules that are on (``rules.SWITCHES`` order), and the province quota."""
        from allocsim.optimise.rules import SWITCHES  # the rule modules import this module

        return [n for n in SWITCHES if getattr(self, n)] + (
            ["province_quota"] if self.quota is not None else [])


@dataclass
class PortfolioData:
    ids: np.ndarray                 # (n,) project ids
    benefit: np.ndarray             # (n,)
    total_cost: np.ndarray          # (n,)
    cost: sp.csr_matrix             # (n, R) cost by resource
    capacity: np.ndarray            # (R,)
    resources: list[str]
    province: np.ndarray            # (n,) index into provinces, -1 if none
    provinces: list[str]            # ISO codes, in index order
    population: np.ndarray          # (I,)
    share: sp.csr_matrix            # (n, I) how a project's benefit and co-funding split over provinces
    groups: list[np.ndarray]        # index arrays of duplicate groups (size >= 2)
    requires: np.ndarray            # (n,) index of required project, -1 if none
    local_share: np.ndarray         # (n,) min_local_share
    local_capacity: np.ndarray      # (I,) local co-funding capacity; nan where none given
    aligned: np.ndarray             # (n,) bool
    committed: np.ndarray           # (n,) bool
    channel: np.ndarray             # (n,) str
    n_partners: np.ndarray          # (n,) partner provinces inside the project's cluster
    is_cluster_project: np.ndarray  # (n,) bool
    multi_year: np.ndarray          # (n,) bool: cost in more than one fiscal-year resource
    names: dict[str, str] = field(default_factory=dict)  # ISO -> English name for messages

    @property
    def n(self) -> int:
        return len(self.ids)

    def name(self, i: int) -> str:
        iso = self.provinces[i]
        return self.names.get(iso, iso)

    def local_need(self) -> sp.csr_matrix:
        """(n, I) local co-funding each project asks of each province if funded."""
        return sp.diags(self.local_share * self.total_cost) @ self.share

    def province_benefit(self) -> sp.csr_matrix:
        """(n, I) benefit a funded project delivers to each province."""
        return sp.diags(self.benefit) @ self.share


def build_data(table: ProjectTable, geo: Geography | None = None) -> PortfolioData:
    """Arrays for the portfolio problem. Without geography, provinces come from the table itself
    and population is 1 each (per-capita equity then means per-province)."""
    p = table.projects
    n = len(p)
    ids = p["project_id"].to_numpy(dtype=object)
    index = {pid: i for i, pid in enumerate(ids)}
    resources = table.resource_names
    cost = sp.csr_matrix(p[table.cost_columns].to_numpy(dtype=float))
    capacity = np.array([table.capacity(r) for r in resources], dtype=float)

    if geo is not None:
        provinces = geo.provinces["iso_code"].tolist()
        population = geo.provinces["population"].to_numpy(dtype=float)
        names = dict(zip(geo.provinces["iso_code"], geo.provinces["name_en"], strict=True))
        member_of = dict(zip(geo.provinces["iso_code"], geo.provinces["cluster_id"], strict=True))
    else:
        found = sorted({c for c in p["province"] if c} | {c for s in p["partners"] for c in s.split()})
        provinces, population, names, member_of = found, np.ones(len(found)), {}, {}
    pidx = {c: i for i, c in enumerate(provinces)}
    province = np.array([pidx.get(c, -1) for c in p["province"]], dtype=np.int64)

    rows, cols, vals = [], [], []
    n_partners = np.zeros(n, dtype=np.int64)
    for i, (prov, partners, clu) in enumerate(zip(p["province"], p["partners"], p["cluster"], strict=True)):
        members = [c for c in partners.split() if c in pidx] or ([prov] if prov in pidx else [])
        if clu and member_of:
            n_partners[i] = sum(1 for c in partners.split() if member_of.get(c) == clu)
        else:
            n_partners[i] = len(partners.split())
        for c in members:
            rows.append(i)
            cols.append(pidx[c])
            vals.append(1.0 / len(members))
    share = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(provinces)))

    groups = [np.asarray(idx, dtype=np.int64) for g, idx in p.groupby("duplicate_group").indices.items()
              if g and len(idx) >= 2]
    requires = np.array([index.get(r, -1) if r else -1 for r in p["requires"]], dtype=np.int64)
    local = table.local_capacity()
    local_capacity = np.array([local.get(c, np.nan) for c in provinces], dtype=float)
    year_cols = [j for j, r in enumerate(resources) if YEAR_RESOURCE.match(r)]
    multi_year = (np.asarray((cost[:, year_cols] > 0).sum(axis=1)).ravel() > 1) if year_cols else np.zeros(n, bool)
    return PortfolioData(
        ids=ids, benefit=p["benefit"].to_numpy(float), total_cost=p["total_cost"].to_numpy(float),
        cost=cost, capacity=capacity, resources=resources, province=province, provinces=provinces,
        population=population, share=share, groups=groups, requires=requires,
        local_share=p["min_local_share"].to_numpy(float), local_capacity=local_capacity,
        aligned=p["aligned"].to_numpy(bool), committed=p["committed"].to_numpy(bool)
        if "committed" in p else np.zeros(n, bool),
        channel=p["channel"].to_numpy(dtype=object),
        n_partners=n_partners, is_cluster_project=(p["channel"] == "cluster").to_numpy()
        | (p["partners"] != "").to_numpy(), multi_year=multi_year, names=names)


def selection_table(data: PortfolioData, x: np.ndarray) -> pd.DataFrame:
    """One row per project with its decision, for portfolio.csv."""
    return pd.DataFrame({"project_id": data.ids, "selected": x.astype(bool),
                         "benefit": data.benefit, "total_cost": data.total_cost})
