"""Year-end ledger: contract carry-over (กันเงินไว้เบิกเหลื่อมปี), lapse and the money identities."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from allocsim.scenario import load_scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate import book as B
from allocsim.simulate.calendar import YEAR_DAYS
from allocsim.simulate.world import PLAN_CHANNELS
from tests.conftest import SCENARIOS

BASE = load_scenario(SCENARIOS / "baseline.toml")


class Snapshot(BudgetModel):
    """Keeps a copy of the book as it stands just before the first year closes."""

    snap: dict[str, np.ndarray] | None = None
    released0: np.ndarray | None = None

    def close_year(self, year_end: float) -> None:
        if self.year == 0:
            self.snap = {k: v.copy() for k, v in self.book.cols.items()}
            self.released0 = self.released.copy()
        super().close_year(year_end)


@cache
def snapshot_run(days: int, seed: int = 3, rush_weeks: int | None = None) -> Snapshot:
    upd = {"contract_carryover_days": days} | ({} if rush_weeks is None else {"year_end_rush_weeks": rush_weeks})
    sc = BASE.model_copy(update={"simulation": BASE.simulation.model_copy(update=upd)})
    m = Snapshot(sc, seed=seed, years=2, citizens_per_province=20)
    m.run()
    return m


def _year_end_rows(m: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """(rows active at the first year end outside the multi-year commitment scope, of those the
    ones whose contract was signed: executing and not being cancelled), from the snapshot."""
    s = m.snap
    active = np.flatnonzero(np.isin(s["state"], B.ACTIVE))
    plan = np.isin(s["channel"][active], [B.CHANNELS.index(c) for c in PLAN_CHANNELS])
    scope = (s["years"][active] > 1) & ~s["cancel"][active] & (bool(m.levers.multi_year) | ~plan)
    rest = active[~scope]
    return rest, rest[(s["state"][rest] == B.EXECUTING) & ~s["cancel"][rest]]


@pytest.mark.parametrize("days", [0, 182])
def test_first_year_lapse_is_exactly_the_unfunded_released_and_uncarried_money(days: int) -> None:
    """Oracle from the book at year end: execution lapse = money released by cancellations +
    the remaining money of every active project outside the multi-year scope, less (with
    carry-over) that of contracted projects; with 0 days every such project lapses (the old rule)."""
    m = snapshot_run(days)
    s = m.snap
    rest, contracted = _year_end_rows(m)
    assert len(contracted) > 0
    rem = s["alloc"] - s["disb"]
    carried = contracted if days else contracted[:0]
    want = int(m.released0.sum()) + int(rem[rest].sum()) - int(rem[carried].sum())
    led = m.tables()["sim_ledger"]
    y0 = led[led["fiscal_year"] == BASE.first_fiscal_year]
    assert int(y0["lapsed_thb"].sum()) == want
    assert int(y0["unfunded_thb"].sum()) == int(y0["returned_thb"].sum()) - want
    final = m.book["state"]
    if days == 0:
        assert (final[rest] == B.LAPSED).all()
        assert (m.book["disb"][rest] == s["disb"][rest]).all()  # nothing paid after year end


@pytest.mark.parametrize("days", [28, 182])
def test_a_contracted_unpaid_project_is_paid_next_year_until_its_deadline(days: int) -> None:
    """Oracle: a contracted project carried over with no request in the new year pays its
    weekly rate in every week ending by year end + ``contract_carryover_days`` and nothing after:
    paid next year = min(remaining, rate × weeks before the deadline); the rest lapses (a short
    deadline leaves some unpaid; six months pays these projects in full)."""
    m = snapshot_run(days)
    s, bk = m.snap, m.book
    _, contracted = _year_end_rows(m)
    quiet = contracted[(s["pending"][contracted] == 0) & ~bk["cancel"][contracted]
                       & (np.nan_to_num(bk["request_day"][contracted], nan=-1)
                          == np.nan_to_num(s["request_day"][contracted], nan=-1))]
    assert len(quiet) > 10
    cal = m.calendar
    ends = [YEAR_DAYS + cal.step_window(t)[1] for t in range(cal.steps_per_year)]
    weeks = sum(1 for d1 in ends if d1 <= YEAR_DAYS + days)
    rem0 = s["alloc"][quiet] - s["disb"][quiet]
    paid = bk["disb"][quiet] - s["disb"][quiet]
    assert (rem0 > 0).all()
    np.testing.assert_array_equal(paid, np.minimum(rem0, bk["rate"][quiet] * weeks))
    unpaid = rem0 > bk["rate"][quiet] * weeks
    assert (~unpaid).any() and (unpaid.any() if days < 60 else True)
    assert (bk["state"][quiet[unpaid]] == B.LAPSED).all()
    assert (bk["state"][quiet[~unpaid]] == B.DONE).all()
    # the carried money enters the next year's ledger as carried in, per holder
    led = m.tables()["sim_ledger"]
    y0 = led[led["fiscal_year"] == BASE.first_fiscal_year].set_index("holder")
    y1 = led[led["fiscal_year"] == BASE.first_fiscal_year + 1].set_index("holder")
    assert (y1["carried_in_thb"] == y0["carried_over_thb"]).all()


def test_carry_over_lowers_lapse_and_raises_disbursement() -> None:
    """Property: letting contracted money be disbursed after year end never loses money: the
    run's execution lapse falls and its disbursement rises (same seed, same draws). The year-end
    rush is off in both runs: it reacts to the lapse rule itself (money at risk is paid faster),
    which would mix two mechanisms."""
    out = {}
    for days in (0, 182):
        led = snapshot_run(days, rush_weeks=0).tables()["sim_ledger"]
        out[days] = (led["lapsed_thb"].sum(), led["disbursed_thb"].sum())
    assert out[182][0] < out[0][0] and out[182][1] > out[0][1]


def test_plan_vs_delivery_balances_to_the_baht_per_row() -> None:
    """money + cluster money + carried in = unfunded + disbursed + carried out + lapsed, for the
    national row and every province (clusters' money spent in a province counted with it)."""
    pvd = snapshot_run(182).tables()["plan_vs_delivery"]
    lhs = pvd["money_thb"] + pvd["cluster_money_thb"] + pvd["carried_in_thb"]
    rhs = pvd["unfunded_thb"] + pvd["disbursed_thb"] + pvd["carried_over_thb"] + pvd["lapsed_thb"]
    assert (pvd[["money_thb", "cluster_money_thb", "carried_in_thb", "lapsed_thb"]].dtypes
            == np.int64).all()
    bad = pvd.loc[lhs != rhs, "area"].tolist()
    assert not bad, bad
    assert (pvd["carried_in_thb"] > 0).any()
    # a province's funded money never exceeds what it had on this basis
    prov = pvd[pvd["area"] != "national"]
    assert (prov["funded_thb"] <= prov["money_thb"] + prov["cluster_money_thb"]).all()
    # the provinces' rows add up to the national row: each cluster project's flows (computed
    # by province) sum to the cluster pots' ledger; only the pots' unfunded money is national
    nat = pvd[pvd["area"] == "national"].iloc[0]
    for col in ("money_thb", "carried_in_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb"):
        assert int(prov[col].sum()) == int(nat[col]), col
    assert int(nat["unfunded_thb"] - prov["unfunded_thb"].sum()) == int(
        nat["cluster_money_thb"] - prov["cluster_money_thb"].sum())


def test_delivered_benefit_is_one_number_in_every_table() -> None:
    """A stopped project's write-down is recorded in the year it stops, so the yearly tables,
    the national table, plan_vs_delivery and sim_projects report the same delivered benefit
    (the run has stopped projects, whose past benefit was written down)."""
    m = BudgetModel(BASE, seed=7, years=2, citizens_per_province=30)
    m.run()
    t = m.tables()
    p = t["sim_projects"]
    y2 = p[p["fiscal_year"] == BASE.first_fiscal_year + 1]
    stopped = set(y2.loc[(y2["tranche"] > 1) & ~y2["funded"], "project_id"])
    first = p[(p["fiscal_year"] == BASE.first_fiscal_year) & p["project_id"].isin(stopped)]
    assert len(first) > 0 and (first["disbursed_thb"] > 0).any()  # benefit was written down
    book = p["delivered_benefit_thb"].sum()
    nat = t["plan_vs_delivery"].set_index("area").loc["national", "delivered_benefit_thb"]
    assert t["sim_national"]["effective_benefit_thb"].sum() == pytest.approx(book, rel=1e-12)
    assert t["sim_years"]["effective_benefit_thb"].sum() == pytest.approx(book, rel=1e-12)
    assert nat == pytest.approx(book, rel=1e-12)
    prov = t["sim_years"].groupby("province")["effective_benefit_thb"].sum()
    pvd = t["plan_vs_delivery"].set_index("area")["delivered_benefit_thb"].drop("national")
    np.testing.assert_allclose(prov.reindex(pvd.index).to_numpy(), pvd.to_numpy(), rtol=1e-9, atol=1e-6)
