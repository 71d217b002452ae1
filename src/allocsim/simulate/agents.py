"""The institutions of the budget cycle as Mesa agents (DOMAIN.md §2). Projects and citizens are
arrays (``book.py``, ``citizens.py``); agents decide and queue, the stages (``stages/``) call
them through Mesa's AgentSet (``model.agents_by_type[Province].do(...)``). Who does what:

* ``Ministry.notify_day`` — year start: when the governors it proposes to know its allocation
  (ministries differ: budget weight, construction bias, plan compliance, throughput);
* ``Province.new_year`` / ``schedule_plan`` — year start: queues free, action-plan day per proposal;
  ``screen_and_fund`` (``screen``, ``fund``) — the plan is final: gateway, ranking, procurement;
  ``submit_requests`` — ก.บ.จ. hears change/cancel requests (decides when delegated);
  ``stuck_projects`` — six-monthly report: what the province cannot solve;
  ``adapt_submission`` / ``improve_plan`` — year start: learn from last year (issue 12);
  ``year_end_pace`` — last weeks of the year: speed up money that would lapse;
* ``BudgetBureau.decide_central`` — the central change queue; ``escalate`` — the reporting chain;
  ``resolve`` — whether the chain solves an escalated problem;
* ``Cluster.targets_met`` — the cascaded disbursement target; ``LocalGovernment`` — co-funding.

Subclass an agent and name it on a model subclass (``province_class = MyProvince``) to change a
behaviour without editing allocsim.

Local governments use the real per-province counts by type (``local_governments.py``): by default
one agent per type per province standing for all its bodies (``aggregated``), or one agent per body
(``per_body``, 7,841 agents). Either way an agent is a view on one row of the model's
``LocalGovernmentTable``, so the model sums co-funding capacity per province with numpy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from allocsim.scenario.schema import LG_KINDS
from allocsim.simulate.book import (
    CHANNELS,
    PROCUREMENT,
    R_DUPLICATE,
    R_NO_COFUNDING,
    R_NO_MONEY,
    R_NOT_SELECTED,
    R_RULE,
    REJECTED_DUPLICATE,
    REJECTED_RULE,
    UNFUNDED,
)
from allocsim.simulate.queues import ApprovalQueue

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


class Ministry(mesa.Agent):
    """A line ministry (`003` §5.2.12, §5.3.6): holds investment budget and proposes
    function-budget projects into provinces. Ministries differ: ``budget_weight`` (its share of
    ministry proposals), ``construction_bias`` (how hard it pushes its construction projects in a
    province's ranking: priority × (1 + bias)), ``compliance`` (chance a proposal of it is aligned
    with the provincial plan) and ``notify_per_day`` (governors it notifies per day)."""

    def __init__(self, model: BudgetModel, name: str, budget_weight: float, construction_bias: float,
                 compliance: float, notify_per_day: float) -> None:
        super().__init__(model)
        self.name = name
        self.budget_weight = budget_weight
        self.construction_bias = construction_bias
        self.compliance = compliance
        self.notify_per_day = notify_per_day
        self.provinces_to_notify = model.n_provinces  # set each year from its proposals

    @property
    def ranking_bias(self) -> float:
        """The push its construction projects get in a province's ranking (= construction_bias)."""
        return self.construction_bias

    def notify_day(self) -> int:
        """Days to notify the governors of the provinces it proposes in this year: its workload
        ÷ its throughput (`000` Del-3 sets a 30-day deadline it may miss)."""
        return math.ceil(self.provinces_to_notify / self.notify_per_day)


