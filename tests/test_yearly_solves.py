"""Issue 11 review (g2): under the ``optimal`` rule every simulated year's LP/MILP status is shown
(summary, report, solver.json, manifest), FY1 is solved once, and ``sweep`` writes a full folder."""

from __future__ import annotations

import json
from dataclasses import replace

from allocsim.scenario import load_scenario
from tests.conftest import write

OPT2 = ('extends = "baseline.toml"\nname = "opt2"\n[catalogue]\nprojects_per_province = 4\n'
        'projects_per_cluster = 1\noversubscription = 0\n[levers]\nallocation_rule = "optimal"\n'
        "[simulation]\nyears = 2\ncitizens_per_province = 10\n")


def _track_year(monkeypatch) -> dict:
    """Wrap the chain's per-year optimiser so a patched solver can tell which year (0-based) it is
    solving: returns the dict whose "y" is set during each year's ``World._optimal``."""
    from allocsim.simulate.world import World

    year = {"y": None}
    real_optimal = World._optimal

    def optimal(self, y, fy, table):
        year["y"] = y
        try:
            return real_optimal(self, y, fy, table)
        finally:
            year["y"] = None

    monkeypatch.setattr(World, "_optimal", optimal)
    return year


def _time_limit_in_year_two(monkeypatch) -> dict:
    """Make the chain's year-2 portfolio MILP report a time limit (gap 0.05), as HiGHS would."""
    import allocsim.optimise as optimise

    year = _track_year(monkeypatch)
    real_select = optimise.select_portfolio

    def select(*a, **k):
        res = real_select(*a, **k)
        if year["y"] == 1:
            res = replace(res, status=replace(res.status, status="time_limit", gap=0.05))
        return res

    monkeypatch.setattr(optimise, "select_portfolio", select)
    return year


def test_a_time_limited_year_two_is_reported_not_optimal_everywhere(scenario_dir, tmp_path, monkeypatch) -> None:
    from allocsim.experiments.run import run_scenario

    _time_limit_in_year_two(monkeypatch)
    sc = load_scenario(write(scenario_dir / "opt2.toml", OPT2))
    out = tmp_path / "run"
    r = run_scenario(sc, out)
    fy2 = sc.first_fiscal_year + 1
    years = {y["fiscal_year"]: y for y in r.solver_years}
    assert set(years) == {sc.first_fiscal_year, fy2}
    assert years[sc.first_fiscal_year]["verdict"] == "optimal"
    assert years[fy2]["verdict"].startswith("NOT OPTIMAL") and "time_limit" in years[fy2]["verdict"]
    assert years[fy2]["selection_gap"] == 0.05  # the gap as the solver gave it

    lines = "\n".join(r.summary_lines())
    assert f"FY{fy2}: NOT OPTIMAL" in lines and f"FY{sc.first_fiscal_year}: optimal" in lines
    solver = json.loads((out / "solver.json").read_text())
    assert {y["fiscal_year"]: y["selection_status"] for y in solver["yearly"]} == {
        sc.first_fiscal_year: "optimal", fy2: "time_limit"}
    man = json.loads((out / "manifest.json").read_text())
    assert [y["verdict"].split(" ")[0] for y in man["solver"]["yearly"]] == ["optimal", "NOT"]
    html = (out / "report.html").read_text()
    assert f"FY{fy2}: <b>NOT OPTIMAL (" in html
    # sim_allocation's selection column never calls the time-limited MILP an optimal selection
    sa = r.tables["sim_allocation"]
    sel2 = set(sa.loc[sa["fiscal_year"] == fy2, "selection"])
    assert sel2 and all("NOT OPTIMAL (time_limit" in s for s in sel2)
    assert set(sa.loc[sa["fiscal_year"] == sc.first_fiscal_year, "selection"]) == {"portfolio MILP"}


