"""Local governments (อปท.) in the simulation: the real per-province counts by type and their
co-funding capacities, in one of two modes (``simulation.local_government_agents``).

Counts come from ``allocsim.data.budget.load_local_governments()`` (the packaged WeVis table,
7,841 bodies in the 76 provinces). The simulation's types are the table's count columns, one to
one (``LG_KINDS``): ``pao`` (อบจ., one per province), ``municipality_city`` (เทศบาลนคร),
``municipality_town`` (เทศบาลเมือง), ``municipality_subdistrict`` (เทศบาลตำบล), ``sao`` (อบต.) and
``special_form`` — in that table only Pattaya City (in Chon Buri). The totals columns
(``municipality_total``, ``lgo_total``) are not types. Bangkok's BMA, the other special-form body,
is not in the table and is **not simulated**: Bangkok is in no province cluster, so the simulation
has no Bangkok province, no Bangkok projects and nothing for the BMA to co-fund.

* ``aggregated`` (default): one agent per (province, type) present, standing for all ``bodies`` of
  that type there (331 agents); its capacity is the *expected* sum of the per-body capacities,
  ``bodies × median × exp(sigma² / 2)`` (the lognormal mean times the count).
* ``per_body``: one agent per body (7,841); body k of type t has capacity
  ``median_t × exp(sigma_t × Z_k)``, Z_k standard normal drawn from a child stream spawned from the
  model's seeded generator (so the rest of the run draws the same numbers in both modes).

So for every province and type, E[per-body sum] = aggregated capacity. Medians and sigmas are
scenario parameters (``simulation.lg_capacity_median_mthb``, ``simulation.lg_capacity_sigma``),
all **illustrative**: no source gives local governments' co-funding capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocsim.scenario.schema import LG_KINDS, SimulationConfig


@dataclass(frozen=True)
class LocalGovernmentTable:
    """One row per local-government agent (a body, or all bodies of a type in a province)."""

    province: np.ndarray      # (A,) int: index into the model's provinces
    kind: np.ndarray          # (A,) int: index into LG_KINDS
    bodies: np.ndarray        # (A,) int: bodies this agent stands for (1 in per-body mode)
    capacity_mthb: np.ndarray  # (A,) float: co-funding capacity per year before matching uptake

    def __len__(self) -> int:
        return len(self.province)

    def province_capacity_mthb(self, n_provinces: int) -> np.ndarray:
        """Capacity summed per province (vectorised; the same call in both modes)."""
        return np.bincount(self.province, weights=self.capacity_mthb, minlength=n_provinces)


def expected_capacity_mthb(sim: SimulationConfig) -> np.ndarray:
    """Mean capacity of one body of each type (MTHB/year): the lognormal mean median·e^(σ²/2)."""
    med = np.array([sim.lg_capacity_median_mthb[k] for k in LG_KINDS])
    sig = np.array([sim.lg_capacity_sigma[k] for k in LG_KINDS])
    return med * np.exp(sig**2 / 2)


def count_matrix(lgo: pd.DataFrame, iso: list[str]) -> np.ndarray:
    """(provinces, types) body counts for the simulated provinces, in ``iso`` order."""
    t = lgo.set_index("iso_code")
    missing = [c for c in iso if c not in t.index]
    if missing:
        raise ValueError(f"local-government table has no row for province(s) {', '.join(missing)}")
    return t.loc[iso, list(LG_KINDS)].to_numpy(np.int64)


def build_local_governments(counts: np.ndarray, sim: SimulationConfig,
                            rng: np.random.Generator | None = None) -> LocalGovernmentTable:
    """The agents' table for ``sim.local_government_agents``; ``rng`` is needed for ``per_body``."""
    mean = expected_capacity_mthb(sim)
    if sim.local_government_agents == "aggregated":
        prov, kind = np.nonzero(counts > 0)  # row-major: province by province, types in LG_KINDS order
        bodies = counts[prov, kind]
        return LocalGovernmentTable(prov, kind, bodies, bodies * mean[kind])
    if rng is None:
        raise ValueError("per_body local governments need the model's random generator")
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    prov, kind = np.divmod(cell, counts.shape[1])
    med = np.array([sim.lg_capacity_median_mthb[k] for k in LG_KINDS])
    sig = np.array([sim.lg_capacity_sigma[k] for k in LG_KINDS])
    cap = med[kind] * np.exp(sig[kind] * rng.standard_normal(len(cell)))
    return LocalGovernmentTable(prov, kind, np.ones(len(cell), np.int64), cap)
