"""Portfolio rules: one module per rule family (oemof-solph style).

Each module has ``rows(data, params) -> RuleRows | None``: the rule as sparse linear rows over the
project decisions x (pure numpy/scipy, testable alone), and ``add(model, data, params)`` which adds
that family to a Pyomo portfolio model. ``RULES`` is the order they are applied in; a researcher can
switch one off in the scenario (``[rules]``) or register a new one with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable

from allocsim.optimise.rules import (
    alignment,
    capacity,
    cluster_partners,
    committed,
    duplicates,
    eligibility,
    follow_on,
    matching,
    province_quota,
)
from allocsim.optimise.rules.base import RuleRows

RowsFn = Callable[..., "RuleRows | None"]

RULES: dict[str, RowsFn] = {
    "capacity": capacity.rows,
    "duplicates": duplicates.rows,
    "follow_on": follow_on.rows,
    "matching": matching.rows,
    "alignment": alignment.rows,
    "cluster_partners": cluster_partners.rows,
    "eligibility": eligibility.rows,
    "committed": committed.rows,
    "province_quota": province_quota.rows,
}


def register(name: str, rows: RowsFn) -> None:
    """Add a user rule (e.g. from a notebook) without editing allocsim's source."""
    RULES[name] = rows


__all__ = ["RULES", "RuleRows", "register"]