def test_a_fallback_year_is_named_in_the_summary(scenario_dir, monkeypatch) -> None:
    import allocsim.optimise.allocation as allocation
    from allocsim.experiments.run import run_scenario

    year = _track_year(monkeypatch)
    real_solve = allocation.solve_allocation

    def solve(*a, **k):  # year 2's LP finds no solution (as an infeasible LP would)
        res = real_solve(*a, **k)
        if year["y"] == 1:
            res = replace(res, total_benefit=None, conflicts=["forced in a test"],
                          status=replace(res.status, status="infeasible", gap=None))
        return res

    monkeypatch.setattr(allocation, "solve_allocation", solve)
    sc = load_scenario(write(scenario_dir / "opt2.toml", OPT2))
    r = run_scenario(sc)
    fy2 = sc.first_fiscal_year + 1
    v = {y["fiscal_year"]: y["verdict"] for y in r.solver_years}
    assert v[sc.first_fiscal_year] == "optimal"
    assert v[fy2].startswith("FALLBACK (allocation LP infeasible") and "'need'" in v[fy2]
    assert f"FY{fy2}: FALLBACK" in "\n".join(r.summary_lines())


OPT1 = OPT2.replace("years = 2", "years = 1").replace('"opt2"', '"opt1"')


def test_optimal_solves_fy1_once_and_still_reconciles(scenario_dir, monkeypatch) -> None:
    """FY1's portfolio MILP is solved by the chain only; the run writes that solution, which
    ``reconcile_engines`` (run inside ``run_scenario``) checks against the simulation's book."""
    import allocsim.optimise as optimise
    from allocsim.experiments.run import reconcile_engines, run_scenario

    calls = []
    real = optimise.select_portfolio

    def counted(data, params, **k):
        calls.append(params.quota_rule)
        return real(data, params, **k)

    monkeypatch.setattr(optimise, "select_portfolio", counted)
    sc = load_scenario(write(scenario_dir / "opt1.toml", OPT1))
    r = run_scenario(sc)
    # one quota-restricted ("allocation LP") solve for FY1; the other call is the reference optimum
    # under national envelopes only (quota_rule "optimal"), a different problem
    assert calls.count("allocation LP") == 1, calls
    assert r.optimisation.portfolio.status.status == r.solver_years[0]["selection_status"]
    chosen = set(r.tables["portfolio"].loc[r.tables["portfolio"]["selected"], "project_id"])
    sim = r.tables["sim_projects"]
    assert chosen and chosen == set(sim.loc[sim["selected"], "project_id"])
    # reconciling stays meaningful: a corrupted written portfolio is still caught
    from allocsim.errors import RunError
    from allocsim.experiments.loop import run_world
    from allocsim.experiments.run import build_inputs
    from allocsim.experiments.seeds import loop_seed

    _, model = run_world(sc, build_inputs(sc)[1], loop_seed(sc.seed))
    port = r.tables["portfolio"].copy()
    j = int(port["selected"].to_numpy().nonzero()[0][0])
    port.loc[port.index[j], "selected"] = False
    import pytest

    with pytest.raises(RunError, match=str(port["project_id"].iat[j])):
        reconcile_engines(r.tables | {"portfolio": port}, model)


SWEEP = ('extends = "small.toml"\nname = "sw"\n[simulation]\nyears = 1\ncitizens_per_province = 5\n'
         '[experiments]\nreplicates = 1\n[experiments.sweep]\ndesign = "lhs"\nsamples = 2\n'
         '[experiments.sweep.parameters]\n"levers.data_sharing" = [0.0, 1.0]\n')


def test_sweep_api_and_cli_write_the_same_folder_with_manifest_and_report(scenario_dir, small, tmp_path) -> None:
    from allocsim.cli import main
    from allocsim.experiments import sweep

    f = write(scenario_dir / "sw.toml", SWEEP)
    api, cli = tmp_path / "api", tmp_path / "cli"
    sweep(load_scenario(f), workers=1, progress=False, out=api)
    assert main(["sweep", str(f), "--out", str(cli), "--workers", "1", "--quiet"]) == 0

    def files(d):
        return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file() and "runs" not in p.parts)

    assert files(api) == files(cli)
    assert {"manifest.json", "report.html", "sweep.csv", "sensitivity.csv"} <= set(files(api))
    man = json.loads((api / "manifest.json").read_text())
    assert man["command"] == "sweep" and man["status"] == "ok" and man["points"] == 2
    assert man["seeds"] == json.loads((cli / "manifest.json").read_text())["seeds"]
    html = (api / "report.html").read_text()
    assert "levers.data_sharing" in html and "2 parameter points" in html
    # charts the report shows are the files on disk
    assert list((api / "charts").glob("sensitivity_*.png"))
    for png in (api / "charts").glob("*.png"):
        assert f'title="{png.name}"' in html
