"""Thai for Thai users: every metric has a Thai label, every report string has a Thai entry,
charts and reports in Thai draw with the packaged font (a missing glyph fails the test)."""

from __future__ import annotations

import ast
import base64
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from allocsim.cli import main
from allocsim.data.geography import load_geography
from allocsim.experiments.metrics import (
    NATIONAL_FINAL,
    NATIONAL_MEAN,
    PROVINCE_METRICS,
    run_metrics,
)
from allocsim.report import charts, fonts
from allocsim.report.i18n import TH, t
from allocsim.report.map import choropleth
from tests.conftest import ROOT, write

THAI = re.compile(r"[\u0e00-\u0e7f]")
GLYPH = r".*[Gg]lyph.*missing from font.*"


def _metric_names() -> set[str]:
    """Every metric name run_metrics produces, found by running it on a tiny synthetic result (so a
    metric added there without a Thai label fails here)."""
    provs = ["TH-11", "TH-12"]
    nat = pd.DataFrame({c: [1.0, 2.0] for c in (*NATIONAL_MEAN, *NATIONAL_FINAL, "allocated_thb", "unfunded_thb",
                                              "planned_benefit_thb", "planned_thb")})
    years = pd.DataFrame({"province": provs * 2, "fiscal_year": [1, 1, 2, 2], "allocated_thb": 1.0,
                          "alignment_share": 0.5,
                          **{f"q{q}_disbursement_rate": 0.2 * q for q in (1, 2, 3, 4)},
                          **{c: 1.0 for c in (*PROVINCE_METRICS, *NATIONAL_FINAL)}})
    out = run_metrics({"sim_national": nat, "sim_years": years})
    return set(out["national"]) | set(out["provinces"])


def test_every_metric_has_a_thai_label() -> None:
    names = _metric_names()
    assert {"lapse_rate", "q4_disbursement_rate", "effective_benefit_thb"} <= names
    missing = sorted(n for n in names if n not in TH)
    assert not missing, f"add Thai labels to report/i18n.py: {missing}"
    assert all(THAI.search(TH[n]) for n in names)


def test_every_report_string_has_a_thai_entry() -> None:
    """Each literal passed to t() in the report code is a key of the Thai table, and its
    {placeholders} are the same in both languages (else .format would fail or drop a number)."""
    keys = []
    for f in ("html.py", "charts.py", "map.py", "format.py"):
        tree = ast.parse((ROOT / "src" / "allocsim" / "report" / f).read_text(encoding="utf-8"))
        keys += [n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and getattr(n.func, "id", None) == "t" and n.args and isinstance(n.args[0], ast.Constant)]
    assert len(keys) > 40
    for k in keys:
        assert k in TH, k
        assert set(re.findall(r"{(\w+)}", k)) - {"plural"} == set(re.findall(r"{(\w+)}", TH[k])), k
    with pytest.raises(ValueError):
        t("Allocation", "fr")


def _draw(fig) -> bytes:
    return charts.save(fig)


def test_thai_chart_and_map_have_every_glyph() -> None:
    geo = load_geography()
    pop = geo.provinces.set_index("iso_code")["population"].astype(float)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH)
        png = _draw(choropleth(pop, t("Real provincial budget per head", "th"), t("THB per head", "th"),
                               clusters=geo.provinces, lang="th"))
        assert png[:4] == b"\x89PNG"
        _draw(charts.disbursement_curves({"ฐาน": [0.1, 0.3, 0.6, 0.9]}, lang="th"))
        d = pd.DataFrame({"scenario": "ปฏิรูป", "metric": sorted(_metric_names()), "baseline_mean": 1.0,
                          "difference": 0.1, "ci_low": 0.0, "ci_high": 0.2, "better": "better"})
        _draw(charts.differences(d, lang="th"))


def test_the_glyph_check_can_fail() -> None:
    """Negative control: Thai drawn without the packaged font warns, so the test above is real."""
    with plt.rc_context({"font.family": ["DejaVu Sans"]}), pytest.warns(UserWarning, match=GLYPH):
        fig, ax = plt.subplots()
        ax.set_title("งบประมาณจังหวัด")
        _draw(fig)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2, self.th, self.cells, self._tag, self._col = [], [], {}, None, None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        self._col = dict(attrs).get("data-col")

    def handle_data(self, data):
        if self._tag == "h2":
            self.h2.append(data)
        elif self._tag == "th":
            self.th.append(data)
        elif self._tag == "td" and self._col:
            self.cells.setdefault(self._col, []).append(data)


def test_thai_run_report(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "th"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH)
        assert main(["run", str(small), "--out", str(out), "--lang", "th"]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<html lang='th'>" in text
    m = re.search(r"font-family:'Sarabun';font-weight:normal;.*?base64,([A-Za-z0-9+/=]+)", text)
    assert m and base64.b64decode(m[1]) == (fonts.FONT_DIR / fonts.FILES["normal"]).read_bytes()
    page = _Text()
    page.feed(text)
    assert page.h2[:5] == [TH["Allocation"], TH["Hindcast: which rule predicts FY2569"], TH["Portfolio"],
                           TH["Simulation over time"], TH["Per-province results"]]
    english = [h for h in page.th if not THAI.search(h)]
    assert not english, f"table headers without Thai: {english}"
    names_th = set(load_geography().provinces["name_th"])
    shown = page.cells["name"]
    assert shown and set(shown) <= names_th  # Thai province names in the province table
    assert "ล้านบาท" in text and "M THB" not in text
    nat = pd.read_csv(out / "sim_national.csv")
    # numbers in million baht: the national table's allocation for the simulated year
    assert f"{nat['allocated_thb'].iloc[0] / 1e6:,.1f} ล้านบาท" in page.cells["allocated_thb"]
    maps = {f.stem for f in (out / "charts").glob("map_*.png")}
    assert {"map_allocation", "map_real_budget", "map_hindcast", "map_benefit", "map_delay", "map_lapsed",
            "map_duplicates", "map_satisfaction"} <= maps  # every per-province metric on a map


def test_thai_compare_report(scenario_dir: Path, small: Path, tmp_path: Path) -> None:
    write(scenario_dir / "b.toml", 'extends = "small.toml"\nname = "b"\n')
    write(scenario_dir / "g.toml", 'extends = "small.toml"\nname = "g"\n[levers]\nsingle_gateway = true\n')
    out = tmp_path / "c"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH)
        assert main(["compare", str(scenario_dir / "b.toml"), str(scenario_dir / "g.toml"), "--replicates",
                     "2", "--out", str(out), "--workers", "1", "--quiet", "--lang", "th"]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    comp = pd.read_csv(out / "comparison.csv")
    rows = re.findall(r'data-metric="(\w+)"[^>]*><td>[^<]*</td><td>([^<]*)</td>', text)
    assert len(rows) == len(comp)
    assert all(label == TH[metric] for metric, label in rows)
    assert TH["Differences from the baseline"] in text and "@font-face" in text
    assert np.isfinite(comp["difference"]).any()
