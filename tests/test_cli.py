"""The CLI end to end: run writes a complete, atomic result folder; help everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from allocsim.cli import main
from tests.conftest import write


def test_run_writes_manifest_and_inputs(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "res"
    assert main(["run", str(small), "--out", str(out), "--seed", "11"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 11 and m["status"] == "ok" and m["scenario"] == "small"
    assert len(m["scenario_hash"]) == 64
    assert {"pyomo", "highspy", "mesa", "pandas"} <= set(m["dependencies"])
    assert m["allocsim"] and m["started"] and m["finished"]
    projects = pd.read_csv(out / "inputs" / "projects.csv")
    assert len(projects) == m["projects"]["count"] > 0
    assert len(pd.read_csv(out / "inputs" / "provinces.csv")) == 77
    assert json.loads((out / "scenario.json").read_text())["seed"] == 11
    assert not list(tmp_path.glob(".*partial"))  # no staging folder left behind


def test_same_seed_same_result_bytes(tmp_path: Path, small: Path) -> None:
    for name in ("a", "b"):
        assert main(["run", str(small), "--out", str(tmp_path / name)]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) >= 10
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_existing_result_folder_is_never_overwritten_silently(tmp_path: Path, small: Path, capsys) -> None:
    out = tmp_path / "res"
    out.mkdir()
    write(out / "precious.txt", "earlier result")
    assert main(["run", str(small), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "precious.txt").read_text() == "earlier result"
    assert main(["run", str(small), "--out", str(out), "--overwrite"]) == 0
    assert (out / "manifest.json").exists() and not (out / "precious.txt").exists()


def test_failed_run_leaves_no_folder_and_keeps_earlier(tmp_path: Path, scenario_dir: Path, small: Path, capsys) -> None:
    out = tmp_path / "res"
    assert main(["run", str(small), "--out", str(out)]) == 0
    before = (out / "manifest.json").read_bytes()
    # a scenario whose project file is broken fails after validation, while building inputs
    write(scenario_dir / "p.csv", "project_id,benefit,cost:x\nA,-1,1\n")
    write(scenario_dir / "r.csv", "resource,capacity\nx,1\n")
    write(scenario_dir / "f.toml", 'extends = "baseline.toml"\nname = "f"\n[projects]\nsource = "file"\n'
          'projects_file = "p.csv"\nresources_file = "r.csv"\n')
    assert main(["run", str(scenario_dir / "f.toml"), "--out", str(out), "--overwrite"]) == 2
    assert "row 2.benefit" in capsys.readouterr().err
    assert (out / "manifest.json").read_bytes() == before
    assert main(["run", str(scenario_dir / "f.toml"), "--out", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()
    assert not list(tmp_path.glob(".*partial"))


def test_run_with_user_project_files(scenario_dir: Path, small: Path, tmp_path: Path) -> None:
    write(scenario_dir / "p.csv", "project_id,benefit,cost:province_budget,province\nA,3,2,TH-50\nB,1,1,TH-57\n")
    write(scenario_dir / "r.csv", "resource,capacity\nprovince_budget,2\n")
    write(scenario_dir / "f.toml", 'extends = "small.toml"\nname = "f"\n[projects]\nsource = "file"\n'
          'projects_file = "p.csv"\nresources_file = "r.csv"\n')
    assert main(["run", str(scenario_dir / "f.toml"), "--out", str(tmp_path / "o")]) == 0
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["projects"] == {"source": "file", "count": 2, "resources": 1}


def test_data_and_levers_commands(capsys) -> None:
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "76 provinces + Bangkok" in out and "18 province clusters" in out and "7,852" in out
    assert main(["data", "--cluster-map", "2009"]) == 0
    assert "central_middle_2009" in capsys.readouterr().out
    assert main(["levers"]) == 0
    assert "single_gateway" in capsys.readouterr().out


@pytest.mark.parametrize("sub", [[], ["validate"], ["run"], ["data"], ["levers"]])
def test_help_everywhere(sub: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as ei:
        main([*sub, "--help"])
    assert ei.value.code == 0
    assert "usage: allocsim" in capsys.readouterr().out


def test_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path / "x.toml", "seed = 'x'\n")
    exe = Path(sys.executable).with_name("allocsim")
    res = subprocess.run([str(exe), "validate", str(bad)], capture_output=True, text=True, check=False)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and f"{bad}: seed:" in res.stderr
