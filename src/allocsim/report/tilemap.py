"""A tile-grid map of Thailand: one square per province, laid out to resemble the country, with
cluster boundaries drawn as thick lines. Works with matplotlib alone (no shapefiles).

``tilemap.csv`` is a *schematic layout* made for allocsim (row, column per ISO code), not
geographic data: neighbours on the grid are roughly neighbours on the ground.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402

from allocsim.data.geography import Geography, load_geography  # noqa: E402


@cache
def _layout() -> pd.DataFrame:
    with (files("allocsim.report") / "tilemap.csv").open("rb") as fh:
        return pd.read_csv(fh)


def short_name(name: str) -> str:
    """A label that fits a tile: "Chiang Mai" -> "C.Mai", "Nakhon Sawan" -> "N.Sawan"."""
    words = name.replace("Phra Nakhon Si ", "").split()
    if len(words) == 1:
        return words[0][:8]
    return f"{words[0][0]}.{words[1][:6]}"


def tile_layout() -> pd.DataFrame:
    """iso_code, row, col for all 77 areas."""
    return _layout().copy()


def plot_tilemap(values: pd.Series | dict, *, title: str = "", label: str = "", geo: Geography | None = None,
                 cmap: str = "viridis", diverging: bool = False, ax: plt.Axes | None = None,
                 fmt: str = "{:.3g}", show_values: bool = False) -> plt.Figure:
    """Colour provinces by any metric (a Series or dict keyed by ISO code); missing provinces
    are grey. Cluster boundaries of the geography's cluster map are drawn thick."""
    geo = geo or load_geography()
    vals = pd.Series(values, dtype=float)
    lay = tile_layout().merge(geo.provinces[["iso_code", "name_en", "cluster_id"]], on="iso_code")
    lay["value"] = lay["iso_code"].map(vals)
    fig = ax.figure if ax is not None else plt.figure(figsize=(6.2, 9.0))
    ax = ax or fig.add_axes([0.02, 0.02, 0.78, 0.92])
    finite = lay["value"].dropna()
    if diverging and len(finite):
        m = float(np.abs(finite).max()) or 1.0
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)
        cmap = "RdBu_r" if cmap == "viridis" else cmap
    else:
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    cm = plt.get_cmap(cmap)
    pos = {r.iso_code: (r.row, r.col) for r in lay.itertuples()}
    cluster = dict(zip(lay["iso_code"], lay["cluster_id"], strict=True))
    for r in lay.itertuples():
        colour = "#d9d9d9" if pd.isna(r.value) else cm(norm(r.value))
        ax.add_patch(plt.Rectangle((r.col, -r.row), 0.96, 0.96, facecolor=colour, edgecolor="white", lw=0.6))
        short = short_name(r.name_en)
        text = short if not show_values or pd.isna(r.value) else f"{short}\n{fmt.format(r.value)}"
        rgb = colour if isinstance(colour, tuple) else (0.85, 0.85, 0.85, 1)
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.5
        ax.text(r.col + 0.48, -r.row + 0.48, text, ha="center", va="center", fontsize=5.2,
                color="white" if dark else "black")
    # cluster boundaries: a thick line wherever two neighbouring tiles are in different clusters
    cell = {v: k for k, v in pos.items()}
    for iso, (row, col) in pos.items():
        for dr, dc, seg in ((0, 1, ((col + 0.98, -row), (col + 0.98, -row + 0.96))),
                            (1, 0, ((col, -row - 0.02), (col + 0.96, -row - 0.02)))):
            other = cell.get((row + dr, col + dc))
            if other is not None and cluster[other] != cluster[iso]:
                ax.plot(*zip(*seg, strict=True), color="black", lw=1.6, solid_capstyle="butt")
    ax.set_xlim(-0.2, 10.2)
    ax.set_ylim(-17.2, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
    cax = fig.add_axes([0.82, 0.25, 0.03, 0.5])
    fig.colorbar(sm, cax=cax, label=label)
    return fig
