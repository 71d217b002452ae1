"""Levers as the simulation reads them, per province (High Performance Provinces get the reform
package — gateway, delegated changes, personnel — whatever the national switches say)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocsim.scenario.schema import Scenario


@dataclass
class ProvinceLevers:
    gateway: np.ndarray          # (I,) bool: single gateway screening
    delegated: np.ndarray        # (I,) bool: changes approved by ก.บ.จ.
    staff: np.ndarray            # (I,) int: planning / procurement staff
    data_sharing: float
    staggered: bool
    area_based: bool
    multi_year: bool
    matching_uptake: float
    participation: float
    allocation_rule: str


def province_levers(sc: Scenario, provinces: list[str]) -> ProvinceLevers:
    lv, sim, r = sc.levers, sc.simulation, sc.rules
    hpp = np.array([c in set(lv.high_performance_provinces) for c in provinces])
    staff_reform = np.full(len(provinces), sim.staff_with_delegation)
    staff_base = np.full(len(provinces), sim.province_staff)
    return ProvinceLevers(
        gateway=np.full(len(provinces), lv.single_gateway) | hpp,
        delegated=np.full(len(provinces), lv.delegated_changes) | hpp,
        staff=np.where(np.full(len(provinces), lv.personnel_delegation) | hpp, staff_reform, staff_base),
        data_sharing=lv.data_sharing, staggered=lv.staggered_calendar,
        area_based=lv.area_based_budgeting, multi_year=lv.multi_year_projects,
        matching_uptake=r.matching_uptake_governor if lv.matching_fund_oversight else r.matching_uptake_voluntary,
        participation=lv.participation, allocation_rule=lv.allocation_rule)
