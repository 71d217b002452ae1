"""Tidy outputs of a simulation: per step × province, per year × province, the money ledger per
budget holder, national figures per year, and approval delays.

Every measured column is an entry of the metric catalogue (``allocsim/metrics.py``: unit, better
direction, aggregation, meaning, Thai label, and the tables that record it): each table's columns
are the catalogue's entries for it (``catalogue_row``), so the recorder keeps no list of its own
and a value computed here without an entry there (or the reverse) stops the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocsim.metrics import catalogue_row
from allocsim.simulate import book as B
from allocsim.simulate.calendar import YEAR_DAYS

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel

FUNDED = (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED, B.LAPSED)


#: Per-project delay measures (days, columns of ``sim_projects``) and the per-year metric that is
#: their mean over a year's funded projects: one per stage a lever acts on (notification,
#: planning, holds, execution). Change-approval time per request is ``mean_change_approval_days``.
DELAYS = {"days_on_hold": "mean_days_on_hold", "completion_delay_days": "mean_completion_delay_days",
          "notification_days": "notification_days", "planning_days": "mean_planning_days"}


def project_delays(bk: B.Book, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Delays of projects ``rows`` in days: on hold (summed waits of their decided requests),
    completion against schedule (day the last baht was paid − (start + planned execution
    weeks)), mean change-approval time per decided request, the ministry's notification day and
    the province's planning time after it (NaN where a project has none)."""
    y0 = bk["year"][rows].astype(float) * YEAR_DAYS
    n_dec = bk["n_decided"][rows]
    return {
        "days_on_hold": bk["hold_days"][rows].astype(float),
        "completion_delay_days": bk["done_day"][rows] - (bk["start_day"][rows] + bk["weeks"][rows] * 7),
        "change_approval_days": np.divide(bk["hold_days"][rows], n_dec, out=np.full(len(rows), np.nan),
                                          where=n_dec > 0),
        "notification_days": bk["notify_day"][rows].astype(float),
        "planning_days": bk["plan_day"][rows] - y0 - bk["notify_day"][rows],
    }


