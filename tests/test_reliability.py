"""Provenance: the manifest says what produced a result, and `allocsim verify` re-runs it."""

from __future__ import annotations

import json
from pathlib import Path

from allocsim.cli import main


def test_manifest_records_provenance(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", str(small), "--out", str(out)]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["scenario_hash"]) == 64 and len(m["scenario_files"]) == 2  # small.toml + baseline.toml
    assert m["allocsim"] and "git_commit" in m and m["python"]
    assert {"pyomo", "highspy", "mesa", "numpy"} <= set(m["dependencies"])
    from allocsim.scenario.loader import load_scenario

    assert m["solver"]["portfolio"]["version"]
    assert m["solver"]["portfolio"]["mip_gap"] == load_scenario(small).solver.mip_gap  # the gap as run
    assert m["solver"]["portfolio"]["time_limit_s"] == 60.0
    assert m["seed"] == 20270101 and m["random_streams"] == ["catalogue", "simulation", "optimise"]
    assert m["started"] <= m["finished"] and m["status"] == "ok"


def test_verify_reproduces_and_detects_tampering(small: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert main(["run", str(small), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0
    assert "reproduces" in capsys.readouterr().out
    led = out / "sim_ledger.csv"
    text = led.read_text().splitlines()
    cells = text[1].split(",")
    cells[3] = str(int(cells[3]) + 1)  # one baht more disbursed than the run produced
    text[1] = ",".join(cells)
    led.write_text("\n".join(text) + "\n")
    assert main(["verify", str(out)]) == 1
    res = capsys.readouterr().out
    assert "sim_ledger.csv: differs" in res and "DOES NOT reproduce" in res


def test_verify_rejects_a_folder_that_is_not_a_result(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    assert "manifest.json: missing" in capsys.readouterr().err


def test_verify_explains_it_handles_run_folders(tmp_path: Path, capsys) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"command": "compare"}))
    assert main(["verify", str(tmp_path)]) == 2
    assert "verify re-runs `allocsim run` folders" in capsys.readouterr().err
