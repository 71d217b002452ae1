"""The typed scenario: one pydantic model per section of a scenario TOML file.

Defaults marked *illustrative* are assumptions chosen to make mechanisms visible, not measured
Thai figures (DOMAIN.md: the sources give almost no numbers). Every section forbids unknown
keys, so a typo in a scenario file is an error naming the field, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from allocsim.data.catalogue import CatalogueParams
from allocsim.scenario.levers import LEVERS, Lever
from allocsim.scenario.uncertainty import (
    PackagesConfig,
    UncertaintyConfig,
    check_packages,
    check_uncertainty,
)

SOURCES = ("province_budget", "ministry_budget", "local_grant", "private")
Source = Literal["province_budget", "ministry_budget", "local_grant", "private"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _lever_field(lv: Lever) -> tuple[Any, Any]:
    """A lever's pydantic field (type and Field) from its catalogue entry."""
    info = {"title": lv.title, "description": lv.description}
    if lv.kind == "switch":
        return bool, Field(lv.default, **info)
    if lv.kind == "share":
        return float, Field(lv.default, ge=0, le=1, **info)
    if lv.kind == "choice":
        return Literal[lv.choices], Field(lv.default, **info)  # type: ignore[valid-type]
    if lv.kind == "provinces":
        return list[str], Field(default_factory=lambda: list(lv.default), **info)  # type: ignore[arg-type]
    if lv.kind == "cluster_map":
        return str, Field(lv.default, **info)
    raise ValueError(f"lever {lv.field}: unknown kind {lv.kind!r}")


def _lever_section(name: str, section: str, base: type[Section], doc: str) -> type[Section]:
    """A scenario section whose fields are the catalogue's levers for that section, in order."""
    fields = {lv.field: _lever_field(lv) for lv in LEVERS if lv.section == section}
    return create_model(name, __base__=base, __doc__=doc, __module__=__name__, **fields)


GeographyConfig = _lever_section("GeographyConfig", "geography", Section,
                                 "Geography: the cluster map (a lever, see ``scenario/levers.py``).")


class ProjectsConfig(Section):
    source: Literal["synthetic", "file"] = "synthetic"
    projects_file: str | None = None
    resources_file: str | None = None

    @model_validator(mode="after")
    def _files_given(self) -> ProjectsConfig:
        if self.source == "file" and not (self.projects_file and self.resources_file):
            raise ValueError('source = "file" needs both projects_file and resources_file')
        return self


