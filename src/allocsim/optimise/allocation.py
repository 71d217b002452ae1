"""The allocation LP: how much money each province gets from each source, and each cluster from
the cluster budget (DOMAIN.md §3–§4) — written as the continuous relaxation of project selection.

Why this shape: the LP must be a faithful aggregate of the portfolio problem, so benefit can only
come from money that is actually allocated *and* spent on a candidate project that the rules let
that source fund. Each project p has a fraction ``y_p ∈ [0, 1]`` funded; the money a province i
gets from source r is ``a_ir = Σ_p share_pi · cost_pr · y_p + u_ir`` (``u_ir`` is money allocated
but not spent on any candidate, which only a floor can force). Within one province × strategy ×
source cell the projects' benefit/cost ranking is the concave benefit curve, so the LP is the
continuous relaxation of selection within the same money: **for the same envelopes and rules, the
LP optimum is ≥ the MILP optimum** (and the MILP given the LP's own allocation as province quotas
can never beat it). ``tests/test_allocation.py`` checks both.

Sources fund what their cost columns say (the projects contract): ministry budgets fund ministries'
function projects, local grants fund local projects that carry co-funding (the matching rule caps
that co-funding), province budgets fund area projects, private money only projects with a private
partner, the cluster budget only cluster projects. Rules (one function each, listed in
``ALLOCATION_RULES``; every row has policy words for infeasibility reports):

========================  ===================================================  =====================
rule                      inequality                                           policy meaning
========================  ===================================================  =====================
envelope (r)              Σ_p cost_pr y_p + Σ_i u_ir ≤ E_r                      national envelope
cluster_envelope          Σ_p cost_p,cluster y_p ≤ E_cluster                    cluster budget
floor (i)                 Σ_r a_ir ≥ floor_per_head · pop_i                     per-capita minimum
ceiling (i, r)            a_ir ≤ ceiling_share · E_r                            no province hoards
absorption (i)            Σ_r a_ir + cluster money of i ≤ absorb · pop_i        spending capacity
quota (i, r)              a_ir ≤ q_ir (formula rules only)                      formula allocation
portfolio rules           the MILP's own rows (matching, alignment, …) over y   same rules as MILP
========================  ===================================================  =====================

Objectives: ``benefit`` (max Σ b_p y_p), ``equity`` (true max-min: maximise the minimum
per-capita benefit t, then hold t ≥ t*(1 − tol) and maximise benefit — two solves of one
persistent HiGHS model) and ``shortfall`` (minimise the largest per-capita shortfall against
``need_target``, then maximise benefit holding it). Shadow prices (``duals``) are the marginal
benefit of one more million THB in each envelope, floor, ceiling and absorption limit, as HiGHS
reports them for the final (benefit) stage. The LP goes to HiGHS as one sparse matrix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable
from allocsim.data.strategies import strategy_ids
from allocsim.optimise.problem import PortfolioData, RuleParams, build_data
from allocsim.optimise.rules import RULES
from allocsim.optimise.rules.base import RuleRows, mthb
from allocsim.optimise.solve import SolveOptions, SolveStatus
from allocsim.scenario.schema import SOURCES, AllocationConfig

CLUSTER_SOURCE = "cluster_budget"
#: rules whose rows the LP takes from the portfolio MILP unchanged (over continuous y)
SHARED_RULES = ("duplicates", "follow_on", "matching", "alignment", "cluster_partners",
                "eligibility", "committed")
#: rule families whose shadow prices committees read (one more million THB in …)
MONEY_RULES = ("envelope", "cluster_envelope", "floor", "ceiling", "absorption")
OBJECTIVES = ("benefit", "equity", "shortfall")
TABLE_COLUMNS = ["level", "area", "strategy", "source", "amount_mthb"]


@dataclass
class AllocationInputs:
    """Everything the LP reads, prepared once from tables (no files, no solver)."""

    data: PortfolioData            # the candidate projects (one world with the MILP)
    strategy: np.ndarray           # (n,) strategy id of each project
    provinces: list[str]           # provinces that receive allocations (the 76 in clusters)
    names: list[str]
    population: np.ndarray         # (I,)
    cluster_of: np.ndarray         # (I,) index into clusters
    clusters: list[str]
    project_cluster: np.ndarray    # (n,) index into clusters for cluster projects, -1 otherwise
    strategies: list[str]
    config: AllocationConfig
    params: RuleParams = field(default_factory=RuleParams)
    #: (I, S) multiplies the benefit of province i's strategy-s projects (the closed loop sets it
    #: from citizens' current needs; None = 1 everywhere)
    benefit_factor: np.ndarray | None = None
    #: (I,) multiplies each province's absorption capacity (closed loop; None = 1 everywhere)
    absorption_factor: np.ndarray | None = None

    @property
    def absorption_mthb(self) -> np.ndarray:
        """What each province can usefully spend (million THB)."""
        base = self.config.absorption_thb_per_capita * self.population / 1e6
        return base if self.absorption_factor is None else base * self.absorption_factor

    @property
    def floor_mthb(self) -> np.ndarray:
        return self.config.floor_thb_per_capita * self.population / 1e6

    @property
    def sources(self) -> list[str]:
        """The province-level sources present in the project table, in DOMAIN.md §3 order."""
        return [s for s in SOURCES if s in self.data.resources]

    def envelope(self, source: str) -> float:
        return float(self.config.envelope_mthb.get(source, 0.0))

    def share(self) -> sp.csr_matrix:
        """(n, I) how each project's money and benefit split over the allocation provinces."""
        cols = [self.data.provinces.index(c) for c in self.provinces]
        return self.data.share[:, cols].tocsr()

    def benefit(self) -> np.ndarray:
        """(n,) project benefit after the closed loop's need factor."""
        b = self.data.benefit.astype(float)
        if self.benefit_factor is None:
            return b
        sidx = {s: k for k, s in enumerate(self.strategies)}
        col = np.array([sidx.get(s, -1) for s in self.strategy])
        # a project's factor: its provinces' factors for its strategy, weighted by its split
        f = self.share() @ self.benefit_factor  # (n, S)
        rows = np.flatnonzero(col >= 0)
        out = np.ones(len(b))
        out[rows] = np.where(np.asarray(self.share().sum(axis=1)).ravel()[rows] > 0,
                             np.asarray(f)[rows, col[rows]], 1.0)
        return b * out

    def per_head(self) -> np.ndarray:
        """(I,) factor from benefit (money units) to benefit per head (THB per person)."""
        return 1e6 / np.maximum(self.population, 1.0)


