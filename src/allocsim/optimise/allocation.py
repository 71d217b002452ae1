"""The allocation LP: continuous budgets by province × strategy × source, plus cluster budgets by
cluster × strategy (DOMAIN.md §3–§4).

Rules: national envelope per source; cluster envelope; per-capita floor and a ceiling (share of a
source's envelope) per province; absorption capacity per head (a province cannot usefully spend
more), counting its population share of its cluster's budget; cluster budget only for strategies in
the cluster plan (the strategies of the cluster's candidate projects). Benefit is concave: money for
(province, strategy) fills segments of equal width with non-increasing slopes × the province's
benefit per baht for that strategy (from its candidate projects), so the optimum spreads money.
All amounts are million THB; envelopes, floors and slopes come from the scenario (illustrative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable
from allocsim.data.strategies import strategy_ids
from allocsim.optimise.rules.base import mthb
from allocsim.optimise.solve import SolveOptions, Solver, SolveStatus
from allocsim.scenario.schema import SOURCES, AllocationConfig

SLACK_PENALTY = 1.0


@dataclass
class AllocationInputs:
    provinces: list[str]
    names: list[str]
    population: np.ndarray         # (I,)
    cluster_of: np.ndarray         # (I,) index into clusters
    clusters: list[str]
    strategies: list[str]
    need: np.ndarray               # (I, S) benefit per baht of the first segment
    cluster_plan: np.ndarray       # (K, S) bool
    config: AllocationConfig
    #: (I,) multiplies each province's absorption capacity; the closed loop sets it from simulated
    #: performance and carried-over commitments (None = 1 everywhere)
    absorption_factor: np.ndarray | None = None

    @property
    def absorption_mthb(self) -> np.ndarray:
        """What each province can usefully spend (million THB)."""
        base = self.config.absorption_thb_per_capita * self.population / 1e6
        return base if self.absorption_factor is None else base * self.absorption_factor

    @property
    def cluster_pop(self) -> np.ndarray:
        return np.bincount(self.cluster_of, weights=self.population, minlength=len(self.clusters))


def allocation_inputs(geo: Geography, table: ProjectTable, config: AllocationConfig) -> AllocationInputs:
    p = geo.provinces[geo.provinces["cluster_id"] != ""].reset_index(drop=True)
    provinces = p["iso_code"].tolist()
    clusters = geo.clusters["cluster_id"].tolist()
    strategies = strategy_ids()
    proj = table.projects
    ratio = proj.assign(c=proj["total_cost"]).groupby(["province", "strategy"])[["benefit", "c"]].sum()
    national = proj["benefit"].sum() / max(proj["total_cost"].sum(), 1e-12)
    need = np.full((len(provinces), len(strategies)), national)
    for (prov, strat), row in ratio.iterrows():
        if prov in provinces and strat in strategies and row["c"] > 0:
            need[provinces.index(prov), strategies.index(strat)] = row["benefit"] / row["c"]
    plan = np.zeros((len(clusters), len(strategies)), bool)
    for clu, strat in proj.loc[proj["channel"] == "cluster", ["cluster", "strategy"]].itertuples(index=False):
        if clu in clusters and strat in strategies:
            plan[clusters.index(clu), strategies.index(strat)] = True
    return AllocationInputs(provinces, p["name_en"].tolist(), p["population"].to_numpy(float),
                            np.array([clusters.index(c) for c in p["cluster_id"]]), clusters,
                            strategies, need, plan, config)


@dataclass
class AllocationResult:
    status: SolveStatus
    table: pd.DataFrame                  # level, area, strategy, source, amount_mthb
    total_benefit: float | None
    conflicts: list[str] = field(default_factory=list)


def build_allocation(inp: AllocationInputs, *, objective: str = "benefit", equity_weight: float = 0.5,
                     elastic: bool = False) -> pyo.ConcreteModel:
    cfg = inp.config
    I, S, K = range(len(inp.provinces)), range(len(inp.strategies)), range(len(inp.clusters))  # noqa: E741
    R = [s for s in SOURCES]
    env = {s: float(cfg.envelope_mthb.get(s, 0.0)) for s in R}
    slopes = cfg.benefit_slopes
    G = range(len(slopes))
    absorb = inp.absorption_mthb
    width = absorb / (len(S) * len(slopes))
    cpop = inp.cluster_pop
    frac = inp.population / cpop[inp.cluster_of]

    m = pyo.ConcreteModel(name="allocsim_allocation")
    m.a = pyo.Var(I, S, R, within=pyo.NonNegativeReals)
    m.c = pyo.Var(K, S, within=pyo.NonNegativeReals)
    m.y = pyo.Var(I, S, G, within=pyo.NonNegativeReals)
    for k in K:
        for s in S:
            if not inp.cluster_plan[k, s]:
                m.c[k, s].fix(0.0)
    el: dict[str, pyo.Var] = {}

    def slack(name: str, index: object) -> object:
        if not elastic:
            return 0.0
        if name not in el:
            el[name] = pyo.Var(index, within=pyo.NonNegativeReals)
            m.add_component(f"slack_{name}", el[name])
        return el[name]

    s_env, s_floor, s_ceil, s_abs = (slack("envelope", R), slack("floor", I), slack("ceiling", [(i, r) for i in I for r in R]),
                                     slack("absorption", I))
    s_cenv = slack("cluster_envelope", [0])

    def sl(v: object, idx: object) -> object:
        return 0.0 if not elastic else v[idx]  # type: ignore[index]

    m.envelope = pyo.Constraint(R, rule=lambda _m, r: sum(m.a[i, s, r] for i in I for s in S) - sl(s_env, r) <= env[r])
    m.cluster_envelope = pyo.Constraint(expr=sum(m.c[k, s] for k in K for s in S) - sl(s_cenv, 0) <= cfg.cluster_envelope_mthb)
    floor = cfg.floor_thb_per_capita * inp.population / 1e6
    m.floor = pyo.Constraint(I, rule=lambda _m, i: sum(m.a[i, s, r] for s in S for r in R) + sl(s_floor, i) >= floor[i])
    m.ceiling = pyo.Constraint(I, R, rule=lambda _m, i, r: sum(m.a[i, s, r] for s in S) - sl(s_ceil, (i, r)) <= cfg.ceiling_share * env[r])

    def money(i: int, s: int) -> object:
        return sum(m.a[i, s, r] for r in R) + frac[i] * m.c[int(inp.cluster_of[i]), s]

    m.absorption = pyo.Constraint(I, rule=lambda _m, i: sum(money(i, s) for s in S) - sl(s_abs, i) <= absorb[i])
    m.link = pyo.Constraint(I, S, rule=lambda _m, i, s: money(i, s) <= sum(m.y[i, s, g] for g in G))
    m.segment = pyo.Constraint(I, S, G, rule=lambda _m, i, s, g: m.y[i, s, g] <= width[i])
    m.benefit_i = pyo.Expression(I, rule=lambda _m, i: sum(inp.need[i, s] * slopes[g] * m.y[i, s, g] for s in S for g in G))
    m.total_benefit = pyo.Expression(expr=sum(m.benefit_i[i] for i in I))
    m.t = pyo.Var(within=pyo.NonNegativeReals)
    m.equity = pyo.Constraint(I, rule=lambda _m, i: m.t <= m.benefit_i[i] * 1e6 / inp.population[i])
    wb, we = {"benefit": (1.0, 0.0), "equity": (1e-3, 1.0), "weighted": (1 - equity_weight, equity_weight)}[objective]
    pop_total = float(inp.population.sum()) / 1e6
    if elastic:
        m.obj = pyo.Objective(expr=sum(SLACK_PENALTY * v[j] for v in el.values() for j in v), sense=pyo.minimize)
    else:
        m.obj = pyo.Objective(expr=wb * m.total_benefit + we * pop_total * m.t, sense=pyo.maximize)
    m._elastic = el
    return m


def _describe(inp: AllocationInputs, name: str, idx: object, amount: float) -> str:
    cfg = inp.config
    if name == "envelope":
        return f"national envelope: {idx} needs {mthb(cfg.envelope_mthb.get(idx, 0.0) + amount)}, envelope is {mthb(cfg.envelope_mthb.get(idx, 0.0))}"
    if name == "cluster_envelope":
        return f"cluster envelope: clusters need {mthb(cfg.cluster_envelope_mthb + amount)}, envelope is {mthb(cfg.cluster_envelope_mthb)}"
    if name == "floor":
        i = int(idx)  # type: ignore[call-overload]
        floor = cfg.floor_thb_per_capita * inp.population[i] / 1e6
        return f"per-capita floor: {inp.names[i]} is owed {mthb(floor)} but can receive only {mthb(floor - amount)}"
    if name == "ceiling":
        i, r = idx  # type: ignore[misc]
        return f"province ceiling: {inp.names[i]} needs {mthb(amount)} more {r} than the {cfg.ceiling_share:.0%} ceiling allows"
    i = int(idx)  # type: ignore[call-overload]
    cap = float(inp.absorption_mthb[i])
    return f"absorption capacity: {inp.names[i]} must receive {mthb(cap + amount)}, it can absorb {mthb(cap)}"


def solve_allocation(inp: AllocationInputs, options: SolveOptions, *, objective: str = "benefit",
                     equity_weight: float = 0.5) -> AllocationResult:
    m = build_allocation(inp, objective=objective, equity_weight=equity_weight)
    status = Solver(options).solve(m)
    if not status.has_solution:
        conflicts = []
        if status.status in ("infeasible", "infeasible_or_unbounded"):
            me = build_allocation(inp, elastic=True)
            est = Solver(options).solve(me)
            if est.has_solution:
                for name, var in me._elastic.items():
                    for idx in var:
                        v = pyo.value(var[idx]) or 0.0
                        if v > 1e-6:
                            conflicts.append(_describe(inp, name, idx, v))
        return AllocationResult(status, pd.DataFrame(columns=["level", "area", "strategy", "source", "amount_mthb"]),
                                None, conflicts)
    rows = []
    for (i, s, r), v in m.a.items():
        val = pyo.value(v) or 0.0
        if val > 1e-9:
            rows.append(("province", inp.provinces[i], inp.strategies[s], r, val))
    for (k, s), v in m.c.items():
        val = pyo.value(v) or 0.0
        if val > 1e-9:
            rows.append(("cluster", inp.clusters[k], inp.strategies[s], "cluster_budget", val))
    table = pd.DataFrame(rows, columns=["level", "area", "strategy", "source", "amount_mthb"])
    return AllocationResult(status, table, float(pyo.value(m.total_benefit)))


def formula_benefit(inp: AllocationInputs, weights: np.ndarray) -> float:
    """Benefit of splitting every envelope by ``weights`` (per-capita, plan score…), each province
    spreading its money over strategies in proportion to its need, capped at absorption, evaluated
    with the same concave benefit as the LP."""
    cfg = inp.config
    w = weights / weights.sum()
    total = sum(cfg.envelope_mthb.values())
    money = np.minimum(w * total, inp.absorption_mthb)
    split = inp.need / inp.need.sum(axis=1, keepdims=True)
    width = inp.absorption_mthb / (len(inp.strategies) * len(cfg.benefit_slopes))
    out = 0.0
    for i in range(len(inp.provinces)):
        for s in range(len(inp.strategies)):
            left = money[i] * split[i, s]
            for slope in cfg.benefit_slopes:
                take = min(left, width[i])
                out += inp.need[i, s] * slope * take
                left -= take
    return out