class Province(mesa.Agent):
    """Governor + ก.บ.จ.: writes the action plan, screens proposals, funds within its budget,
    approves changes when delegated, runs procurement, reports every six months and escalates."""

    def __init__(self, model: BudgetModel, index: int, iso: str, name: str, cluster: int) -> None:
        super().__init__(model)
        self.index, self.iso, self.name, self.cluster = index, iso, name, cluster
        sim, lv = model.scenario.simulation, model.levers
        staff = int(lv.staff[index])
        self.committee = ApprovalQueue(f"kbj {iso}", 1, sim.province_service_days, model.streams["approvals"])
        self.procurement = ApprovalQueue(f"procurement {iso}", staff, sim.procurement_days,
                                         model.streams["procurement"])
        # strategic multi-channel submission: the chance an idea of this province's agencies is
        # also sent through other channels; it starts at the scenario's duplicate rate and learns
        self.multi_channel = float(model.scenario.catalogue.duplicate_rate)
        self.caught_memory = 0.0  # the share of its copies a gateway last caught (remembered)

    def new_year(self, day: float) -> None:
        """Procurement and requests left unfinished at year end lapsed with their projects' money:
        they free the officers (a carried-over project keeps the decision day it already has)."""
        self.procurement = self.procurement.fresh(day)
        self.committee = self.committee.fresh(day)

    # --- planning ---------------------------------------------------------------------------
    def schedule_plan(self, new: np.ndarray, counts: np.ndarray, notify_day: np.ndarray,
                      year_start: float) -> None:
        """Set the day this province's action plan takes each of its new proposals: after its
        ministries' notification (``notify_day[self.index]``), by the plan deadline, which is
        fixed from the legal notification deadline (`000` Del-3: notification by day 30, plan 60
        days later): a province notified late has less time. When the work exceeds the time left
        the plan is cut short and the proposals left out wait for resubmission."""
        book, sim = self.model.book, self.model.scenario.simulation
        rows = new[book["province"][new] == self.index]
        notified = float(np.asarray(notify_day)[self.index]) if np.ndim(notify_day) else float(notify_day)
        window = max(sim.notify_deadline_days + sim.plan_deadline_days - notified, 0.0)
        work = self.planning_days(int(counts[self.index]))
        day = notified + min(work, window)
        book["plan_day"][rows] = year_start + day
        if work > window and len(rows):  # the deadline cuts the plan short
            late = book["u_plan"][rows] < 1 - window / work
            book["plan_day"][rows[late]] = year_start + day + sim.resubmission_days

    def planning_days(self, proposals: int) -> float:
        """Work to finalise the action plan: reading proposals, screening them at the gateway,
        reworking them when calendars overlap. Staff capacity turns work into days."""
        sim, lv = self.model.scenario.simulation, self.model.levers
        staff = float(lv.staff[self.index])
        work = proposals / sim.plan_proposals_per_staff_day
        if lv.gateway[self.index]:
            work += proposals * sim.screening_days_per_proposal
        if not lv.staggered:
            work *= 1.0 + sim.overlap_rework
        return work / staff

    def screen_and_fund(self, due: np.ndarray, day: float) -> None:
        """The action plan is final on ``day``: screen and fund this province's proposals among
        ``due`` (rows of the book)."""
        rows = due[self.model.book["province"][due] == self.index]
        if len(rows):
            self.screen(rows)
            self.fund(rows, day)

    def screen(self, rows: np.ndarray) -> None:
        """Drop detected duplicates and (area-based budgeting) unaligned ministry projects."""
        m, book, lv = self.model, self.model.book, self.model.levers
        power = lv.data_sharing * (1.0 if lv.gateway[self.index] else m.scenario.simulation.detection_without_gateway)
        rows = rows[~book["committed"][rows]]  # a committed tranche is a running project, not a proposal
        copies = rows[book["copy"][rows]]
        detected = copies[book["u_screen"][copies] < power]
        book["state"][detected] = REJECTED_DUPLICATE
        book["reason"][detected] = R_DUPLICATE
        if lv.area_based:
            bad = rows[(book["channel"][rows] == CHANNELS.index("ministry")) & ~book["aligned"][rows]]
            book["state"][bad] = REJECTED_RULE
            book["reason"][bad] = R_RULE

    def fund(self, rows: np.ndarray, day: float) -> None:
        """Fund screened proposals within each holder's money and local co-funding; funded
        projects enter procurement (a queue served by the province's staff). Committed tranches
        (multi-year reform) come first. Under the optimal rule the province funds exactly the
        portfolio MILP's selection; otherwise it ranks by its own priorities (benefit per baht,
        with ministries pushing construction)."""
        m, book = self.model, self.model.book
        rows = rows[book["state"][rows] == 0]
        if len(rows) == 0:
            return
        bias = np.where(book["channel"][rows] == CHANNELS.index("ministry"),
                        1.0 + m.ministry_bias[np.maximum(book["ministry"][rows], 0)] * book["construction"][rows],
                        1.0)
        priority = book["potential"][rows] / np.maximum(book["cost"][rows], 1) * bias
        optimal = m.plans[-1].selected is not None if m.plans else False
        if optimal:  # the optimiser decided: unselected proposals are not funded
            keep = book["selected"][rows] | book["committed"][rows]
            book["state"][rows[~keep]] = UNFUNDED
            book["reason"][rows[~keep]] = R_NOT_SELECTED
            rows, priority = rows[keep], priority[keep]
        order = np.lexsort((-priority, ~book["committed"][rows]))  # committed first, then priority
        sim = m.scenario.simulation
        holders = m.holders(rows)
        for k in order:
            j, holder = int(rows[k]), int(holders[k])
            cost = int(book["cost"][j])
            cofund = book["cofund_share"][j] * cost
            # under the optimal rule the MILP's matching row (min local share × total cost, split
            # over partner provinces, within uptake × capacity) already holds for its selection:
            # the province does not re-check co-funding with a different rule
            short = cofund > 0 and m.cofund_left[self.index] < cofund and not optimal
            book["money_left"][j] = m.budget_left[holder]
            book["decided_seq"][j] = m.decisions
            m.decisions += 1
            if book["committed"][j]:  # its money was set aside at the Budget Act (start_year)
                pass
            elif m.budget_left[holder] < cost or short:
                book["state"][j] = UNFUNDED
                book["reason"][j] = R_NO_MONEY if m.budget_left[holder] < cost else R_NO_COFUNDING
                continue
            else:
                m.budget_left[holder] -= cost
            # a committed tranche's local share was committed with it: drawn first (committed
            # tranches come first), never below what local governments offer this year
            m.cofund_left[self.index] -= min(cofund, max(m.cofund_left[self.index], 0.0)) \
                if book["committed"][j] else cofund
            book["alloc"][j] = cost
            book["state"][j] = PROCUREMENT
            book["funded_day"][j] = day
            if not optimal:
                book["selected"][j] = True  # the province's own selection
            mean = sim.procurement_days_construction if book["construction"][j] else sim.procurement_days
            if book["channel"][j] in (CHANNELS.index("province"), CHANNELS.index("cluster")):
                book["start_day"][j] = self.procure(day, mean, float(book["e_proc"][j]))
            else:  # ministries, local governments and private partners procure with their own staff
                book["start_day"][j] = day + mean * book["e_proc"][j]

    def procure(self, day: float, mean_days: float, unit: float) -> float:
        """Queue a funded project at the procurement office; returns the day works can start.
        Staff scale capacity once: ``staff`` officers in parallel, each taking ``mean_days`` ×
        ``unit`` (a unit exponential) per project — an M/M/c queue with capacity staff / mean."""
        return self.procurement.submit(day, mean_days, service=unit)

    # --- adaptation from year to year (issue 12) -------------------------------------------------
    def adapt_submission(self, rejection_rate: float, caught_share: float) -> float:
        """Strategic multi-channel submission (`003` §5.2.4, §5.2.8): agencies whose proposals were
        turned down last year send more ideas through several channels; a gateway that caught
        their duplicates teaches them it does not pay. ``caught_share`` is NaN when the province
        sent no copies last year: it then remembers the last share it saw (a gateway that caught
        its copies keeps deterring it). Bounded to [0, ``multi_channel_propensity_max``] (never
        lowered by the bound below the starting propensity). Returns the new propensity."""
        sim = self.model.scenario.simulation
        if not math.isnan(caught_share):
            self.caught_memory = caught_share
        p = self.multi_channel + sim.multi_channel_learn_rejection * rejection_rate \
            - sim.multi_channel_learn_caught * self.caught_memory
        cap = max(sim.multi_channel_propensity_max, self.model.scenario.catalogue.duplicate_rate)
        self.multi_channel = float(np.clip(p, 0.0, cap))
        return self.multi_channel

    def improve_plan(self, score: float) -> float:
        """Plan-quality feedback (`003` §5.3.2): when plan scores are used and fed back, the
        province closes ``plan_feedback_rate`` of the gap to a perfect plan (score 1)."""
        return float(score + self.model.scenario.simulation.plan_feedback_rate * (1.0 - score))

    def year_end_pace(self, rows: np.ndarray, at_risk: np.ndarray, weeks_left: float) -> np.ndarray:
        """Use it or lose it (Liebman & Mahoney 2017): in the last ``year_end_rush_weeks`` of the
        fiscal year, money at risk of lapse that the normal weekly rate would not pay by year end
        is paid ``year_end_rush_speedup`` times faster. ``rows``: this province's running projects,
        ``at_risk``: whether each one's unpaid money lapses at year end. Returns the pace factor."""
        book, sim = self.model.book, self.model.scenario.simulation
        behind = book.remaining()[rows] > book["rate"][rows] * weeks_left
        return np.where(at_risk & behind, sim.year_end_rush_speedup, 1.0)

    def year_end_contracts(self, rows: np.ndarray, at_risk: np.ndarray, year_end: float) -> np.ndarray:
        """Use it or lose it for uncontracted money: in the last weeks of the year a project whose
        procurement would end after the year closes, and whose money would then lapse, is
        contracted now (hurried procurement; its spending counts as rushed). Returns which."""
        return at_risk & (self.model.book["start_day"][rows] >= year_end)

    # --- change requests ----------------------------------------------------------------------
    def submit_requests(self, rows: np.ndarray, days: np.ndarray,
                        services: np.ndarray) -> list[tuple[float, int, float]]:
        """ก.บ.จ. hears this province's requests among ``rows`` (arriving on ``days``, unit service
        times ``services[:, 0]`` here and ``services[:, 1]`` at the Budget Bureau) in arrival
        order. Delegated: its decision ends the hold. Otherwise it prepares the request and passes
        it on: returns (day prepared, row, Budget Bureau service) for each such request."""
        book = self.model.book
        mine = np.flatnonzero(book["province"][rows] == self.index)
        passed: list[tuple[float, int, float]] = []
        delegated = bool(self.model.levers.delegated[self.index])
        for k in mine[np.argsort(days[mine], kind="stable")]:
            j, day = int(rows[k]), float(days[k])
            done = self.committee.submit(day, clamp=True, service=services[k, 0])
            book["pending"][j] = 1
            book["request_day"][j] = day
            if delegated:
                book["hold_until"][j] = done
            else:
                book["hold_until"][j] = np.inf
                passed.append((done, j, float(services[k, 1])))
        return passed

    # --- six-monthly report -----------------------------------------------------------------
    def stuck_projects(self, day: float) -> np.ndarray:
        """Projects whose change request will still be pending long after this report: the
        province cannot solve them and escalates (`004` §3.2–3.3)."""
        book, sim = self.model.book, self.model.scenario.simulation
        return np.flatnonzero((book["province"] == self.index) & (book["pending"] > 0)
                              & (book["hold_until"] - day > sim.escalate_after_days)
                              & (book["esc_request"] != book["request_day"]))


