"""A scenario's inputs: its geography and its project table (generated or read from files). Its
own module so that the batch runner and the run both use it without importing each other."""

from __future__ import annotations

from allocsim.data.catalogue import generate_catalogue
from allocsim.data.geography import Geography, load_geography
from allocsim.data.projects import ProjectTable, load_project_table
from allocsim.experiments.seeds import rngs
from allocsim.scenario.schema import Scenario


def build_inputs(sc: Scenario) -> tuple[Geography, ProjectTable]:
    """Geography under the scenario's cluster map, and its projects (generated or from files)."""
    cmap = sc.geography.cluster_map
    geo = load_geography(cmap if cmap in ("2017", "2009") else sc.resolve_path(cmap))
    if sc.projects.source == "file":
        assert sc.projects.projects_file and sc.projects.resources_file  # schema guarantees it
        table = load_project_table(sc.resolve_path(sc.projects.projects_file),
                                   sc.resolve_path(sc.projects.resources_file), geography=geo)
    else:
        table = generate_catalogue(geo, sc.catalogue, rngs(sc.seed)["catalogue"], sc.first_fiscal_year)
    return geo, table


__all__ = ["build_inputs"]
