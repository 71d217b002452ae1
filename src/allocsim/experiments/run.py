"""Run one scenario end to end into a fresh result folder.

Today a run loads and validates the scenario, builds the geography and the project catalogue and
writes them with a manifest; the optimisation and simulation engines add their tables here.
Randomness: one ``numpy.random.SeedSequence`` from the scenario seed, spawned into independent
streams per stage, so changing one stage's draws never changes another's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocsim.data.catalogue import generate_catalogue
from allocsim.data.geography import Geography, load_geography
from allocsim.data.projects import ProjectTable, load_project_table
from allocsim.experiments.provenance import environment, now_utc
from allocsim.scenario.loader import file_hashes, scenario_hash
from allocsim.scenario.schema import Scenario
from allocsim.store import atomic_write_csv, atomic_write_json, result_folder

#: Independent random streams, one per stage (index into SeedSequence.spawn).
STREAMS = ("catalogue", "simulation")


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}


@dataclass
class RunResult:
    scenario: Scenario
    geography: Geography
    projects: ProjectTable
    out: Path | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


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


def run_scenario(sc: Scenario, out: Path | None = None, *, overwrite: bool = False) -> RunResult:
    """Build everything for a scenario; with ``out``, write a complete result folder atomically."""
    started = now_utc()
    geo, table = build_inputs(sc)
    result = RunResult(sc, geo, table)
    result.tables["provinces"] = geo.provinces
    result.tables["clusters"] = geo.clusters
    manifest = {
        "scenario": sc.name,
        "scenario_file": str(sc.source) if sc.source else None,
        "scenario_hash": scenario_hash(sc),
        "scenario_files": file_hashes(sc),
        "seed": sc.seed,
        "random_streams": list(STREAMS),
        "cluster_map": geo.cluster_map,
        "projects": {"source": sc.projects.source, "count": len(table.projects),
                     "resources": len(table.resources)},
        **environment(),
        "started": started,
    }
    result.manifest = manifest
    if out is None:
        return result
    with result_folder(out, overwrite=overwrite) as stage:
        atomic_write_json(sc.model_dump(mode="json"), stage / "scenario.json")
        inputs = stage / "inputs"
        table.write(inputs)
        for name, df in result.tables.items():
            atomic_write_csv(df, inputs / f"{name}.csv" if name in ("provinces", "clusters")
                             else stage / f"{name}.csv")
        manifest["finished"] = now_utc()
        manifest["status"] = "ok"
        atomic_write_json(manifest, stage / "manifest.json")
    result.out = Path(out)
    return result
