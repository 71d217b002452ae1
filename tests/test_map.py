"""The geographic province map: the packaged boundaries are Thailand's 77 areas with the right
neighbours and areas, shared borders survive simplification, and the choropleth colours and
outlines what it is given."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from importlib.resources import files

import matplotlib
import numpy as np
import pandas as pd
import pytest

from allocsim.data.geography import load_geography
from allocsim.report.map import (
    MAP_FILE,
    boundary_segments,
    choropleth,
    province_rings,
    provinces_geojson,
)
from tests.conftest import ROOT


def _neighbours() -> dict[str, set[str]]:
    from allocsim.report.map import _edges

    nb: dict[str, set[str]] = defaultdict(set)
    for who in _edges().values():
        if len(who) == 2:
            nb[who[0]].add(who[1])
            nb[who[1]].add(who[0])
    return nb


def test_packaged_boundaries_cover_the_77_areas_and_stay_small() -> None:
    doc = provinces_geojson()
    codes = [f["properties"]["iso_3166_2"] for f in doc["features"]]
    assert sorted(codes) == sorted(load_geography().provinces["iso_code"])
    assert "Natural Earth" in doc["source"] and "ISC" in doc["source"]
    size = len((files("allocsim.report") / MAP_FILE).read_bytes())
    assert size <= 300 * 1024, size
    for rings in province_rings().values():
        for r in rings:
            assert len(r) >= 4 and np.array_equal(r[0], r[-1])  # closed rings
            assert (r[:, 0] > 97.0).all() and (r[:, 0] < 106.0).all()  # inside Thailand's box
            assert (r[:, 1] > 5.0).all() and (r[:, 1] < 21.0).all()


def test_neighbours_are_the_real_ones() -> None:
    """Shared borders are identical in both provinces after simplification (else no neighbours
    would be found), and they match geography: Bangkok's six neighbours, Chiang Mai's five."""
    nb = _neighbours()
    assert nb["TH-10"] == {"TH-11", "TH-12", "TH-13", "TH-24", "TH-73", "TH-74"}
    assert nb["TH-50"] == {"TH-51", "TH-52", "TH-57", "TH-58", "TH-63"}
    assert nb["TH-83"] == set()  # Phuket is an island
    assert all(nb[c] for c in province_rings() if c != "TH-83")


def test_areas_agree_with_dopa_areas() -> None:
    """Polygon areas (equirectangular, km²) against the reference table's DOPA areas: an
    independent source, so a wrong ISO mapping or a broken polygon shows up as a big ratio."""
    area = load_geography().provinces.set_index("iso_code")["area_km2"]

    def km2(r: np.ndarray) -> float:
        x = r[:, 0] * 111.32 * np.cos(np.radians(r[:, 1].mean()))
        y = r[:, 1] * 110.57
        return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))

    ratio = pd.Series({c: sum(km2(r) for r in rs) / area[c] for c, rs in province_rings().items()})
    assert 0.97 < ratio.median() < 1.03
    assert ratio.between(0.75, 1.35).all(), ratio[~ratio.between(0.75, 1.35)]


def test_cluster_borders_follow_the_cluster_map() -> None:
    from allocsim.report.map import _edges

    cl = load_geography().provinces.set_index("iso_code")["cluster_id"]
    inner, outer = boundary_segments(cl)
    inner_set = set(inner)

    def border(a: str, b: str) -> list:
        return [seg for seg, who in _edges().items() if set(who) == {a, b}]

    # Chiang Mai | Chiang Rai: north_upper_1 vs north_upper_2 -> the whole border is thick
    assert border("TH-50", "TH-57") and all(s in inner_set for s in border("TH-50", "TH-57"))
    # Chiang Mai | Lamphun: same cluster -> none of it is thick
    assert border("TH-50", "TH-51") and not any(s in inner_set for s in border("TH-50", "TH-51"))
    # Bangkok is in no cluster: its whole land border is a cluster border
    assert all(s in inner_set for s in border("TH-10", "TH-12"))
    assert all(len(_edges()[s]) == 1 for s in outer)
    one = pd.Series("all", index=cl.index)
    assert boundary_segments(one)[0] == []  # one cluster for everything: no cluster border


def test_choropleth_colours_and_legend() -> None:
    geo = load_geography()
    values = geo.provinces.set_index("iso_code")["population"].astype(float).drop("TH-50")
    fig = choropleth(values, "population", "people", clusters=geo.provinces)
    ax = fig.axes[0]
    polys = ax.collections[0]
    n_polys = sum(len(rs) for rs in province_rings().values())
    faces = polys.get_facecolors()
    assert len(faces) == n_polys
    order = [c for c, rs in province_rings().items() for _ in rs]
    grey = [c for c, f in zip(order, faces, strict=True) if np.allclose(f[:3], 0.851, atol=0.01)]
    assert set(grey) == {"TH-50"}  # the missing province is grey, not dropped
    bkk = faces[order.index("TH-10")]
    assert np.allclose(bkk, matplotlib.colormaps["viridis"](1.0))  # the largest value: top colour
    assert fig.axes[1].get_ylabel() == "people"
    assert len(ax.collections[1].get_segments()) > 100  # cluster borders drawn
    matplotlib.pyplot.close(fig)


@pytest.fixture(scope="module")
def make_map():
    spec = importlib.util.spec_from_file_location("make_map", ROOT / "scripts" / "make_map.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_douglas_peucker_hand_solved(make_map) -> None:
    line = [(0.0, 0.0), (1.0, 0.01), (2.0, -0.01), (3.0, 0.0)]
    assert make_map.douglas_peucker(line, 0.05) == [(0.0, 0.0), (3.0, 0.0)]
    spike = [(0.0, 0.0), (1.0, 0.01), (1.5, 1.0), (2.0, 0.0), (3.0, 0.0)]
    assert make_map.douglas_peucker(spike, 0.05) == [(0.0, 0.0), (1.0, 0.01), (1.5, 1.0), (2.0, 0.0),
                                                      (3.0, 0.0)]


def test_simplify_keeps_shared_borders_identical(make_map) -> None:
    """Two squares sharing a wiggly border: after simplification both keep the same border, so
    no gap or overlap opens between neighbours."""
    border = [(1.0 + (0.001 if i % 2 else 0.0), i / 10) for i in range(11)]
    left = [(0.0, 0.0), *border, (0.0, 1.0), (0.0, 0.0)]
    right = [(2.0, 0.0), (2.0, 1.0), *reversed(border), (2.0, 0.0)]
    feats = [{"type": "Feature", "properties": {"iso_3166_2": k, "name": k},
              "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}
             for k, ring in (("A", left), ("B", right))]
    out = make_map.simplify(feats, tol=0.01, min_area=0.0, digits=4)
    a = {tuple(p) for p in out[0]["geometry"]["coordinates"][0]}
    b = {tuple(p) for p in out[1]["geometry"]["coordinates"][0]}
    shared = a & b
    assert (1.0, 0.0) in shared and (1.0, 1.0) in shared
    on_border_a = {p for p in a if 0.99 < p[0] < 1.01}
    on_border_b = {p for p in b if 0.99 < p[0] < 1.01}
    assert on_border_a == on_border_b  # identical simplified border
    assert on_border_a == {(1.0, 0.0), (1.0, 1.0)}  # the 0.001 wiggle is below tolerance