class AllocationConfig(Section):
    """The allocation LP. Amounts in million THB; **all defaults illustrative**."""

    envelope_mthb: dict[Source, float] = Field(
        default_factory=lambda: {"province_budget": 18000.0, "ministry_budget": 60000.0,
                                 "local_grant": 25000.0, "private": 5000.0},
        description="illustrative national envelope per source")
    cluster_envelope_mthb: float = Field(6000.0, ge=0, le=1e9, description="illustrative")
    floor_thb_per_capita: float = Field(300.0, ge=0, le=1e7, description="illustrative minimum "
                                        "per head across all sources")
    absorption_thb_per_capita: float = Field(3000.0, gt=0, le=1e7, description="illustrative "
                                             "spending capacity per head")
    ceiling_share: float = Field(0.1, gt=0, le=1, description="illustrative: max share of a "
                                 "source's envelope one province may receive")
    actual_year: int = Field(2569, description="fiscal year (B.E.) whose real provincial and cluster "
                             "shares the 'actual' allocation rule uses (a verified year)")
    fit_year: int = Field(2568, description="fiscal year (B.E.) the 'fitted' formula is estimated on")
    lapse_clawback: float = Field(0.5, ge=0, le=1, description="illustrative: under the 'incremental' "
                                  "rule, the share of the money a holder returned (unfunded + lapsed "
                                  "in execution) taken off its next year's allocation (money "
                                  "follows last year's use)")
    plan_score_range: tuple[float, float] = Field(
        (0.5, 1.0), description="illustrative: range of the plan-quality scores (none are published) "
        "the 'plan_score' rule weights provinces by; both engines read the same scores")

    @field_validator("actual_year", "fit_year")
    @classmethod
    def _verified(cls, v: int) -> int:
        from allocsim.data.budget import VERIFIED_YEARS, year_caveat

        if v not in VERIFIED_YEARS:
            why = year_caveat(v) or "no budget data for that year"
            raise ValueError(f"{v} is not a verified budget year (valid: "
                             f"{', '.join(map(str, VERIFIED_YEARS))}); {why}")
        return v

    @field_validator("plan_score_range")
    @classmethod
    def _score_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not 0 < lo <= hi <= 1e6:
            raise ValueError(f"plan_score_range must be [low, high] with 0 < low <= high (got {list(v)})")
        return v

    @field_validator("envelope_mthb")
    @classmethod
    def _envelope(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not (0 <= x <= 1e9):
                raise ValueError(f"{k}: {x} must be between 0 and 1e9 (million THB)")
        return v


class RulesConfig(Section):
    """Portfolio rules; each switch turns one rule module on or off. The switches are the rule
    modules that declare ``SWITCHABLE`` (``optimise.rules.SWITCHES``); the scenario layer sits
    below the optimiser, so they are listed here and ``tests/test_catalogues.py`` checks that the
    two lists agree."""

    capacity: bool = True
    duplicates: bool = True
    follow_on: bool = True
    matching: bool = True
    alignment: bool = True
    alignment_threshold: float = Field(0.6, ge=0, le=1, description="illustrative")
    cluster_partners: bool = True
    min_cluster_partners: int = Field(2, ge=1, le=76)
    committed: bool = True
    matching_uptake_voluntary: float = Field(0.5, ge=0, le=1, description="illustrative share "
                                             "of local capacity co-allocated voluntarily")
    matching_uptake_governor: float = Field(0.9, ge=0, le=1, description="illustrative share "
                                            "co-allocated under governor oversight")


class ObjectiveConfig(Section):
    kind: Literal["benefit", "equity", "shortfall", "weighted"] = "benefit"
    equity_weight: float = Field(0.5, ge=0, le=1, description="weight of equity in 'weighted'")
    need_target: float = Field(0.0, ge=0, le=1e9, description="illustrative: benefit per head (THB) "
                               "every province should reach; 'shortfall' minimises the largest gap")
    pareto_points: int = Field(0, ge=0, le=200, description="0 = no Pareto frontier")
    alternatives: int = Field(0, ge=0, le=50, description="near-optimal alternative portfolios to "
                              "generate (modelling to generate alternatives); 0 = none")
    slack: float = Field(0.02, ge=0, le=0.5, description="alternatives stay within this share of "
                         "the optimum's benefit")
    resource_values: bool = Field(False, description="also value every MILP resource: LP-relaxation "
                                  "bound and duals, and one re-solve per resource (resource_values.csv)")

    @model_validator(mode="after")
    def _target(self) -> ObjectiveConfig:
        if self.kind == "shortfall" and self.need_target <= 0:
            raise ValueError('kind = "shortfall" needs need_target > 0 (THB of benefit per head every '
                             "province should reach)")
        return self


class SolverConfig(Section):
    mip_gap: float = Field(1e-3, ge=0, le=1, description="relative MIP gap at which HiGHS stops")
    time_limit_s: float = Field(60.0, gt=0, le=86400)
    threads: int | None = Field(None, ge=1, le=256)


class _LeverChecks(Section):
    """Checks on lever values that their type alone does not express."""

    @field_validator("high_performance_provinces", check_fields=False)
    @classmethod
    def _iso(cls, v: list[str]) -> list[str]:
        from allocsim.data.geography import BANGKOK, _provinces_base

        known = set(_provinces_base()["iso_code"]) - {BANGKOK}
        bad = [c for c in v if c not in known]
        if bad:
            raise ValueError(f"unknown province code(s) {', '.join(bad)}; use ISO 3166-2:TH codes "
                             "of the 76 provinces, e.g. TH-74 (see `allocsim data`)")
        if len(set(v)) != len(v):
            raise ValueError("a province is listed twice")
        return v


LeversConfig = _lever_section("LeversConfig", "levers", _LeverChecks,
                              "Reform levers (DOMAIN.md §7), one field per entry of the lever "
                              "catalogue (``scenario/levers.py``); ``allocsim levers`` "
                              "lists each one's mechanism and status.")


# Local-government types: the count columns of data/reference/thailand_local_government_by_province.csv
# ("special_form" there is Pattaya City only; Bangkok's BMA is not simulated).
LG_KINDS = ("pao", "municipality_city", "municipality_town", "municipality_subdistrict", "sao",
            "special_form")
# ILLUSTRATIVE co-funding capacity per body per year (MTHB): lognormal median and sigma by type.
# No source gives these; larger bodies (PAOs, city municipalities, Pattaya) are assumed richer.
# Calibrated (12 × the first guess) so that, at the voluntary uptake, co-funding covers the matching
# share of the local-grant and cluster envelopes (~4.6 bn THB a year) instead of starving them.
LG_CAPACITY_MEDIAN_MTHB = {"pao": 24.0, "municipality_city": 24.0, "municipality_town": 6.0,
                           "municipality_subdistrict": 1.2, "sao": 0.6, "special_form": 24.0}
LG_CAPACITY_SIGMA = {"pao": 0.4, "municipality_city": 0.4, "municipality_town": 0.5,
                     "municipality_subdistrict": 0.6, "sao": 0.6, "special_form": 0.4}


class SimulationConfig(Section):
    """The budget-cycle simulation. Days are calendar days from the Budget Act (day 0 = 1 Oct).

    Deadlines (30 and 60 days) come from `000` Del-3; report days (every 6 months) from `004` §3.4.
    **Every other number is illustrative**: capacities, service times, hazards and effect sizes
    chosen to make the mechanisms of DOMAIN.md §5–§6 visible, not measured Thai figures.
    """

    years: int = Field(3, ge=1, le=50, description="fiscal years to simulate")
    step_days: int = Field(7, ge=1, le=30, description="days per step (7 = weekly)")
    citizens_per_province: int = Field(200, ge=1, le=1_000_000, description="citizen sample per "
                                       "province (vectorised arrays, weighted to the population)")
    notify_deadline_days: int = Field(30, ge=1, le=365, description="`000` Del-3")
    plan_deadline_days: int = Field(60, ge=1, le=365, description="`000` Del-3")
    report_every_days: int = Field(182, ge=30, le=365, description="6-monthly reports, `004` §3.4")
    ministry_notify_per_day: float = Field(4.0, gt=0, le=1000, description="illustrative mean "
                                           "governors a ministry notifies per day: its notification "
                                           "day = provinces it proposes in this year / its throughput")
    plan_proposals_per_staff_day: float = Field(0.15, gt=0, le=100, description="illustrative")
    province_staff: int = Field(2, ge=1, le=100, description="illustrative planning/procurement staff")
    staff_with_delegation: int = Field(4, ge=1, le=100, description="illustrative, personnel lever")
    screening_days_per_proposal: float = Field(0.2, ge=0, le=30, description="illustrative gateway workload")
    overlap_rework: float = Field(0.3, ge=0, le=5, description="illustrative extra planning work when calendars overlap")
    resubmission_days: int = Field(45, ge=0, le=365, description="illustrative delay for proposals missing the plan deadline")
    multi_channel_overlap: float = Field(1.0, ge=0, le=5, description="illustrative: multi-channel "
                                         "submission factor with overlapping calendars")
    multi_channel_staggered: float = Field(0.5, ge=0, le=5, description="illustrative, staggered calendars")
    detection_without_gateway: float = Field(0.25, ge=0, le=1, description="illustrative: share of "
                                             "data-sharing detection power left without a gateway")
    procurement_days: float = Field(30.0, gt=0, le=365, description="illustrative mean, non-construction")
    procurement_days_construction: float = Field(60.0, gt=0, le=365, description="illustrative mean")
    execution_weeks: tuple[int, int] = Field((10, 30), description="illustrative single-year duration range")
    change_hazard_per_week: float = Field(0.012, ge=0, le=1, description="illustrative")
    change_hazard_construction: float = Field(0.025, ge=0, le=1, description="illustrative")
    duplicate_discovery_per_week: float = Field(0.05, ge=0, le=1, description="illustrative")
    central_servers: int = Field(1, ge=1, le=100, description="illustrative Budget Bureau officers for changes")
    central_service_days: float = Field(0.8, gt=0, le=365, description="illustrative mean per request")
    province_service_days: float = Field(2.0, gt=0, le=365, description="illustrative ก.บ.จ. mean per request")
    inspector_service_days: float = Field(7.0, gt=0, le=365, description="illustrative")
    kkp_service_days: float = Field(14.0, gt=0, le=365, description="illustrative กกภ.")
    knj_service_days: float = Field(30.0, gt=0, le=365, description="illustrative ก.น.จ.")
    escalate_after_days: int = Field(30, ge=1, le=365, description="illustrative")
    need_window_days: int = Field(240, ge=1, le=3650, description="illustrative: spending that starts "
                                  "later than this after the Budget Act meets a need that has passed")
    late_effect: float = Field(0.5, ge=0, le=1, description="illustrative effect of late spending")
    want_effect: float = Field(0.5, ge=0, le=1, description="illustrative effect of wants-not-problems projects")
    stopped_project_benefit: float = Field(0.0, ge=0, le=1, description="illustrative share of the "
                                           "benefit a multi-year project's delivered tranches keep when "
                                           "a later tranche loses funding (0: partial works serve no one)")
    contract_carryover_days: int = Field(182, ge=0, le=365, description="illustrative days after "
                                         "year end a contracted project (procurement finished) may "
                                         "still disburse its carried-over money before the rest "
                                         "lapses (0: no carry-over)")
    problem_base: float = Field(0.3, ge=0, le=1, description="illustrative share of problem-based "
                                "proposals with no participation")
    need_relief_thb_per_head: float = Field(300.0, gt=0, le=1e7, description="illustrative THB of "
                                            "effective benefit per head that relieves 63% of a need")
    need_growth: float = Field(0.05, ge=0, le=1, description="illustrative yearly need regrowth")
    local_government_agents: Literal["aggregated", "per_body"] = Field(
        "aggregated", description='"aggregated": one agent per type per province (real counts); '
        '"per_body": one agent per local government (7,841), capacities drawn per body')
    lg_capacity_median_mthb: dict[str, float] = Field(
        default_factory=lambda: dict(LG_CAPACITY_MEDIAN_MTHB), description="illustrative median "
        "co-funding capacity per body per year (MTHB), by type; lognormal across bodies")
    lg_capacity_sigma: dict[str, float] = Field(
        default_factory=lambda: dict(LG_CAPACITY_SIGMA), description="illustrative lognormal sigma "
        "of co-funding capacity across bodies of a type")
    cluster_disbursement_target: float = Field(0.7, ge=0, le=1, description="illustrative share of a "
                                               "year's budget the cluster expects members to disburse")
    satisfaction_relief: float = Field(3.0, ge=0, le=10, description="illustrative")
    satisfaction_delay_per_100_days: float = Field(0.1, ge=0, le=10, description="illustrative")
    # behaviour of the simulation's agents and citizens: each number once, all illustrative
    plan_size: int = Field(3, ge=1, le=20, description="illustrative: a provincial plan targets its "
                           "this-many most voiced needs (plan achievement is measured against them)")
    strategy_need_exponent: float = Field(2.0, ge=0, le=10, description="illustrative: a "
                                          "problem-based idea's strategy is chosen ∝ voiced need^this "
                                          "(>1: the loudest needs dominate proposals)")
    ministry_ranking_bias: float = Field(0.5, ge=0, le=5, description="illustrative: extra "
                                         "priority a ministry's construction project gets in a "
                                         "province's ranking (× (1 + bias)): ministries push works")
    discovery_base: float = Field(0.5, ge=0, le=5, description="illustrative: duplicate discovery "
                                  "during execution runs at rate × (base + slope × data sharing) — "
                                  "some are found with no shared data")
    discovery_per_data_sharing: float = Field(1.0, ge=0, le=5, description="illustrative slope: "
                                              "shared data makes executing duplicates easier to find")
    need_beta_a: float = Field(2.0, gt=0, le=100, description="illustrative: citizens' starting "
                               "needs are Beta(a, b) per person and strategy (mean a / (a + b) = 0.4)")
    need_beta_b: float = Field(3.0, gt=0, le=100, description="illustrative: second shape of the "
                               "Beta(a, b) starting needs; larger b means lower starting needs")
    satisfaction_initial: float = Field(0.5, ge=0, le=1, description="illustrative citizens' "
                                        "starting satisfaction (no survey gives a baseline)")
    satisfaction_base: float = Field(0.6, ge=0, le=1, description="illustrative: satisfaction a "
                                     "year moves towards = base + relief weight × relief − delay "
                                     "weight × days / 100 (the level with no relief and no delay)")
    satisfaction_pull_participant: float = Field(0.6, ge=0, le=1, description="illustrative share of "
                                                 "the gap to that level closed each year by a citizen "
                                                 "who takes part in planning (they react more)")
    satisfaction_pull_other: float = Field(0.5, ge=0, le=1, description="illustrative share of the "
                                           "gap closed each year by a citizen who does not take part")
    absorption_performance_min: float = Field(0.5, gt=0, le=1, description="illustrative: the "
                                              "optimiser's absorption capacity follows last year's "
                                              "disbursement relative to the nation, clipped to "
                                              "[min, max] so one bad year does not zero a province")
    absorption_performance_max: float = Field(1.5, ge=1, le=10, description="illustrative: most "
                                              "a province's absorption capacity can grow after a year "
                                              "it disbursed well above the national rate")
    absorption_free_min: float = Field(0.1, ge=0, le=1, description="illustrative: absorption "
                                       "capacity left however much money carried-over projects hold")
    # --- m1: ministries that differ, notification workload, escalation outcome -------------
    ministry_weight_sigma: float = Field(0.5, ge=0, le=3, description="illustrative lognormal "
                                         "spread of the ministries' budget weights (share of ministry "
                                         "proposals each makes); 0: equal budgets")
    ministry_bias_spread: float = Field(0.2, ge=0, le=5, description="illustrative sd of a "
                                        "ministry's construction push around ministry_ranking_bias "
                                        "(clipped at 0)")
    ministry_compliance_spread: float = Field(0.15, ge=0, le=1, description="illustrative sd of a "
                                              "ministry's plan compliance around "
                                              "catalogue.ministry_plan_compliance (clipped to [0, 1])")
    ministry_throughput_spread: float = Field(0.3, ge=0, le=3, description="illustrative lognormal "
                                              "spread of the ministries' notification throughput "
                                              "around ministry_notify_per_day")
    ministries: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="per-ministry values that replace the drawn ones: ministry "
        "name -> {budget_weight, construction_bias, compliance, notify_per_day}")
    escalation_resolve_probability: float = Field(0.6, ge=0, le=1, description="illustrative chance "
                                                  "that an escalated problem is solved at the chain's "
                                                  "decision (else the hold runs to the normal decision)")

    @field_validator("ministries", mode="before")
    @classmethod
    def _ministries(cls, v: object) -> dict[str, dict[str, float]]:
        """Ministry overrides: known ministry names and fields only, numbers in range."""
        from allocsim.data.catalogue import MINISTRIES

        fields = {"budget_weight": 1e6, "construction_bias": 5.0, "compliance": 1.0,
                  "notify_per_day": 1000.0}
        if not isinstance(v, dict):
            raise ValueError("simulation.ministries: a table of ministry name -> {field = value}")
        for name, vals in v.items():
            if name not in MINISTRIES:
                raise ValueError(f"simulation.ministries: unknown ministry {name!r}; valid: "
                                 f"{', '.join(MINISTRIES)}")
            if not isinstance(vals, dict):
                raise ValueError(f"simulation.ministries.{name}: a table of field -> number")
            for k, x in vals.items():
                if k not in fields:
                    raise ValueError(f"simulation.ministries.{name}.{k}: unknown field; valid: "
                                     f"{', '.join(fields)}")
                lo = 1e-9 if k == "notify_per_day" else 0.0
                if isinstance(x, bool) or not isinstance(x, int | float) or not lo <= x <= fields[k]:
                    raise ValueError(f"simulation.ministries.{name}.{k} = {x!r}: must be a number "
                                     f"in [{lo:g}, {fields[k]:g}]")
        return {n: {k: float(x) for k, x in d.items()} for n, d in v.items()}
    # --- AD helper (issue 12 wave 2): adaptation from year to year ---
    multi_channel_learn_rejection: float = Field(0.1, ge=0, le=1, description="illustrative: an "
                                                 "agency's multi-channel propensity rises each year by "
                                                 "this × its share of proposals not funded last year "
                                                 "(`003` §5.2.4: rejected ideas are sent elsewhere too)")
    multi_channel_learn_caught: float = Field(0.5, ge=0, le=1, description="illustrative: the "
                                              "propensity falls by this × the share of its duplicate "
                                              "copies a gateway caught last year (`003` §5.2.8)")
    multi_channel_propensity_max: float = Field(0.6, ge=0, le=1, description="illustrative ceiling "
                                                "of the multi-channel propensity (some ideas fit one "
                                                "channel only)")
    year_end_rush_weeks: int = Field(4, ge=0, le=52, description="illustrative: weeks before year "
                                     "end in which a holder facing lapse speeds up payments "
                                     "(Liebman & Mahoney 2017: the last weeks of the fiscal year)")
    year_end_rush_speedup: float = Field(6.0, ge=1, le=20, description="illustrative: payment rate "
                                         "× this for money at risk of lapse in those weeks (last-week "
                                         "spending several times the weekly mean, Liebman & Mahoney 2017)")
    year_end_rush_quality: float = Field(0.7, ge=0, le=1, description="illustrative: benefit per "
                                         "baht of rushed spending relative to normal spending (lower "
                                         "quality of year-end projects, Liebman & Mahoney 2017)")
    plan_feedback_rate: float = Field(0.2, ge=0, le=1, description="illustrative share of the gap "
                                      "to a perfect plan score (1) a province closes each year when "
                                      "plan scores are used and fed back (`003` §5.3.2)")
    # --- PT (issue 12 wave 2): institutional friction of the incremental rule ---
    incremental_friction_threshold: float = Field(
        0.15, ge=0, le=10, description="illustrative: under allocation_rule = 'incremental' a "
        "holder's share moves only once its accumulated relative pressure (|Σ (target − current) / "
        "current| over the years since its last change) exceeds this; then it moves by all of it "
        "(Jones & Baumgartner 2005, disproportionate information processing); 0 = every year",
        json_schema_extra={"unit": "relative gap (share of current share)"})

    @model_validator(mode="after")
    def _behaviour_ranges(self) -> SimulationConfig:
        lo, hi = self.execution_weeks
        if not 1 <= lo <= hi <= 52:
            raise ValueError(f"execution_weeks must be [low, high] with 1 <= low <= high <= 52, got {lo}, {hi}")
        return self

    @field_validator("lg_capacity_median_mthb", mode="before")
    @classmethod
    def _lg_median(cls, v: object) -> dict[str, float]:
        return _lg_by_type(v, LG_CAPACITY_MEDIAN_MTHB, 1e4)

    @field_validator("lg_capacity_sigma", mode="before")
    @classmethod
    def _lg_sigma(cls, v: object) -> dict[str, float]:
        return _lg_by_type(v, LG_CAPACITY_SIGMA, 3.0)