def allocation_inputs(geo: Geography, table: ProjectTable, config: AllocationConfig,
                      params: RuleParams | None = None, data: PortfolioData | None = None
                      ) -> AllocationInputs:
    """Inputs for the LP from the geography and the same project table the MILP reads."""
    data = data if data is not None else build_data(table, geo)
    p = geo.provinces[geo.provinces["cluster_id"] != ""].reset_index(drop=True)
    clusters = geo.clusters["cluster_id"].tolist()
    cidx = {c: k for k, c in enumerate(clusters)}
    proj = table.projects
    is_cluster = (proj["channel"] == "cluster").to_numpy()
    project_cluster = np.array([cidx.get(c, -1) if cl else -1
                                for c, cl in zip(proj["cluster"], is_cluster, strict=True)], dtype=np.int64)
    return AllocationInputs(
        data=data, strategy=proj["strategy"].to_numpy(dtype=object), provinces=p["iso_code"].tolist(),
        names=p["name_en"].tolist(), population=p["population"].to_numpy(float),
        cluster_of=np.array([cidx[c] for c in p["cluster_id"]]), clusters=clusters,
        project_cluster=project_cluster, strategies=strategy_ids(), config=config,
        params=params if params is not None else RuleParams())


@dataclass
class Layout:
    """Column layout of the LP: y (projects) | u (province × source unassigned money) | t | s."""

    n: int
    n_prov: int
    sources: list[str]

    @property
    def n_u(self) -> int:
        return self.n_prov * len(self.sources)

    def u(self, i: int, r: int) -> int:
        return self.n + i * len(self.sources) + r

    @property
    def t(self) -> int:
        return self.n + self.n_u

    @property
    def s(self) -> int:
        return self.t + 1

    @property
    def size(self) -> int:
        return self.s + 1


