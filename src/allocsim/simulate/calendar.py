"""The Thai fiscal year (1 Oct – 30 Sep) in simulation steps.

Day 0 of a fiscal year is the Budget Act (taken as 1 October). A year is ``ceil(365 / step_days)``
steps; step k of a year covers days [k·step, (k+1)·step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

YEAR_DAYS = 365


@dataclass(frozen=True)
class FiscalCalendar:
    first_fiscal_year: int
    step_days: int = 7

    @property
    def steps_per_year(self) -> int:
        return math.ceil(YEAR_DAYS / self.step_days)

    def year_index(self, step: int) -> int:
        return step // self.steps_per_year

    def fiscal_year(self, step: int) -> int:
        return self.first_fiscal_year + self.year_index(step)

    def day_of_year(self, step: int) -> int:
        return (step % self.steps_per_year) * self.step_days

    def step_window(self, step: int) -> tuple[int, int]:
        """Days of the fiscal year covered by this step: [start, end)."""
        d = self.day_of_year(step)
        return d, min(d + self.step_days, YEAR_DAYS)

    def is_year_start(self, step: int) -> bool:
        return step % self.steps_per_year == 0

    def is_year_end(self, step: int) -> bool:
        return step % self.steps_per_year == self.steps_per_year - 1

    @staticmethod
    def quarter(day: float) -> int:
        """Fiscal quarter 1–4 of a day of the fiscal year (Q1 = Oct–Dec)."""
        return min(4, int(day // (YEAR_DAYS / 4)) + 1)