class Cluster(mesa.Agent):
    """Cluster head + ก.บ.ก. + OSM: proposes joint projects with member provinces and cascades a
    disbursement target to them (`001`, `004` §2.2); a member meets it when its share of the year's
    budget disbursed by year end reaches the target."""

    def __init__(self, model: BudgetModel, index: int, cluster_id: str, members: list[int]) -> None:
        super().__init__(model)
        self.index, self.cluster_id, self.members = index, cluster_id, members
        self.target = model.scenario.simulation.cluster_disbursement_target

    def targets_met(self, disbursement_rate: np.ndarray) -> dict[int, bool]:
        return {i: bool(disbursement_rate[i] >= self.target) for i in self.members}


class LocalGovernment(mesa.Agent):
    """One local government (per-body mode) or all bodies of one type in one province (aggregated
    mode): co-funding capacity for local-grant and cluster projects in its province. Attributes read
    row ``slot`` of ``model.lg`` (the arrays are the single source of truth)."""

    def __init__(self, model: BudgetModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def province(self) -> int:
        return int(self.model.lg.province[self.slot])

    @property
    def kind(self) -> str:
        return LG_KINDS[int(self.model.lg.kind[self.slot])]

    @property
    def bodies(self) -> int:
        return int(self.model.lg.bodies[self.slot])

    @property
    def capacity_mthb(self) -> float:
        return float(self.model.lg.capacity_mthb[self.slot])

    def cofunding_capacity_thb(self) -> float:
        """This year's co-funding on offer: capacity × the matching-fund uptake lever."""
        return self.capacity_mthb * 1e6 * self.model.levers.matching_uptake


class BudgetBureau(mesa.Agent):
    """The Budget Bureau's change/transfer approvals (a central queue) and the escalation chain."""

    def __init__(self, model: BudgetModel, n_clusters: int) -> None:
        super().__init__(model)
        sim = model.scenario.simulation
        rng = model.streams["approvals"]
        self.central = ApprovalQueue("Budget Bureau", sim.central_servers, sim.central_service_days, rng)
        self.inspectors = [ApprovalQueue(f"inspector {k}", 1, sim.inspector_service_days, rng)
                           for k in range(n_clusters)]
        self.kkp = ApprovalQueue("กกภ.", 1, sim.kkp_service_days, rng)
        self.knj = ApprovalQueue("ก.น.จ.", 1, sim.knj_service_days, rng)
        self.escalation_days: list[float] = []
        self.outcomes: list[tuple[int, int, int]] = []  # (year, resolved, failed) per report
        # (report day, escalated rows, chain decision days, solved) per report: for inspection
        self.log: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = []

    def new_year(self, day: float) -> None:
        """Requests of lapsed projects are withdrawn with them (see ``Province.new_year``)."""
        self.central = self.central.fresh(day)
        self.inspectors = [q.fresh(day) for q in self.inspectors]
        self.kkp, self.knj = self.kkp.fresh(day), self.knj.fresh(day)

    def chain(self, cluster: int) -> list[ApprovalQueue]:
        """The hops an escalation from a province of ``cluster`` passes, in order."""
        return [self.inspectors[cluster], self.kkp, self.knj]

    def decide_central(self, requests: list[tuple[float, float]]) -> np.ndarray:
        """Decide requests passed on by provinces, (arrival day, unit service time) in arrival
        order, at the central queue; returns their decision days."""
        return np.array([self.central.submit(day, clamp=True, service=svc) for day, svc in requests])

    def escalate(self, day: float, clusters: np.ndarray) -> np.ndarray:
        """Stuck projects reported on ``day`` (one per entry of ``clusters``, their provinces'
        clusters) pass each hop of ``chain`` in turn; returns the day each is resolved."""
        t = np.full(len(clusters), float(day))  # float: decision days are not whole days
        for k in np.unique(clusters):
            sel = clusters == k
            t[sel] = self.chain(int(k))[0].submit_many(t[sel], clamp=True)
        for hop in self.chain(0)[1:]:
            t = hop.submit_many(t, clamp=True)
        self.escalation_days.extend((t - day).tolist())
        return t

    def resolve(self, u: np.ndarray) -> np.ndarray:
        """Which escalated problems the chain solves, from each project's own uniform ``u`` (common
        random numbers): solved with ``escalation_resolve_probability``; a failed escalation
        changes nothing — the request waits for its normal decision (`004` §3.2–3.3 gives the
        chain no power to cancel a project)."""
        return np.asarray(u) < self.model.scenario.simulation.escalation_resolve_probability

    def revise_shares(self, status_quo: np.ndarray, target: np.ndarray,
                      pressure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Under the ``incremental`` rule, next year's shares from this year's (``status_quo``),
        the rule's signal (``target``) and each holder's accumulated pressure: institutional
        friction (``simulation.incremental_friction_threshold``, ``stages/allocation.py``
        :func:`friction_shares`). Returns (shares, pressure carried to next year)."""
        from allocsim.simulate.stages.allocation import friction_shares

        return friction_shares(status_quo, target, pressure,
                               self.model.scenario.simulation.incremental_friction_threshold)
