"""The institutions of the budget cycle as Mesa agents (DOMAIN.md §2). Projects and citizens are
arrays (``book.py``, ``citizens.py``); agents decide and queue, the model wires the year.

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
    REJECTED_DUPLICATE,
    REJECTED_RULE,
    UNFUNDED,
)
from allocsim.simulate.queues import ApprovalQueue

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


class Ministry(mesa.Agent):
    """A line ministry: holds investment budget, proposes function-budget projects into provinces
    (sometimes through several channels), leans towards construction, complies partly with plans."""

    def __init__(self, model: BudgetModel, name: str, construction_bias: float, compliance: float) -> None:
        super().__init__(model)
        self.name = name
        self.construction_bias = construction_bias
        self.compliance = compliance

    def notify_day(self) -> int:
        """Days to notify every governor of its allocation: its throughput, not a drawn delay."""
        sim = self.model.scenario.simulation
        return math.ceil(self.model.n_provinces / sim.ministry_notify_per_day)


class Province(mesa.Agent):
    """Governor + ก.บ.จ.: writes the action plan, screens proposals, funds within its budget,
    approves changes when delegated, runs procurement, reports every six months and escalates."""

    def __init__(self, model: BudgetModel, index: int, iso: str, name: str, cluster: int) -> None:
        super().__init__(model)
        self.index, self.iso, self.name, self.cluster = index, iso, name, cluster
        sim, lv = model.scenario.simulation, model.levers
        staff = int(lv.staff[index])
        self.committee = ApprovalQueue(f"kbj {iso}", 1, sim.province_service_days, model.rng)
        self.procurement = ApprovalQueue(f"procurement {iso}", staff, sim.procurement_days, model.rng)

    # --- planning ---------------------------------------------------------------------------
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

    def screen(self, rows: np.ndarray) -> None:
        """Drop detected duplicates and (area-based budgeting) unaligned ministry projects."""
        m, book, lv = self.model, self.model.book, self.model.levers
        power = lv.data_sharing * (1.0 if lv.gateway[self.index] else m.scenario.simulation.detection_without_gateway)
        copies = rows[book["copy"][rows]]
        detected = copies[m.rng.random(len(copies)) < power]
        book["state"][detected] = REJECTED_DUPLICATE
        if lv.area_based:
            bad = rows[(book["channel"][rows] == CHANNELS.index("ministry")) & ~book["aligned"][rows]]
            book["state"][bad] = REJECTED_RULE

    def fund(self, rows: np.ndarray, day: float) -> None:
        """Fund screened proposals by priority within the province budget and local co-funding;
        funded projects enter procurement (a queue served by the province's staff)."""
        m, book = self.model, self.model.book
        rows = rows[book["state"][rows] == 0]
        if len(rows) == 0:
            return
        # ministries push construction; provinces rank by benefit per baht
        bias = np.where(book["channel"][rows] == CHANNELS.index("ministry"),
                        1.0 + m.ministry_bias[np.maximum(book["ministry"][rows], 0)] * book["construction"][rows], 1.0)
        priority = book["potential"][rows] / np.maximum(book["cost"][rows], 1) * bias
        sim = m.scenario.simulation
        staff = float(m.levers.staff[self.index])
        for j in rows[np.argsort(-priority, kind="stable")]:
            cost = int(book["cost"][j])
            cofund = book["cofund_share"][j] * cost
            holder = m.holder(int(j))
            if m.budget_left[holder] < cost or (cofund > 0 and m.cofund_left[self.index] < cofund):
                book["state"][j] = UNFUNDED
                continue
            m.budget_left[holder] -= cost
            m.cofund_left[self.index] -= cofund
            book["alloc"][j] = cost
            book["state"][j] = PROCUREMENT
            mean = sim.procurement_days_construction if book["construction"][j] else sim.procurement_days
            book["start_day"][j] = self.procurement.submit(day, mean / staff)

    # --- six-monthly report -----------------------------------------------------------------
    def stuck_projects(self, day: float) -> np.ndarray:
        """Projects whose change request will still be pending long after this report: the
        province cannot solve them and escalates (`004` §3.2–3.3)."""
        book, sim = self.model.book, self.model.scenario.simulation
        return np.flatnonzero((book["province"] == self.index) & (book["pending"] > 0)
                              & (book["hold_until"] - day > sim.escalate_after_days))


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
        self.central = ApprovalQueue("Budget Bureau", sim.central_servers, sim.central_service_days, model.rng)
        self.inspectors = [ApprovalQueue(f"inspector {k}", 1, sim.inspector_service_days, model.rng)
                           for k in range(n_clusters)]
        self.kkp = ApprovalQueue("กกภ.", 1, sim.kkp_service_days, model.rng)
        self.knj = ApprovalQueue("ก.น.จ.", 1, sim.knj_service_days, model.rng)
        self.escalation_days: list[float] = []

    def chain(self, cluster: int) -> list[ApprovalQueue]:
        return [self.inspectors[cluster], self.kkp, self.knj]
