"""Experiments: closed loop, common random numbers, CIs, executors, resume, SALib."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import allocsim
from allocsim.cli import main
from allocsim.experiments import compare, replicates, sweep
from allocsim.experiments.batch import confidence_interval
from allocsim.experiments.loop import run_loop
from allocsim.experiments.run import build_inputs
from allocsim.experiments.store import Task
from allocsim.scenario import load_scenario
from tests.conftest import write

TINY = """extends = "small.toml"
name = "{name}"
[simulation]
citizens_per_province = 10
{extra}
"""


def tiny(folder: Path, name: str, extra: str = "") -> Path:
    return write(folder / f"{name}.toml", TINY.format(name=name, extra=extra))


def test_closed_loop_reoptimises_every_year(scenario_dir: Path, small: Path) -> None:
    f = write(scenario_dir / "opt.toml", 'extends = "small.toml"\nname = "opt"\n[levers]\nallocation_rule = "optimal"\n'
              "[simulation]\nyears = 2\ncitizens_per_province = 10\n")
    sc = load_scenario(f)
    geo, table = build_inputs(sc)
    t = run_loop(sc, geo, table, seed=1)
    loop = t["loop_allocation"]
    assert len(loop) == 2 and (loop["allocation_status"] == "optimal").all()
    assert (loop["selection"] == "portfolio MILP").all()
    # the simulation funded exactly the MILP's selection (no unselected project is funded)
    p = t["sim_projects"]
    assert not (p["funded"] & ~p["selected"]).any() and p["funded"].sum() > 0
    # the optimiser's shares, not a formula, set the budgets: they differ from the need rule's
    need = load_scenario(f).model_copy(update={"levers": sc.levers.model_copy(update={"allocation_rule": "need"})})
    t2 = run_loop(need, geo, table, seed=1)
    assert not t["sim_ledger"]["allocated_thb"].equals(t2["sim_ledger"]["allocated_thb"])


def test_noop_reform_shows_exactly_zero_difference(scenario_dir: Path, small: Path) -> None:
    base = load_scenario(tiny(scenario_dir, "tbase"))
    same = load_scenario(tiny(scenario_dir, "tsame"))  # identical content, another name
    res = compare(base, [same], 3, workers=1, progress=False)
    d = res.differences
    assert len(d) > 10
    assert (d["difference"].fillna(0) == 0).all()
    assert (d["better"].isin(["no change"]) | d["difference"].isna()).all()
    assert (res.provinces["difference"].fillna(0) == 0).all()


def test_confidence_intervals_shrink_with_more_replicates(scenario_dir: Path, small: Path) -> None:
    sc = load_scenario(tiny(scenario_dir, "ci"))
    few = replicates(sc, 3, workers=1, progress=False).summary.set_index("metric")
    many = replicates(sc, 12, workers=1, progress=False).summary.set_index("metric")
    m = "effective_benefit_thb"
    width = lambda s: s.loc[m, "ci_high"] - s.loc[m, "ci_low"]  # noqa: E731
    assert width(many) < width(few)
    assert few.loc[m, "ci_low"] <= few.loc[m, "mean"] <= few.loc[m, "ci_high"]
    # a CI computed by hand for the same numbers
    mean, lo, hi = confidence_interval(np.array([1.0, 2.0, 3.0]), 0.95)
    assert (mean, round(lo, 4), round(hi, 4)) == (2.0, round(2 - 4.302653 / np.sqrt(3), 4), round(2 + 4.302653 / np.sqrt(3), 4))


def test_same_results_on_one_process_two_processes_and_dask(scenario_dir: Path, small: Path) -> None:
    from dask.distributed import LocalCluster

    sc = load_scenario(tiny(scenario_dir, "exe"))
    one = replicates(sc, 4, workers=1, progress=False).table
    two = replicates(sc, 4, workers=2, progress=False).table
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dsk = replicates(sc, 4, scheduler=cluster.scheduler_address, progress=False).table
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(one, dsk)
    assert one["seed"].nunique() == 4
    # byte-identical tables whatever the executor
    assert one.to_csv(index=False) == two.to_csv(index=False) == dsk.to_csv(index=False)


SWEEP = """
[experiments.sweep]
design = "lhs"
samples = 6
[experiments.sweep.parameters]
"levers.data_sharing" = [0.0, 1.0]
"simulation.central_service_days" = [0.5, 2.0]
"""


def test_kill_and_resume_gives_the_same_table(scenario_dir: Path, small: Path, tmp_path: Path) -> None:
    f = tiny(scenario_dir, "sw", SWEEP)
    exe = str(Path(sys.executable).with_name("allocsim"))
    full = tmp_path / "full"
    assert main(["sweep", str(f), "--out", str(full), "--workers", "1", "--quiet"]) == 0
    part = tmp_path / "part"
    proc = subprocess.Popen([exe, "sweep", str(f), "--out", str(part), "--workers", "1", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((part / "runs").glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((part / "runs").glob("*.json")))
    assert 2 <= done < 6, done  # really interrupted mid-way
    assert not (part / "sweep.csv").exists()
    assert main(["sweep", str(f), "--out", str(part), "--workers", "1", "--quiet"]) == 0
    assert (part / "sweep.csv").read_bytes() == (full / "sweep.csv").read_bytes()
    # a different batch in the same folder is refused, the finished runs stay
    other = tiny(scenario_dir, "sw2", SWEEP.replace("samples = 6", "samples = 3"))
    assert main(["sweep", str(other), "--out", str(part), "--workers", "1", "--quiet"]) == 2
    assert len(list((part / "runs").glob("*.json"))) == 6


def toy(task: Task) -> dict:
    """Additive toy model with a known ranking: y = 10 a + 3 b + 0.5 c (+ nothing from d)."""
    p = task.params
    y = 10 * p["levers.data_sharing"] + 3 * p["levers.participation"] + 0.5 * p["rules.alignment_threshold"]
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed, "params": p,
            "national": {"y": y}, "provinces": {}}


@pytest.mark.parametrize(("design", "index"), [("morris", "mu_star"), ("sobol", "ST"), ("lhs", "delta")])
def test_salib_ranks_parameters_of_an_additive_function(design: str, index: str, scenario_dir: Path, small: Path) -> None:
    samples = {"morris": 20, "sobol": 256, "lhs": 400}[design]
    f = tiny(scenario_dir, f"toy_{design}", f"""
