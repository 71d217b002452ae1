"""The parameter table of the ODD protocol (``docs/ODD.md``), generated from the scenario schema.

The ODD description of the simulation must name every parameter the simulation reads, with its
default, unit and whether the default comes from a source or is an illustrative assumption. Typing
that table by hand would drift from the code, so it is built here from the pydantic models
(``SimulationConfig``, the lever sections, ``CatalogueParams`` and the few fields of other sections
the simulation reads) and written between two marker comments in ``docs/ODD.md``.
``tests/test_odd.py`` fails when the file and the schema disagree. Regenerate with::

    PYTHONPATH=src python -m allocsim.scenario.odd --write docs/ODD.md

How a row is labelled (column ``status``), in this order:

* **illustrative** — the field's description says so, or its section declares every default
  illustrative (``SimulationConfig`` and ``CatalogueParams`` do, in their docstrings);
* **sourced** — the description cites a source document mark (`000` … `004`), or the field is a
  lever whose default is today's practice as its catalogue entry's ``source`` describes it, or it is
  one of the regulation-set fields of ``uncertainty.FIXED_FIELDS``;
* **setting** — not a claim about the world: the horizon, time step and sample size
  (``uncertainty.FIXED_FIELDS``) and model modes (a ``Literal`` choice that is no lever).

Anything else is ``UNLABELLED`` and fails the test. A field's unit comes from
``json_schema_extra={"unit": ...}`` on the field, else from :data:`UNITS`, else from its name;
a field whose description is only a label (e.g. ``"illustrative"``) gets its meaning from
:data:`GLOSSES` — once the description explains the field, the test asks to delete the gloss, so
the meaning is written in one place only.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from allocsim.data.catalogue import CatalogueParams
from allocsim.scenario.levers import LEVER
from allocsim.scenario.schema import (
    AllocationConfig,
    GeographyConfig,
    LeversConfig,
    RulesConfig,
    Scenario,
    SimulationConfig,
)
from allocsim.scenario.uncertainty import FIXED_FIELDS

START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
CONSTANTS_START = "<!-- constants:start -->"
CONSTANTS_END = "<!-- constants:end -->"
REGENERATE = "PYTHONPATH=src python -m allocsim.scenario.odd --write docs/ODD.md"

#: (section, model, every default illustrative?, fields to include: None = all)
SECTIONS: tuple[tuple[str, type[BaseModel], bool, tuple[str, ...] | None], ...] = (
    ("simulation", SimulationConfig, True, None),
    ("levers", LeversConfig, False, None),
    ("geography", GeographyConfig, False, None),
    ("catalogue", CatalogueParams, True, None),
    # fields of the optimiser's sections that the simulation reads too
    ("rules", RulesConfig, False, ("matching_uptake_voluntary", "matching_uptake_governor")),
    ("allocation", AllocationConfig, False, ("lapse_clawback", "plan_score_range")),
)

#: Catalogue fields the simulation does not read: they size the synthetic ``resources.csv`` of
#: ``allocsim catalogue``; the simulation takes its money from the scenario's envelopes and its
#: local co-funding from the local-government agents (``World.resources``).
NOT_SIMULATED = ("catalogue.budget_tightness", "catalogue.local_capacity_ratio")

#: Fields of other sections the simulation reads that are data, not behaviour: the envelopes and
#: the verified budget years (ODD §6 "Input data"; documented with the optimiser in the README).
INPUT_FIELDS = ("allocation.envelope_mthb", "allocation.cluster_envelope_mthb",
                "allocation.actual_year", "allocation.fit_year")

#: Units that the field's name does not tell.
UNITS: dict[str, str] = {
    "catalogue.oversubscription": "× holder's money",
    "simulation.stopped_project_benefit": "share of benefit",
    "simulation.contract_carryover_days": "days after year end",
    "allocation.plan_score_range": "score (0–1)",
    "simulation.years": "fiscal years",
    "simulation.citizens_per_province": "citizens per province",
    "simulation.ministry_notify_per_day": "governors notified per day",
    "simulation.plan_proposals_per_staff_day": "proposals per officer-day",
    "simulation.province_staff": "officers per province",
    "simulation.staff_with_delegation": "officers per province",
    "simulation.screening_days_per_proposal": "officer-days per proposal",
    "simulation.overlap_rework": "share of planning work added",
    "simulation.multi_channel_overlap": "factor on catalogue.duplicate_rate",
    "simulation.multi_channel_staggered": "factor on catalogue.duplicate_rate",
    "simulation.execution_weeks": "weeks (low, high)",
    "simulation.central_servers": "officers",
    "simulation.need_relief_thb_per_head": "THB of effective benefit per head",
    "simulation.need_growth": "share of the gap to 1 per year",
    "simulation.local_government_agents": "mode",
    "simulation.lg_capacity_median_mthb": "million THB per body per year, by type",
    "simulation.lg_capacity_sigma": "log-scale σ, by type",
    "simulation.satisfaction_relief": "satisfaction per unit of need relieved",
    "simulation.satisfaction_delay_per_100_days": "satisfaction per 100 days of delay",
    "simulation.plan_size": "strategies per plan",
    "simulation.strategy_need_exponent": "power of voiced need",
    "simulation.ministry_ranking_bias": "added factor on priority",
    "simulation.discovery_base": "factor on discovery rate",
    "simulation.discovery_per_data_sharing": "factor per unit of data sharing",
    "simulation.need_beta_a": "Beta shape a",
    "simulation.need_beta_b": "Beta shape b",
    "simulation.satisfaction_initial": "satisfaction (0–1)",
    "simulation.satisfaction_base": "satisfaction (0–1)",
    "simulation.satisfaction_pull_participant": "share of the gap per year (0–1)",
    "simulation.satisfaction_pull_other": "share of the gap per year (0–1)",
    "simulation.absorption_performance_min": "factor on absorption capacity",
    "simulation.absorption_performance_max": "factor on absorption capacity",
    "simulation.absorption_free_min": "share of capacity (0–1)",
    # m1
    "simulation.ministry_weight_sigma": "log-scale σ across ministries",
    "simulation.ministry_bias_spread": "sd of the added factor on priority",
    "simulation.ministry_compliance_spread": "sd of a share (0–1)",
    "simulation.ministry_throughput_spread": "log-scale σ across ministries",
    "simulation.ministries": "per-ministry values",
    "simulation.escalation_resolve_probability": "probability (0–1)",
    # AD helper (issue 12 wave 2): adaptation
    "simulation.multi_channel_learn_rejection": "propensity per unit of rejection rate per year",
    "simulation.multi_channel_learn_caught": "propensity per unit of caught share per year",
    "simulation.multi_channel_propensity_max": "probability (0–1)",
    "simulation.year_end_rush_weeks": "weeks before year end",
    "simulation.year_end_rush_speedup": "factor on the weekly payment rate",
    "simulation.year_end_rush_quality": "benefit per rushed baht (share of normal)",
    "simulation.plan_feedback_rate": "share of the gap to 1 per year",
    "catalogue.duplicate_cost_spread": "± share of the idea's cost",
    "catalogue.projects_per_province": "ideas per province per year",
    "catalogue.projects_per_cluster": "ideas per cluster per year",
    "catalogue.channel_weights": "relative weight by channel",
    "catalogue.max_duplicate_copies": "extra copies per duplicated idea",
    "catalogue.benefit_cost_median": "benefit ÷ cost",
    "catalogue.construction_benefit_factor": "factor on benefit ÷ cost",
    "catalogue.local_share_range": "share of total cost (low, high)",
    "catalogue.max_years": "fiscal years",
    "catalogue.cluster_partners_range": "provinces (low, high)",
    "levers.allocation_rule": "choice",
    "levers.high_performance_provinces": "ISO 3166-2:TH codes",
    "geography.cluster_map": '"2017", "2009" or a CSV path',
}

#: Name fragment → unit, tried in order, for fields not in UNITS.
NAME_UNITS: tuple[tuple[str, str], ...] = (
    ("hazard", "per week"),
    ("_per_week", "per week"),
    ("_days", "days"),
    ("_mthb", "million THB"),
    ("_sigma", "log-scale σ"),
    ("_share", "share (0–1)"),
    ("_rate", "share (0–1)"),
    ("_effect", "factor on benefit (0–1)"),
    ("_target", "share (0–1)"),
    ("_compliance", "share (0–1)"),
    ("_base", "share (0–1)"),
    ("uptake", "share of capacity (0–1)"),
    ("clawback", "share of lapsed money (0–1)"),
    ("without_gateway", "share of detection power (0–1)"),
    ("data_sharing", "share (0–1)"),
    ("participation", "share of citizens (0–1)"),
)

#: Meanings for fields whose schema description is only a label (see the module docstring).
GLOSSES: dict[str, str] = {
    "simulation.notify_deadline_days": "deadline for ministries to notify governors of their "
    "allocation after the Budget Act; a ministry later than it is counted late, and the plan "
    "deadline is fixed from it (provinces notified late have less time)",
    "simulation.plan_deadline_days": "days after the legal notification deadline within which "
    "provinces finalise their action plans; planning work beyond the time left is cut short and "
    "late proposals are re-submitted",
    "simulation.report_every_days": "interval of the provinces' progress reports, at which stuck "
    "change requests escalate",
    "simulation.plan_proposals_per_staff_day": "proposals one provincial officer reads and "
    "places in the action plan per day",
    "simulation.province_staff": "officers per province who write the action plan and serve the "
    "procurement queue (more staff: more servers, each at the same mean service time)",
    "simulation.staff_with_delegation": "officers per province under personnel delegation or in "
    "a High Performance Province",
    "simulation.screening_days_per_proposal": "extra officer-days per proposal when the single "
    "gateway screens every channel",
    "simulation.multi_channel_staggered": "factor on the catalogue's duplicate rate when planning "
    "calendars are staggered (agencies see each other's proposals first)",
    "simulation.procurement_days": "mean procurement time of a non-construction project "
    "(exponential; per officer in the provincial queue, which has staff officers)",
    "simulation.procurement_days_construction": "mean procurement time of a construction project "
    "(exponential; per officer in the provincial queue, which has staff officers)",
    "simulation.execution_weeks": "range of a single-year tranche's execution time; the tranche "
    "disburses evenly over it",
    "simulation.change_hazard_per_week": "weekly hazard that a running non-construction project "
    "needs a change request",
    "simulation.change_hazard_construction": "weekly hazard that a running construction project "
    "needs a change request",
    "simulation.duplicate_discovery_per_week": "weekly hazard that a funded duplicate copy is "
    "discovered during execution (× discovery_base + discovery_per_data_sharing × data sharing) and a cancellation is requested",
    "simulation.central_service_days": "mean service time of one change request at the Budget "
    "Bureau (exponential)",
    "simulation.inspector_service_days": "mean service time of one escalated case at the cluster's "
    "inspector (exponential)",
    "simulation.kkp_service_days": "mean service time of one escalated case at กกภ. (exponential)",
    "simulation.knj_service_days": "mean service time of one escalated case at ก.น.จ. "
    "(exponential)",
    "simulation.escalate_after_days": "a change request still pending this long after a "
    "six-monthly report is escalated up the inspection chain",
    "simulation.need_growth": "share of the gap between a citizen's need and 1 that regrows each "
    "year",
    "simulation.satisfaction_relief": "weight of the year's need relief in the satisfaction "
    "target satisfaction_base + weight × relief − delay term",
    "simulation.satisfaction_delay_per_100_days": "weight of mean days to first payment (per 100 "
    "days) in the satisfaction target",
    "catalogue.projects_per_province": "new ideas per province per fiscal year (before copies "
    "through other channels)",
    "catalogue.projects_per_cluster": "new joint ideas per cluster per fiscal year",
    "catalogue.max_duplicate_copies": "largest number of extra channels a duplicated idea is also "
    "submitted through",
    "catalogue.cost_median_mthb": "median total cost of an idea (lognormal)",
    "catalogue.cost_sigma": "lognormal spread of ideas' costs",
    "catalogue.benefit_cost_median": "median benefit-cost ratio of an idea (lognormal)",
    "catalogue.benefit_cost_sigma": "lognormal spread of ideas' benefit-cost ratios",
    "catalogue.construction_share_ministry": "chance that a ministry's idea is a construction "
    "project (construction bias, `003` §5.3.6)",
    "catalogue.construction_share_other": "chance that a province's, local government's, private "
    "or cluster idea is a construction project",
    "catalogue.follow_on_rate": "chance that an idea is a follow-on (value chain) needing an "
    "earlier idea of its province",
    "catalogue.multi_year_share": "chance that an idea runs over several fiscal years",
    "catalogue.max_years": "longest duration of a multi-year idea",
    "catalogue.cluster_partners_range": "number of member provinces a cluster idea spans",
}

#: Behavioural numbers still written in the simulation's code: (what it is, the file under
#: ``src/allocsim``, a regular expression that finds it there). ``tests/test_odd.py`` checks that
#: every pattern still matches and that docs/ODD.md lists exactly these. Issue 12 made every one a
#: parameter (``tests/test_parameters.py`` scans the code for new ones), so the list is empty.
CONSTANTS_IN_CODE: tuple[tuple[str, str, str], ...] = ()

SOURCE_MARK = re.compile(r"\b00[0-4]\b")
LEADING_LABEL = re.compile(r"^illustrative\b[:,]?\s*", re.IGNORECASE)
LABEL_WORDS = re.compile(r"illustrative|`?\b00[0-4]\b`?|§\s*[\d.]+|Del-\d|[,;:()]", re.IGNORECASE)


@dataclass(frozen=True)
class ParameterRow:
    """One row of the ODD parameter table."""

    name: str       # dotted scenario field, e.g. simulation.procurement_days
    default: str    # the schema default, in TOML syntax
    baseline: str   # the value in scenarios/baseline.toml ("" when it is the default)
    unit: str
    status: str     # illustrative | sourced: … | setting | UNLABELLED
    meaning: str


def toml_value(v: object) -> str:
    """A value as a scenario file would write it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e6 else f"{v:.1f}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return str(v)


