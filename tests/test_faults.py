"""Faults leave earlier results intact and say what happened: full disk, Ctrl-C, a dying worker,
unbounded models, broken invariants."""

from __future__ import annotations

import errno
from pathlib import Path

import pyomo.environ as pyo
import pytest

from allocsim.cli import main
from allocsim.errors import RunError
from allocsim.experiments.batch import Batch, scenario_task
from allocsim.experiments.seeds import replicate_seeds
from allocsim.optimise.solve import SolveOptions, Solver
from allocsim.scenario import load_scenario
from tests import faulty


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def earlier(small: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "res"
    assert main(["run", str(small), "--out", str(out)]) == 0
    return out, snapshot(out)


def test_full_disk_keeps_earlier_results(earlier, small: Path, monkeypatch, capsys) -> None:
    out, before = earlier
    import allocsim.store as store

    real = store.atomic_write_bytes
    calls = {"n": 0}

    def flaky(data: bytes, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(data, path)

    monkeypatch.setattr(store, "atomic_write_bytes", flaky)
    assert main(["run", str(small), "--out", str(out), "--overwrite"]) == 3
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".res")]  # no staging left


def test_ctrl_c_keeps_earlier_results(earlier, small: Path, monkeypatch, capsys) -> None:
    out, before = earlier
    import allocsim.experiments.run as run

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "run_world", interrupted)
    assert main(["run", str(small), "--out", str(out), "--overwrite"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert snapshot(out) == before
    assert main(["run", str(small), "--out", str(out.parent / "new")]) == 130
    assert not (out.parent / "new").exists()


def test_broken_invariant_stops_the_run(small: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    import allocsim.simulate.model as model

    def broken(m):
        raise model.InvariantError("plausibility check failed: needs stay within [0, 1]")

    monkeypatch.setattr(model, "check_invariants", broken)
    assert main(["run", str(small), "--out", str(tmp_path / "x")]) == 3
    assert "needs stay within [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_dying_worker_mid_sweep_then_resume(small: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    sc = load_scenario(small).updated({"description": str(marker)})
    tasks = [scenario_task(sc, s, k) for k, s in enumerate(replicate_seeds(sc.seed, 6))]
    folder = tmp_path / "batch"
    with pytest.raises(RunError, match="worker process died"):
        Batch(tasks, folder).run(faulty.dies_once, workers=2, progress=False)
    kept = len(list((folder / "runs").glob("*.json")))
    assert kept < 6
    marker.write_text("ok")
    results = Batch(tasks, folder).run(faulty.dies_once, workers=2, progress=False)
    assert [r["index"] for r in results] == list(range(6))
    assert len(list((folder / "runs").glob("*.json"))) == 6


def test_unbounded_model_is_reported_not_solved() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.NonNegativeReals)
    m.o = pyo.Objective(expr=m.x, sense=pyo.maximize)
    st = Solver(SolveOptions(0.0, 10)).solve(m)
    assert st.status in ("unbounded", "infeasible_or_unbounded")
    assert not st.has_solution and st.objective is None and "NO SOLUTION" in st.label()


def test_same_results_bytes_on_one_and_two_processes(small: Path, tmp_path: Path) -> None:
    b = small.parent / "b.toml"
    b.write_text('extends = "small.toml"\nname = "b"\n[simulation]\ncitizens_per_province = 10\n')
    g = small.parent / "g.toml"
    g.write_text('extends = "b.toml"\nname = "g"\n[levers]\nsingle_gateway = true\n')
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["compare", str(b), str(g), "--replicates", "3", "--out", str(out), "--workers", workers, "--quiet"]) == 0
        outs.append(out)
    for name in ("comparison.csv", "comparison_provinces.csv", "summary.csv", "replicates.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