[experiments.sweep]
design = "{design}"
samples = {samples}
metrics = ["y"]
[experiments.sweep.parameters]
"levers.data_sharing" = [0.0, 1.0]
"levers.participation" = [0.0, 1.0]
"rules.alignment_threshold" = [0.0, 1.0]
"simulation.central_service_days" = [0.5, 2.0]
""")
    res = sweep(load_scenario(f), workers=1, progress=False, evaluate=toy)
    idx = res.indices[res.indices["index"] == index].set_index("parameter")["value"]
    order = idx.sort_values(ascending=False).index.tolist()
    assert order[:3] == ["levers.data_sharing", "levers.participation", "rules.alignment_threshold"]
    assert order[-1] == "simulation.central_service_days"  # no effect: ranked last
    if design != "lhs":  # delta has a small positive bias for a parameter without effect
        assert idx["simulation.central_service_days"] < 0.1 * idx["levers.data_sharing"]
    assert len(res.table) == res.table["point"].nunique()


def test_grid_design_and_bad_sweep_fields(scenario_dir: Path, small: Path, capsys) -> None:
    f = tiny(scenario_dir, "grid", """
[experiments.sweep]
design = "grid"
samples = 2
[experiments.sweep.parameters]
"levers.single_gateway" = [false, true]
"levers.data_sharing" = [0.2, 0.8]
""")
    res = sweep(load_scenario(f), workers=1, progress=False, evaluate=toy_grid)
    assert len(res.table) == 4
    assert sorted(map(tuple, res.table[["levers.single_gateway", "levers.data_sharing"]].to_numpy().tolist())) == \
        [(False, 0.2), (False, 0.8), (True, 0.2), (True, 0.8)]
    bad = tiny(scenario_dir, "badsweep", '[experiments.sweep]\ndesign = "lhs"\n[experiments.sweep.parameters]\n"levers.nope" = [0, 1]\n')
    assert main(["sweep", str(bad), "--out", str(scenario_dir / "o"), "--quiet"]) == 2
    assert "experiments.sweep.parameters.levers.nope: no such scenario field" in capsys.readouterr().err


def toy_grid(task: Task) -> dict:
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed, "params": task.params,
            "national": {"y": float(task.params["levers.data_sharing"])}, "provinces": {}}


def test_compare_cli_and_python_api(scenario_dir: Path, small: Path, tmp_path: Path, capsys) -> None:
    b = tiny(scenario_dir, "cb")
    r = tiny(scenario_dir, "cr", "[levers]\ndelegated_changes = true\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(b), str(r), "--replicates", "2", "--out", str(out), "--workers", "1", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "mean_change_approval_days" in text and "common random numbers" in text
    comp = pd.read_csv(out / "comparison.csv")
    assert set(comp["scenario"]) == {"cr"} and {"difference", "ci_low", "ci_high"} <= set(comp.columns)
    assert len(pd.read_csv(out / "comparison_provinces.csv")) > 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["replicates"] == 2 and m["status"] == "ok"
    api = allocsim.compare(str(b), str(r), replicates=2, workers=1)
    pd.testing.assert_frame_equal(api.differences.reset_index(drop=True), comp, check_dtype=False)


def test_run_with_replicates_writes_summary(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert main(["run", str(small), "--out", str(out), "--replicates", "3", "--workers", "1"]) == 0
    s = pd.read_csv(out / "summary.csv")
    assert (s["n"] == 3).all() and {"mean", "ci_low", "ci_high"} <= set(s.columns)
    assert json.loads((out / "manifest.json").read_text())["replicates"]["n"] == 3
