"""Change/cancel requests and six-monthly reports: provinces queue requests at their ก.บ.จ.
(which decides when changes are delegated, else prepares them for the Budget Bureau); reports
escalate what provinces cannot solve up the chain (inspector → กกภ. → ก.น.จ.)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from allocsim.simulate.calendar import YEAR_DAYS
from allocsim.simulate.draws import project_uniforms

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel

#: Offsets of a request's redraw key: requests of one project are told apart by their change
#: count and whether they cancel (keys only, no behavioural meaning).
REQUEST_KEY_BASE, CANCEL_KEY = 1_000, 100


def request_services(m: BudgetModel, rows: np.ndarray) -> np.ndarray:
    """(len(rows), 2) unit exponential service times of each request at ก.บ.จ. and at the Budget
    Bureau, keyed by the project and its request count (not by queue order)."""
    bk = m.book
    out = np.empty((len(rows), 2))
    for k, j in enumerate(rows):
        u = project_uniforms(m.seed, [m.project_ids[j]], m.scenario.first_fiscal_year + int(bk["year"][j]),
                             ("committee", "central"),
                             (REQUEST_KEY_BASE + int(bk["n_change"][j]) + CANCEL_KEY * int(bk["cancel"][j]),))
        out[k] = -np.log1p(-u[0])
    return out


def submit_requests(m: BudgetModel, rows: np.ndarray, d0: float, d1: float) -> None:
    """Each request arrives on its own day of the week at its province's ก.บ.จ.
    (``Province.submit_requests``); requests the provinces pass on reach the Budget Bureau in
    the order ก.บ.จ. finished them (``BudgetBureau.decide_central``)."""
    bk = m.book
    if len(rows):
        days = d0 + bk["u_request"][rows] * (d1 - d0)
        services = request_services(m, rows)
        asking = set(bk["province"][rows].tolist())  # a few provinces a week: ask only them
        provinces = m.agents_by_type[m.province_class].select(lambda p: p.index in asking)
        for passed in provinces.map("submit_requests", rows, days, services):
            m.central_pending.extend(passed)
    ready = sorted(x for x in m.central_pending if x[0] < d1)
    m.central_pending = [x for x in m.central_pending if x[0] >= d1]
    if ready:
        rows_ = np.array([j for _, j, _ in ready], int)
        dec = m.bureau.decide_central([(day, svc) for day, _, svc in ready])
        # a request the reporting chain already solved (escalated, hold ended or ending earlier)
        # keeps the earlier day; a request whose hold already ended is not reopened
        live = bk["pending"][rows_] > 0
        esc = bk["esc_request"][rows_] == bk["request_day"][rows_]
        bk["hold_until"][rows_[live]] = np.where(esc[live], np.minimum(bk["hold_until"][rows_[live]], dec[live]),
                                                 dec[live])


def reports(m: BudgetModel, lo: int, hi: int) -> None:
    """Six-monthly reports falling in days [lo, hi) of the year: each province names its stuck
    projects and the Budget Bureau's chain hears them: a solved escalation ends the hold at the
    chain's decision, a failed one leaves the hold to run to the normal decision (`004` §3.2–3.3)."""
    every = m.scenario.simulation.report_every_days
    y0 = m.year * YEAR_DAYS
    for rd in range(every, YEAR_DAYS + 1, every):
        if lo <= rd - 1 < hi:
            day = y0 + rd - 1
            found = m.agents_by_type[m.province_class].map("stuck_projects", day)
            stuck = np.concatenate(found) if found else np.zeros(0, int)
            if len(stuck) == 0:
                continue
            bk = m.book
            t = m.bureau.escalate(day, m.cluster_of[bk["province"][stuck]])
            bk["esc_request"][stuck] = bk["request_day"][stuck]  # a request is escalated once
            solved = m.bureau.resolve(bk["u_escalate"][stuck])
            m.bureau.outcomes.append((m.year, int(solved.sum()), int((~solved).sum())))
            m.bureau.log.append((day, stuck, t, solved))
            bk["hold_until"][stuck[solved]] = np.minimum(bk["hold_until"][stuck[solved]], t[solved])
