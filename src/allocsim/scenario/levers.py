"""The lever catalogue: every reform lever of DOMAIN.md §7, where it lives in a scenario file, the
mechanism it acts through, and which engine reads it today.

A lever is data in the scenario plus the rule or agent behaviour that reads it; this table is the
one place that documents both. ``engines`` lists what reads a lever *now*; an empty tuple means the
lever validates and is recorded in results but no engine acts on it yet (``status`` = inert).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Lever:
    key: str               # reform file: scenarios/reform_<key>.toml
    field: str             # dotted path in the scenario
    reform_value: object   # the value the shipped reform file sets
    mechanism: str
    source: str            # section of the source documents
    engines: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "active: " + ", ".join(self.engines) if self.engines else "inert (no engine reads it yet)"


LEVERS: tuple[Lever, ...] = (
    Lever("single_gateway", "levers.single_gateway", True,
          "All agencies' plans pass through the province, which screens for duplicates before "
          "approval.", "003 L19", ("simulate",)),
    Lever("data_sharing", "levers.data_sharing", 0.9,
          "Share of agency databases linked into a provincial database; duplicate detection "
          "depends on it.", "002 issue 2; 003 §5.2.5", ("simulate",)),
    Lever("staggered_calendar", "levers.staggered_calendar", True,
          "Planning windows of agencies, provinces and clusters follow one another instead of "
          "overlapping, so proposals can be cross-checked.", "003 §5.2.4", ("simulate",)),
    Lever("delegated_changes", "levers.delegated_changes", True,
          "Project changes and budget transfers that leave the plan intact are approved by "
          "ก.บ.จ./ก.บ.ก. instead of the Budget Bureau, removing a queue hop.", "002 issue 5; 003 §5.2.10", ("simulate",)),
    Lever("area_based_budgeting", "levers.area_based_budgeting", True,
          "Plan and budget are integrated by area: function-budget projects must be aligned with "
          "the provincial plan to be funded.", "002 issue 6", ("optimise", "simulate")),
    Lever("matching_fund", "levers.matching_fund_oversight", True,
          "Governors oversee local executives' co-allocation: local co-funding capacity is pooled "
          "across the province instead of each project relying on voluntary local money.",
          "002 issue 7", ("optimise", "simulate")),
    Lever("personnel_delegation", "levers.personnel_delegation", True,
          "Governors can assign and request staff, raising execution and screening capacity.",
          "002 issues 10-11", ("simulate",)),
    Lever("multi_year_projects", "levers.multi_year_projects", True,
          "Projects may commit money across fiscal years; today multi-year commitments are not "
          "allowed, so multi-year projects cannot be funded.", "003 §5.2.11", ("optimise", "simulate")),
    Lever("participation", "levers.participation", 0.6,
          "Hearings, forums and community plans shift proposals from wants to problems and raise "
          "satisfaction.", "003 §5.5; 004 §2.1", ("simulate",)),
    Lever("allocation_by_need", "levers.allocation_rule", "need",
          "Provincial budgets follow need and strategy instead of a centrally assessed plan-quality "
          "score.", "003 §5.3.2", ("optimise", "simulate")),
    Lever("cluster_map", "geography.cluster_map", "2009",
          "Which provinces form each cluster (geographic 2017 map, the 2009 map, or a user-made "
          "issue-based map); changes cluster projects and cluster budgets.", "003 §5.1.3",
          ("data", "optimise", "simulate")),
    Lever("high_performance_province", "levers.high_performance_provinces",
          ["TH-74", "TH-70", "TH-18", "TH-19", "TH-40", "TH-48"],
          "Provinces under the High Performance Province regime get the reform package "
          "(gateway, delegation, staffing) while others stay on today's rules; the default reform "
          "file lists the six 2020 pilots.", "002", ("simulate",)),
)


def levers_table() -> pd.DataFrame:
    """The catalogue as a table (what ``allocsim levers`` prints)."""
    return pd.DataFrame([{"lever": lv.key, "field": lv.field, "reform_value": lv.reform_value,
                          "status": lv.status, "source": lv.source, "mechanism": lv.mechanism}
                         for lv in LEVERS])
