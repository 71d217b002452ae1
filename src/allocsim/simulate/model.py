"""The budget-cycle model: one step is one week of a Thai fiscal year.

The story of a step (``BudgetModel.step``):
1. On day 0 (Budget Act) a new year starts: commitments carried over, agents propose projects
   (some through several channels), budgets are set by the allocation rule, ministries notify
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

import mesa
import numpy as np
import pandas as pd

from allocsim.data.budget import load_local_governments
from allocsim.data.catalogue import MINISTRIES, canonical_channels
from allocsim.data.geography import load_geography
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
                 allocation_weights: np.ndarray | None = None, **levers: object) -> None:
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
        self.local_governments = [self.local_government_class(self, k) for k in range(len(self.lg))]
        self.bureau = self.bureau_class(self, self.n_clusters)

        participation = np.full(self.n_provinces, sc.levers.participation)
        self.citizens = Citizens(self.population, sc.simulation.citizens_per_province,
                                 len(self.strategies), participation, self.rng)
        self.plan_score = self.rng.uniform(0.5, 1.0, self.n_provinces)  # illustrative, see baselines
        self.plan = np.zeros((self.n_provinces, 3), dtype=int)
        self.plan_achievement = np.zeros(self.n_provinces)
        self.book = B.Book()
        self.central_pending: list[tuple[float, int]] = []
        self.recorder = Recorder(self)
        self.budget_new = np.zeros(self.n_provinces + self.n_clusters, np.int64)
        self.budget_left = np.zeros_like(self.budget_new)
        self.carry_in = np.zeros_like(self.budget_new)
        self.released = np.zeros_like(self.budget_new)
        self.cofund_left = np.zeros(self.n_provinces)
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
        return np.where(bk["channel"][rows] == B.CHANNELS.index("cluster"),
                        self.n_provinces + bk["cluster"][rows].astype(np.int64), bk["province"][rows].astype(np.int64))

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
    def _proposals(self, y: int) -> None:
        """Agents propose this year's projects (with duplicates through other channels)."""
        sc, cat, rng = self.scenario, self.scenario.catalogue, self.rng
        S = len(self.strategies)
        voiced = self.citizens.voiced_need()
        plan = np.argsort(-voiced, axis=1)[:, :3]  # each province's plan: its 3 most voiced needs
        self.plan = plan
        part = np.bincount(self.citizens.province, weights=self.citizens.participates, minlength=self.n_provinces) \
            / self.citizens.per_province
        chans = canonical_channels(cat.channel_weights)
        w = np.array([cat.channel_weights[c] for c in chans], float)
        n = cat.projects_per_province
        prov = np.repeat(np.arange(self.n_provinces), n)
        channel = np.array([B.CHANNELS.index(c) for c in rng.choice(chans, size=len(prov), p=w / w.sum())])
        problem = rng.random(len(prov)) < (sc.simulation.problem_base + (1 - sc.simulation.problem_base) * part[prov])
        # problem-based proposals follow voiced needs; wants pick any strategy
        cum = np.cumsum(voiced[prov] ** 2, axis=1)
        pick = (rng.random(len(prov))[:, None] * cum[:, -1:] > cum).sum(axis=1)
        strategy = np.where(problem, pick, rng.integers(0, S, len(prov)))
        ministry = np.where(channel == B.CHANNELS.index("ministry"), rng.integers(0, len(self.ministries), len(prov)), -1)
        # ministries comply with the provincial plan only partly: otherwise they pick their own
        is_min = ministry >= 0
        comply = rng.random(len(prov)) < cat.ministry_plan_compliance
        plan_pick = plan[prov, rng.integers(0, 3, len(prov))]
        strategy = np.where(is_min, np.where(comply, plan_pick, rng.integers(0, S, len(prov))), strategy)
        self._append_projects(y, prov, channel, strategy, ministry, problem, plan, duplicate=True)
        # cluster joint projects (lead = first member province)
        kprov, kclu = [], []
        for c in self.clusters:
            if len(c.members) >= 1:
                for _ in range(cat.projects_per_cluster):
                    kprov.append(c.members[0])
                    kclu.append(c.index)
        if kprov:
            kp = np.array(kprov)
            m = len(kp)
            self._append_projects(y, kp, np.full(m, B.CHANNELS.index("cluster")), rng.integers(0, S, m),
                                  np.full(m, -1), rng.random(m) < 0.5, plan, duplicate=False,
                                  cluster=np.array(kclu))

    def _append_projects(self, y: int, prov: np.ndarray, channel: np.ndarray, strategy: np.ndarray,
                         ministry: np.ndarray, problem: np.ndarray, plan: np.ndarray, *, duplicate: bool,
                         cluster: np.ndarray | None = None) -> None:
        sc, cat, rng = self.scenario, self.scenario.catalogue, self.rng
        m = len(prov)
        need = self.citizens.province_need()
        construction = rng.random(m) < np.where(channel == B.CHANNELS.index("ministry"),
                                                cat.construction_share_ministry, cat.construction_share_other)
        cost = np.round(cat.cost_median_mthb * 1e6 * np.exp(cat.cost_sigma * rng.standard_normal(m))).astype(np.int64)
        bcr = cat.benefit_cost_median * np.exp(cat.benefit_cost_sigma * rng.standard_normal(m))
        rel = need[prov, strategy] / np.maximum(need[prov].mean(axis=1), 1e-9)
        potential = cost * bcr * rel * np.where(construction, cat.construction_benefit_factor, 1.0)
        years = np.where(rng.random(m) < cat.multi_year_share, rng.integers(2, max(cat.max_years, 2) + 1, m), 1)
        lo, hi = cat.local_share_range
        cofund = np.where(np.isin(channel, [B.CHANNELS.index("local_grant"), B.CHANNELS.index("cluster")]),
                          rng.uniform(lo, hi, m), 0.0)
        aligned = (plan[prov] == strategy[:, None]).any(axis=1)
        clu = self.cluster_of[prov] if cluster is None else cluster
        cols = {"year": np.full(m, y), "province": prov, "cluster": clu, "strategy": strategy,
                "channel": channel, "ministry": ministry, "cost": cost, "potential": potential,
                "construction": construction, "problem": problem, "aligned": aligned, "years": years,
                "cofund_share": cofund, "state": np.full(m, B.PROPOSED)}
        rows = self.book.append(cols)
        if not duplicate:
            return
        factor = sc.simulation.multi_channel_staggered if self.levers.staggered else sc.simulation.multi_channel_overlap
        dup = rows[rng.random(m) < min(1.0, cat.duplicate_rate * factor)]
        if len(dup) == 0:
            return
        base = int(self.book["group"].max(initial=-1)) + 1
        self.book["group"][dup] = base + np.arange(len(dup))
        copy = {k: v[dup - rows[0]] for k, v in cols.items()}
        shift = rng.integers(1, 4, len(dup))  # another of the four provincial channels
        copy["channel"] = (copy["channel"] + shift) % 4
        copy["ministry"] = np.where(copy["channel"] == B.CHANNELS.index("ministry"),
                                    rng.integers(0, len(self.ministries), len(dup)), -1)
        copy["cost"] = np.round(copy["cost"] * rng.uniform(0.9, 1.1, len(dup))).astype(np.int64)
        copy["group"] = base + np.arange(len(dup))
        copy["copy"] = np.ones(len(dup), bool)
        self.book.append(copy)

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
        else:
            w = self.population.copy()
        return w / w.sum()

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
        self._proposals(y)
        new = np.arange(first_new, len(bk))
        originals = new[~bk["copy"][new]]
        cfg = sc.allocation
        envelope = sc.catalogue.budget_tightness * float(bk["cost"][originals].sum())
        cluster_share = cfg.cluster_envelope_mthb / (sum(cfg.envelope_mthb.values()) + cfg.cluster_envelope_mthb)
        prov_pot = np.floor((1 - cluster_share) * envelope * self._weights()).astype(np.int64)
        if self.levers.allocation_rule in ("actual", "fitted"):
            cw = self._real_weights()[1]
        else:
            cpop = np.bincount(self.cluster_of, weights=self.population, minlength=self.n_clusters)
            cw = cpop / cpop.sum()
        clu_pot = np.floor(cluster_share * envelope * cw).astype(np.int64)
        self.budget_new[:] = np.concatenate([prov_pot, clu_pot])
        self.budget_left[:] = self.budget_new
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
                late = self.rng.random(len(rows)) < 1 - sim.plan_deadline_days / work
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
        bk, sim, rng = self.book, self.scenario.simulation, self.rng
        st = bk["state"]
        # procurement finished: execution starts
        go = np.flatnonzero((st == B.PROCUREMENT) & (bk["start_day"] < d1))
        if len(go):
            lo_w, hi_w = sim.execution_weeks
            weeks = np.where(bk["years"][go] > 1, bk["years"][go] * 40.0, rng.uniform(lo_w, hi_w, len(go)))
            bk["weeks"][go] = weeks
            bk["rate"][go] = np.ceil(bk["alloc"][go] / weeks).astype(np.int64)
            st[go] = B.EXECUTING
        # decisions on pending requests that fall in this week
        decided = np.flatnonzero((bk["pending"] > 0) & (bk["hold_until"] < d1))
        if len(decided):
            bk["pending"][decided] = 0
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
        # new requests: changes, and cancellations of duplicates found during execution
        live = np.flatnonzero((st == B.EXECUTING) & (bk["pending"] == 0))
        hazard = np.where(bk["construction"][live], sim.change_hazard_construction, sim.change_hazard_per_week)
        change = live[rng.random(len(live)) < hazard * self.calendar.step_days / 7]
        dup = live[self._approved_duplicate(live)]
        found = dup[rng.random(len(dup)) < sim.duplicate_discovery_per_week * (0.5 + self.levers.data_sharing)]
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
            days = self.rng.uniform(d0, d1, len(rows))
            order = np.argsort(days, kind="stable")
            for k in order:
                j, day = int(rows[k]), float(days[k])
                p = self.provinces[int(bk["province"][j])]
                done = p.committee.submit(day, clamp=True)
                bk["pending"][j] = 1
                bk["request_day"][j] = day
                if self.levers.delegated[p.index]:
                    bk["hold_until"][j] = done
                else:
                    bk["hold_until"][j] = np.inf
                    self.central_pending.append((done, j))
        ready = sorted(x for x in self.central_pending if x[0] < d1)
        self.central_pending = [x for x in self.central_pending if x[0] >= d1]
        for day, j in ready:
            bk["hold_until"][j] = self.bureau.central.submit(day, clamp=True)

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
        carry = active[(bk["years"][active] > 1) & self.levers.multi_year & ~bk["cancel"][active]]
        ends = np.setdiff1d(active, carry)
        h = self.holders
        n_h = len(self.budget_new)
        rem = bk.remaining()
        allocated = self.budget_new + self.carry_in
        disbursed = np.bincount(h(touched), weights=bk["disb_year"][touched], minlength=n_h).astype(np.int64)
        carry_out = np.bincount(h(carry), weights=rem[carry], minlength=n_h).astype(np.int64)
        lapsed = self.budget_left + self.released \
            + np.bincount(h(ends), weights=rem[ends], minlength=n_h).astype(np.int64)
        bad = np.flatnonzero(allocated != disbursed + carry_out + lapsed)
        if len(bad):
            i = int(bad[0])
            raise InvariantError(f"money not conserved in year {y} for budget holder {i}: allocated "
                                 f"{allocated[i]} THB != disbursed {disbursed[i]} + carried {carry_out[i]} "
                                 f"+ lapsed {lapsed[i]}")
        st[ends] = B.LAPSED
        bk["pending"][ends] = 0
        # outcomes: what was spent this year, how well it met needs
        eff = self._effective(touched, y)
        bk["effective"][touched] += eff
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
        return self.recorder.tables()
