"""Resource capacities: for every ``cost:<resource>`` column, funded cost <= capacity.

Resources are budget sources, fiscal years (multi-year commitments), staff time — anything the
table names. Money units are whatever the table uses (million THB for the synthetic catalogue).
"""

from __future__ import annotations

from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.rules.base import RuleRows

#: A scenario's ``[rules] capacity = false`` (and ``allocsim select --without capacity``) switches this
#: rule off; ``RuleParams.capacity`` carries the switch.
SWITCHABLE = True


def rows(data: PortfolioData, params: RuleParams) -> RuleRows | None:
    if not params.capacity or not data.resources:
        return None

    def describe(r: int, amount: float) -> str:
        cap = data.capacity[r]
        return (f"resource capacity: {data.resources[r]} needs {cap + amount:,.1f}, "
                f"capacity is {cap:,.1f}")

    return RuleRows("capacity", data.cost.T.tocsr(), "<=", data.capacity, describe,
                    scale=1.0 / (1.0 + data.capacity))
