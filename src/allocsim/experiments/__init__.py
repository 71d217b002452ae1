"""Experiments: run a scenario end to end (closed loop), Monte Carlo replicates, reform
comparisons on common random numbers, sweeps with SALib, on local processes or Dask."""

from allocsim.experiments.api import (
    CompareResult,
    ReplicateResult,
    SweepResult,
    compare,
    replicates,
    sweep,
    write_compare,
    write_sweep,
)
from allocsim.experiments.run import RunResult, build_inputs, run_scenario

__all__ = ["CompareResult", "ReplicateResult", "RunResult", "SweepResult", "build_inputs", "compare",
           "replicates", "run_scenario", "sweep", "write_compare", "write_sweep"]
