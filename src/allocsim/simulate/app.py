"""Interactive page for the simulation (Mesa SolaraViz): lever controls in the sidebar, a
Thailand tile map and national charts that update as the model steps.

    solara run src/allocsim/simulate/app.py        # then open http://localhost:8765

The model runs the default (baseline-like) scenario with a small citizen sample so steps are quick.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import solara  # noqa: E402
from mesa.visualization import SolaraViz, make_plot_component  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from allocsim.report.tilemap import plot_tilemap  # noqa: E402
from allocsim.scenario.levers import LEVERS, Lever  # noqa: E402
from allocsim.simulate.model import BudgetModel  # noqa: E402


def control(lv: Lever) -> dict:
    """The page's control for a lever, from its catalogue entry (kind, title, default, choices)."""
    if lv.kind == "switch":
        return {"type": "Checkbox", "value": lv.default, "label": lv.title}
    if lv.kind == "share":
        return {"type": "SliderFloat", "value": lv.default, "label": lv.title, "min": 0.0, "max": 1.0,
                "step": 0.1}
    if lv.kind in ("choice", "cluster_map"):
        # every allocation rule except the optimiser's (it needs the catalogue and a solver)
        return {"type": "Select", "value": lv.default, "label": lv.title,
                "values": [c for c in lv.choices if c != "optimal"]}
    if lv.kind == "provinces":
        return {"type": "InputText", "value": ", ".join(lv.default),  # type: ignore[arg-type]
                "label": f"{lv.title} (ISO codes, e.g. TH-74, TH-70)"}
    raise ValueError(f"lever {lv.field}: no control for kind {lv.kind!r}")


MODEL_PARAMS = {
    **{lv.field: control(lv) for lv in LEVERS},
    "years": 3,
    "citizens_per_province": 40,
    "seed": {"type": "InputText", "value": 20270101, "label": "Seed"},
}


def _seed(value: object) -> int:
    try:
        return int(value)  # the seed box sends text
    except (TypeError, ValueError):
        return 20270101


def _provinces(value: object) -> object:
    """The province box sends text: "TH-74, TH-70" -> ["TH-74", "TH-70"]."""
    if isinstance(value, str):
        return [c.strip() for c in value.replace(";", ",").split(",") if c.strip()]
    return value


class AppModel(BudgetModel):
    """BudgetModel taking the page's values: levers as keywords (one control per lever of the
    catalogue), a seed and province codes that may arrive as text."""

    def __init__(self, years: int = 3, citizens_per_province: int = 40, seed: object = 20270101,
                 **kwargs: object) -> None:  # SolaraViz accepts any control only if named kwargs
        if "high_performance_provinces" in kwargs:
            kwargs["high_performance_provinces"] = _provinces(kwargs["high_performance_provinces"])
        super().__init__(seed=_seed(seed), years=years, citizens_per_province=citizens_per_province,
                         **kwargs)


@solara.component
def Headline(model: BudgetModel) -> None:
    update_counter.get()
    r = model.recorder
    day = model.calendar.day_of_year(max(model.t - 1, 0)) if model.t else 0
    solara.Markdown(
        f"**Fiscal year {model.calendar.fiscal_year(max(model.t - 1, 0))}, day {day}** — "
        f"disbursed this year: <span id='disbursed'>{r.total('disbursed') / 1e6:,.1f}</span> M THB; "
        f"duplicates approved: <span id='duplicates'>{int(r.total('duplicates_approved'))}</span>")


@solara.component
def ProvinceMap(model: BudgetModel) -> None:
    update_counter.get()
    steps = model.recorder.step_rows
    if steps:
        last = steps[-1]
        values = dict(zip(last["province"], np.asarray(last["disbursement_rate"]) * 100, strict=True))
    else:
        values = {}
    fig = plot_tilemap(values, title="Share of this year's budget disbursed (%)", label="%", cmap="YlGn")
    solara.FigureMatplotlib(fig, format="png", dpi=70)


model = AppModel()
page = SolaraViz(
    model,
    components=[(Headline, 0), (ProvinceMap, 0),
                make_plot_component(["disbursed_mthb"]), make_plot_component(["mean_days_to_disbursement"])],
    model_params=MODEL_PARAMS,
    name="allocsim — budget cycle",
)
