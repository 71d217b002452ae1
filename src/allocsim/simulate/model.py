"""The budget-cycle model: one step is one week of a Thai fiscal year.

The story of a step (``BudgetModel.step``):
1. On day 0 (Budget Act) a new year starts (``world.py``): commitments carried over, agents
   propose projects with the catalogue generator conditioned on citizens' needs (some through
   several channels), the allocation rule sets each holder's baht — (province, source) and
   cluster pot — and, under the optimal rule, the portfolio MILP selects; ministries notify
   governors and provinces schedule their action plans.
2. Provinces whose action plan is due this week screen proposals (gateway, data sharing) and fund
   them within their budget and local co-funding; funded projects queue for procurement.
3. Projects execute and disburse; changes and duplicate discoveries raise requests that queue at
   ก.บ.จ. (delegated) or at ก.บ.จ. then the Budget Bureau (centralised); disbursement waits.
4. Six-monthly reports escalate what provinces cannot solve.
5. On the last week the year closes: the ledger must balance to the baht, unspent money lapses or
   carries over, delivered services relieve citizens' needs and move their satisfaction.
"""

from __future__ import annotations

import hashlib

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
from allocsim.simulate.levers import province_levers
from allocsim.simulate.local_governments import build_local_governments, count_matrix
from allocsim.simulate.metrics import Recorder
from allocsim.simulate.world import PLAN_CHANNELS, World, YearPlan, reconcile, to_thb, world_tables

#: One random stream per process, spawned from the run's seed (append only): a lever that touches
#: one process leaves the other processes' draws unchanged (common random numbers).
PROCESSES = ("proposals", "screening", "procurement", "execution", "changes",
             "duplicate_discovery", "citizens", "approvals", "planning")


#: Per-project draws (append only), one word each of a project's own seed sequence.
PROJECT_DRAWS = ("screening", "procurement", "execution", "changes", "duplicate_discovery", "approvals",
                 "planning")


