"""Data layer: packaged Thai reference tables, strategies, the projects/resources contract and
the seeded synthetic project catalogue. Loaders return tidy pandas tables; nothing here builds
models."""

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import (
    BANGKOK,
    CLUSTER_MAPS,
    Geography,
    load_geography,
    load_local_government_counts,
)
from allocsim.data.projects import ProjectTable, load_project_table
from allocsim.data.strategies import load_missions, load_strategies

__all__ = [
    "BANGKOK",
    "CLUSTER_MAPS",
    "CatalogueParams",
    "Geography",
    "ProjectTable",
    "generate_catalogue",
    "load_geography",
    "load_local_government_counts",
    "load_missions",
    "load_project_table",
    "load_strategies",
]