def _lg_by_type(v: object, defaults: dict[str, float], hi: float) -> dict[str, float]:
    """A per-type table: given types override the defaults; unknown types, bad values are errors."""
    if not isinstance(v, dict):
        raise ValueError(f"a table of local-government type -> number; types: {', '.join(LG_KINDS)}")
    bad = sorted(map(str, set(v) - set(LG_KINDS)))
    if bad:
        raise ValueError(f"unknown local-government type(s) {', '.join(bad)}; valid: {', '.join(LG_KINDS)}")
    for k, x in v.items():
        if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x <= hi:
            raise ValueError(f"{k} = {x!r}: must be a number in [0, {hi:g}]")
    return {**defaults, **{k: float(x) for k, x in v.items()}}


class SweepConfig(Section):
    """A parameter sweep: which scenario fields vary, over what, with which design."""

    design: Literal["grid", "lhs", "morris", "sobol"] = "lhs"
    samples: int = Field(8, ge=1, le=100_000, description="grid: levels per numeric range; lhs: "
                         "points; morris: trajectories; sobol: base samples (power of 2 advised)")
    parameters: dict[str, list[float | int | bool | str]] = Field(
        default_factory=dict, description='dotted scenario field -> [low, high] range, or a list of '
        'values (grid only), e.g. "levers.data_sharing" = [0.0, 1.0]')
    metrics: list[str] = Field(default_factory=list, description="metrics to analyse (default: all)")


