"""report.html: sections present, numbers equal to the result tables; the tile map renders."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from allocsim.cli import main
from allocsim.data.geography import load_geography
from allocsim.report.tilemap import plot_tilemap, tile_layout
from tests.conftest import write


class Cells(HTMLParser):
    """Collects section ids, images and data-value cells per table id."""

    def __init__(self) -> None:
        super().__init__()
        self.sections, self.images, self.tables, self.rows = [], 0, {}, []
        self._table = None
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.sections.append(a.get("id"))
        elif tag == "img" and a.get("src", "").startswith("data:image/png;base64,"):
            self.images += 1
        elif tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {}
            if "data-metric" in a:
                self.rows.append(a)
        elif tag == "td" and self._row is not None and "data-value" in a:
            self._row[a["data-col"]] = float(a["data-value"]) if a["data-value"] else np.nan

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            if self._row:  # header rows have no data cells
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def parse(path: Path) -> Cells:
    c = Cells()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def test_run_report_sections_and_numbers(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", str(small), "--out", str(out)]) == 0
    c = parse(out / "report.html")
    assert c.sections[:6] == ["allocation", "hindcast", "portfolio", "simulation", "provinces", "scenario"]
    assert c.images >= 5 and len(list((out / "charts").glob("*.png"))) == c.images
    nat = pd.read_csv(out / "sim_national.csv")
    shown = pd.DataFrame(c.tables["national"])
    for col in ("allocated_thb", "disbursed_thb", "lapsed_thb", "duplicates_approved", "mean_days_to_disbursement"):
        np.testing.assert_allclose(shown[col], nat[col], rtol=1e-12)
    base = pd.read_csv(out / "baselines.csv")
    np.testing.assert_allclose(pd.DataFrame(c.tables["baselines"])["total_benefit"], base["total_benefit"])
    hc = pd.read_csv(out / "hindcast.csv")
    np.testing.assert_allclose(pd.DataFrame(c.tables["hindcast"])["mape_pct"], hc["mape_pct"], rtol=1e-12)
    duals = pd.read_csv(out / "allocation_duals.csv")
    shown_duals = pd.DataFrame(c.tables["allocation-duals"])
    env = duals[duals["rule"].isin(["envelope", "cluster_envelope"])]["benefit_per_extra_mthb"].to_numpy()
    np.testing.assert_allclose(shown_duals["benefit_per_extra_mthb"][: len(env)], env, rtol=1e-12, atol=1e-12)
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Real figures: the provincial envelope" in text  # the summary says which money is real
    assert "optimal within the requested gap" in text and "small" in text
    assert "M THB" in text and "days" in text


def test_compare_report_numbers_match_the_table(scenario_dir: Path, small: Path, tmp_path: Path) -> None:
    write(scenario_dir / "b.toml", 'extends = "small.toml"\nname = "b"\n')
    write(scenario_dir / "g.toml", 'extends = "small.toml"\nname = "g"\n[levers]\nsingle_gateway = true\n')
    out = tmp_path / "c"
    assert main(["compare", str(scenario_dir / "b.toml"), str(scenario_dir / "g.toml"), "--replicates", "2",
                 "--out", str(out), "--workers", "1", "--quiet"]) == 0
    c = parse(out / "report.html")
    assert {"differences", "disbursement", "provinces", "scenario"} <= set(c.sections)
    comp = pd.read_csv(out / "comparison.csv")
    rows = {(r["data-scenario"], r["data-metric"]): float(r["data-difference"]) for r in c.rows}
    assert len(rows) == len(comp)
    for r in comp.itertuples():
        assert rows[(r.scenario, r.metric)] == pytest.approx(r.difference, nan_ok=True)
    assert "common random-number" in (out / "report.html").read_text(encoding="utf-8")


def test_tile_map_layout_and_rendering() -> None:
    lay = tile_layout()
    geo = load_geography()
    assert set(lay["iso_code"]) == set(geo.provinces["iso_code"]) and len(lay) == 77
    assert not lay.duplicated(["row", "col"]).any()
    values = geo.provinces.set_index("iso_code")["population"].astype(float)
    values = values.drop("TH-50")  # a missing province is drawn grey, not dropped
    fig = plot_tilemap(values, title="population", label="people")
    ax = fig.axes[0]
    tiles = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(tiles) == 77
    colours = {tuple(np.round(p.get_facecolor(), 3)) for p in tiles}
    assert len(colours) > 20  # coloured by value
    grey = [p for p in tiles if np.allclose(p.get_facecolor()[:3], [0.851, 0.851, 0.851], atol=0.01)]
    assert len(grey) == 1
    assert len(ax.lines) > 20  # cluster boundaries drawn
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "people"  # legend (colour bar)
    # the most populous province (Bangkok) gets the top colour of the scale
    bkk = [p for p in tiles if p.get_x() == 2 and p.get_y() == -9][0]
    top = matplotlib.colormaps["viridis"](1.0)
    assert np.allclose(bkk.get_facecolor(), top, atol=1e-6)
