"""The synthetic catalogue: deterministic for a seed, and well-formed under the contract."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocsim.data.catalogue import CatalogueParams, generate_catalogue
from allocsim.data.geography import load_geography
from allocsim.data.projects import validate_tables


def _gen(seed: int, **kw):
    return generate_catalogue(load_geography(), CatalogueParams(**kw), np.random.default_rng(seed))


def test_same_seed_same_catalogue_other_seed_differs() -> None:
    a, b, c = _gen(7), _gen(7), _gen(8)
    pd.testing.assert_frame_equal(a.projects, b.projects)
    pd.testing.assert_frame_equal(a.resources, b.resources)
    assert not a.projects["benefit"].equals(c.projects["benefit"])


def test_catalogue_satisfies_the_contract(tmp_path) -> None:
    t = _gen(1)
    t.write(tmp_path)
    raw_p = pd.read_csv(tmp_path / "projects.csv", dtype=str, keep_default_na=False)
    raw_r = pd.read_csv(tmp_path / "resources.csv", dtype=str, keep_default_na=False)
    back = validate_tables(raw_p, raw_r, projects_file="p", resources_file="r", geography=load_geography())
    assert len(back.projects) == len(t.projects)
    np.testing.assert_allclose(back.projects["benefit"], t.projects["benefit"])


def test_catalogue_structure() -> None:
    params = CatalogueParams(projects_per_province=10, projects_per_cluster=2, duplicate_rate=0.3)
    t = _gen(3, **params.model_dump())
    p = t.projects
    geo = load_geography()
    # every province gets ideas; clusters get joint projects with >= 2 partners
    assert set(p.loc[p["channel"] != "cluster", "province"]) == set(geo.province_codes)
    cl = p[p["channel"] == "cluster"]
    assert len(cl) == 2 * 18
    assert (cl["partners"].str.split().str.len() >= 2).all()
    # duplicate groups: same province, several channels, at least two copies each
    g = p[p["duplicate_group"] != ""].groupby("duplicate_group")
    assert (g.size() >= 2).all()
    assert (g["province"].nunique() == 1).all() and (g["channel"].nunique() == g.size()).all()
    # money: central cost by source + local share = total; year profile sums to central cost
    src = [c for c in p.columns if c.startswith("cost:") and not c.startswith("cost:y")]
    yrs = [c for c in p.columns if c.startswith("cost:y")]
    central = p["total_cost"] * (1 - p["min_local_share"])
    np.testing.assert_allclose(p[src].sum(axis=1), central, atol=2e-3)
    np.testing.assert_allclose(p[yrs].sum(axis=1), central, atol=5e-3)
    # construction bias: ministries build more
    assert p.loc[p["channel"] == "ministry", "construction"].mean() > p.loc[p["channel"] == "province", "construction"].mean()
    # follow-ons point at projects in the same province
    req = p[p["requires"] != ""]
    lookup = p.set_index("project_id")["province"]
    assert (lookup[req["requires"]].to_numpy() == req["province"].to_numpy()).all()
    # every cost column has a resource
    assert {c[5:] for c in src + yrs} <= set(t.resources["resource"])