def is_terse(description: str) -> bool:
    """True when a description is only a label (illustrative, a source mark) plus < 4 words."""
    return len(LABEL_WORDS.sub(" ", description).split()) < 4


def meaning_of(name: str, description: str) -> str:
    """The gloss if there is one, else the description without a leading "illustrative" (the
    status column says it)."""
    return GLOSSES.get(name, LEADING_LABEL.sub("", description))


def unit_of(name: str, model: type[BaseModel], field: str) -> str:
    info = model.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "unit" in extra:
        return str(extra["unit"])
    if name in UNITS:
        return UNITS[name]
    if info.annotation is bool:
        return "on/off"
    for frag, unit in NAME_UNITS:
        if frag in field:
            return unit
    return ""


def status_of(name: str, model: type[BaseModel], field: str, all_illustrative: bool) -> str:
    info = model.model_fields[field]
    desc = info.description or ""
    lever = LEVER.get(field) if model in (LeversConfig, GeographyConfig) else None
    if "illustrative" in desc.lower():
        return "illustrative"
    if lever is not None:
        return f"sourced: today's practice ({lever.source})"
    if name in FIXED_FIELDS:
        why = FIXED_FIELDS[name]
        mark = SOURCE_MARK.search(why)
        return f"sourced: {why[mark.start():].rstrip(')')}" if mark else "setting"
    if SOURCE_MARK.search(desc):
        return f"sourced: {desc}"
    if typing.get_origin(info.annotation) is typing.Literal:
        return "setting"
    if all_illustrative:
        return "illustrative"
    return "UNLABELLED"


