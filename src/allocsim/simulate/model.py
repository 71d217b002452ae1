"""The budget-cycle model: one step is one week of a Thai fiscal year.

``BudgetModel.step`` tells the story of a week; each stage lives in its own module under
``stages/`` and asks the agents that own a decision (``agents.py``) to take it through Mesa's
``AgentSet`` (``model.agents_by_type[Province].do("screen_and_fund", ...)``):

1. On day 0 (Budget Act) the year opens (``stages/proposals.py``): commitments carried over, the
   world plans the year (``world.py``: proposals conditioned on citizens' needs, the allocation
   rule's baht per holder, under the optimal rule the portfolio MILP's selection), ministries
   notify the governors and provinces schedule their action plans.
2. Provinces whose action plan is due this week screen and fund proposals (``stages/funding.py``).
3. Projects start, pay and need changes (``stages/execution.py``, vectorised over the book);
   requests queue at ก.บ.จ. (delegated) or at ก.บ.จ. then the Budget Bureau (``stages/requests.py``).
4. Six-monthly reports escalate what provinces cannot solve (``stages/requests.py``).
5. On the last week the year closes (``stages/ledger.py``): the ledger must balance to the baht,
   unspent money lapses or carries over, delivered services relieve citizens' needs.

Projects (``book.py``) and citizens (``citizens.py``) are numpy arrays, never one agent each.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from allocsim.data.budget import load_local_governments
from allocsim.data.catalogue import MINISTRIES
from allocsim.data.geography import load_geography
from allocsim.data.projects import ProjectTable
from allocsim.data.scores import plan_scores
from allocsim.data.strategies import strategy_ids
from allocsim.scenario.levers import LEVER_KEYWORDS, lever_sections
from allocsim.scenario.schema import Scenario
from allocsim.simulate import book as B
from allocsim.simulate.agents import BudgetBureau, Cluster, LocalGovernment, Ministry, Province
from allocsim.simulate.calendar import YEAR_DAYS, FiscalCalendar
from allocsim.simulate.citizens import Citizens
from allocsim.simulate.draws import PROCESSES, PROJECT_DRAWS, project_uniforms, stable_key
from allocsim.simulate.levers import province_levers
from allocsim.simulate.local_governments import build_local_governments, count_matrix
from allocsim.simulate.metrics import Recorder
from allocsim.simulate.stages import allocation, execution, funding, ledger, proposals, requests
from allocsim.simulate.stages.ledger import InvariantError
from allocsim.simulate.world import World, YearPlan, reconcile, sim_allocation, world_tables

__all__ = ["PROCESSES", "PROJECT_DRAWS", "BudgetModel", "InvariantError", "check_invariants",
           "project_uniforms", "stable_key"]


def check_invariants(model: BudgetModel) -> None:
    """Plausibility checks run at the end of every simulation (conservation is checked every year
    end): each names the invariant it guards."""
    bk = model.book
    checks = {
        "no project disburses more than it was allocated": bool((bk["disb"] <= bk["alloc"]).all()),
        "no negative money in the project book": bool((bk["alloc"] >= 0).all() and (bk["disb"] >= 0).all()),
        "only funded projects disburse": bool((bk["disb"][np.isin(bk["state"], (B.PROPOSED, B.REJECTED_DUPLICATE,
                                                                             B.REJECTED_RULE, B.UNFUNDED))] == 0).all()),
        "needs stay within [0, 1]": bool((model.citizens.need >= 0).all() and (model.citizens.need <= 1).all()),
        "satisfaction stays within [0, 1]": bool((model.citizens.satisfaction >= 0).all()
                                                 and (model.citizens.satisfaction <= 1).all()),
        "first payments never precede the Budget Act": bool(np.all(np.nan_to_num(bk["first_disb"] - bk["year"] * YEAR_DAYS, nan=0.0) >= 0)),
    }
    for name, ok in checks.items():
        if not ok:
            raise InvariantError(f"plausibility check failed: {name}")


def ministry_attributes(sc: Scenario, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Each ministry's budget weight, construction bias, plan compliance and notification
    throughput (`003` §5.2.12, §5.3.6), drawn once from the scenario's means and spreads
    (illustrative) on the ministries' own stream; ``simulation.ministries`` gives any of them
    per ministry instead (the draws happen anyway, so one override leaves the others unchanged)."""
    sim, n = sc.simulation, len(MINISTRIES)
    weight = np.exp(sim.ministry_weight_sigma * rng.standard_normal(n))
    bias = np.maximum(sim.ministry_ranking_bias + sim.ministry_bias_spread * rng.standard_normal(n), 0.0)
    comp = np.clip(sc.catalogue.ministry_plan_compliance
                   + sim.ministry_compliance_spread * rng.standard_normal(n), 0.0, 1.0)
    speed = sim.ministry_notify_per_day * np.exp(sim.ministry_throughput_spread * rng.standard_normal(n))
    out = {}
    for k, name in enumerate(MINISTRIES):
        drawn = {"budget_weight": float(weight[k] / weight.sum()), "construction_bias": float(bias[k]),
                 "compliance": float(comp[k]), "notify_per_day": float(speed[k])}
        out[name] = drawn | sim.ministries.get(name, {})
    return out


