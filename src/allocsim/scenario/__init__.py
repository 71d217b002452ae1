"""Scenario layer: the typed schema, TOML loading with ``extends``, and the lever catalogue."""

from allocsim.scenario.levers import LEVERS, Lever, levers_table
from allocsim.scenario.loader import file_hashes, load_scenario, scenario_hash
from allocsim.scenario.schema import Scenario

__all__ = ["LEVERS", "Lever", "Scenario", "file_hashes", "levers_table", "load_scenario", "scenario_hash"]
