"""Optimisation core: the allocation LP and the portfolio MILP, each assembled from rule rows as
one sparse matrix and passed to HiGHS through highspy.

``select_portfolio`` works on plain tables (no scenario needed); ``optimise_scenario`` reads the
scenario's rules, objective, solver settings and levers. The scenario schema, the LP and the
diagnosis are imported only where used, so ``allocsim select`` starts quickly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocsim.optimise.baselines import (
    FORMULA_RULES,
    compare_to_optimum,
    formula_weights,
    greedy_rows,
    plan_scores,
    quota_matrix,
    run_baselines,
)
from allocsim.optimise.portfolio import (
    EQUITY_TOL,
    OBJECTIVES,
    PortfolioLp,
    PortfolioModel,
    assemble,
    build_portfolio,
    load_model,
)
from allocsim.optimise.problem import PortfolioData, RuleParams, build_data
from allocsim.optimise.rules import SWITCHES
from allocsim.optimise.solve import SolveOptions, SolveStatus

if TYPE_CHECKING:  # heavy (the scenario schema, pandas-heavy LP helpers): imported where used
    from allocsim.data.geography import Geography
    from allocsim.data.projects import ProjectTable
    from allocsim.optimise.allocation import AllocationInputs, AllocationResult
    from allocsim.optimise.diagnose import Diagnosis
    from allocsim.scenario.schema import Scenario


@dataclass
class PortfolioResult:
    status: SolveStatus
    data: PortfolioData
    x: np.ndarray | None
    build_seconds: float
    diagnosis: Diagnosis | None = None
    pareto: pd.DataFrame | None = None
    total_benefit: float | None = None
    min_per_capita: float | None = None
    model: PortfolioModel | None = None
    objective: str = "benefit"
    stages: list[SolveStatus] = field(default_factory=list)
    max_shortfall: float | None = None
    start_benefit: float | None = None    # benefit of the greedy warm start (None: no start)
    decomposition: dict | None = None     # blocks, exactness and timing when decompose=True
    alternatives: Any = None              # near-optimal alternatives (optimise.alternatives)
    wall_seconds: float = 0.0

    @property
    def selected(self) -> list[str]:
        return [] if self.x is None else [str(i) for i in self.data.ids[self.x > 0.5]]

    def table(self) -> pd.DataFrame:
        x = self.x if self.x is not None else np.zeros(self.data.n)
        return pd.DataFrame({"project_id": self.data.ids, "selected": x > 0.5,
                             "benefit": self.data.benefit, "total_cost": self.data.total_cost})

    def as_json(self) -> dict:
        out = {"status": self.status.status, "optimal": self.status.optimal,
               "label": self.status.label(), "objective_kind": self.objective,
               "objective": self.status.objective, "bound": self.status.bound, "gap": self.status.gap,
               "selected": self.selected, "solve_seconds": self.status.solve_seconds,
               "build_seconds": self.build_seconds, "mip_gap": self.status.mip_gap,
               "time_limit_s": self.status.time_limit_s, "solver": f"highs {self.status.solver_version}",
               "total_benefit": self.total_benefit, "min_per_capita": self.min_per_capita,
               "note": self.status.note}
        if self.max_shortfall is not None:
            out["max_shortfall"] = self.max_shortfall
        if self.start_benefit is not None:
            out["warm_start_benefit"] = self.start_benefit
        if len(self.stages) > 1:
            out["stages"] = [{"status": s.status, "objective": s.objective, "bound": s.bound,
                              "gap": s.gap, "solve_seconds": s.solve_seconds, "note": s.note}
                             for s in self.stages]
        if self.decomposition is not None:
            out["decomposition"] = self.decomposition
        if self.diagnosis is not None:
            out["conflicts"] = self.diagnosis.messages()
        return out


def feasible_start(data: PortfolioData, lp: PortfolioLp) -> np.ndarray | None:
    """The greedy portfolio (``baselines.greedy``, computed on the assembled rows) if it satisfies
    every rule row, else None (e.g. when commitments alone already break a rule)."""
    e0 = lp.equity_rows[0]
    x = greedy_rows(data, lp.A[:e0, : data.n], lp.row_lower[:e0], lp.row_upper[:e0])
    if any(f.violation(x).any() for f in lp.families.values()):
        return None
    return x


def select_portfolio(data: PortfolioData, params: RuleParams, *, objective: str = "benefit",
                     equity_weight: float = 0.5, options: SolveOptions | None = None,
                     pareto_points: int = 0, need_target: float | np.ndarray | None = None,
                     equity_tol: float = EQUITY_TOL, warm_start: bool = True,
                     decompose: bool = False, workers: int | None = None, alternatives: int = 0,
                     slack: float = 0.02) -> PortfolioResult:
    """Solve the portfolio MILP; on infeasibility, explain it in policy words.

    ``objective``: one of ``OBJECTIVES`` (see ``portfolio``); ``need_target`` (THB of benefit per
    head, scalar or per province) is needed for "shortfall". ``warm_start`` starts HiGHS from the
    greedy portfolio so a time-limited solve returns at least that. ``decompose`` solves
    independent blocks in parallel processes when the matrix splits exactly (benefit objective).
    """
    options = options or SolveOptions()
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    if objective == "shortfall" and need_target is None:
        raise ValueError("objective 'shortfall' needs need_target (THB of benefit per head)")
    w0 = time.perf_counter()
    lp = assemble(data, params)
    start = feasible_start(data, lp) if warm_start else None
    decomposition = None
    if decompose:
        from allocsim.optimise.decompose import solve_decomposed

        dec = solve_decomposed(data, params, lp, options, objective=objective, start=start,
                               workers=workers)
        decomposition = dec.info
        if dec.status is not None:
            pm = PortfolioModel(data, params, lp, None, objective, equity_weight,
                                np.zeros(len(lp.equity_provinces)), equity_tol)
            pm._x = dec.x
            res = PortfolioResult(dec.status, data, dec.x, dec.build_seconds, model=pm,
                                  objective=objective, stages=[dec.status],
                                  decomposition=decomposition)
            return _finish(res, pm, start, options, pareto_points, params, w0, (alternatives, slack))
    pm = load_model(data, params, lp, options=options, objective=objective,
                    equity_weight=equity_weight, need_target=need_target, tol=equity_tol)
    status = pm.solve(options, start=start)
    build = time.perf_counter() - w0 - status.solve_seconds
    res = PortfolioResult(status, data, None, build, model=pm, objective=objective,
                          stages=list(pm.stages), decomposition=decomposition)
    return _finish(res, pm, start, options, pareto_points, params, w0, (alternatives, slack))


def _finish(res: PortfolioResult, pm: PortfolioModel, start: np.ndarray | None, options: SolveOptions,
            pareto_points: int, params: RuleParams, w0: float,
            alternatives: tuple[int, float] = (0, 0.02)) -> PortfolioResult:
    data = res.data
    if start is not None:
        res.start_benefit = float(data.benefit @ start)
    if res.status.has_solution:
        res.x = pm.decisions()
        res.total_benefit = float(data.benefit @ res.x)
        res.min_per_capita = pm.min_per_capita(res.x)
        if res.objective == "shortfall":
            res.max_shortfall = pm.max_shortfall(res.x)
        if pareto_points and pm.highs is not None:
            from allocsim.optimise.pareto import pareto_frontier

            done = (res.status, res.x) if res.objective == "benefit" else None
            res.pareto = pareto_frontier(pm, options, pareto_points, start=start, benefit=done)
            pm._x = res.x
        k, slack = alternatives
        if k and pm.highs is not None:
            from allocsim.optimise.alternatives import near_optimal

            res.alternatives = near_optimal(pm, options, res.x, k, slack)
            pm._x = res.x
    elif res.status.status in ("infeasible", "infeasible_or_unbounded"):
        from allocsim.optimise.diagnose import explain_infeasibility

        res.diagnosis = explain_infeasibility(data, params, options)
    res.wall_seconds = time.perf_counter() - w0
    return res


def rule_params(sc: Scenario, data: PortfolioData, scores: np.ndarray,
                geo: Geography | None = None) -> RuleParams:
    """The portfolio rules a scenario asks for, with its levers applied (``scores``: plan-quality
    score per province, used when the allocation rule is "plan_score"; ``geo``: for the real
    cluster shares of the "actual" rule)."""
    r, lv = sc.rules, sc.levers
    params = RuleParams(
        **{name: getattr(r, name) for name in SWITCHES},  # one [rules] switch per switchable rule
        alignment_threshold=r.alignment_threshold, min_cluster_partners=r.min_cluster_partners,
        multi_year_allowed=lv.multi_year_projects,
        area_based_budgeting=lv.area_based_budgeting,
        matching_uptake=r.matching_uptake_governor if lv.matching_fund_oversight else r.matching_uptake_voluntary)
    if lv.allocation_rule != "optimal":
        w = formula_weights(lv.allocation_rule, data, scores, actual_year=sc.allocation.actual_year,
                            fit_year=sc.allocation.fit_year)
        cw = actual_cluster_weights(sc, data, geo) if lv.allocation_rule in ("actual", "incremental") else None
        params = replace(params, quota=quota_matrix(data, w, cw), quota_rule=lv.allocation_rule)
    return params


def actual_cluster_weights(sc: Scenario, data: PortfolioData, geo: Geography | None) -> np.ndarray | None:
    """Per-province weights of the real cluster budgets (see ``data.formula.cluster_money_weights``)."""
    if geo is None:
        return None
    from allocsim.data.formula import cluster_money_weights

    p = geo.provinces
    return cluster_money_weights(sc.allocation.actual_year, list(data.provinces),
                                 dict(zip(p["iso_code"], p["cluster_id"], strict=True)),
                                 dict(zip(p["iso_code"], p["population"].astype(float), strict=True)))


@dataclass
class OptimiseResult:
    allocation: AllocationResult
    portfolio: PortfolioResult
    params: RuleParams
    baselines: pd.DataFrame | None = None
    allocation_rules: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scores: np.ndarray | None = None          # the illustrative plan scores every rule shared
    reference: SolveStatus | None = None      # the benefit optimum every share is measured against
    resource_values: pd.DataFrame | None = None  # value of each MILP resource (on request)
    lp_relaxation_bound: float | None = None
    inputs: AllocationInputs | None = None    # the LP's inputs (same projects and money)

    def summary_lines(self) -> list[str]:
        p, a = self.portfolio, self.allocation
        lines = [f"allocation LP: {a.status.label()}"]
        lines += [f"  conflict: {c}" for c in a.conflicts]
        lines.append(f"portfolio MILP ({len(p.data.ids)} candidates): {p.status.label()}; "
                     f"solve {p.status.solve_seconds:.2f} s")
        if p.x is not None:
            lines.append(f"  funded {int(p.x.sum())} projects, total benefit {p.total_benefit:,.1f}")
        if p.diagnosis is not None:
            lines += [f"  conflict: {m}" for m in p.diagnosis.messages()] or ["  no conflict found"]
        if self.baselines is not None:
            ref = self.baselines["reference_status"].iloc[0]
            what = "optimum" if ref == "optimal" else f"reference, NOT OPTIMAL ({ref})"
            for _, row in self.baselines.iterrows():
                lines.append(f"  {row['rule']:>13}: benefit {row['total_benefit']:,.1f} "
                             f"({row['share_of_optimum']:.1%} of {what}, "
                             f"{row['share_of_bound']:.1%} of the best bound)")
        return lines


def scenario_capacities(sc: Scenario, data: PortfolioData) -> PortfolioData:
    """One budget: the MILP's money resources are the scenario's envelopes, the same numbers the
    allocation LP shares out (the first fiscal year's resource is their sum, so it never binds on
    its own). Other resources (later fiscal years, staff, local capacity) keep the table's values."""
    from allocsim.optimise.allocation import CLUSTER_SOURCE
    from allocsim.scenario.schema import SOURCES

    cap = data.capacity.copy()
    env = {**sc.allocation.envelope_mthb, CLUSTER_SOURCE: sc.allocation.cluster_envelope_mthb}
    for k, r in enumerate(data.resources):
        if r in env:
            cap[k] = float(env[r])
        elif r == f"y{sc.first_fiscal_year}":
            cap[k] = float(sum(env.get(s, 0.0) for s in (*SOURCES, CLUSTER_SOURCE)))
    return replace(data, capacity=cap)