def stable_key(text: str) -> int:
    """A 64-bit key of a string that is the same in every process and Python run (``hash`` is
    salted per process, so it cannot key random streams)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def project_uniforms(seed: int, ids: list[str], fiscal_year: int, processes: tuple[str, ...],
                     extra: tuple[int, ...] = ()) -> np.ndarray:
    """Uniforms in [0, 1), one row per project, one column per process: each from a
    ``numpy.random.SeedSequence`` keyed by the run's seed, the project's id and the fiscal year
    (and ``extra``, e.g. a redraw counter), so a project's draws never depend on which other
    projects exist or in what order they were booked."""
    out = np.empty((len(ids), len(processes)))
    for k, pid in enumerate(ids):
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(stable_key(pid), fiscal_year, *extra))
        out[k] = (ss.generate_state(len(processes), np.uint64) >> np.uint64(11)) * 2.0 ** -53
    return out


class InvariantError(RuntimeError):
    """A conservation or plausibility invariant failed: the model is wrong, stop."""


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

        cat = sc.catalogue
        self.ministries = [self.ministry_class(self, n, cat.construction_share_ministry, cat.ministry_plan_compliance)
                           for n in MINISTRIES]
        self.ministry_bias = np.full(len(MINISTRIES), 0.5)  # illustrative construction push in ranking
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
        self.citizens = Citizens(self.population, sc.simulation.citizens_per_province,
                                 len(self.strategies), participation, self.streams["citizens"])
        # illustrative; the one function (and seed) the optimiser's plan scores come from
        self.plan_score = plan_scores(self.iso, seed, sc.allocation.plan_score_range)
        self.plan = np.zeros((self.n_provinces, 3), dtype=int)
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

    # --- the year -----------------------------------------------------------------------------
    def _book_rows(self, plan: YearPlan, y: int) -> np.ndarray:
        """Append the year's candidate table to the book: the same ids, baht and benefit the
        optimiser read (money at the rounding rule of ``world.py``)."""
        from allocsim.data.projects import COST_PREFIX

        p = plan.table.projects
        m = len(p)
        ch = np.array([B.CHANNELS.index(c) if c in B.CHANNELS else 0 for c in p["channel"]], np.int64)
        src = [B.SOURCES[c] if c < self.n_sources else "cluster_budget" for c in ch]
        costs = {s: p[COST_PREFIX + s].to_numpy(float) if COST_PREFIX + s in p else np.zeros(m)
                 for s in set(src)}
        cost = np.array([costs[s][k] for k, s in enumerate(src)])
        pidx = {c: i for i, c in enumerate(self.iso)}
        cidx = {c: k for k, c in enumerate(self.cluster_ids)}
        sidx = {s: k for k, s in enumerate(self.strategies)}
        prov = np.array([pidx.get(c, -1) for c in p["province"]], np.int64)  # a year may be empty
        if (prov < 0).any():
            bad = p["project_id"][prov < 0].iloc[0]
            raise ValueError(f"project {bad}: province {p['province'][prov < 0].iloc[0]!r} is not simulated "
                             f"(valid: the {self.n_provinces} provinces of a cluster)")
        clu = np.array([cidx.get(c, -1) for c in p["cluster"]], np.int64)
        clu = np.where(clu >= 0, clu, self.cluster_of[prov])
        strat = np.array([sidx.get(s, 0) for s in p["strategy"]], np.int64)
        mnames = {mn.name: k for k, mn in enumerate(self.ministries)}
        ministry = np.array([mnames.get(a, -1) for a in p["agency"]], np.int64) if "agency" in p else np.full(m, -1)
        ministry = np.where(ch == B.CHANNELS.index("ministry"), np.maximum(ministry, 0), -1)
        groups = p["duplicate_group"].fillna("").astype(str).to_numpy()
        gid = np.full(m, -1, np.int64)
        copy = np.zeros(m, bool)
        has = groups != ""
        if has.any():
            codes = pd.factorize(groups[has])[0]
            base = int(self.book["group"].max(initial=-1)) + 1
            gid[has] = base + codes
            seen: set[int] = set()
            # the first proposal of an idea is the original; when the optimiser's selection is
            # executed, only selected proposals count: an unselected original makes no copy of
            # the one the optimiser chose (it is a copy only if another member is selected too)
            cand = has if plan.selected is None else has & plan.selected
            for k in np.flatnonzero(cand):
                copy[k] = gid[k] in seen
                seen.add(int(gid[k]))
        share = p["min_local_share"].to_numpy(float)
        cols = {"year": np.full(m, y), "province": prov, "cluster": clu, "strategy": strat,
                "channel": ch, "ministry": ministry, "cost": to_thb(cost),
                "potential": p["benefit"].to_numpy(float) * 1e6,
                "construction": p["construction"].to_numpy(bool), "problem": p["problem"].to_numpy(bool) if "problem" in p else np.ones(m, bool),
                "aligned": p["aligned"].to_numpy(bool), "group": gid, "copy": copy,
                "years": p["tranches"].to_numpy(int) if "tranches" in p else np.ones(m, int),
                "cofund_share": np.divide(share, 1 - share, out=np.zeros(m), where=share < 1),
                "committed": p["committed"].to_numpy(bool) if "committed" in p else np.zeros(m, bool),
                "selected": np.zeros(m, bool) if plan.selected is None else plan.selected,
                "state": np.full(m, B.PROPOSED)}
        # per-project random numbers keyed by (project id, fiscal year), one word per process: one
        # project more or less (a continuation tranche, a rejected copy) leaves every other
        # project's draws unchanged (common random numbers in every year, not only the first)
        ids = p["project_id"].astype(str).tolist()
        u = project_uniforms(self.seed, ids, self.scenario.first_fiscal_year + y, PROJECT_DRAWS)
        ex = -np.log1p(-u)  # unit exponentials by inversion
        cols |= {"u_screen": u[:, 0], "e_proc": ex[:, 1], "u_weeks": u[:, 2], "e_change": ex[:, 3],
                 "e_dup": ex[:, 4], "u_request": u[:, 5], "u_plan": u[:, 6], "n_change": np.zeros(m, np.int64)}
        self.project_ids.extend(ids)
        return self.book.append(cols)

    def rule_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(province, cluster) weights of a formula allocation rule: plan scores, citizens' unmet
        need, population, or the real (``actual``) / fitted shares."""
        if self.levers.allocation_rule == "incremental":
            return self._incremental()
        if self.levers.allocation_rule in ("actual", "fitted"):
            cw = self._real_weights()[1]
        else:
            cpop = np.bincount(self.cluster_of, weights=self.population, minlength=self.n_clusters)
            cw = cpop / cpop.sum()
        return self._weights(), cw

    def _weights(self) -> np.ndarray:
        rule = self.levers.allocation_rule
        if rule == "optimal" and self.allocation_weights is not None:
            w = np.asarray(self.allocation_weights, float)
        elif rule == "plan_score":
            w = self.population * self.plan_score
        elif rule in ("need", "optimal"):  # optimal without optimiser weights: need is its proxy
            w = self.population * self.citizens.unmet_need()
        elif rule in ("actual", "fitted"):  # measured: the budget bills' shares or the fitted formula
            w = self._real_weights()[0]
        elif rule == "incremental":
            w = self._incremental()[0]
        else:
            w = self.population.copy()
        return w / w.sum()

    def _incremental(self) -> tuple[np.ndarray, np.ndarray]:
        """(province, cluster) shares of the ``incremental`` rule: last year's money of each
        holder less ``allocation.lapse_clawback`` × what it lapsed (money follows use), scaled to
        this year's envelopes; the first year starts from the real shares of ``actual_year``."""
        if not self.recorder.ledger_rows:
            from allocsim.data.formula import actual_cluster_shares, actual_shares

            cfg = self.scenario.allocation
            clu = actual_cluster_shares(cfg.actual_year, self.cluster_ids)
            if np.isnan(clu).any():
                cpop = np.bincount(self.cluster_of, weights=self.population, minlength=self.n_clusters)
                clu = cpop / cpop.sum()
            return actual_shares(cfg.actual_year, self.iso), clu
        led = self.recorder.ledger_rows[-1]
        keep = np.maximum(led["money_thb"].to_numpy(float)
                          - self.scenario.allocation.lapse_clawback * led["lapsed_thb"].to_numpy(float), 0.0)
        n, k = self.n_provinces, self.n_sources * self.n_provinces
        prov, clu = keep[:k].reshape(self.n_sources, n).sum(axis=0), keep[k:]
        return (prov / prov.sum() if prov.sum() > 0 else np.full(n, 1 / n),
                clu / clu.sum() if clu.sum() > 0 else np.full(len(clu), 1 / max(len(clu), 1)))

    def _real_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(province, cluster) shares of the ``actual`` or ``fitted`` rule, computed once. Clusters
        take the year's real cluster shares where the cluster map is the budget bill's, else
        population shares."""
        if getattr(self, "_real", None) is None:
            from allocsim.data.formula import actual_cluster_shares, actual_shares, fitted_shares

            cfg = self.scenario.allocation
            prov = (actual_shares(cfg.actual_year, self.iso) if self.levers.allocation_rule == "actual"
                    else fitted_shares(self.iso, cfg.fit_year))
            clu = actual_cluster_shares(cfg.actual_year, self.cluster_ids)
            if np.isnan(clu).any() or self.levers.allocation_rule != "actual":
                cpop = np.bincount(self.cluster_of, weights=self.population, minlength=self.n_clusters)
                clu = cpop / cpop.sum()
            self._real = (prov, clu)
        return self._real

    def start_year(self) -> None:
        y, bk, sc = self.year, self.book, self.scenario
        active = np.flatnonzero(np.isin(bk["state"], B.ACTIVE))
        self.carry_in[:] = np.bincount(self.holders(active), weights=bk.remaining()[active],
                                       minlength=len(self.carry_in)).astype(np.int64)
        bk["disb_year"][:] = 0
        self.released[:] = 0
        first_new = len(bk)
        # the plan: each province's 3 most voiced needs (plan achievement is measured against it)
        self.plan = np.argsort(-self.citizens.voiced_need(), axis=1)[:, :3]
        for p in self.provinces:
            p.new_year(float(y * YEAR_DAYS))
        self.bureau.new_year(float(y * YEAR_DAYS))
        self.central_pending = [x for x in self.central_pending if bk["state"][x[1]] in B.ACTIVE]
        plan = self.world.plan_year(y)
        self.plans.append(plan)
        self._book_rows(plan, y)
        new = np.arange(first_new, len(bk))
        self.budget_new[:] = plan.money_thb
        self.budget_left[:] = self.budget_new
        # committed tranches (multi-year reform) are funded first: their money is set aside now
        com = new[bk["committed"][new]]
        self.budget_left -= np.bincount(self.holders(com), weights=bk["cost"][com],
                                        minlength=self.n_holders).astype(np.int64)
        self.cofund_left[:] = self.local_cofunding_thb()
        # timing: ministries notify (their throughput), provinces plan within the deadline
        sim = sc.simulation
        notify = max(mn.notify_day() for mn in self.ministries)
        y0 = y * YEAR_DAYS
        counts = np.bincount(bk["province"][new], minlength=self.n_provinces)
        for p in self.provinces:
            rows = new[bk["province"][new] == p.index]
            work = p.planning_days(int(counts[p.index]))
            day = notify + min(work, sim.plan_deadline_days)
            bk["plan_day"][rows] = y0 + day
            if work > sim.plan_deadline_days and len(rows):  # the deadline cuts the plan short
                late = bk["u_plan"][rows] < 1 - sim.plan_deadline_days / work
                bk["plan_day"][rows[late]] = y0 + day + sim.resubmission_days
        self.recorder.start_year(y, notify)

    # --- a week -------------------------------------------------------------------------------
    def step(self) -> None:
        if self.t >= self.horizon:
            self.running = False
            return
        if self.calendar.is_year_start(self.t):
            self.start_year()
        y0 = self.year * YEAR_DAYS
        lo, hi = self.calendar.step_window(self.t)
        d0, d1 = y0 + lo, y0 + hi
        self._plan_and_fund(d0, d1)
        self._execute(d0, d1)
        for rd in range(self.scenario.simulation.report_every_days, YEAR_DAYS + 1,
                        self.scenario.simulation.report_every_days):
            if lo <= rd - 1 < hi:
                self._report(y0 + rd - 1)
        if self.calendar.is_year_end(self.t):
            self.close_year(y0 + YEAR_DAYS)
        self.recorder.record_step(self.t, d1)
        self.datacollector.collect(self)
        self.t += 1
        if self.t >= self.horizon:
            self.running = False
            check_invariants(self)
            reconcile(self)

    def _plan_and_fund(self, d0: float, d1: float) -> None:
        bk = self.book
        due = np.flatnonzero((bk["state"] == B.PROPOSED) & (bk["plan_day"] >= d0) & (bk["plan_day"] < d1))
        if len(due) == 0:
            return
        for day in np.unique(bk["plan_day"][due]):
            at = due[bk["plan_day"][due] == day]
            for i in np.unique(bk["province"][at]):
                rows = at[bk["province"][at] == i]
                p = self.provinces[int(i)]
                p.screen(rows)
                p.fund(rows, float(day))

    def _execute(self, d0: float, d1: float) -> None:
        bk, sim = self.book, self.scenario.simulation
        st = bk["state"]
        dt = self.calendar.step_days / 7
        # procurement finished: execution starts (each tranche runs within its fiscal year)
        go = np.flatnonzero((st == B.PROCUREMENT) & (bk["start_day"] < d1))
        if len(go):
            lo_w, hi_w = sim.execution_weeks
            weeks = lo_w + bk["u_weeks"][go] * (hi_w - lo_w)
            bk["weeks"][go] = weeks
            bk["rate"][go] = np.ceil(bk["alloc"][go] / weeks).astype(np.int64)
            st[go] = B.EXECUTING
        # decisions on pending requests that fall in this week
        decided = np.flatnonzero((bk["pending"] > 0) & (bk["hold_until"] < d1))
        if len(decided):
            bk["pending"][decided] = 0
            bk["hold_days"][decided] += bk["hold_until"][decided] - bk["request_day"][decided]
            self.recorder.decided(decided)
            cancel = decided[bk["cancel"][decided]]
            st[cancel] = B.CANCELLED  # the rest of its allocation is released and lapses this year
            self.released += np.bincount(self.holders(cancel), weights=bk.remaining()[cancel],
                                         minlength=len(self.released)).astype(np.int64)
        # disbursement of running projects
        run = np.flatnonzero((st == B.EXECUTING) & (bk["pending"] == 0))
        if len(run):
            begin = np.maximum(d0, np.nan_to_num(bk["start_day"][run], nan=d0))
            frac = np.clip((d1 - begin) / self.calendar.step_days, 0.0, 1.0)
            pay = np.minimum(bk.remaining()[run], np.ceil(bk["rate"][run] * frac).astype(np.int64))
            bk["disb"][run] += pay
            bk["disb_year"][run] += pay
            first = run[np.isnan(bk["first_disb"][run]) & (pay > 0)]
            bk["first_disb"][first] = np.maximum(d0, bk["start_day"][first])
            st[run[bk.remaining()[run] == 0]] = B.DONE
        # new requests: changes, and cancellations of duplicates found during execution. Each
        # project carries its own exponential clocks (drawn when proposed), so whether one project
        # changes or is found never shifts another project's draws (common random numbers).
        live = np.flatnonzero((st == B.EXECUTING) & (bk["pending"] == 0))
        hazard = np.where(bk["construction"][live], sim.change_hazard_construction, sim.change_hazard_per_week)
        bk["clock_change"][live] += hazard * dt
        change = live[bk["clock_change"][live] >= bk["e_change"][live]]
        bk["clock_change"][change] = 0.0
        bk["n_change"][change] += 1
        for j in change:  # the next change clock: keyed by project and change count, not by order
            u = project_uniforms(self.seed, [self.project_ids[j]], self.scenario.first_fiscal_year
                                 + int(bk["year"][j]), ("changes",), (int(bk["n_change"][j]),))
            bk["e_change"][j] = -np.log1p(-u[0, 0])
        dup = live[self._approved_duplicate(live)]
        bk["clock_dup"][dup] += sim.duplicate_discovery_per_week * (0.5 + self.levers.data_sharing) * dt
        found = dup[bk["clock_dup"][dup] >= bk["e_dup"][dup]]
        found = np.setdiff1d(found, change)
        bk["cancel"][found] = True
        self._request(np.concatenate([change, found]), d0, d1)

    def _approved_duplicate(self, rows: np.ndarray) -> np.ndarray:
        """Funded copies of an idea whose group already has another funded project."""
        bk = self.book
        funded = np.isin(bk["state"], (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED)) & (bk["group"] >= 0)
        groups, counts = np.unique(bk["group"][funded], return_counts=True)
        multi = set(groups[counts > 1].tolist())
        return bk["copy"][rows] & np.array([g in multi for g in bk["group"][rows]], dtype=bool)

    def _request(self, rows: np.ndarray, d0: float, d1: float) -> None:
        """Queue change/cancel requests: ก.บ.จ. decides when delegated; otherwise ก.บ.จ. prepares
        and the Budget Bureau decides (one more hop, shared nationally)."""
        bk = self.book
        if len(rows):
            days = d0 + bk["u_request"][rows] * (d1 - d0)
            order = np.argsort(days, kind="stable")
            for k in order:
                j, day = int(rows[k]), float(days[k])
                p = self.provinces[int(bk["province"][j])]
                svc = self._request_service(j)
                done = p.committee.submit(day, clamp=True, service=svc[0])
                bk["pending"][j] = 1
                bk["request_day"][j] = day
                if self.levers.delegated[p.index]:
                    bk["hold_until"][j] = done
                else:
                    bk["hold_until"][j] = np.inf
                    self.central_pending.append((done, j, svc[1]))
        ready = sorted(x for x in self.central_pending if x[0] < d1)
        self.central_pending = [x for x in self.central_pending if x[0] >= d1]
        for day, j, svc in ready:
            bk["hold_until"][j] = self.bureau.central.submit(day, clamp=True, service=svc)

    def _request_service(self, j: int) -> np.ndarray:
        """Unit exponential service times of project j's request at ก.บ.จ. and at the Budget
        Bureau, keyed by the project and its request count (not by queue order)."""
        u = project_uniforms(self.seed, [self.project_ids[j]], self.scenario.first_fiscal_year
                             + int(self.book["year"][j]), ("committee", "central"),
                             (1_000 + int(self.book["n_change"][j]) + 100 * int(self.book["cancel"][j]),))
        return -np.log1p(-u[0])

    def _report(self, day: float) -> None:
        stuck = np.concatenate([p.stuck_projects(day) for p in self.provinces]) if self.provinces else np.zeros(0, int)
        if len(stuck) == 0:
            return
        bk = self.book
        t = np.full(len(stuck), day)
        clusters = self.cluster_of[bk["province"][stuck]]
        for k in np.unique(clusters):
            sel = clusters == k
            t[sel] = self.bureau.inspectors[int(k)].submit_many(t[sel], clamp=True)
        t = self.bureau.kkp.submit_many(t, clamp=True)
        t = self.bureau.knj.submit_many(t, clamp=True)
        self.bureau.escalation_days.extend((t - day).tolist())
        bk["hold_until"][stuck] = np.minimum(bk["hold_until"][stuck], t)

    # --- year end -----------------------------------------------------------------------------
    def close_year(self, year_end: float) -> None:
        bk, sim, y = self.book, self.scenario.simulation, self.year
        st = bk["state"]
        touched = np.flatnonzero(np.isin(st, (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED))
                                 & ((bk["year"] == y) | (bk["disb_year"] > 0) | np.isin(st, B.ACTIVE)))
        active = touched[np.isin(st[touched], B.ACTIVE)]
        carry = active[(bk["years"][active] > 1) & ~bk["cancel"][active] & (self.levers.multi_year | ~np.isin(
            bk["channel"][active], [B.CHANNELS.index(c) for c in PLAN_CHANNELS]))]  # world.py: scope
        ends = np.setdiff1d(active, carry)
        h = self.holders
        n_h = len(self.budget_new)
        rem = bk.remaining()
        allocated = self.budget_new + self.carry_in
        disbursed = np.bincount(h(touched), weights=bk["disb_year"][touched], minlength=n_h).astype(np.int64)
        carry_out = np.bincount(h(carry), weights=rem[carry], minlength=n_h).astype(np.int64)
        lapsed = self.budget_left + self.released \
            + np.bincount(h(ends), weights=rem[ends], minlength=n_h).astype(np.int64)
        this = np.flatnonzero(bk["year"] == y)
        won = this[np.isin(st[this], (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED))]
        funded = np.bincount(h(won), weights=bk["alloc"][won], minlength=n_h).astype(np.int64)
        fy = self.scenario.first_fiscal_year + y
        bad = np.flatnonzero(allocated != disbursed + carry_out + lapsed)
        if len(bad):
            i = int(bad[0])
            raise InvariantError(f"money not conserved in FY{fy} for budget holder {self.holder_names[i]}: "
                                 f"allocated {allocated[i]} THB != disbursed {disbursed[i]} + carried "
                                 f"{carry_out[i]} + lapsed {lapsed[i]}")
        bad = np.flatnonzero(funded + self.budget_left != self.budget_new)
        if len(bad):
            i = int(bad[0])
            raise InvariantError(f"money not conserved in FY{fy} for budget holder {self.holder_names[i]}: "
                                 f"allocation {self.budget_new[i]} THB != funded {funded[i]} + unfunded "
                                 f"{self.budget_left[i]}")
        self.unallocated_thb = self.unallocated(fy)
        self.money_rows.append((fy, self.budget_new.copy(), funded, self.budget_left.copy()))
        self.world.close_year(self.plans[-1], np.isin(st[this], (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED)),
                              (st[this] == B.CANCELLED) | bk["cancel"][this])
        st[ends] = B.LAPSED
        bk["pending"][ends] = 0
        # outcomes: what was spent this year, how well it met needs
        eff = self._effective(touched, y)
        bk["effective"][touched] += eff
        self.world.write_down_stopped(y)  # a stopped multi-year project's partial works
        S = len(self.strategies)
        by = np.zeros((self.n_provinces, S))
        np.add.at(by, (bk["province"][touched].astype(int), bk["strategy"][touched].astype(int)), eff)
        need_before = self.citizens.province_need()
        relief = self.citizens.receive(by, sim.need_relief_thb_per_head, sim.need_growth)
        need_after = self.citizens.province_need()
        # plan achievement: share of each province's plan targets (its planned strategies) whose need fell
        rows = np.arange(self.n_provinces)[:, None]
        self.plan_achievement = (need_after[rows, self.plan] < need_before[rows, self.plan]).mean(axis=1)
        delay = self.recorder.province_delay(y)
        self.citizens.update_satisfaction(relief, delay, sim.satisfaction_relief, sim.satisfaction_delay_per_100_days)
        self.recorder.close_year(y, allocated, disbursed, carry_out, lapsed, by.sum(axis=1), touched)
        self.budget_left[:] = 0

    def envelopes_thb(self) -> np.ndarray:
        """The scenario's envelope per money source (provincial sources, then the cluster pot),
        in whole baht at the rounding rule of ``world.py``."""
        a = self.scenario.allocation
        return np.array([int(to_thb(a.envelope_mthb.get(s, 0.0))) for s in B.SOURCES]
                        + [int(to_thb(a.cluster_envelope_mthb))], np.int64)

    def unallocated(self, fy: int) -> int:
        """Envelope money the allocation gave to no holder this year (the allocation LP may leave
        some unassigned): it lapses at source. Checks envelope = holders' money + unallocated for
        every source, i.e. no source's holders hold more than its envelope."""
        n, k = self.n_provinces, self.n_sources * self.n_provinces
        held = np.append(self.budget_new[:k].reshape(self.n_sources, n).sum(axis=1), self.budget_new[k:].sum())
        env = self.envelopes_thb()
        names = [*B.SOURCES, "cluster_budget"]
        bad = np.flatnonzero(held > env)
        if len(bad):
            i = int(bad[0])
            raise InvariantError(f"money not conserved in FY{fy} for source {names[i]}: holders hold "
                                 f"{held[i]} THB but the envelope is {env[i]} THB")
        return int((env - held).sum())

    def _effective(self, rows: np.ndarray, y: int) -> np.ndarray:
        """Benefit that reached needs this year: spending share × potential, less for wants, for
        spending that started after the need window, and nothing for a duplicate's second copy."""
        bk, sim = self.book, self.scenario.simulation
        share = bk["disb_year"][rows] / np.maximum(bk["cost"][rows], 1)
        late = (bk["first_disb"][rows] - bk["year"][rows] * YEAR_DAYS) > sim.need_window_days
        dup = self._approved_duplicate(rows)
        return (share * bk["potential"][rows] * np.where(bk["problem"][rows], 1.0, sim.want_effect)
                * np.where(late, sim.late_effect, 1.0) * np.where(dup, 0.0, 1.0))

    # --- outputs ------------------------------------------------------------------------------
    def run(self) -> None:
        while self.running:
            self.step()

    def tables(self) -> dict[str, pd.DataFrame]:
        return self.recorder.tables() | world_tables(self)