class ExperimentsConfig(Section):
    replicates: int = Field(1, ge=1, le=10_000, description="Monte Carlo replicates (seeds)")
    confidence: float = Field(0.95, gt=0, lt=1)
    workers: int | None = Field(None, ge=1, le=1024, description="local processes (default: all cores)")
    scheduler: str | None = Field(None, description="Dask scheduler address, e.g. tcp://host:8786")
    sweep: SweepConfig = SweepConfig()


class Scenario(Section):
    """One scenario, after ``extends`` inheritance has been resolved."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    seed: int = Field(20270101, ge=0, le=2**63 - 1)
    first_fiscal_year: int = Field(2027, ge=1990, le=2100)
    geography: GeographyConfig = GeographyConfig()
    projects: ProjectsConfig = ProjectsConfig()
    catalogue: CatalogueParams = CatalogueParams()
    allocation: AllocationConfig = AllocationConfig()
    rules: RulesConfig = RulesConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    solver: SolverConfig = SolverConfig()
    levers: LeversConfig = LeversConfig()
    simulation: SimulationConfig = SimulationConfig()
    experiments: ExperimentsConfig = ExperimentsConfig()
    uncertainty: UncertaintyConfig = UncertaintyConfig()  # last: checked against the sections above
    packages: PackagesConfig = PackagesConfig()

    @field_validator("uncertainty")
    @classmethod
    def _uncertainty(cls, v: UncertaintyConfig, info: ValidationInfo) -> UncertaintyConfig:
        return check_uncertainty(v, info.data)

    @field_validator("packages")
    @classmethod
    def _packages(cls, v: PackagesConfig, info: ValidationInfo) -> PackagesConfig:
        return check_packages(v, info.data)

    _source: Path | None = PrivateAttr(default=None)
    _chain: tuple[Path, ...] = PrivateAttr(default=())

    @property
    def source(self) -> Path | None:
        """The scenario file this was loaded from (None when built in code)."""
        return self._source

    @property
    def chain(self) -> tuple[Path, ...]:
        """Files in the ``extends`` chain, base first, this file last."""
        return self._chain

    def resolve_path(self, value: str) -> Path:
        """A data path from the scenario, relative to the scenario file's folder."""
        p = Path(value)
        if p.is_absolute() or self._source is None:
            return p
        return (self._source.parent / p).resolve()

    def updated(self, changes: dict[str, object]) -> Scenario:
        """A validated copy with dotted fields changed, e.g. ``{"simulation.years": 1}``
        (for notebooks and sweeps; raises ValueError naming an unknown field)."""
        data = self.model_dump(mode="json")
        for dotted, value in changes.items():
            node = data
            *parents, leaf = dotted.split(".")
            for p in parents:
                if not isinstance(node.get(p), dict):
                    raise ValueError(f"no such scenario field: {dotted}")
                node = node[p]
            if leaf not in node:
                raise ValueError(f"no such scenario field: {dotted}")
            node[leaf] = value
        new = Scenario.model_validate(data)
        new._source, new._chain = self._source, self._chain
        return new

    def with_seed(self, seed: int) -> Scenario:
        new = self.model_copy(update={"seed": seed})
        new._source, new._chain = self._source, self._chain
        return new