def lp_quota(inp: AllocationInputs, alloc: AllocationResult) -> np.ndarray:
    """(areas, resources) province quotas for the MILP from the LP's allocation: each province's
    money per source (spent + unassigned) and its part of cluster projects; other resources
    unquoted (inf). The MILP within these quotas can never beat the LP (it is a restriction of the
    LP's relaxation), which the tests check."""
    from allocsim.optimise.allocation import CLUSTER_SOURCE
    from allocsim.scenario.schema import SOURCES

    data = inp.data
    q = np.full((len(data.provinces), len(data.resources)), np.inf)
    y = alloc.y if alloc.y is not None else np.zeros(data.n)
    pos = {c: i for i, c in enumerate(data.provinces)}
    money = alloc.table[alloc.table["level"] == "province"].groupby(["area", "source"])["amount_mthb"].sum()
    for k, r in enumerate(data.resources):
        if r in SOURCES:
            q[:, k] = data.share.T @ (data.cost[:, k].toarray().ravel() * y)  # incl. areas outside the LP
            for iso in inp.provinces:
                q[pos[iso], k] = float(money.get((iso, r), 0.0))
        elif r == CLUSTER_SOURCE:
            q[:, k] = data.share.T @ (data.cost[:, k].toarray().ravel() * y)
    return q * (1 + 1e-9) + 1e-9  # the LP's own rounding must not make its allocation infeasible


