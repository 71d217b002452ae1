"""The lever catalogue: every reform lever of DOMAIN.md §7, declared once.

An entry says where the lever lives in a scenario file, what its value means, the mechanism it acts
through, the source section, its default and which engine reads it. Everything else is derived from
it (calliope's ``parameters`` block is the model): the pydantic fields of ``LeversConfig`` and
``GeographyConfig.cluster_map`` (``scenario/schema.py``), ``BudgetModel``'s keyword parameters
(``LEVER_KEYWORDS``), the interactive page's controls (``simulate/app.py``) and ``allocsim levers``
(:func:`levers_table`); ``tests/test_catalogues.py`` checks that they agree.

``engines`` lists what reads a lever *now*; an empty tuple means the lever validates and is
recorded in results but no engine acts on it yet (``status`` = inert). This module imports no
other allocsim module, so the schema can be built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

#: What kind of value a lever takes; the schema's type and the page's control follow from it.
#: switch: on/off; share: a number in [0, 1]; choice: one of ``choices``; provinces: a list of
#: ISO 3166-2:TH codes; cluster_map: "2017", "2009" or a CSV path.
LeverKind = Literal["switch", "share", "choice", "provinces", "cluster_map"]
ALLOCATION_RULES = ("actual", "plan_score", "need", "per_capita", "fitted", "incremental", "optimal")
CLUSTER_MAPS = ("2017", "2009")


@dataclass(frozen=True)
class Lever:
    field: str               # field name in its scenario section, and BudgetModel's keyword
    title: str               # a few words, for the page's control and tables
    description: str         # what the value means (the schema field's description)
    mechanism: str           # how the lever acts, in policy words
    source: str              # section of the source documents
    default: object          # today's practice (the schema default)
    kind: LeverKind
    reform: str              # the shipped reform file: scenarios/reform_<reform>.toml
    reform_value: object     # the value that file sets
    engines: tuple[str, ...] = ()
    section: str = "levers"  # scenario section holding the field
    choices: tuple[str, ...] = ()
    #: what the mechanism says the reform moves: (headline metric, "up" | "down") at
    #: ``reform_value`` against the default; ``allocsim.experiments.reforms`` measures each
    #: with ``compare`` (empty = the lever makes no directional claim)
    moves: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """Dotted scenario field, e.g. ``levers.data_sharing``."""
        return f"{self.section}.{self.field}"

    @property
    def status(self) -> str:
        return "active: " + ", ".join(self.engines) if self.engines else "inert (no engine reads it yet)"


LEVERS: tuple[Lever, ...] = (
    Lever("single_gateway", "Single gateway (duplicate screening)",
          "all agencies' plans pass through the province's screening",
          "All agencies' plans pass through the province, which screens for duplicates before "
          "approval.", "003 L19", False, "switch", "single_gateway", True, ("simulate",),
          moves=(("duplicates_approved", "down"), ("duplicate_money_thb", "down"))),
    Lever("data_sharing", "Data sharing",
          "illustrative share of agency databases linked into the provincial database",
          "Share of agency databases linked into a provincial database; duplicate detection "
          "depends on it.", "002 issue 2; 003 §5.2.5", 0.3, "share", "data_sharing", 0.9,
          ("simulate",),
          moves=(("duplicates_approved", "down"),)),
    Lever("staggered_calendar", "Staggered planning calendars",
          "planning windows of agencies, provinces and clusters follow one another",
          "Planning windows of agencies, provinces and clusters follow one another instead of "
          "overlapping, so proposals can be cross-checked.", "003 §5.2.4", False, "switch",
          "staggered_calendar", True, ("simulate",),
          moves=(("duplicates_approved", "down"), ("mean_planning_days", "down"))),
    Lever("delegated_changes", "Delegate change approval to ก.บ.จ.",
          "changes and transfers that keep the plan are approved by ก.บ.จ./ก.บ.ก.",
          "Project changes and budget transfers that leave the plan intact are approved by "
          "ก.บ.จ./ก.บ.ก. instead of the Budget Bureau, removing a queue hop.",
          "002 issue 5; 003 §5.2.10", False, "switch", "delegated_changes", True, ("simulate",),
          moves=(("mean_change_approval_days", "down"), ("mean_days_on_hold", "down"),
                 ("mean_completion_delay_days", "down"))),
    Lever("area_based_budgeting", "Area-based budgeting",
          "function-budget projects must be aligned with the provincial plan to be funded",
          "Plan and budget are integrated by area: function-budget projects must be aligned with "
          "the provincial plan to be funded.", "002 issue 6", False, "switch",
          "area_based_budgeting", True, ("optimise", "simulate"),
          moves=(("alignment_share", "up"),)),
    Lever("matching_fund_oversight", "Matching fund oversight",
          "governors oversee local executives' co-allocation (uptake: [rules] "
          "matching_uptake_governor instead of matching_uptake_voluntary)",
          "Governors oversee local executives' co-allocation: local co-funding capacity is pooled "
          "across the province instead of each project relying on voluntary local money.",
          "002 issue 7", False, "switch", "matching_fund", True, ("optimise", "simulate"),
          moves=(("unfunded_rate", "down"),)),
    Lever("personnel_delegation", "Personnel delegation",
          "governors can assign and request staff ([simulation] staff_with_delegation)",
          "Governors can assign and request staff, raising execution and screening capacity.",
          "002 issues 10-11", False, "switch", "personnel_delegation", True, ("simulate",),
          moves=(("mean_days_to_disbursement", "down"), ("mean_planning_days", "down"))),
    Lever("multi_year_projects", "Multi-year projects",
          "projects may commit money across fiscal years",
          "Projects may commit money across fiscal years; today a multi-year project is funded one "
          "annual tranche at a time and each later tranche must win funding again; with the reform "
          "the later tranches are committed, funded first from the next years' envelopes.",
          "003 §5.2.11", False, "switch",
          "multi_year_projects", True, ("optimise", "simulate"),
          moves=(("lapsed_thb", "down"),)),
    Lever("participation", "Participation",
          "illustrative share of citizens reached by hearings, forums and community plans",
          "Hearings, forums and community plans shift proposals from wants to problems and raise "
          "satisfaction.", "003 §5.5; 004 §2.1", 0.2, "share", "participation", 0.6,
          ("simulate",),
          moves=(("value_for_money", "up"), ("unmet_need", "down"))),
    Lever("allocation_rule", "Allocation rule",
          "how provincial budgets are split: the real shares of a verified year ('actual'), "
          "plan-quality score, need, per capita, the fitted formula, incremental (last year's money "
          "less a share of its lapse, starting from the real shares), or the optimiser's LP",
          "Provincial budgets follow need and strategy instead of a centrally assessed plan-quality "
          "score.", "003 §5.3.2", "actual", "choice", "allocation_by_need", "need",
          ("optimise", "simulate"), choices=ALLOCATION_RULES,
          moves=(("equity_gini_per_capita_benefit", "down"),)),
    Lever("cluster_map", "Cluster map",
          '"2017" (current), "2009", or a CSV path (iso_code,cluster_id[,name_en,hub]) relative '
          "to the scenario file",
          "Which provinces form each cluster (geographic 2017 map, the 2009 map, or a user-made "
          "issue-based map); changes cluster projects and cluster budgets.", "003 §5.1.3", "2017",
          "cluster_map", "cluster_map", "2009", ("data", "optimise", "simulate"),
          section="geography", choices=CLUSTER_MAPS),
    Lever("high_performance_provinces", "High Performance Provinces",
          "ISO 3166-2:TH codes of provinces under the High Performance Province regime",
          "Provinces under the High Performance Province regime get the reform package "
          "(gateway, delegation, staffing) while others stay on today's rules; the default reform "
          "file lists the six 2020 pilots.", "002", [], "provinces", "high_performance_province",
          ["TH-74", "TH-70", "TH-18", "TH-19", "TH-40", "TH-48"], ("simulate",),
          moves=(("mean_change_approval_days", "down"),)),
)

LEVER: dict[str, Lever] = {lv.field: lv for lv in LEVERS}
#: BudgetModel's lever keyword parameters: one per catalogue entry.
LEVER_KEYWORDS: tuple[str, ...] = tuple(LEVER)


def lever_sections(sc: object, values: dict[str, object]) -> dict[str, BaseModel]:
    """The scenario sections ``sc`` would have with the given levers changed, validated (a bad
    value is a pydantic ValidationError naming the field), keyed by section name — for
    ``sc.model_copy(update=...)``. ``sc`` is a :class:`~allocsim.scenario.schema.Scenario`."""
    unknown = sorted(set(values) - set(LEVER))
    if unknown:
        raise TypeError(f"unknown lever(s) {', '.join(unknown)}; valid: {', '.join(LEVER)}")
    changes: dict[str, dict[str, object]] = {}
    for name, value in values.items():
        changes.setdefault(LEVER[name].section, {})[name] = value
    out = {}
    for section, vals in changes.items():
        current = getattr(sc, section)
        out[section] = type(current).model_validate({**current.model_dump(), **vals})
    return out


def levers_table() -> pd.DataFrame:
    """The catalogue as a table (what ``allocsim levers`` prints)."""
    import pandas as pd

    return pd.DataFrame([{"lever": lv.field, "title": lv.title, "field": lv.path,
                          "default": lv.default, "reform": lv.reform,
                          "reform_value": lv.reform_value, "status": lv.status,
                          "source": lv.source, "description": lv.description,
                          "mechanism": lv.mechanism} for lv in LEVERS])
