"""``allocsim verify DIR``: does a result folder reproduce?

Re-runs the scenario exactly as recorded (``scenario.json`` — inheritance already resolved — with
the recorded seed, stages and replicates) into a temporary folder and compares every CSV table
cell by cell. Columns that measure wall-clock time (``*seconds*``) are skipped; everything else
must be identical.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from allocsim.errors import Problem, UserError
from allocsim.experiments.run import run_scenario
from allocsim.scenario.loader import scenario_hash
from allocsim.scenario.schema import Scenario


def _read(folder: Path, name: str) -> dict:
    f = folder / name
    if not f.is_file():
        raise UserError(Problem(str(folder), name, "missing: not an allocsim result folder"))
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(Problem(str(f), name, f"not readable JSON ({exc})")) from None


def verify(folder: Path) -> tuple[bool, list[str]]:
    manifest = _read(folder, "manifest.json")
    if manifest.get("command") in ("compare", "sweep", "robust", "packages"):
        raise UserError(Problem(str(folder / "manifest.json"), "command", f"verify re-runs `allocsim run` folders; "
                                f"for a {manifest['command']} folder, run the same command into a new --out and "
                                "compare its CSV files (they are byte-identical for the same inputs)"))
    sc = Scenario.model_validate(_read(folder, "scenario.json"))
    if manifest.get("scenario_file"):
        sc._source = Path(manifest["scenario_file"])
    lines = []
    if scenario_hash(sc) != manifest.get("scenario_hash"):
        lines.append("scenario.json does not match the manifest's scenario hash (edited after the run?)")
    stages = manifest.get("stages", {"optimise": True, "simulate": True})
    reps = manifest.get("replicates", {}).get("n", 1)
    with tempfile.TemporaryDirectory() as tmp:
        again = Path(tmp) / "again"
        run_scenario(sc, again, optimise=stages["optimise"], simulate=stages["simulate"], replicates=reps, workers=1)
        old = sorted(p.relative_to(folder) for p in folder.rglob("*.csv") if "runs" not in p.parts)
        new = sorted(p.relative_to(again) for p in again.rglob("*.csv"))
        for rel in sorted(set(old) ^ set(new)):
            lines.append(f"{rel}: present in only one of the two runs")
        same = 0
        for rel in sorted(set(old) & set(new)):
            a, b = pd.read_csv(folder / rel), pd.read_csv(again / rel)
            keep = [c for c in a.columns if "seconds" not in c]
            if list(a.columns) != list(b.columns) or not a[keep].equals(b[keep]):
                lines.append(f"{rel}: differs")
            else:
                same += 1
        lines.insert(0, f"{same} of {len(old)} tables identical "
                        f"(allocsim {manifest.get('allocsim')} at commit {manifest.get('git_commit')} then; "
                        f"seed {manifest.get('seed')})")
    ok = same == len(old) and len(old) > 0 and len(lines) == 1
    return ok, lines
