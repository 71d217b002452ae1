"""Measure what each shipped reform moves: ``compare`` baseline vs every ``scenarios/reform_*.toml``
at the shipped replicate count and read the paired differences against the lever catalogue's
``moves`` claims (``allocsim.experiments.reforms``).

    PYTHONPATH=src python scripts/reform_table.py --out results/reform_table [--n 10] [--workers 2]
        [--reforms delegated_changes single_gateway] [--set simulation.citizens_per_province=50]

Writes ``reform_effects.csv`` (one row per claim), ``differences.csv`` (every metric) and
``reform_effects.md`` (the README's table), and prints the markdown with the commit it ran on.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from allocsim.experiments.reforms import markdown_table, run_reform_effects, shipped_reforms

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    ap.add_argument("--reforms", nargs="*", help="reform names (reform_<name>.toml); default all")
    ap.add_argument("--n", type=int, default=None, help="replicates (default: compare's shipped count)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="dotted scenario field for every scenario, JSON value")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "reform_table")
    a = ap.parse_args(argv)
    files = shipped_reforms(a.scenarios)
    if a.reforms:
        want = {f"reform_{r}.toml" for r in a.reforms}
        unknown = want - {f.name for f in files}
        if unknown:
            print(f"unknown reform(s): {sorted(unknown)}; valid: "
                  f"{[f.stem.removeprefix('reform_') for f in files]}", file=sys.stderr)
            return 2
        files = [f for f in files if f.name in want]
    updates = {}
    for item in a.set:
        field, _, value = item.partition("=")
        try:
            updates[field] = json.loads(value)
        except json.JSONDecodeError:
            updates[field] = value
    commit = _commit()  # the code the runs use, read before they start
    effects, diffs = run_reform_effects(a.scenarios / "baseline.toml", files, a.n, workers=a.workers,
                                        progress=True, updates=updates or None)
    a.out.mkdir(parents=True, exist_ok=True)
    effects.to_csv(a.out / "reform_effects.csv", index=False)
    diffs.to_csv(a.out / "differences.csv", index=False)
    n = int(effects["n"].dropna().max()) if effects["n"].notna().any() else 0
    md = (f"Measured on commit {commit}, {n} paired replicates per reform"
          + (f", with {updates}" if updates else "") + ".\n\n" + markdown_table(effects) + "\n")
    (a.out / "reform_effects.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