class BudgetModel(mesa.Model):
    """Mesa model of the area-based budget cycle. Keyword parameters (all optional) override the
    scenario's levers, so Mesa's ``batch_run`` and SolaraViz can drive it directly.

    Researchers change a behaviour without editing allocsim by subclassing an agent and naming it
    in a model subclass: ``class MyModel(BudgetModel): province_class = MyProvince``.
    """

    ministry_class = Ministry
    province_class = Province
    cluster_class = Cluster
    local_government_class = LocalGovernment
    bureau_class = BudgetBureau

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None, *,
                 years: int | None = None, citizens_per_province: int | None = None,
                 allocation_weights: np.ndarray | None = None, projects: ProjectTable | None = None,
                 **levers: object) -> None:
        sc = scenario or Scenario(name="default")
        unknown = set(levers) - set(LEVER_KEYWORDS)
        if unknown:
            raise TypeError(f"unknown BudgetModel parameter(s): {', '.join(sorted(unknown))}")
        upd = {k: v for k, v in levers.items() if v is not None}
        sim_upd = {k: v for k, v in (("years", years), ("citizens_per_province", citizens_per_province)) if v is not None}
        if upd or sim_upd:
            sc2 = sc.model_copy(update={**lever_sections(sc, upd),  # validated, by section
                                        "simulation": sc.simulation.model_copy(update=sim_upd)})
            sc2._source, sc2._chain = sc._source, sc._chain
            sc = sc2
        seed = sc.seed if seed is None else seed
        super().__init__(rng=np.random.default_rng(seed))
        self.scenario, self.seed = sc, seed
        self.streams = {name: np.random.default_rng(s) for name, s in
                        zip(PROCESSES, np.random.SeedSequence(seed).spawn(len(PROCESSES)), strict=True)}
        self.calendar = FiscalCalendar(sc.first_fiscal_year, sc.simulation.step_days)
        self.t = 0
        self.horizon = sc.simulation.years * self.calendar.steps_per_year

        cmap = sc.geography.cluster_map
        geo = load_geography(cmap if cmap in ("2017", "2009") else sc.resolve_path(cmap))
        prov = geo.provinces[geo.provinces["cluster_id"] != ""].reset_index(drop=True)
        self.iso = prov["iso_code"].tolist()
        self.names = prov["name_en"].tolist()
        self.population = prov["population"].to_numpy(float)
        self.cluster_ids = geo.clusters["cluster_id"].tolist()
        self.cluster_of = np.array([self.cluster_ids.index(c) for c in prov["cluster_id"]])
        self.n_provinces, self.n_clusters = len(self.iso), len(self.cluster_ids)
        self.n_sources = len(B.CHANNELS) - 1  # provincial holders: one per (source, province)
        self.n_holders = self.n_sources * self.n_provinces + self.n_clusters
        self.holder_names = [f"{iso}:{src}" for src in B.SOURCES for iso in self.iso] + \
            [f"cluster:{c}" for c in self.cluster_ids]
        self.strategies = strategy_ids()
        self.levers = province_levers(sc, self.iso)
        self.allocation_weights = allocation_weights

        self.ministries = [self.ministry_class(self, n, **attrs)
                           for n, attrs in ministry_attributes(sc, self.streams["ministries"]).items()]
        self.ministry_bias = np.array([mn.ranking_bias for mn in self.ministries], float)
        self.ministry_notify = np.zeros(len(self.ministries))  # each ministry's notification day
        self.provinces = [self.province_class(self, i, self.iso[i], self.names[i], int(self.cluster_of[i]))
                          for i in range(self.n_provinces)]
        self.clusters = []
        for k, cid in enumerate(self.cluster_ids):
            members = [i for i in range(self.n_provinces) if self.cluster_of[i] == k]
            self.clusters.append(self.cluster_class(self, k, cid, members))
        # real counts by type per province (BMA not simulated: Bangkok is no simulated province);
        # per-body capacities come from a child stream, leaving self.rng's draws unchanged
        self.lg_counts = count_matrix(load_local_governments(), self.iso)
        per_body = sc.simulation.local_government_agents == "per_body"
        self.lg = build_local_governments(self.lg_counts, sc.simulation,
                                          self.rng.spawn(1)[0] if per_body else None)
        self.world = World(self, geo, projects, self.streams["proposals"])
        self.plans: list[YearPlan] = []
        self.project_ids: list[str] = []
        self.local_governments = [self.local_government_class(self, k) for k in range(len(self.lg))]
        self.bureau = self.bureau_class(self, self.n_clusters)

        participation = np.full(self.n_provinces, sc.levers.participation)
        sim = sc.simulation
        if sim.plan_size > len(self.strategies):
            raise ValueError(f"simulation.plan_size = {sim.plan_size}: a plan can target at most the "
                             f"{len(self.strategies)} strategies")
        self.citizens = Citizens(self.population, sim.citizens_per_province,
                                 len(self.strategies), participation, self.streams["citizens"],
                                 need_beta=(sim.need_beta_a, sim.need_beta_b),
                                 satisfaction=sim.satisfaction_initial)
        # illustrative; the one function (and seed) the optimiser's plan scores come from
        self.plan_score = plan_scores(self.iso, seed, sc.allocation.plan_score_range)
        self.plan_score_history = [self.plan_score.copy()]  # the scores in force each year
        self.multi_channel_history = [self.multi_channel_propensity()]  # learned each year
        self.plan = np.zeros((self.n_provinces, sim.plan_size), dtype=int)
        self.plan_achievement = np.zeros(self.n_provinces)
        self.book = B.Book()
        self.money_rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.central_pending: list[tuple[float, int, float]] = []
        self.recorder = Recorder(self)
        self.budget_new = np.zeros(self.n_holders, np.int64)
        self.budget_left = np.zeros_like(self.budget_new)
        self.carry_in = np.zeros_like(self.budget_new)
        self.released = np.zeros_like(self.budget_new)
        self.cofund_left = np.zeros(self.n_provinces)
        self.decisions = 0  # funding decisions so far (book column ``decided_seq``)
        self.unallocated_thb = 0
        self.datacollector = mesa.DataCollector(model_reporters={
            "disbursed_mthb": lambda m: m.recorder.total("disbursed") / 1e6,
            "duplicates_approved": lambda m: m.recorder.total("duplicates_approved"),
            "mean_days_to_disbursement": lambda m: m.recorder.national_mean_days(),
            "unmet_need": lambda m: float(np.average(m.citizens.unmet_need(), weights=m.population)),
            "satisfaction": lambda m: float(np.average(m.citizens.mean_satisfaction(), weights=m.population)),
        })

    # --- helpers ------------------------------------------------------------------------------
    def holder(self, j: int) -> int:
        """Budget holder of project j: its province, or its cluster's pot for cluster projects."""
        return int(self.holders(np.array([j]))[0])

    def holders(self, rows: np.ndarray) -> np.ndarray:
        bk = self.book
        ch = bk["channel"][rows].astype(np.int64)
        return np.where(ch == B.CHANNELS.index("cluster"),
                        self.n_sources * self.n_provinces + bk["cluster"][rows].astype(np.int64),
                        ch * self.n_provinces + bk["province"][rows].astype(np.int64))

    def by_province(self, holder_values: np.ndarray) -> np.ndarray:
        """Provincial holders' values summed over their sources (cluster pots excluded)."""
        n = self.n_provinces
        return np.asarray(holder_values)[: self.n_sources * n].reshape(self.n_sources, n).sum(axis=0)

    def participation_rate(self) -> np.ndarray:
        """Share of each province's citizens who take part in planning."""
        return np.bincount(self.citizens.province, weights=self.citizens.participates,
                           minlength=self.n_provinces) / self.citizens.per_province

    def multi_channel_propensity(self) -> np.ndarray:
        """Each province's learned multi-channel propensity (``Province.adapt_submission``)."""
        return np.array([p.multi_channel for p in self.provinces], float)

    def local_cofunding_thb(self) -> np.ndarray:
        """Each province's local co-funding on offer this year: the sum over its local-government
        agents, vectorised (the same in both modes). A subclass that overrides
        ``cofunding_capacity_thb`` is honoured by summing agent by agent."""
        if self.local_government_class.cofunding_capacity_thb is not LocalGovernment.cofunding_capacity_thb:
            out = np.zeros(self.n_provinces)
            for lg in self.local_governments:
                out[lg.province] += lg.cofunding_capacity_thb()
            return out
        return self.lg.province_capacity_mthb(self.n_provinces) * 1e6 * self.levers.matching_uptake

    @property
    def year(self) -> int:
        return self.calendar.year_index(self.t)

    # --- a week -------------------------------------------------------------------------------
    def step(self) -> None:
        """One week: the year opens on its first week; provinces whose plan is due screen and
        fund; projects execute and raise requests; reports escalate; the year closes."""
        if self.t >= self.horizon:
            self.running = False
            return
        if self.calendar.is_year_start(self.t):
            self.start_year()
        lo, hi = self.calendar.step_window(self.t)
        d0, d1 = self.year * YEAR_DAYS + lo, self.year * YEAR_DAYS + hi
        self.plan_and_fund(d0, d1)
        self.execute(d0, d1)
        requests.reports(self, lo, hi)
        if self.calendar.is_year_end(self.t):
            self.close_year(self.year * YEAR_DAYS + YEAR_DAYS)
        self.recorder.record_step(self.t, d1)
        self.datacollector.collect(self)
        self.t += 1
        if self.t >= self.horizon:
            self.running = False
            check_invariants(self)
            reconcile(self)

    def start_year(self) -> None:
        """Day 0: the year's plan, proposals and action-plan schedule (``stages/proposals.py``)."""
        proposals.open_year(self)

    def plan_and_fund(self, d0: float, d1: float) -> None:
        """Provinces whose action plan is final in [d0, d1) screen and fund (``stages/funding.py``)."""
        funding.plan_and_fund(self, d0, d1)

    def execute(self, d0: float, d1: float) -> None:
        """Works start, decisions end holds, money is paid, new requests queue."""
        ledger.expire_carryover(self, d1)  # contract carry-over past its deadline lapses
        execution.start_works(self, d1)
        execution.apply_decisions(self, d1)
        execution.disburse(self, d0, d1)
        requests.submit_requests(self, execution.new_requests(self), d0, d1)

    def close_year(self, year_end: float) -> None:
        """Lapse, carry-over, conservation and citizens' outcomes (``stages/ledger.py``)."""
        ledger.close_year(self, year_end)

    # --- read by world.py and the recorder ---------------------------------------------------------
    def rule_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(province, cluster) weights of the formula allocation rule (``stages/allocation.py``)."""
        return allocation.rule_weights(self)

    def envelopes_thb(self) -> np.ndarray:
        return ledger.envelopes_thb(self)

    def unallocated(self, fy: int) -> int:
        return ledger.unallocated(self, fy)

    def _approved_duplicate(self, rows: np.ndarray) -> np.ndarray:
        return execution.approved_duplicate(self.book, rows)

    # --- outputs ------------------------------------------------------------------------------
    def run(self) -> None:
        while self.running:
            self.step()

    def tables(self) -> dict[str, pd.DataFrame]:
        return self.recorder.tables() | world_tables(self) | {"sim_allocation": sim_allocation(self)}
