"""Experiments: run a scenario end to end (later: replicates, comparisons, sweeps)."""

from allocsim.experiments.run import RunResult, build_inputs, run_scenario

__all__ = ["RunResult", "build_inputs", "run_scenario"]
