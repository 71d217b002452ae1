"""Why money goes unfunded: every unfunded proposal carries the reason it was not funded."""

from __future__ import annotations

from functools import cache

import numpy as np

from allocsim.scenario import load_scenario
from allocsim.simulate import BudgetModel
from allocsim.simulate import book as B
from tests.conftest import SCENARIOS

BASE = load_scenario(SCENARIOS / "baseline.toml")
NOT_FUNDED = {B.REJECTED_DUPLICATE: {"duplicate_rejected"}, B.REJECTED_RULE: {"rule_rejected"},
              B.UNFUNDED: {"no_money", "no_cofunding", "not_selected"}}


@cache
def run(seed: int = 3, years: int = 2) -> BudgetModel:
    m = BudgetModel(BASE, seed=seed, years=years, citizens_per_province=30)
    m.run()
    return m


def money_left_oracle(m: BudgetModel, j: int) -> int:
    """The holder's money left when proposal ``j`` was decided, rebuilt from the book: the
    year's allocation less its committed tranches less every project of that holder and year
    funded by an earlier decision (not the running balance Province.fund keeps)."""
    bk, y = m.book, int(m.book["year"][j])
    h = m.holders(np.array([j]))[0]
    same = np.flatnonzero((bk["year"] == y) & (m.holders(np.arange(len(bk))) == h))
    won = same[~np.isin(bk["state"][same], (B.PROPOSED, *NOT_FUNDED))]
    money = int(m.money_rows[y][1][h])
    committed = int(bk["cost"][same[bk["committed"][same]]].sum())
    earlier = won[~bk["committed"][won] & (bk["decided_seq"][won] < bk["decided_seq"][j])]
    return money - committed - int(bk["cost"][earlier].sum())


def test_every_unfunded_proposal_has_its_reason_and_funded_ones_none() -> None:
    m = run()
    p = m.tables()["sim_projects"]
    state = m.book["state"]
    for s, reasons in NOT_FUNDED.items():
        got = set(p.loc[state == s, "not_funded_reason"])
        assert got <= reasons, (s, got)  # never "" (no reason) for a proposal not funded
    assert {"duplicate_rejected", "no_money", "no_cofunding"} <= set(p["not_funded_reason"])
    assert (p.loc[p["funded"], "not_funded_reason"] == "").all()


def test_no_money_means_cost_above_the_holders_money_left_and_no_cofunding_means_it_fitted() -> None:
    m = run()
    bk = m.book
    reason = bk["reason"]
    poor = np.flatnonzero(reason == B.R_NO_MONEY)
    short = np.flatnonzero(reason == B.R_NO_COFUNDING)
    assert len(poor) > 50
    for j in poor:
        left = money_left_oracle(m, int(j))
        assert bk["cost"][j] > left and bk["money_left"][j] == left, j
    for j in short:  # it would have fitted the holder's money: only co-funding stopped it
        left = money_left_oracle(m, int(j))
        assert bk["cost"][j] <= left and bk["cofund_share"][j] > 0, j


class NoCofunding(BudgetModel):
    """A toy world where local governments offer no co-funding at all."""

    def local_cofunding_thb(self) -> np.ndarray:
        return np.zeros(self.n_provinces)


def test_zero_cofunding_leaves_local_grant_proposals_unfunded_for_cofunding() -> None:
    m = NoCofunding(BASE, seed=3, years=1, citizens_per_province=30)
    m.run()
    bk = m.book
    lg = (bk["channel"] == B.CHANNELS.index("local_grant")) & (bk["cofund_share"] > 0) \
        & ~bk["committed"] & ~np.isnan(bk["money_left"])
    fits = lg & (bk["cost"] <= bk["money_left"])
    assert fits.sum() > 10
    assert (bk["reason"][fits] == B.R_NO_COFUNDING).all()
    assert not np.isin(bk["state"][lg], B.ACTIVE + (B.DONE, B.CANCELLED, B.LAPSED)).any()
    nat = m.tables()["plan_vs_delivery"].iloc[0]
    assert nat["area"] == "national" and nat["unfunded_cofunding_thb"] > 0


def test_committed_rows_above_an_envelope_are_a_clear_cli_error(scenario_dir, tmp_path) -> None:
    """A user's committed rows costing more than a source's envelope: exit 2, one line naming
    the file, the field, the source, both totals and the rows, and no traceback."""
    import subprocess
    import sys

    from tests.conftest import SMALL, write

    write(scenario_dir / "small.toml", SMALL)
    env = BASE.allocation.envelope_mthb["province_budget"]
    big = env * 0.6  # two committed rows: each fits, together they exceed the envelope
    write(scenario_dir / "p.csv", "project_id,benefit,cost:province_budget,province,committed\n"
          f"A,3,{big},TH-50,true\nB,1,{big},TH-57,true\nC,1,1,TH-57,false\n")
    write(scenario_dir / "r.csv", f"resource,capacity\nprovince_budget,{env}\n")
    f = write(scenario_dir / "f.toml", 'extends = "small.toml"\nname = "f"\n[projects]\nsource = "file"\n'
              'projects_file = "p.csv"\nresources_file = "r.csv"\n')
    r = subprocess.run([sys.executable, "-m", "allocsim", "run", str(f), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr + r.stdout
    err = r.stderr
    assert "projects.csv: committed:" in err and "province_budget" in err and "A, B" in err, err
    assert f"{2 * big:,.6g}" in err and f"{env:,.6g}" in err, err


def test_money_carried_beyond_the_horizon_is_reported_and_equals_the_unfinished_projects() -> None:
    """At the end of the run the money carried out of the last year is exactly what the projects
    still running owe (allocated − disbursed of those in procurement or executing), and the
    provinces' rows (own holders + cluster money spent in them) add up to the national row."""
    m = run()
    t = m.tables()
    p, pvd = t["sim_projects"], t["plan_vs_delivery"]
    live = p[p["final_state"].isin(["procurement", "executing"])]
    owed = int((live["allocated_thb"] - live["disbursed_thb"]).sum())
    nat = pvd[pvd["area"] == "national"].iloc[0]
    assert owed > 0 and nat["carried_out_at_horizon_thb"] == owed
    assert pvd.loc[pvd["area"] != "national", "carried_out_at_horizon_thb"].sum() == owed
    # unfunded money with holders whose proposals failed only on co-funding: part of unfunded
    assert 0 < nat["unfunded_cofunding_thb"] <= nat["unfunded_thb"]


def test_report_states_money_beyond_the_horizon_and_no_longer_blames_missing_proposals(
        small, tmp_path) -> None:
    """The report's plan-vs-delivery opening prints the money carried out of the last year (the
    national row's figure) and unfunded money is no longer called 'no eligible proposal'."""
    import pandas as pd

    from allocsim.cli import main

    assert main(["run", str(small), "--out", str(tmp_path / "o")]) == 0
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    pvd = pd.read_csv(tmp_path / "o" / "plan_vs_delivery.csv")
    hor = pvd.loc[pvd["area"] == "national", "carried_out_at_horizon_thb"].iat[0]
    assert f"{hor / 1e6:,.0f} M THB was still carried over at the end of the last year" in html
    assert "no eligible proposal" not in html
    assert "not_funded_reason" in pd.read_csv(tmp_path / "o" / "sim_projects.csv").columns
