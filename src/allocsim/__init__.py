"""allocsim: optimisation and agent-based simulation of Thailand's area-based budget.

The public API lives here so that notebooks need one import::

    import allocsim
    sc = allocsim.load_scenario("scenarios/baseline.toml")
    geo = allocsim.load_geography(sc.geography.cluster_map)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("allocsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from allocsim.data.geography import Geography, load_geography  # noqa: E402
from allocsim.errors import Problem, UserError  # noqa: E402
from allocsim.scenario import Scenario, load_scenario  # noqa: E402

__all__ = [
    "Geography",
    "Problem",
    "Scenario",
    "UserError",
    "__version__",
    "load_geography",
    "load_scenario",
]