def optimise_scenario(sc: Scenario, geo: Geography, table: ProjectTable, seed: int, *,
                      scores: dict[str, float] | None = None,
                      chain: tuple | None = None) -> OptimiseResult:
    """Allocation LP then portfolio MILP on the same projects and the same money.

    The LP shares the envelopes out; with ``allocation_rule = "optimal"`` its allocation becomes the
    MILP's province quotas (the yearly chain), with a formula rule the formula's quotas do. The
    reference for every "share of optimum" is the MILP under the same rules with national envelopes
    only, and the formula allocations are also evaluated in the LP against the LP optimum.

    ``seed`` is the run's seed (``loop_seed(sc.seed)``, the simulation's) the illustrative plan
    scores are drawn from; ``scores`` (ISO code → score) passes the simulation's own array, so the
    two engines read the same object (provinces it lacks get the same function's draw).

    ``chain`` (under the ``optimal`` rule: the simulation's own FY1 ``(allocation, portfolio,
    params, inputs)``, ``World.first_solve``) is reused instead of solving FY1 again: one solve, so
    the tables describe the very solution the simulation executed, with its HiGHS statuses (a
    second, time-limited solve could pick a different portfolio). The reference, baselines and
    rule evaluations are still computed here.
    """
    from allocsim.optimise.allocation import allocation_inputs, evaluate_rules, solve_allocation

    options = SolveOptions(sc.solver.mip_gap, sc.solver.time_limit_s, sc.solver.threads)
    data = scenario_capacities(sc, build_data(table, geo))
    # illustrative plan scores, one array shared by every rule that uses it: the simulation's
    # (``scores``, per province of the table) or the same function of the same run seed
    drawn = plan_scores(data, seed, sc.allocation.plan_score_range)
    given = scores or {}
    scores = np.array([float(given.get(c, d)) for c, d in zip(data.provinces, drawn, strict=True)])
    params = rule_params(sc, data, scores, geo)
    free = replace(params, quota=None, quota_rule="optimal")
    inp = allocation_inputs(geo, table, sc.allocation, params=free, data=data)
    kind = sc.objective.kind if sc.objective.kind in ("benefit", "equity", "shortfall") else "benefit"
    if chain is not None and sc.levers.allocation_rule == "optimal":
        alloc, port, params, inp = chain  # the simulation's FY1 solve, executed as solved
        pm = port.model
        if sc.objective.pareto_points and port.pareto is None and pm is not None \
                and pm.highs is not None and port.x is not None:
            from allocsim.optimise.pareto import pareto_frontier

            done = (port.status, port.x) if port.objective == "benefit" else None
            port.pareto = pareto_frontier(pm, options, sc.objective.pareto_points, benefit=done)
            pm._x = port.x
    else:
        alloc = solve_allocation(inp, options, objective=kind, need_target=sc.objective.need_target)
        if sc.levers.allocation_rule == "optimal" and alloc.total_benefit is not None:
            params = replace(params, quota=lp_quota(inp, alloc), quota_rule="allocation LP")
        port = select_portfolio(data, params, objective=sc.objective.kind,
                                equity_weight=sc.objective.equity_weight, options=options,
                                pareto_points=sc.objective.pareto_points,
                                need_target=sc.objective.need_target)
    res = OptimiseResult(alloc, port, params, scores=scores, inputs=inp)
    if port.x is not None and port.model is not None:
        # like-for-like reference: the benefit optimum under the same rules without quotas
        ref = port
        if params.quota is not None or sc.objective.kind != "benefit":
            ref = select_portfolio(data, free, options=options)
        if ref.x is not None and ref.model is not None:
            sel = run_baselines(data, free, scores)
            if ref is not port:
                sel = {f"as run ({params.quota_rule}, {sc.objective.kind})": port.x, **sel}
            res.baselines = compare_to_optimum(data, free, sel, ref.x, ref.model.min_per_capita,
                                               reference=ref.status)
        res.reference = ref.status
        if sc.objective.resource_values and ref.x is not None and ref.model is not None \
                and ref.model.highs is not None:
            from allocsim.optimise.valuation import lp_relaxation, resource_values

            res.resource_values = resource_values(ref.model, options, ref.x)
            res.lp_relaxation_bound = lp_relaxation(ref.model, options)[0]
        if sc.objective.alternatives and ref.x is not None and ref.model is not None \
                and ref.model.highs is not None:
            # around the benefit optimum under the same rules (not a quota-restricted portfolio)
            from allocsim.optimise.alternatives import near_optimal

            port.alternatives = near_optimal(ref.model, options, ref.x, sc.objective.alternatives,
                                             sc.objective.slack, reference=ref.status)
    if alloc.total_benefit is not None:
        pos = {c: i for i, c in enumerate(data.provinces)}
        cols = [pos[c] for c in inp.provinces]
        weights = {name: formula_weights(name, data, scores, actual_year=sc.allocation.actual_year,
                                         fit_year=sc.allocation.fit_year)[cols]
                   for name in FORMULA_RULES}
        from allocsim.data.formula import actual_cluster_shares

        real_clusters = actual_cluster_shares(sc.allocation.actual_year, inp.clusters)
        exact = {} if np.isnan(real_clusters).any() else {"actual": real_clusters}
        res.allocation_rules = evaluate_rules(inp, options, weights, alloc, exact=exact)
    return res


__all__ = ["OBJECTIVES", "OptimiseResult", "PortfolioResult", "RuleParams", "SolveOptions",
           "build_data", "build_portfolio", "optimise_scenario", "rule_params", "select_portfolio"]
