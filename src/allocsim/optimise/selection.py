"""``allocsim select`` as a Python function: the portfolio MILP on a user's projects/resources
tables, for one fiscal year, and (with ``out``) its result folder. The one place that writes a
selection's results: the CLI only parses arguments, calls ``select_tables`` and prints.

A table with a ``fiscal_year`` column is selected for one fiscal year (``year``; default: the
table's earliest), by the contract's rule (``data.projects.year_candidates``): the rows of that
year, and rows without a year in the earliest year only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from allocsim.errors import Problem, UserError

if TYPE_CHECKING:
    import pandas as pd

    from allocsim.optimise import PortfolioResult


@dataclass
class SelectResult:
    """The MILP's result, the ``solver.json`` payload, the fiscal year selected for (None: the
    table has no years) and, on request, the resource values."""

    portfolio: PortfolioResult
    payload: dict
    fiscal_year: int | None
    candidates: int
    resource_values: pd.DataFrame | None = None


def select_tables(projects: str | Path, resources: str | Path, *, year: int | None = None,
                  objective: str = "benefit", need_target: float | None = None, gap: float = 1e-4,
                  time_limit: float = 60.0, alignment: float = 0.0, without: Sequence[str] = (),
                  thailand: bool = False, decompose: bool = False, workers: int | None = None,
                  warm_start: bool = True, alternatives: int = 0, slack: float = 0.02,
                  resource_values: bool = False, out: str | Path | None = None,
                  overwrite: bool = False) -> SelectResult:
    """Select a portfolio from the tables (options as ``allocsim select``'s). With ``out`` the
    result folder (portfolio.csv, solver.json, and conflicts / resource values / alternatives when
    there are any) is written atomically: a failed call never clobbers an earlier folder."""
    from allocsim.data.projects import first_fiscal_year, load_project_table, year_table
    from allocsim.optimise import RuleParams, SolveOptions, build_data, select_portfolio

    if need_target is not None and not need_target >= 0:
        raise UserError([Problem("command line", "--need-target", f"must be >= 0 (got {need_target})")])
    if objective == "shortfall" and need_target is None:
        raise UserError([Problem("command line", "--need-target", "objective 'shortfall' needs --need-target "
                                 "(THB of benefit per head every province should reach)")])
    if alternatives < 0 or not 0 <= slack <= 0.5:
        raise UserError([Problem("command line", "--alternatives/--slack", "need K >= 0 and 0 <= S <= 0.5 "
                                 f"(got {alternatives}, {slack})")])
    geo = None
    if thailand:
        from allocsim.data.geography import load_geography

        geo = load_geography()
    table = load_project_table(projects, resources, geography=geo)
    first = first_fiscal_year(table.projects)
    fy = year if year is not None else first
    if first is not None:
        years = sorted({int(v) for v in table.projects["fiscal_year"].dropna()})
        table = year_table(table, fy, first)
        if table.projects.empty:
            raise UserError([Problem(str(projects), "fiscal_year", f"no project is proposed in fiscal year {fy}; "
                                     f"the table's years: {', '.join(map(str, years))}")])
    params = RuleParams(alignment_threshold=alignment, **{rule: False for rule in without})
    data = build_data(table, geo)
    options = SolveOptions(gap, time_limit, None)
    res = select_portfolio(data, params, objective=objective, need_target=need_target, options=options,
                           decompose=decompose, workers=workers, warm_start=warm_start,
                           alternatives=alternatives, slack=slack)
    payload = res.as_json() | {"fiscal_year": fy, "candidates": data.n}
    values = None
    if resource_values and res.x is not None and res.model is not None and res.model.highs is not None:
        from allocsim.optimise.valuation import lp_relaxation
        from allocsim.optimise.valuation import resource_values as value_resources

        values = value_resources(res.model, options, res.x)
        payload["lp_relaxation_bound"] = lp_relaxation(res.model, options)[0]
        payload["resource_values"] = values.to_dict(orient="records")
    if res.alternatives is not None:
        payload["alternatives"] = res.alternatives.summary.to_dict(orient="records")
    result = SelectResult(res, payload, fy, data.n, values)
    if out is not None:
        write_select(result, Path(out), overwrite=overwrite)
    return result


def write_select(result: SelectResult, out: Path, *, overwrite: bool = False) -> None:
    """The selection's result folder, staged and moved into place only when complete."""
    from allocsim.store import atomic_write_csv, atomic_write_json, result_folder

    res, alt = result.portfolio, result.portfolio.alternatives
    with result_folder(Path(out), overwrite=overwrite) as stage:
        atomic_write_csv(res.table(), stage / "portfolio.csv")
        if res.diagnosis is not None:
            atomic_write_csv(res.diagnosis.conflicts, stage / "conflicts.csv")
            atomic_write_csv(res.diagnosis.iis, stage / "conflict_sets.csv")
        if result.resource_values is not None:
            atomic_write_csv(result.resource_values, stage / "resource_values.csv")
        if alt is not None:
            atomic_write_csv(alt.portfolios, stage / "alternatives.csv")
            atomic_write_csv(alt.summary, stage / "alternatives_summary.csv")
            atomic_write_csv(alt.ranges, stage / "alternative_ranges.csv")
        atomic_write_json(result.payload, stage / "solver.json")


__all__ = ["SelectResult", "select_tables", "write_select"]
