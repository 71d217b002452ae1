from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A scratch scenarios folder holding a copy of the shipped baseline."""
    d = tmp_path / "scenarios"
    d.mkdir()
    (d / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"),
                                     encoding="utf-8")
    return d


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SMALL = """extends = "baseline.toml"
name = "small"
[catalogue]
projects_per_province = 4
projects_per_cluster = 1
oversubscription = 0          # fixed counts: a small catalogue, not one sized to the real money
[simulation]
years = 1
citizens_per_province = 20
"""


@pytest.fixture
def small(scenario_dir: Path) -> Path:
    """A quick scenario (few projects, one simulated year) for tests of plumbing, not of results."""
    return write(scenario_dir / "small.toml", SMALL)


# Fuzzing: a fast profile by default; `pytest tests/test_fuzz.py --hypothesis-profile=long` (make fuzz)
# runs thousands of cases.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("default")
