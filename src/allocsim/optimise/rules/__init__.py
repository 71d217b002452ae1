"""Portfolio rules: one module per rule family (oemof-solph style).

Each module has ``rows(data, params) -> RuleRows | None``: the rule as sparse linear rows over the
project decisions x (pure numpy/scipy, testable alone), and ``add(model, data, params)`` which adds
that family to a Pyomo portfolio model. ``RULES`` is the order they are applied in; a module that declares
``SWITCHABLE = True`` can be switched off in the scenario (``[rules]``) and by ``select --without``
(``SWITCHES``); a researcher can register a new rule with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

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

#: The rule modules in the order they are applied.
MODULES: dict[str, ModuleType] = {
    "capacity": capacity,
    "duplicates": duplicates,
    "follow_on": follow_on,
    "matching": matching,
    "alignment": alignment,
    "cluster_partners": cluster_partners,
    "eligibility": eligibility,
    "committed": committed,
    "province_quota": province_quota,
}
RULES: dict[str, RowsFn] = {name: module.rows for name, module in MODULES.items()}
#: The rules a scenario's ``[rules]`` section and ``allocsim select --without`` switch on and off:
#: those whose module declares ``SWITCHABLE = True``, in application order. ``RulesConfig`` and
#: ``RuleParams`` carry one boolean per name (``tests/test_catalogues.py`` checks they agree).
SWITCHES: tuple[str, ...] = tuple(name for name, module in MODULES.items() if module.SWITCHABLE)


def register(name: str, rows: RowsFn) -> None:
    """Add a user rule (e.g. from a notebook) without editing allocsim's source."""
    RULES[name] = rows


__all__ = ["MODULES", "RULES", "SWITCHES", "RuleRows", "register"]
