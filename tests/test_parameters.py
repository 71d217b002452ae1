"""No behavioural number hides in the simulation's code: every one is a scenario parameter
(``[simulation]`` / ``[catalogue]``, labelled illustrative, with an uncertainty range)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import allocsim.simulate

SIMULATE = Path(allocsim.simulate.__file__).parent
#: Numbers with no behavioural meaning: 0, 1, -1 and 2 (halves, squares, pairs) anywhere.
NEUTRAL = {0, 1, -1, 2}
#: (file, value): reason. A number here is a unit, a numerical guard or a key, not behaviour.
ALLOWED: dict[tuple[str, float], str] = {
    ("agents.py", 1e6): "unit: million THB -> THB",
    ("model.py", 1e6): "unit: million THB -> THB",
    ("world.py", 1e6): "unit: million THB -> THB",
    ("world.py", 5): "message: how many offending rows an error lists",
    ("stages/proposals.py", 1e6): "unit: million THB -> THB",
    ("calendar.py", 7): "unit: days per week",
    ("calendar.py", 4): "unit: quarters per year",
    ("stages/execution.py", 7): "unit: days per week",
    ("metrics.py", 7): "unit: days per week (planned execution weeks -> days)",
    ("metrics.py", 0.9): "definition: the 90th percentile of days to first payment",
    ("metrics.py", 5): "definition: quarters 1..4 (range end)",
    ("citizens.py", 100.0): "unit: the delay weight is per 100 days",
    ("draws.py", 11): "bit arithmetic: 64-bit word -> 53-bit mantissa uniform",
    ("draws.py", 53): "bit arithmetic: 64-bit word -> 53-bit mantissa uniform",
    ("draws.py", 8): "digest size in bytes of the stable key",
    ("world.py", 6): "rounding: money columns to the baht (6 decimals of million THB)",
    ("world.py", 0.5): "reading a binary MILP solution (x > 0.5)",
    ("world.py", 1e-12): "numerical guard against division by zero",
    ("world.py", 1e-9): "numerical guard against division by zero",
    ("world.py", 20): "error reporting: at most 20 problems listed",
    ("world.py", 10000): "error reporting: rows checked before giving up",
}
#: Files that hold no simulation behaviour.
SKIP = {"app.py": "the interactive page: defaults of its controls, not of the model"}


def behavioural_literals(path: Path) -> list[tuple[int, float]]:
    """Numeric literals in ``path`` other than NEUTRAL ones, outside subscripts (column indices)
    and outside module-level constant definitions (named constants, documented where defined)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            skip |= {id(n) for n in ast.walk(node.slice)}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            skip |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and type(node.value) in (int, float) and id(node) not in skip
                and node.value not in NEUTRAL):
            out.append((node.lineno, node.value))
    return out


def simulation_files() -> list[Path]:
    return sorted(p for p in [*SIMULATE.glob("*.py"), *SIMULATE.glob("stages/*.py")]
                  if p.name not in SKIP)


def test_no_behavioural_literal_in_the_simulation() -> None:
    found = []
    for path in simulation_files():
        rel = path.relative_to(SIMULATE).as_posix()
        found += [f"{rel}:{line}: {value!r}" for line, value in behavioural_literals(path)
                  if (rel, value) not in ALLOWED]
    assert not found, ("numbers in the simulation's code: make each a scenario parameter "
                       "(SimulationConfig, illustrative, with an [uncertainty] range) or allow it "
                       f"with a reason in ALLOWED: {found}")


def test_the_scan_finds_a_planted_constant(tmp_path: Path) -> None:
    """The scanner itself works: a hard-coded 0.5 in logic is found, a named module constant,
    a column index and a neutral 1 are not."""
    src = tmp_path / "planted.py"
    src.write_text("RATE = 0.3\n\ndef f(x, u):\n    return u[:, 5] * x * 0.5 + 1\n")
    assert behavioural_literals(src) == [(4, 0.5)]


@pytest.mark.parametrize("value", sorted({v for _, v in ALLOWED}))
def test_allow_list_entries_are_used(value: float) -> None:
    """An allow-list entry no file needs any more is removed (the list stays an honest record)."""
    used = {(p.relative_to(SIMULATE).as_posix(), v) for p in simulation_files()
            for _, v in behavioural_literals(p)}
    stale = [k for k in ALLOWED if k[1] == value and k not in used]
    assert not stale, f"unused allow-list entries: {stale}"


def test_behaviour_parameters_change_the_run_and_are_validated() -> None:
    """The new parameters are read: a plan of 1 need instead of 3 changes which strategies
    provinces plan for; a plan larger than the strategy list is refused naming the field."""
    from allocsim.scenario import load_scenario
    from allocsim.simulate import BudgetModel
    from tests.conftest import SCENARIOS

    base = load_scenario(SCENARIOS / "baseline.toml")
    m1 = BudgetModel(base.updated({"simulation.plan_size": 1}), seed=1, years=1, citizens_per_province=10)
    m1.start_year()
    assert m1.plan.shape == (m1.n_provinces, 1)
    m3 = BudgetModel(base, seed=1, years=1, citizens_per_province=10)
    m3.start_year()
    assert m3.plan.shape == (m3.n_provinces, 3)
    assert (m3.plan[:, 0] == m1.plan[:, 0]).all()  # the top need is the same either way
    with pytest.raises(ValueError, match="simulation.plan_size"):
        BudgetModel(base.updated({"simulation.plan_size": 20}), seed=1, years=1, citizens_per_province=10)
