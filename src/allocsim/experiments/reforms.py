"""Does each shipped reform move what its mechanism says? (issue 12, Done-when)

The claims come from one place, the lever catalogue's ``moves`` (``scenario/levers.py``): a
reform file ``scenarios/reform_<reform>.toml`` is expected to move each listed headline metric in
the listed direction. :func:`reform_effects` reads a ``compare`` result's paired differences
(reform − baseline on common seeds) against those claims; :func:`run_reform_effects` runs the
comparison at the shipped replicate count; ``scripts/reform_table.py`` writes the table the
README's lever table quotes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allocsim.scenario.levers import LEVERS

DIRECTIONS = ("up", "down")
#: what the comparison says about one claim
VERDICTS = ("confirmed", "opposite", "not significant", "no claim", "not measured")


def expected_moves() -> dict[str, tuple[tuple[str, str], ...]]:
    """Scenario name (``reform_<reform>``) → the (metric, direction) pairs its lever claims."""
    return {f"reform_{lv.reform}": lv.moves for lv in LEVERS}


def lever_of(scenario: str) -> str:
    """The catalogue lever whose shipped reform file is ``scenario`` ("" if none is)."""
    return next((lv.field for lv in LEVERS if f"reform_{lv.reform}" == scenario), "")


def _verdict(direction: str, lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not significant"
    if lo > 0 or hi < 0:
        return "confirmed" if (lo > 0) == (direction == "up") else "opposite"
    return "not significant"


def reform_effects(differences: pd.DataFrame,
                   expected: dict[str, tuple[tuple[str, str], ...]] | None = None) -> pd.DataFrame:
    """One row per (reform, claimed metric): the measured paired difference and its CI from a
    ``compare`` result's ``differences`` table, whether the CI excludes zero, whether the sign is
    the expected one, and the verdict (confirmed / opposite / not significant). A reform the
    catalogue makes no claim for gets one "no claim" row; a claimed metric missing from the
    comparison is "not measured" (never silently dropped)."""
    expected = expected_moves() if expected is None else expected
    for scen, moves in expected.items():
        bad = [d for _, d in moves if d not in DIRECTIONS]
        if bad:
            raise ValueError(f"{scen}: direction must be one of {DIRECTIONS}, got {bad}")
    rows = []
    for scen in dict.fromkeys(differences["scenario"]):
        moves = expected.get(scen, ())
        base = {"reform": scen, "lever": lever_of(scen)}
        if not moves:
            rows.append({**base, "metric": "", "expected": "", "verdict": "no claim"})
            continue
        d = differences[differences["scenario"] == scen].set_index("metric")
        for metric, direction in moves:
            if metric not in d.index:
                rows.append({**base, "metric": metric, "expected": direction,
                             "verdict": "not measured"})
                continue
            r = d.loc[metric]
            lo, hi, diff = float(r["ci_low"]), float(r["ci_high"]), float(r["difference"])
            excludes = bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))
            rows.append({**base, "metric": metric, "expected": direction,
                         "baseline_mean": float(r["baseline_mean"]), "difference": diff,
                         "ci_low": lo, "ci_high": hi,
                         "relative_difference": float(r["relative_difference"]),
                         "n": int(r["n"]), "ci_excludes_zero": excludes,
                         "expected_sign": bool((diff > 0) == (direction == "up") and diff != 0),
                         "verdict": _verdict(direction, lo, hi)})
    cols = ["reform", "lever", "metric", "expected", "baseline_mean", "difference", "ci_low",
            "ci_high", "relative_difference", "n", "ci_excludes_zero", "expected_sign", "verdict"]
    return pd.DataFrame(rows).reindex(columns=cols)


def shipped_reforms(folder: Path) -> list[Path]:
    """The shipped reform files, ``reform_*.toml`` in ``folder``, sorted."""
    return sorted(Path(folder).glob("reform_*.toml"))


def run_reform_effects(baseline: Path, reforms: list[Path], n: int | None = None, *,
                       workers: int | None = None, progress: bool = False,
                       updates: dict[str, object] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``compare`` the baseline with the reform files (same seeds; ``n`` None = the shipped
    replicate count ``compare`` uses) and read the result against the catalogue's claims.
    ``updates``: dotted scenario fields applied to every scenario (e.g. a smaller
    ``simulation.citizens_per_province`` for a quick look). Returns (effects, differences)."""
    from allocsim.experiments.api import compare
    from allocsim.scenario import load_scenario

    def load(p: Path):  # noqa: ANN202 - a Scenario
        sc = load_scenario(p)
        return sc.updated(updates) if updates else sc

    res = compare(load(baseline), [load(p) for p in reforms], n, workers=workers, progress=progress)
    return reform_effects(res.differences), res.differences


def markdown_table(effects: pd.DataFrame) -> str:
    """The effects as a markdown table for the README (difference, 95 % CI, relative size)."""
    lines = ["| reform | metric | expected | measured difference (95 % CI) | relative | verdict |",
             "|---|---|---|---|---|---|"]
    for r in effects.itertuples(index=False):
        if r.verdict in ("no claim", "not measured"):
            lines.append(f"| {r.reform} | {r.metric or '—'} | {r.expected or '—'} | — | — | {r.verdict} |")
            continue
        rel = f"{r.relative_difference:+.1%}" if np.isfinite(r.relative_difference) else "—"
        lines.append(f"| {r.reform} | {r.metric} | {r.expected} | {_num(r.difference)} "
                     f"[{_num(r.ci_low)}, {_num(r.ci_high)}] | {rel} | {r.verdict} |")
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.4g}"


__all__ = ["expected_moves", "markdown_table", "reform_effects", "run_reform_effects",
           "shipped_reforms"]