def parameter_rows(baseline: Scenario | None = None) -> list[ParameterRow]:
    """The table's rows from the schema (in field order); ``baseline`` fills the baseline column."""
    rows = []
    for section, model, all_illustrative, only in SECTIONS:
        for field, info in model.model_fields.items():
            name = f"{section}.{field}"
            if (only is not None and field not in only) or name in NOT_SIMULATED:
                continue
            default = info.get_default(call_default_factory=True)
            base = ""
            if baseline is not None:
                b = getattr(getattr(baseline, section), field)
                base = "" if b == default else toml_value(b)
            rows.append(ParameterRow(name, toml_value(default), base, unit_of(name, model, field),
                                     status_of(name, model, field, all_illustrative),
                                     meaning_of(name, info.description or "")))
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(rows: list[ParameterRow]) -> str:
    """The markdown table (without the markers)."""
    out = ["| parameter | default | baseline.toml | unit | status | meaning |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| " + " | ".join(_cell(x) for x in (f"`{r.name}`", f"`{r.default}`",
                                                         f"`{r.baseline}`" if r.baseline else "",
                                                         r.unit, r.status, r.meaning)) + " |")
    return "\n".join(out)


def generated_block(baseline: Scenario | None = None) -> str:
    """The marked block as it must appear in docs/ODD.md."""
    note = (f"<!-- generated from the scenario schema by allocsim.scenario.odd; do not edit by hand: "
            f"{REGENERATE} -->")
    return f"{START}\n{note}\n\n{render_table(parameter_rows(baseline))}\n\n{END}"