def _cols(rows: sp.spmatrix, lay: Layout, extra: sp.spmatrix | None = None) -> sp.csr_matrix:
    """Widen rows over y to the full LP layout, optionally adding columns for u/t/s."""
    m = sp.hstack([sp.csr_matrix(rows), sp.csr_matrix((rows.shape[0], lay.size - lay.n))]).tocsr()
    return m if extra is None else (m + extra).tocsr()


def _u_block(lay: Layout, pairs: list[tuple[int, int]]) -> sp.csr_matrix:
    """One row per (province, source) pair with +1 on that pair's u column."""
    k = len(pairs)
    return sp.csr_matrix((np.ones(k), (np.arange(k), [lay.u(i, r) for i, r in pairs])), shape=(k, lay.size))


def _money(inp: AllocationInputs, source: str) -> sp.csr_matrix:
    """(I, n) money province i receives from ``source`` per unit of each y_p."""
    k = inp.data.resources.index(source)
    col = inp.data.cost[:, k].toarray().ravel()
    return (sp.diags(col) @ inp.share()).T.tocsr()


# ---- the rules: one function each, rows over the full LP layout -------------------------------

def envelope(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """Σ_p cost_pr · y_p + Σ_i u_ir ≤ E_r: a source cannot give out more than its envelope."""
    if not lay.sources:
        return None
    rows = sp.vstack([inp.data.cost[:, inp.data.resources.index(r)].T for r in lay.sources]).tocsr()
    A = _cols(rows, lay)
    for r in range(len(lay.sources)):
        A = A + _u_rowsum(lay, r, len(lay.sources))
    env = np.array([inp.envelope(r) for r in lay.sources])

    def describe(r: int, amount: float) -> str:
        return (f"national envelope: {lay.sources[r]} needs {mthb(env[r] + amount)}, "
                f"the envelope is {mthb(env[r])}")

    return RuleRows("envelope", A, "<=", env, describe)


def _u_rowsum(lay: Layout, r: int, n_rows: int) -> sp.csr_matrix:
    """A (n_rows, size) matrix with row r summing u over provinces for source r."""
    cols = [lay.u(i, r) for i in range(lay.n_prov)]
    return sp.csr_matrix((np.ones(len(cols)), (np.full(len(cols), r), cols)), shape=(n_rows, lay.size))


def cluster_envelope(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """Σ_p cost_p,cluster · y_p ≤ E_cluster: the cluster budget is one national envelope."""
    if CLUSTER_SOURCE not in inp.data.resources:
        return None
    k = inp.data.resources.index(CLUSTER_SOURCE)
    env = float(inp.config.cluster_envelope_mthb)
    A = _cols(inp.data.cost[:, k].T, lay)

    def describe(r: int, amount: float) -> str:
        return f"cluster envelope: clusters need {mthb(env + amount)}, the envelope is {mthb(env)}"

    return RuleRows("cluster_envelope", A, "<=", np.array([env]), describe)


def _province_money(inp: AllocationInputs, lay: Layout, sources: list[str], with_u: bool) -> sp.csr_matrix:
    """(I, size): money each province receives from ``sources`` (+ its unassigned money)."""
    A = sp.csr_matrix((lay.n_prov, lay.n))
    for r in sources:
        A = A + _money(inp, r)
    A = _cols(A, lay)
    if with_u:
        pairs = [(i, r) for i in range(lay.n_prov) for r in range(len(lay.sources))]
        rows = np.repeat(np.arange(lay.n_prov), len(lay.sources))
        A = A + sp.csr_matrix((np.ones(len(pairs)), (rows, [lay.u(i, r) for i, r in pairs])),
                              shape=(lay.n_prov, lay.size))
    return A.tocsr()


def floor(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """Σ_r a_ir ≥ floor_per_head · pop_i: every province gets a minimum per head (four sources)."""
    f = inp.floor_mthb
    if not lay.sources or not (f > 0).any():
        return None
    A = _province_money(inp, lay, lay.sources, with_u=True)

    def describe(i: int, amount: float) -> str:
        return (f"per-capita floor: {inp.names[i]} is owed {mthb(f[i])} but can receive only "
                f"{mthb(f[i] - amount)}")

    return RuleRows("floor", A, ">=", f, describe)


def _source_rows(inp: AllocationInputs, lay: Layout) -> list[sp.csr_matrix]:
    """One (I, size) block per source: the money a_ir each province gets from it (spent + u)."""
    return [_cols(_money(inp, src), lay) + _u_block(lay, [(i, r) for i in range(lay.n_prov)])
            for r, src in enumerate(lay.sources)]


def ceiling(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """a_ir ≤ ceiling_share · E_r: no province takes more than a set share of a source."""
    if not lay.sources or inp.config.ceiling_share >= 1:
        return None
    blocks = _source_rows(inp, lay)
    cap = np.concatenate([np.full(lay.n_prov, inp.config.ceiling_share * inp.envelope(src))
                          for src in lay.sources])
    labels = [(i, r) for r in range(len(lay.sources)) for i in range(lay.n_prov)]

    def describe(k: int, amount: float) -> str:
        i, r = labels[k]
        return (f"province ceiling: {inp.names[i]} needs {mthb(amount)} more {lay.sources[r]} than "
                f"the {inp.config.ceiling_share:.0%} ceiling allows")

    return RuleRows("ceiling", sp.vstack(blocks).tocsr(), "<=", cap, describe)


def absorption(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """Σ_r a_ir + the province's part of cluster projects ≤ absorb_per_head · pop_i."""
    srcs = lay.sources + ([CLUSTER_SOURCE] if CLUSTER_SOURCE in inp.data.resources else [])
    if not srcs:
        return None
    A = _province_money(inp, lay, srcs, with_u=True)
    cap = inp.absorption_mthb

    def describe(i: int, amount: float) -> str:
        return (f"absorption capacity: {inp.names[i]} must receive {mthb(cap[i] + amount)}, "
                f"it can absorb {mthb(cap[i])}")

    return RuleRows("absorption", A, "<=", cap, describe)


def quota(inp: AllocationInputs, lay: Layout, ctx: dict) -> RuleRows | None:
    """a_ir ≤ q_ir and cluster money ≤ q_k: a formula allocation fixes each area's money."""
    q, qc = ctx.get("quota"), ctx.get("cluster_quota")
    if q is None:
        return None
    blocks = _source_rows(inp, lay)
    rhs = [q[:, r] for r in range(len(lay.sources))]
    labels = [(inp.names[i], src) for src in lay.sources for i in range(lay.n_prov)]
    if qc is not None and CLUSTER_SOURCE in inp.data.resources:
        k = inp.data.resources.index(CLUSTER_SOURCE)
        col = inp.data.cost[:, k].toarray().ravel()
        has = inp.project_cluster >= 0
        C = sp.csr_matrix((col[has], (inp.project_cluster[has], np.flatnonzero(has))),
                          shape=(len(inp.clusters), lay.n))
        blocks.append(_cols(C, lay))
        rhs.append(qc)
        labels.extend((c, CLUSTER_SOURCE) for c in inp.clusters)
    cap = np.concatenate(rhs)

    def describe(k: int, amount: float) -> str:
        area, src = labels[k]
        return f"formula quota: {area} needs {mthb(cap[k] + amount)} of {src}, its quota is {mthb(cap[k])}"

    return RuleRows("quota", sp.vstack(blocks).tocsr(), "<=", cap, describe)


def portfolio_rules(inp: AllocationInputs, lay: Layout, ctx: dict) -> list[RuleRows]:
    """The MILP's own rule rows over continuous y (so the LP relaxes the MILP, rule for rule);
    capacity rows only for resources that are not money sources (fiscal years, staff)."""
    out = []
    for name in SHARED_RULES:
        fam = RULES[name](inp.data, inp.params)
        if fam is not None and fam.size:
            out.append(RuleRows(fam.rule, _cols(fam.A, lay), fam.sense, fam.rhs, fam.describe, fam.scale))
    cap = RULES["capacity"](inp.data, inp.params)
    if cap is not None:
        keep = [k for k, r in enumerate(inp.data.resources) if r not in (*SOURCES, CLUSTER_SOURCE)]
        if keep:
            out.append(RuleRows("capacity", _cols(cap.A[keep], lay), "<=", cap.rhs[keep],
                                lambda r, a, _k=keep: cap.describe(_k[r], a), cap.scale[keep]))
    return out


RuleFn = Callable[[AllocationInputs, Layout, dict], "RuleRows | None"]
#: The allocation rules in the order they are built (one page: this module).
ALLOCATION_RULES: dict[str, RuleFn] = {
    "envelope": envelope, "cluster_envelope": cluster_envelope, "floor": floor,
    "ceiling": ceiling, "absorption": absorption, "quota": quota,
}


# ---- assembly and solve ---------------------------------------------------------------------

@dataclass
class AllocationModel:
    """The LP as sparse rows, with the families that made them (for duals and diagnosis)."""

    inp: AllocationInputs
    layout: Layout
    families: dict[str, RuleRows]
    A: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    offsets: dict[str, int]
    benefit: np.ndarray        # (size,) objective coefficients of the benefit stage
    equity_rows: np.ndarray    # (I,) provinces with candidates (index into inp.provinces)


def build_allocation(inp: AllocationInputs, *, quota_mthb: np.ndarray | None = None,
                     cluster_quota_mthb: np.ndarray | None = None,
                     need_target: float = 0.0) -> AllocationModel:
    """All rule rows as one sparse matrix (rows in rule order; columns y | u | t | s)."""
    lay = Layout(inp.data.n, len(inp.provinces), inp.sources)
    ctx: dict = {"quota": quota_mthb, "cluster_quota": cluster_quota_mthb}
    fams: dict[str, RuleRows] = {}
    for name, fn in ALLOCATION_RULES.items():
        fam = fn(inp, lay, ctx)
        if fam is not None and fam.size:
            fams[name] = fam
    for fam in portfolio_rules(inp, lay, ctx):
        fams[fam.rule] = fam
    # equity: t <= per-capita benefit_i;  shortfall: target_i - per-capita benefit_i <= s
    pcb = (sp.diags(inp.per_head()) @ (sp.diags(inp.benefit()) @ inp.share()).T).tocsr()  # (I, n)
    has = np.flatnonzero(np.diff(pcb.indptr) > 0)
    pcb = _cols(pcb[has], lay)
    t_col = sp.csr_matrix((np.ones(len(has)), (np.arange(len(has)), np.full(len(has), lay.t))),
                          shape=(len(has), lay.size))
    s_col = sp.csr_matrix((np.ones(len(has)), (np.arange(len(has)), np.full(len(has), lay.s))),
                          shape=(len(has), lay.size))
    fams["equity"] = RuleRows("equity", t_col - pcb, "<=", np.zeros(len(has)),
                              lambda r, a: "equity row")
    fams["shortfall"] = RuleRows("shortfall", pcb + s_col, ">=", np.full(len(has), float(need_target)),
                                 lambda r, a: "shortfall row")
    offsets, blocks, lo, hi, at = {}, [], [], [], 0
    for name, fam in fams.items():
        offsets[name] = at
        at += fam.size
        blocks.append(fam.A)
        lo.append(np.full(fam.size, -np.inf) if fam.sense == "<=" else fam.rhs)
        hi.append(fam.rhs if fam.sense == "<=" else np.full(fam.size, np.inf))
    c = np.zeros(lay.size)
    c[: lay.n] = inp.benefit()
    return AllocationModel(inp, lay, fams, sp.vstack(blocks).tocsr(), np.concatenate(lo),
                           np.concatenate(hi), offsets, c, has)


@dataclass
class AllocationResult:
    status: SolveStatus
    table: pd.DataFrame                  # level, area, strategy, source, amount_mthb
    total_benefit: float | None
    conflicts: list[str] = field(default_factory=list)
    y: np.ndarray | None = None          # (n,) fraction of each project funded
    duals: pd.DataFrame | None = None    # shadow prices of the money rules
    min_per_capita: float | None = None  # smallest per-capita benefit over provinces with candidates
    objective: str = "benefit"
    stages: list[SolveStatus] = field(default_factory=list)

    def province_money(self) -> pd.Series:
        """Million THB per province (all four sources), indexed by ISO code."""
        t = self.table[self.table["level"] == "province"]
        return t.groupby("area")["amount_mthb"].sum()


def _highs(am: AllocationModel, options: SolveOptions):  # noqa: ANN202 - highspy type
    """The LP loaded into a fresh, silent HiGHS (maximise benefit; y ∈ [0, 1], u, t, s ≥ 0)."""
    from allocsim.optimise.portfolio import make_highs_lp, new_highs

    h = new_highs(options)
    h.setOptionValue("time_limit", float(options.time_limit_s))
    lay = am.layout
    upper = np.full(lay.size, np.inf)
    upper[: lay.n] = 1.0
    h.passModel(make_highs_lp(am.A.tocsc(), am.lower, am.upper, am.benefit.copy(), np.zeros(lay.size),
                              upper, n_integer=0))
    return h


def _run(h, options: SolveOptions) -> SolveStatus:  # noqa: ANN001
    """One HiGHS run of the LP, reported in the shared status vocabulary."""
    from allocsim.optimise.solve import highs_status

    t0 = time.perf_counter()
    h.run()
    return highs_status(h, options, time.perf_counter() - t0, has_integers=False)


#: relative tolerance with which the second stage of equity/shortfall holds the first stage's value
STAGE_TOLERANCE = 1e-6


def solve_allocation(inp: AllocationInputs, options: SolveOptions, *, objective: str = "benefit",
                     need_target: float = 0.0, quota_mthb: np.ndarray | None = None,
                     cluster_quota_mthb: np.ndarray | None = None) -> AllocationResult:
    """Solve the LP. ``equity`` and ``shortfall`` are lexicographic: the equity stage first, then
    the most benefit that keeps it (within ``STAGE_TOLERANCE``). ``quota_mthb`` (I, R) and
    ``cluster_quota_mthb`` (K,) cap each area's money (formula allocation rules)."""
    if objective not in OBJECTIVES:
        objective = "equity" if objective == "weighted" else objective
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}")
    am = build_allocation(inp, quota_mthb=quota_mthb, cluster_quota_mthb=cluster_quota_mthb,
                          need_target=need_target)
    h = _highs(am, options)
    lay = am.layout
    stages: list[SolveStatus] = []
    if objective in ("equity", "shortfall"):
        col = lay.t if objective == "equity" else lay.s
        c = np.zeros(lay.size)
        c[col] = 1.0 if objective == "equity" else -1.0
        h.changeColsCost(lay.size, np.arange(lay.size, dtype=np.int32), c)
        st = _run(h, options)
        stages.append(st)
        if st.status == "optimal":
            v = float(h.getSolution().col_value[col])
            if objective == "equity":
                h.changeColBounds(col, v * (1 - STAGE_TOLERANCE) - 1e-9, np.inf)
            else:
                h.changeColBounds(col, 0.0, v * (1 + STAGE_TOLERANCE) + 1e-9)
            h.changeColsCost(lay.size, np.arange(lay.size, dtype=np.int32), am.benefit)
    if not stages or stages[-1].status == "optimal":
        stages.append(_run(h, options))
    status = stages[-1]
    if status.status != "optimal" or status.objective is None:
        conflicts = explain_allocation(am, options) if status.status in (
            "infeasible", "infeasible_or_unbounded") else []
        return AllocationResult(status, pd.DataFrame(columns=TABLE_COLUMNS), None, conflicts,
                                objective=objective, stages=stages)
    sol = h.getSolution()
    xv = np.asarray(sol.col_value)
    duals = _duals(am, np.asarray(sol.row_dual), np.asarray(sol.row_value))
    y = np.clip(xv[: lay.n], 0.0, 1.0)
    res = AllocationResult(status, allocation_table(inp, lay, xv), float(inp.benefit() @ y),
                           y=y, duals=duals, objective=objective, stages=stages)
    res.min_per_capita = min_per_capita(inp, y)
    return res


def min_per_capita(inp: AllocationInputs, y: np.ndarray) -> float:
    """Smallest per-capita benefit over provinces that have candidate projects (THB per head)."""
    pb = inp.share().T @ (inp.benefit() * y)
    has = np.asarray(inp.share().sum(axis=0)).ravel() > 0
    return float((pb * inp.per_head())[has].min()) if has.any() else 0.0


def allocation_table(inp: AllocationInputs, lay: Layout, xv: np.ndarray) -> pd.DataFrame:
    """Money by province × strategy × source and cluster × strategy (M THB); money allocated but
    not spent on any candidate (forced by a floor) is the strategy ``unassigned``."""
    y = np.clip(xv[: lay.n], 0.0, 1.0)
    share = inp.share()
    rows = []
    strat = inp.strategy
    for r, src in enumerate(lay.sources):
        k = inp.data.resources.index(src)
        spend = inp.data.cost[:, k].toarray().ravel() * y
        m = sp.diags(spend) @ share  # (n, I)
        coo = m.tocoo()
        df = pd.DataFrame({"i": coo.col, "s": strat[coo.row], "v": coo.data})
        for (i, s), v in df.groupby(["i", "s"])["v"].sum().items():
            if v > 1e-9:
                rows.append(("province", inp.provinces[i], s, src, float(v)))
        for i in range(lay.n_prov):
            u = float(xv[lay.u(i, r)])
            if u > 1e-9:
                rows.append(("province", inp.provinces[i], "unassigned", src, u))
    if CLUSTER_SOURCE in inp.data.resources:
        k = inp.data.resources.index(CLUSTER_SOURCE)
        spend = inp.data.cost[:, k].toarray().ravel() * y
        has = (inp.project_cluster >= 0) & (spend > 1e-9)
        df = pd.DataFrame({"k": inp.project_cluster[has], "s": strat[has], "v": spend[has]})
        for (k2, s), v in df.groupby(["k", "s"])["v"].sum().items():
            rows.append(("cluster", inp.clusters[k2], s, CLUSTER_SOURCE, float(v)))
    t = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return t.sort_values(["level", "area", "source", "strategy"], ignore_index=True)


def _duals(am: AllocationModel, row_dual: np.ndarray, row_value: np.ndarray) -> pd.DataFrame:
    """Shadow prices of the money rules: benefit gained per one more million THB of the limit
    (HiGHS's row duals of the maximisation; positive where a ceiling binds, negative for a floor,
    which costs benefit)."""
    inp, lay = am.inp, am.layout
    out = []
    for name in MONEY_RULES:
        fam = am.families.get(name)
        if fam is None:
            continue
        off = am.offsets[name]
        for r in range(fam.size):
            d = float(row_dual[off + r])
            act = float(row_value[off + r])
            area, source = _dual_labels(inp, lay, name, r)
            tight = abs(act - fam.rhs[r]) <= 1e-7 * max(1.0, abs(fam.rhs[r]))
            out.append({"rule": name, "area": area, "source": source, "limit_mthb": float(fam.rhs[r]),
                        "used_mthb": act, "binding": bool(tight),
                        "benefit_per_extra_mthb": d if abs(d) > 1e-12 else 0.0})
    return pd.DataFrame(out, columns=["rule", "area", "source", "limit_mthb", "used_mthb", "binding",
                                      "benefit_per_extra_mthb"])


def _dual_labels(inp: AllocationInputs, lay: Layout, name: str, r: int) -> tuple[str, str]:
    if name == "envelope":
        return "national", lay.sources[r]
    if name == "cluster_envelope":
        return "national", CLUSTER_SOURCE
    if name == "ceiling":
        k, i = divmod(r, lay.n_prov)  # rows run source by source, province by province
        return inp.provinces[i], lay.sources[k]
    return inp.provinces[r], "all"


def allocation_iis(am: AllocationModel, options: SolveOptions) -> list[tuple[str, int]]:
    """Rows (family, row) of an irreducible infeasible subset of rule rows: HiGHS's IIS
    (``diagnose.lp_iis``); if HiGHS cannot prove it irreducible, a deletion filter drops every row
    whose removal keeps the rest infeasible. Column bounds (y ∈ [0, 1], u ≥ 0) are structural."""
    import highspy

    from allocsim.optimise.diagnose import lp_iis

    found = lp_iis(_highs(am, options), time_limit_s=options.time_limit_s)
    n_rows = am.A.shape[0]
    keep = sorted(int(r) for r in found.rows) or list(range(n_rows))
    if not found.irreducible:
        def infeasible(rows: list[int]) -> bool:
            g = _highs(am, options)
            off = np.setdiff1d(np.arange(n_rows), rows).astype(np.int32)
            if len(off):
                g.changeRowsBounds(len(off), off, np.full(len(off), -np.inf), np.full(len(off), np.inf))
            g.run()
            return g.getModelStatus() == highspy.HighsModelStatus.kInfeasible

        if not infeasible(keep):
            keep = list(range(n_rows))
        for r in list(keep):
            trial = [k for k in keep if k != r]
            if infeasible(trial):
                keep = trial
    starts = sorted(am.offsets.items(), key=lambda kv: kv[1])
    out = []
    for row in keep:
        name = [n for n, off in starts if off <= row][-1]
        out.append((name, row - am.offsets[name]))
    return out


def explain_allocation(am: AllocationModel, options: SolveOptions) -> list[str]:
    """Every rule row in an irreducible infeasible subset, in policy words."""
    out = [am.families[name].describe(r, _shortfall(am, am.families[name], r))
           for name, r in allocation_iis(am, options)]
    return out or ["the allocation rules cannot all hold (HiGHS found no irreducible subset)"]


def _shortfall(am: AllocationModel, fam: RuleRows, r: int) -> float:
    """How far a row in the IIS is from its best reachable value with y ∈ [0,1], u ≥ 0 (for words)."""
    row = fam.A.getrow(r).toarray().ravel()[: am.layout.n]
    if fam.sense == ">=" and not (fam.A.getrow(r).toarray().ravel()[am.layout.n:] > 0).any():
        return max(fam.rhs[r] - float(np.clip(row, 0.0, None).sum()), 0.0)
    return 0.0


def formula_quota(inp: AllocationInputs, weights: np.ndarray,
                  cluster_shares: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(I, R) province quotas and (K,) cluster quotas. Like a real formula allocation, each
    province first gets its per-capita floor (split over sources in proportion to their envelopes)
    and the rest of every envelope is split by ``weights``; clusters get the cluster envelope split
    by the sum of their members' weights. With ``cluster_shares`` (the measured ``actual`` rule)
    the shares are applied as they are — no floor first — and clusters get those shares."""
    w = np.asarray(weights, float)
    w = w / w.sum() if w.sum() > 0 else w
    env = np.array([inp.envelope(r) for r in inp.sources])
    if cluster_shares is not None:
        return np.outer(w, env), np.asarray(cluster_shares, float) * inp.config.cluster_envelope_mthb
    mix = env / env.sum() if env.sum() > 0 else env
    base = np.outer(inp.floor_mthb, mix)  # (I, R)
    rest = np.maximum(env - base.sum(axis=0), 0.0)
    q = base + np.outer(w, rest)
    qc = np.bincount(inp.cluster_of, weights=w, minlength=len(inp.clusters)) * inp.config.cluster_envelope_mthb
    return q, qc


def evaluate_rules(inp: AllocationInputs, options: SolveOptions, weights: dict[str, np.ndarray],
                   optimum: AllocationResult, exact: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Benefit of each formula allocation (money split by weights; each area then funds its best
    projects under the same rules) against the LP optimum. The formula LP is the optimum's LP plus
    quota rows, so it can never exceed the optimum: a share above 1 would be a bug. ``exact`` maps
    a measured rule to its real cluster shares: its province shares are applied without a floor
    first and its clusters get those shares."""
    rows = [{"rule": "optimal", "status": optimum.status.status, "total_benefit": optimum.total_benefit,
             "money_mthb": float(optimum.table["amount_mthb"].sum()) if len(optimum.table) else 0.0,
             "min_per_capita_benefit": optimum.min_per_capita}]
    for name, w in weights.items():
        q, qc = formula_quota(inp, w, (exact or {}).get(name))
        r = solve_allocation(inp, options, quota_mthb=q, cluster_quota_mthb=qc)
        rows.append({"rule": name, "status": r.status.status, "total_benefit": r.total_benefit,
                     "money_mthb": float(r.table["amount_mthb"].sum()) if len(r.table) else 0.0,
                     "min_per_capita_benefit": r.min_per_capita,
                     "conflict": "; ".join(r.conflicts)})
    t = pd.DataFrame(rows)
    best = optimum.total_benefit or np.nan
    t["share_of_optimum"] = t["total_benefit"] / best
    t["reference_status"] = optimum.status.status
    t["reference_gap"] = optimum.status.gap
    return t
