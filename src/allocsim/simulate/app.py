"""Interactive page for the simulation (Mesa SolaraViz): lever controls in the sidebar, a
Thailand tile map and national charts that update as the model steps.

    solara run src/allocsim/simulate/app.py        # then open http://localhost:8765

The model runs the default (baseline-like) scenario with a small citizen sample so steps are quick.
"""

from __future__ import annotations

from typing import get_args

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import solara  # noqa: E402
from mesa.visualization import SolaraViz, make_plot_component  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from allocsim.report.tilemap import plot_tilemap  # noqa: E402
from allocsim.scenario.schema import LeversConfig  # noqa: E402
from allocsim.simulate.model import BudgetModel  # noqa: E402

MODEL_PARAMS = {
    "single_gateway": {"type": "Checkbox", "value": False, "label": "Single gateway (duplicate screening)"},
    "data_sharing": {"type": "SliderFloat", "value": 0.3, "label": "Data sharing", "min": 0.0, "max": 1.0, "step": 0.1},
    "delegated_changes": {"type": "Checkbox", "value": False, "label": "Delegate change approval to ก.บ.จ."},
    "staggered_calendar": {"type": "Checkbox", "value": False, "label": "Staggered planning calendars"},
    "personnel_delegation": {"type": "Checkbox", "value": False, "label": "Personnel delegation"},
    "multi_year_projects": {"type": "Checkbox", "value": False, "label": "Multi-year projects"},
    "matching_fund_oversight": {"type": "Checkbox", "value": False, "label": "Matching fund oversight"},
    "participation": {"type": "SliderFloat", "value": 0.2, "label": "Participation", "min": 0.0, "max": 1.0, "step": 0.1},
    "allocation_rule": {"type": "Select", "value": LeversConfig().allocation_rule, "label": "Allocation rule",
                        # every rule the schema knows except the optimiser's (it needs the catalogue)
                        "values": [r for r in get_args(LeversConfig.model_fields["allocation_rule"].annotation)
                                   if r != "optimal"]},
    "years": 3,
    "citizens_per_province": 40,
    "seed": {"type": "InputText", "value": 20270101, "label": "Seed"},
}


def _seed(value: object) -> int:
    try:
        return int(value)  # the seed box sends text
    except (TypeError, ValueError):
        return 20270101


class AppModel(BudgetModel):
    """BudgetModel with an explicit signature (SolaraViz checks it) and a seed that may arrive as
    text from the page."""

    def __init__(self, single_gateway: bool = False, data_sharing: float = 0.3, delegated_changes: bool = False,
                 staggered_calendar: bool = False, personnel_delegation: bool = False,
                 multi_year_projects: bool = False, matching_fund_oversight: bool = False,
                 participation: float = 0.2, allocation_rule: str = "actual", years: int = 3,
                 citizens_per_province: int = 40, seed: object = 20270101) -> None:
        super().__init__(seed=_seed(seed), years=years, citizens_per_province=citizens_per_province,
                         single_gateway=single_gateway, data_sharing=data_sharing,
                         delegated_changes=delegated_changes, staggered_calendar=staggered_calendar,
                         personnel_delegation=personnel_delegation, multi_year_projects=multi_year_projects,
                         matching_fund_oversight=matching_fund_oversight, participation=participation,
                         allocation_rule=allocation_rule)


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