def _nanmean_by(prov: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    ok = ~np.isnan(values)
    cnt = np.bincount(prov[ok], minlength=n)
    tot = np.bincount(prov[ok], weights=values[ok], minlength=n)
    return np.divide(tot, cnt, out=np.full(n, np.nan), where=cnt > 0)


def _nanmean(values: np.ndarray) -> float:
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    x = np.sort(np.asarray(x, float))
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


class Recorder:
    def __init__(self, model: BudgetModel) -> None:
        self.m = model
        self.step_rows: list[pd.DataFrame] = []
        self.year_rows: list[pd.DataFrame] = []
        self.ledger_rows: list[pd.DataFrame] = []
        self.national_rows: list[dict] = []
        #: per year, cluster projects' money by the province they are in (``ledger.cluster_flows``)
        self.cluster_rows: list[dict[str, np.ndarray]] = []
        self.delays: list[tuple[int, int, float, bool]] = []  # province, year, days, delegated
        self._need = self._sat = None
        self._totals = {"disbursed": 0.0, "duplicates_approved": 0.0}
        self.notify_day = 0
        self._closing: dict[str, np.ndarray] | None = None  # year-end figures for the closing step

    # --- during the run ---------------------------------------------------------------------------
    def start_year(self, y: int, notify_day: np.ndarray) -> None:
        self.notify_day = notify_day
        self._need = self.m.citizens.unmet_need()
        self._sat = self.m.citizens.mean_satisfaction()

    def decided(self, rows: np.ndarray) -> None:
        bk, m = self.m.book, self.m
        for j in rows:
            i = int(bk["province"][j])
            self.delays.append((i, m.year, float(bk["hold_until"][j] - bk["request_day"][j]),
                                bool(m.levers.delegated[i])))

    def _year_projects(self, y: int) -> np.ndarray:
        bk = self.m.book
        return np.flatnonzero(bk["year"] == y)

    def _days_to_disbursement(self, y: int) -> tuple[np.ndarray, np.ndarray]:
        bk = self.m.book
        rows = self._year_projects(y)
        rows = rows[~np.isnan(bk["first_disb"][rows])]
        return bk["province"][rows].astype(int), bk["first_disb"][rows] - y * YEAR_DAYS

    def province_delay(self, y: int) -> np.ndarray:
        prov, days = self._days_to_disbursement(y)
        n = self.m.n_provinces
        cnt = np.bincount(prov, minlength=n)
        tot = np.bincount(prov, weights=days, minlength=n)
        return np.divide(tot, cnt, out=np.zeros(n), where=cnt > 0)

    def national_mean_days(self) -> float:
        _, days = self._days_to_disbursement(self.m.year)
        return float(days.mean()) if len(days) else float("nan")

    def total(self, key: str) -> float:
        return self._totals[key]

    def _province_figures(self, y: int) -> dict[str, np.ndarray]:
        m, bk = self.m, self.m.book
        n = m.n_provinces
        prov = bk["province"].astype(int)
        this = bk["year"] == y
        funded = np.isin(bk["state"], FUNDED) & this
        dup = np.zeros(len(bk), bool)
        idx = np.flatnonzero(funded)
        dup[idx] = m._approved_duplicate(idx)

        def by(mask: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
            return np.bincount(prov[mask], weights=None if w is None else w[mask], minlength=n)

        cost = bk["alloc"].astype(float)
        return {
            "committed": by(funded, cost),
            "disbursed": np.bincount(prov, weights=bk["disb_year"].astype(float), minlength=n),
            "projects_funded": by(funded),
            "duplicates_approved": by(dup),
            "duplicate_money": by(dup, cost),
            "aligned_cost": by(funded & bk["aligned"], cost),
        }

    def _delay_stats(self, y: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-province mean and 90th percentile of days from the Budget Act to first disbursement."""
        n = self.m.n_provinces
        prov, days = self._days_to_disbursement(y)
        mean, p90 = np.full(n, np.nan), np.full(n, np.nan)
        if len(days):
            order = np.lexsort((days, prov))  # by province, then by days
            prov, days = prov[order], days[order]
            starts = np.searchsorted(prov, np.arange(n))
            counts = np.bincount(prov, minlength=n)
            has = counts > 0
            mean[has] = (np.bincount(prov, weights=days, minlength=n)[has] / counts[has])
            pos = 0.9 * (counts[has] - 1)  # numpy's default (linear) quantile, per province at once
            lo = np.floor(pos).astype(int)
            hi = np.minimum(lo + 1, counts[has] - 1)
            base = starts[has]
            p90[has] = days[base + lo] + (pos - lo) * (days[base + hi] - days[base + lo])
        return mean, p90

    def record_step(self, t: int, day: float) -> None:
        m = self.m
        y = m.year
        f = self._province_figures(y)
        mean, p90 = self._delay_stats(y)
        allocated = m.by_province(m.budget_new + m.carry_in).astype(float)
        self._totals["disbursed"] = float(f["disbursed"].sum())
        self._totals["duplicates_approved"] = float(f["duplicates_approved"].sum())
        keys = {"step": np.full(m.n_provinces, t), "fiscal_year": np.full(m.n_provinces, m.calendar.fiscal_year(t)),
                "day": np.full(m.n_provinces, day - y * YEAR_DAYS), "province": np.array(m.iso, dtype=object)}
        self.step_rows.append(catalogue_row("sim_steps", keys, {
            "allocated_thb": allocated, "committed_thb": f["committed"],
            "disbursed_thb": f["disbursed"],
            "disbursement_rate": np.divide(f["disbursed"], allocated, out=np.zeros(m.n_provinces), where=allocated > 0),
            "duplicates_approved": f["duplicates_approved"], "duplicate_money_thb": f["duplicate_money"],
            "mean_days_to_disbursement": mean, "p90_days_to_disbursement": p90,
            "unmet_need": self._need, "satisfaction": self._sat,
            "alignment_share": np.divide(f["aligned_cost"], f["committed"], out=np.full(m.n_provinces, np.nan),
                                         where=f["committed"] > 0),
            # known only when the year closes: 0 / NaN on the other steps
            **(self._closing or {"lapsed_thb": np.zeros(m.n_provinces),
                                 "value_for_money": np.full(m.n_provinces, np.nan),
                                 "equity_gini": np.full(m.n_provinces, np.nan)}),
        }))
        self._closing = None

    def _steps_frame(self, rows: list[dict]) -> pd.DataFrame:
        if not rows:
            return pd.DataFrame()
        return pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})

    def close_year(self, y: int, allocated: np.ndarray, disbursed: np.ndarray, carry: np.ndarray,
                   lapsed: np.ndarray, effective: np.ndarray, touched: np.ndarray) -> None:
        m, bk = self.m, self.m.book
        n = m.n_provinces
        fy = m.scenario.first_fiscal_year + y
        _, money, funded, unfunded = m.money_rows[-1]
        # allocated = this year's allocation (money) + commitments carried in; money = funded +
        # unfunded; allocated = disbursed + carried over + unfunded + lapsed, where lapsed is the
        # execution lapse and returned = unfunded + lapsed goes back to the Treasury (int64 baht)
        returned = unfunded + lapsed
        self.ledger_rows.append(pd.DataFrame(catalogue_row(
            "sim_ledger", {"fiscal_year": fy, "holder": m.holder_names},
            {"money_thb": money, "carried_in_thb": allocated - money, "funded_thb": funded,
             "unfunded_thb": unfunded, "allocated_thb": allocated, "disbursed_thb": disbursed,
             "carried_over_thb": carry, "lapsed_thb": lapsed, "returned_thb": returned})))
        tot = {k: float(v.sum()) for k, v in (("allocated_thb", allocated), ("disbursed_thb", disbursed),
                                               ("carried_over_thb", carry), ("lapsed_thb", lapsed),
                                               ("unfunded_thb", unfunded), ("returned_thb", returned))}
        # envelope = holders' money + unallocated (checked in model.unallocated)
        tot |= {"envelope_thb": float(m.envelopes_thb().sum()), "unallocated_thb": float(m.unallocated_thb)}
        this = np.flatnonzero((bk["year"] == y) & bk["selected"])  # the year's plan
        tot |= {"planned_benefit_thb": float(bk["potential"][this].sum()),
                "planned_thb": float(bk["cost"][this].sum())}
        allocated, disbursed, carry, lapsed, unfunded = (m.by_province(a) for a in
                                                         (allocated, disbursed, carry, lapsed, unfunded))
        steps = self._steps_frame(self.step_rows[-m.calendar.steps_per_year:])
        quarter = {}
        for q in range(1, 5):
            last = steps[steps["day"] <= q * YEAR_DAYS / 4 + 1e-9]
            last = last[last["step"] == last["step"].max()].set_index("province") if len(last) else None
            quarter[f"q{q}_disbursement_rate"] = (last["disbursement_rate"].reindex(m.iso).to_numpy()
                                                  if last is not None else np.zeros(n))
        final = steps[steps["step"] == steps["step"].max()].set_index("province").reindex(m.iso)
        dup_rows = touched[m._approved_duplicate(touched)]
        wasted = np.bincount(bk["province"][dup_rows].astype(int), weights=bk["disb_year"][dup_rows].astype(float), minlength=n)
        # the closing week is not in `steps` yet (it is recorded after close_year): take this year's
        # disbursement as of now, as the closing step's row will show it
        disb_p = self._province_figures(y)["disbursed"]
        alloc_p = allocated.astype(float)
        dl = [d for d in self.delays if d[1] == y]
        dprov = np.array([d[0] for d in dl], int)
        dday = np.array([d[2] for d in dl], float)
        cnt = np.bincount(dprov, minlength=n)
        mean_delay = np.divide(np.bincount(dprov, weights=dday, minlength=n), cnt, out=np.full(n, np.nan), where=cnt > 0)
        need_after = m.citizens.unmet_need()
        sat_after = m.citizens.mean_satisfaction()
        won = np.flatnonzero((bk["year"] == y) & np.isin(bk["state"], FUNDED))
        pd_ = project_delays(bk, won)
        wprov = bk["province"][won].astype(int)
        delays_p = {DELAYS[k]: _nanmean_by(wprov, pd_[k], n) for k in DELAYS}
        delays_n = {DELAYS[k]: _nanmean(pd_[k]) for k in DELAYS}
        rate = np.divide(disb_p, alloc_p, out=np.zeros(n), where=alloc_p > 0)
        met = np.zeros(n, bool)
        for c in m.clusters:
            for i, ok in c.targets_met(rate).items():
                met[i] = ok
        per_head = effective / np.maximum(m.population, 1.0)
        vfm = np.divide(effective, disb_p, out=np.full(n, np.nan), where=disb_p > 0)
        self._closing = {"lapsed_thb": lapsed.astype(float), "value_for_money": vfm,
                         "equity_gini": np.full(n, gini(per_head))}
        self.year_rows.append(pd.DataFrame(catalogue_row("sim_years", {"fiscal_year": fy, "province": m.iso}, {
            "allocated_thb": allocated, "disbursed_thb": disbursed,
            "carried_over_thb": carry, "lapsed_thb": lapsed, "unfunded_thb": unfunded,
            "effective_benefit_thb": effective,
            "value_for_money": vfm,
            "duplicates_approved": final["duplicates_approved"].to_numpy(),
            "duplicate_money_thb": final["duplicate_money_thb"].to_numpy(),
            "wasted_on_duplicates_thb": wasted,
            "mean_days_to_disbursement": final["mean_days_to_disbursement"].to_numpy(),
            "p90_days_to_disbursement": final["p90_days_to_disbursement"].to_numpy(),
            **quarter,
            "change_requests": cnt, "mean_change_approval_days": mean_delay, **delays_p,
            "unmet_need": need_after, "satisfaction": sat_after,
            "alignment_share": final["alignment_share"].to_numpy(),
            "plan_achievement": m.plan_achievement.copy(),
            "cluster_target_met": met,
        })))
        esc = m.bureau.escalation_days
        self.national_rows.append(catalogue_row("sim_national", {"fiscal_year": fy}, {
            **tot,
            "effective_benefit_thb": float(effective.sum()),
            "value_for_money": float(effective.sum() / max(tot["disbursed_thb"], 1)),
            "duplicates_approved": int(final["duplicates_approved"].sum()),
            "duplicate_money_thb": float(final["duplicate_money_thb"].sum()),
            "wasted_on_duplicates_thb": float(wasted.sum()),
            "mean_days_to_disbursement": float(np.nanmean(final["mean_days_to_disbursement"])) if final["mean_days_to_disbursement"].notna().any() else np.nan,
            "mean_change_approval_days": float(dday.mean()) if len(dday) else np.nan,
            "change_requests": int(len(dday)), **delays_n,
            "escalations": len(esc),
            # m1: ministries past the legal notification deadline; escalation outcomes this year
            "late_notifications": int((m.ministry_notify > m.scenario.simulation.notify_deadline_days).sum()),
            "escalations_resolved": sum(r for yy, r, _ in m.bureau.outcomes if yy == y),
            "escalations_failed": sum(f for yy, _, f in m.bureau.outcomes if yy == y),
            "equity_gini_per_capita_benefit": gini(per_head),
            "plan_achievement": float(np.average(m.plan_achievement, weights=m.population)),
            "cluster_targets_met_share": float(met.mean()),
            "unmet_need": float(np.average(need_after, weights=m.population)),
            "satisfaction": float(np.average(sat_after, weights=m.population)),
        }))

    # --- after the run ----------------------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        delays = pd.DataFrame(self.delays, columns=["province", "year", "days", "delegated"])
        if len(delays):
            delays["province"] = [self.m.iso[i] for i in delays["province"]]
            delays["fiscal_year"] = self.m.scenario.first_fiscal_year + delays.pop("year")
        return {
            "sim_steps": self._steps_frame(self.step_rows),
            "sim_years": pd.concat(self.year_rows, ignore_index=True) if self.year_rows else pd.DataFrame(),
            "sim_ledger": pd.concat(self.ledger_rows, ignore_index=True) if self.ledger_rows else pd.DataFrame(),
            "sim_national": pd.DataFrame(self.national_rows),
            "sim_change_delays": delays,
        }