def constants_block() -> str:
    """The marked list of behavioural constants still in code (:data:`CONSTANTS_IN_CODE`)."""
    items = [f"* {what} (`src/allocsim/{path}`)" for what, path, _ in CONSTANTS_IN_CODE]
    return "\n".join([CONSTANTS_START, *(items or ["* none"]), CONSTANTS_END])


def marked_block(text: str, start: str = START, end: str = END) -> str:
    """The block between (and including) the markers of a document; ValueError without them."""
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"no {start} … {end} block")
    return text[i:j + len(end)]


def rewrite(doc: Path, baseline: Scenario | None = None) -> bool:
    """Replace the marked blocks of ``doc`` (parameters; constants where present) with the
    generated ones; True when the file changed."""
    text = doc.read_text(encoding="utf-8")
    new = text.replace(marked_block(text), generated_block(baseline))
    if CONSTANTS_START in new:
        new = new.replace(marked_block(new, CONSTANTS_START, CONSTANTS_END), constants_block())
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return new != text


def load_baseline(doc: Path) -> Scenario | None:
    """``scenarios/baseline.toml`` of the repository holding ``doc`` (docs/ODD.md), if present."""
    from allocsim.scenario.loader import load_scenario

    path = doc.resolve().parent.parent / "scenarios" / "baseline.toml"
    return load_scenario(path) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m allocsim.scenario.odd",
                                 description="Regenerate or check the ODD parameter table.")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="ODD_MD", type=Path, help="rewrite the marked block")
    mode.add_argument("--check", metavar="ODD_MD", type=Path, help="exit 1 if the block is stale")
    a = ap.parse_args(argv)
    doc = a.write or a.check
    if not doc.is_file():
        print(f"{doc}: file not found", file=sys.stderr)
        return 2
    try:
        base = load_baseline(doc)
        if a.write:
            print(f"{doc}: {'updated' if rewrite(doc, base) else 'already up to date'}")
            return 0
        text = doc.read_text(encoding="utf-8")
        ok = marked_block(text) == generated_block(base) and (
            CONSTANTS_START not in text
            or marked_block(text, CONSTANTS_START, CONSTANTS_END) == constants_block())
    except ValueError as exc:
        print(f"{doc}: {exc}", file=sys.stderr)
        return 2
    print(f"{doc}: {'up to date' if ok else 'stale; run: ' + REGENERATE}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
