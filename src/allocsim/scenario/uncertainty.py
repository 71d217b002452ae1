"""Uncertainty as data: the ``[uncertainty]`` and ``[packages]`` sections of a scenario.

``[uncertainty.parameters]`` gives every illustrative parameter a plausible ``[low, high]`` range
and a one-line reason; ``allocsim robust`` samples futures over these ranges. ``[packages]`` lists
the levers a package search combines, the levels it tries and an illustrative reform-effort score
per lever. A reform file inherits both from the baseline it extends.

Validation is the scenario's own: a range must name an existing numeric field, sit inside that
field's valid values (the field's own validator decides), and may not make a REAL figure or a
rule set by law uncertain (see :data:`FIXED_FIELDS`).
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class Section(BaseModel):  # the same settings as scenario.schema.Section (no import cycle)
    model_config = ConfigDict(extra="forbid", frozen=True)

#: Fields that are not assumptions and therefore never uncertain: real FY2569 budget figures
#: (allocsim/data/reference/SOURCES.md) and deadlines set by regulation (`000` Del-3, `004` §3.4).
FIXED_FIELDS = {
    "allocation.cluster_envelope_mthb": "the REAL FY2569 cluster envelope (budget bill)",
    "allocation.envelope_mthb.province_budget": "the REAL FY2569 provincial envelope (budget bill)",
    "allocation.actual_year": "a verified budget year, not an assumption",
    "allocation.fit_year": "a verified budget year, not an assumption",
    "simulation.notify_deadline_days": "set by regulation (000 Del-3)",
    "simulation.plan_deadline_days": "set by regulation (000 Del-3)",
    "simulation.report_every_days": "set by regulation (004 §3.4)",
    "simulation.years": "the horizon of the experiment, not an assumption",
    "simulation.step_days": "the model's time step, not an assumption",
    "simulation.citizens_per_province": "the sample size, not an assumption",
    "seed": "the random seed",
    "first_fiscal_year": "the calendar",
}

#: Illustrative fields deliberately given no range, and why. A [low, high] pair is one field
#: holding two numbers: the sampler varies one number per field, and moving the two ends
#: independently could invert the pair, so the pairs stay at their illustrative values (a known
#: gap, stated in the robust report's held-fixed list). tests/test_robust.py derives the
#: illustrative fields from the schema and fails on any that is neither ranged, fixed nor here.
NOT_SAMPLED = {
    "catalogue.local_share_range": "a [low, high] pair of matching shares (the sampler varies scalars)",
    "catalogue.cluster_partners_range": "a [low, high] pair of partner counts (the sampler varies scalars)",
    "simulation.execution_weeks": "a [low, high] pair of project durations (the sampler varies scalars)",
    "allocation.plan_score_range": "a [low, high] pair of plan-quality scores (the sampler varies scalars)",
    "objective.need_target": "a policy target the analyst sets for the 'shortfall' objective (unused by "
                             "the shipped 'benefit' objective), not an assumption about the world",
}

#: Capacity fields a package may set besides the reform levers (the issue's "continuous levels of
#: ... staff"): field -> what one unit is (the lever's effort is per unit added).
CAPACITY_LEVERS = {
    "simulation.province_staff": "one planning/procurement officer per province",
}

#: The headline metrics a committee reads first (the package-search objectives).
HEADLINE_METRICS = ("effective_benefit_thb", "duplicate_money_thb", "mean_days_to_disbursement")


class UncertainRange(Section):
    """A plausible range for one illustrative parameter, and why."""

    low: float
    high: float
    reason: str = Field(min_length=3, description="one line: why this range is plausible")

    @model_validator(mode="after")
    def _ordered(self) -> UncertainRange:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class UncertaintyConfig(Section):
    parameters: dict[str, UncertainRange] = Field(
        default_factory=dict, description='dotted scenario field -> {low, high, reason}, e.g. '
        '"simulation.procurement_days" = {low = 20, high = 45, reason = "..."}')
    replicates: int = Field(1, ge=1, le=1000, description="seeds per future (common random numbers: "
                            "every scenario in a future runs on the same seeds)")
    citizens_per_province: int | None = Field(
        50, ge=1, le=1_000_000, description="simulation size per future (None: the scenario's own); "
        "a small sample keeps hundreds of futures affordable")
    headline_metrics: list[str] = Field(default_factory=lambda: list(HEADLINE_METRICS),
                                        description="metrics PRIM and the report explain (names from "
                                        "the metric catalogue, allocsim/metrics.py)")
    noise_futures: int = Field(15, ge=0, le=100_000, description="method setting: futures also run on "
                               "extra seeds to measure seed noise, the within-future sd of each reform − "
                               "baseline difference (0: no noise model, the sign alone decides)")
    noise_replicates: int = Field(3, ge=2, le=1000, description="method setting: seeds per noise future "
                                  "(with replicates >= 2 every future's own seeds measure the noise "
                                  "and no extra run is made)")
    noise_z: float = Field(1.2816, gt=0, le=10, description="method setting (illustrative): a future "
                           "counts as better or worse only when |difference| > noise_z × noise sd; "
                           "1.2816 is the one-sided 90 % normal quantile; otherwise 'within seed noise'")
    prim_min_coverage: float = Field(0.5, gt=0, le=1, description="method setting: PRIM picks the "
                                     "densest box on the peeling trajectory that still covers this "
                                     "share of the failures")
    prim_peel_alpha: float = Field(0.05, gt=0, lt=0.5, description="method setting: share of "
                                   "futures removed per peeling step")
    prim_mass_min: float = Field(0.05, gt=0, lt=1, description="method setting: smallest box, as "
                                 "a share of all futures")
    prim_alpha: float = Field(0.05, gt=0, lt=1, description="method setting: a PRIM box is reported "
                              "only when its binomial test against the overall failure rate, "
                              "Holm-adjusted over every reform × headline metric, is below this")

    @field_validator("headline_metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        from allocsim.metrics import headline

        valid = [m.name for m in headline()]
        bad = [m for m in v if m not in valid]
        if bad:
            raise ValueError(f"unknown metric {', '.join(map(repr, bad))}; valid: {', '.join(valid)}")
        return v


class PackageLever(Section):
    """One lever a package search may pull: the levels to try and its effort score."""

    levels: list[bool | float] = Field(min_length=1, description="values to try (booleans or "
                                       "numbers); the baseline's own value is always tried")
    effort: float = Field(ge=0, le=1e6, description="illustrative reform effort per unit of change "
                          "from the baseline (a boolean switched on counts 1)")
    reason: str = Field(min_length=3, description="one line: why this effort score")
    range: tuple[float, float] | None = Field(
        None, description="[low, high]: a numeric lever's continuous levels, searched by the "
        "evolutionary search (exhaustive search tries only `levels`)")
    step: float | None = Field(None, gt=0, description="grid of the continuous levels (default: a "
                               "twentieth of the range); a package is a point on this grid, so the "
                               "same package is never simulated twice")

    @model_validator(mode="after")
    def _range(self) -> PackageLever:
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range: low ({low}) must be below high ({high})")
            if self.step is not None and self.step > high - low:
                raise ValueError(f"step ({self.step}) is larger than the range {high - low}")
        elif self.step is not None:
            raise ValueError("step needs a range = [low, high]")
        return self


class PackagesConfig(Section):
    levers: dict[str, PackageLever] = Field(default_factory=dict, description="dotted lever field "
                                            "-> levels and effort")
    replicates: int = Field(4, ge=1, le=1000, description="seeds per package (common random numbers)")
    futures: int = Field(20, ge=0, le=100_000, description="futures each front package is run in "
                         "for its robustness share (0: skip)")
    max_packages: int = Field(4096, ge=1, le=1_000_000, description="largest exhaustive search")
    search: Literal["auto", "exhaustive", "nsga2"] = Field(
        "auto", description="auto: exhaustive when no lever has a continuous range and the "
        "combinations fit max_packages, else NSGA-II (platypus-opt)")
    evaluations: int = Field(400, ge=2, le=1_000_000, description="NSGA-II budget: distinct "
                             "packages simulated (each on `replicates` seeds); the search stops "
                             "at the first generation that reaches it")
    population: int = Field(40, ge=4, le=10_000, description="NSGA-II population size")
    dominance_confidence: float = Field(
        0.95, gt=0.5, lt=1, description="method setting: package A dominates B only when the "
        "one-sided paired (same-seed) t-test shows A at least as good on every objective and "
        "better on one at this confidence")
    bootstrap: int = Field(200, ge=0, le=100_000, description="method setting: bootstrap "
                           "resamples of the seeds behind each front package's stability (0: skip)")


def check_uncertainty(cfg: UncertaintyConfig, sections: dict[str, BaseModel | object]) -> UncertaintyConfig:
    """Cross-check ranges against the scenario they belong to (``sections``: the validated
    sections by name). Raises ValueError naming the field and what is valid."""
    problems, dumps = [], {}
    for dotted, rng in cfg.parameters.items():
        why = _field_problem(dotted, [rng.low, rng.high], sections, True, dumps)
        if why:
            problems.append(f"uncertainty.parameters.{dotted}: {why}")
    if problems:
        raise ValueError("; ".join(problems))
    return cfg


def check_packages(cfg: PackagesConfig, sections: dict[str, BaseModel | object]) -> PackagesConfig:
    problems, dumps = [], {}
    for dotted, lever in cfg.levers.items():
        if not dotted.startswith("levers.") and dotted not in CAPACITY_LEVERS:
            problems.append(f"packages.levers.{dotted}: a package combines reform levers (fields under "
                            "levers., see `allocsim levers`) and capacity fields; valid capacity fields: "
                            + ", ".join(CAPACITY_LEVERS))
            continue
        values = list(lever.levels) + (list(lever.range) if lever.range is not None else [])
        why = _field_problem(dotted, values, sections, lever.range is not None, dumps)
        if why:
            problems.append(f"packages.levers.{dotted}: {why}")
    if problems:
        raise ValueError("; ".join(problems))
    return cfg


@functools.lru_cache(maxsize=8192)
def _value_problem(cls: type[BaseModel], path: tuple[str, ...], value: object) -> str | None:
    """Whether the section accepts ``value`` at ``path``, judged on the section's defaults (field
    limits do not depend on the other fields; cached, because every scenario validation — one per
    run of a batch — checks every range)."""
    data = cls().model_dump(mode="json")
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    try:
        cls.model_validate(data)
    except ValidationError as err:
        return str(err.errors()[0]["msg"])
    except ValueError as err:
        return str(err)
    return None


def _field_problem(dotted: str, values: list, sections: dict, numeric: bool,
                   dumps: dict[str, dict]) -> str | None:
    """Why ``dotted`` cannot take ``values`` (None when it can)."""
    if dotted in FIXED_FIELDS:
        return f"cannot be uncertain: {FIXED_FIELDS[dotted]}"
    head, *rest = dotted.split(".")
    if head not in sections or not rest:
        return f"no such scenario field (sections: {', '.join(sorted(sections))})"
    section = sections[head]
    if not isinstance(section, BaseModel):
        return "no such scenario field"
    if head not in dumps:
        dumps[head] = section.model_dump(mode="json")
    node = dumps[head]
    for part in rest[:-1]:
        if not isinstance(node.get(part), dict):
            return "no such scenario field"
        node = node[part]
    leaf = rest[-1]
    if leaf not in node:
        valid = ", ".join(sorted(k for k, v in node.items() if isinstance(v, int | float)))
        return f"no such scenario field; numeric fields here: {valid}"
    current = node[leaf]
    if numeric and (isinstance(current, bool) or not isinstance(current, int | float)):
        return f"not a numeric field (its value is {current!r}); only numbers can have a range"
    if isinstance(current, bool) and not all(isinstance(v, bool) for v in values):
        return f"a true/false field; levels must be true or false (got {values})"
    for v in values:
        v = round(v) if isinstance(current, int) and not isinstance(current, bool) else v
        why = _value_problem(type(section), tuple(rest), v)
        if why:
            return f"value {v} is outside what the field accepts: {why}"
    return None

