"""The projects/resources table contract (a public format other tools and users rely on).

``projects.csv``: one row per candidate project. Required: ``project_id`` (unique string),
``benefit`` (number >= 0) and at least one ``cost:<resource>`` column (numbers >= 0; an empty cell
means 0). Optional: ``province`` (ISO code), ``cluster``, ``strategy``, ``agency``, ``channel``,
``duplicate_group``, ``requires`` (project_id this follows on from), ``min_local_share`` (0–1),
``total_cost`` (defaults to the sum of the cost columns), ``aligned`` (0/1: the project serves a
strategy of its province's plan), ``partners`` (space-separated ISO codes of the provinces taking
part in a cluster project), ``construction`` (0/1), ``committed`` (0/1: already committed, e.g. a
multi-year project's later years; the portfolio must fund it), ``problem`` (0/1, default 1: the
project answers a problem citizens voiced; 0: a "want" (`003` §5.5.2), whose delivered benefit
the simulation scales by ``simulation.want_effect``), ``fiscal_year`` (the Gregorian
fiscal year, e.g. 2027, in which the project is proposed).

**The candidates of a fiscal year** (``year_candidates``, the one rule both engines use): the rows
whose ``fiscal_year`` is that year; a row without one (empty cell or no column) belongs to the first
fiscal year only (a scenario's ``first_fiscal_year``; for ``allocsim select``, the table's earliest
fiscal year), so it is proposed once, like every other row. **Year profile**: a project's nonzero
``cost:y<FY>`` columns, in year order, are its annual tranches; tranche k costs (and returns) the
share ``y_k / Σ y`` of the project's money and benefit (no year columns: one tranche).

``resources.csv``: columns ``resource`` and ``capacity`` (number >= 0). Every cost column needs a
resource row. Rows named ``local:<ISO>`` are local governments' co-funding capacity in a province,
read by the matching-fund rule.

Loading checks everything and reports every problem at once (file, row, column, what is valid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from allocsim.data.geography import Geography
from allocsim.data.strategies import strategy_ids
from allocsim.errors import Problem, UserError

COST_PREFIX = "cost:"
LOCAL_PREFIX = "local:"
REQUIRED = ("project_id", "benefit")
TEXT_COLUMNS = ("province", "cluster", "strategy", "agency", "channel", "duplicate_group",
                "requires", "partners")
FLAG_COLUMNS = ("aligned", "construction", "committed", "problem")
#: flags that are true when a table leaves them out (a project serves the plan and a real problem)
FLAG_DEFAULT_TRUE = ("aligned", "problem")
MAX_ABS = 1e15  # larger numbers are almost surely unit mistakes and break solver numerics


@dataclass(frozen=True)
class ProjectTable:
    """Validated projects and resources. ``projects`` has every optional column filled in."""

    projects: pd.DataFrame
    resources: pd.DataFrame

    @property
    def cost_columns(self) -> list[str]:
        return [c for c in self.projects.columns if c.startswith(COST_PREFIX)]

    @property
    def resource_names(self) -> list[str]:
        return [c[len(COST_PREFIX):] for c in self.cost_columns]

    def capacity(self, resource: str) -> float:
        r = self.resources.loc[self.resources["resource"] == resource, "capacity"]
        return float(r.iloc[0])

    def local_capacity(self) -> dict[str, float]:
        """Local co-funding capacity by province from ``local:<ISO>`` resource rows."""
        r = self.resources[self.resources["resource"].str.startswith(LOCAL_PREFIX)]
        return {k[len(LOCAL_PREFIX):]: float(v) for k, v in zip(r["resource"], r["capacity"], strict=True)}

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write the two contract files (used to save the inputs of a run)."""
        from allocsim.store import atomic_write_csv

        p, r = directory / "projects.csv", directory / "resources.csv"
        flags = {c: self.projects[c].astype(int) for c in FLAG_COLUMNS if c in self.projects}
        atomic_write_csv(self.projects.assign(**flags), p)
        atomic_write_csv(self.resources, r)
        return p, r


def year_candidates(projects: pd.DataFrame, fiscal_year: int, first_fiscal_year: int) -> pd.DataFrame:
    """The candidates of ``fiscal_year`` (module docstring): rows of that ``fiscal_year``, and rows
    without one in the first fiscal year only. Both the simulation's project book and the
    optimiser read a user's table through this one function, so they see the same ids."""
    if "fiscal_year" not in projects:
        return projects.copy() if fiscal_year == first_fiscal_year else projects.iloc[0:0].copy()
    fy = pd.to_numeric(projects["fiscal_year"], errors="coerce")
    keep = (fy == fiscal_year) | (fy.isna() & (fiscal_year == first_fiscal_year))
    return projects[keep.to_numpy()].copy()


def year_table(table: ProjectTable, fiscal_year: int, first_fiscal_year: int) -> ProjectTable:
    """``table`` restricted to the candidates of ``fiscal_year`` (``year_candidates``)."""
    return ProjectTable(year_candidates(table.projects, fiscal_year, first_fiscal_year).reset_index(drop=True),
                        table.resources)


def first_fiscal_year(projects: pd.DataFrame) -> int | None:
    """The earliest ``fiscal_year`` of a table (None when no row has one)."""
    if "fiscal_year" not in projects:
        return None
    fy = pd.to_numeric(projects["fiscal_year"], errors="coerce").dropna()
    return int(fy.min()) if len(fy) else None


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise UserError(Problem(str(path), what, "file not found"))
    raw = path.read_bytes()
    if not raw.strip():
        raise UserError(Problem(str(path), what, "file is empty; expected a CSV with a header row"))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(Problem(str(path), what, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV")) from None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(Problem(str(path), what, f"not a readable CSV ({str(exc).strip()})")) from None


MAX_PER_COLUMN = 5  # report this many bad cells per column individually, then a count
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "y"}, {"0", "false", "no", "n"}


def _report(bad: list[tuple[int, str]], col: str, file: str, out: list[Problem], valid: str) -> None:
    """One problem per bad cell, up to MAX_PER_COLUMN, then one line counting the rest."""
    for row, cell in bad[:MAX_PER_COLUMN]:
        out.append(Problem(file, f"row {row}.{col}", f"{cell!r} is not valid; expected {valid}"))
    if len(bad) > MAX_PER_COLUMN:
        rest = [str(r) for r, _ in bad[MAX_PER_COLUMN:]]
        out.append(Problem(file, col, f"{len(rest)} more invalid cells (rows {', '.join(rest[:10])}"
                           f"{', …' if len(rest) > 10 else ''}); expected {valid}"))


def _numbers(df: pd.DataFrame, col: str, file: str, out: list[Problem], *, lo: float = 0.0,
             hi: float = MAX_ABS, empty: float | None = None, valid: str = "a number >= 0") -> pd.Series:
    """Parse a column as finite floats in [lo, hi]; empty cells take ``empty`` (or are errors)."""
    values = np.zeros(len(df))
    bad: list[tuple[int, str]] = []
    for i, cell in enumerate(df[col].tolist()):
        cell = cell.strip()
        if cell == "" and empty is not None:
            values[i] = empty
            continue
        try:
            x = float(cell)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or x < lo or x > hi:
            bad.append((i + 2, cell))
            continue
        values[i] = x
    _report(bad, col, file, out, valid)
    return pd.Series(values, index=df.index, name=col)


def _flags(df: pd.DataFrame, col: str, file: str, out: list[Problem], default: bool) -> pd.Series:
    """Parse a 0/1 (or true/false, yes/no) column; empty cells take ``default``."""
    values, bad = [], []
    for i, cell in enumerate(df[col].tolist()):
        word = cell.strip().lower()
        if word == "":
            values.append(default)
        elif word in TRUE_WORDS or word in FALSE_WORDS:
            values.append(word in TRUE_WORDS)
        elif word in ("1.0", "0.0"):  # spreadsheets often export flags as floats
            values.append(word == "1.0")
        else:
            values.append(default)
            bad.append((i + 2, cell))
    _report(bad, col, file, out, "0 or 1 (true/false also accepted)")
    return pd.Series(values, index=df.index, name=col, dtype=bool)


def _check_requires(df: pd.DataFrame, file: str, out: list[Problem]) -> None:
    ids = set(df["project_id"])
    req = dict(zip(df["project_id"], df["requires"], strict=True))
    for i, (pid, r) in enumerate(req.items()):
        if r and r not in ids:
            out.append(Problem(file, f"row {i + 2}.requires", f"unknown project_id {r!r}; "
                               "must name another project in this table"))
        elif r == pid:
            out.append(Problem(file, f"row {i + 2}.requires", "a project cannot require itself"))
    # cycles: follow each chain; a chain longer than the table is a cycle
    for pid in req:
        seen, cur = set(), pid
        while req.get(cur):
            if cur in seen:
                out.append(Problem(file, "requires", f"cycle of follow-on projects through {pid!r}"))
                return
            seen.add(cur)
            cur = req[cur]


def validate_tables(projects: pd.DataFrame, resources: pd.DataFrame, *, projects_file: str,
                    resources_file: str, geography: Geography | None = None) -> ProjectTable:
    """Validate raw (string-typed) tables against the contract; raise one UserError with all problems."""
    out: list[Problem] = []
    pf, rf = projects_file, resources_file
    projects = projects.copy()
    projects.columns = [str(c).strip() for c in projects.columns]
    for col in REQUIRED:
        if col not in projects:
            out.append(Problem(pf, col, "required column is missing (required: project_id, benefit, "
                               "and cost:<resource> columns)"))
    costs = [c for c in projects.columns if c.startswith(COST_PREFIX)]
    if not costs:
        out.append(Problem(pf, "cost:<resource>", "no cost column; add at least one column named "
                           "cost:<resource>, e.g. cost:province_budget"))
    for c in costs:
        if c == COST_PREFIX:
            out.append(Problem(pf, c, "cost column has no resource name; use cost:<resource>"))
    for col in ("resource", "capacity"):
        if col not in resources:
            out.append(Problem(rf, col, "required column is missing (required: resource, capacity)"))
    if out:
        raise UserError(out)
    if projects.empty:
        raise UserError(Problem(pf, "project_id", "table has no projects"))

    projects["project_id"] = projects["project_id"].str.strip()
    for i, pid in enumerate(projects["project_id"]):
        if not pid:
            out.append(Problem(pf, f"row {i + 2}.project_id", "empty; every project needs a unique id"))
    dups = projects["project_id"][projects["project_id"].duplicated() & (projects["project_id"] != "")]
    for pid in sorted(set(dups)):
        rows = [str(i + 2) for i in np.flatnonzero(projects["project_id"] == pid)]
        out.append(Problem(pf, "project_id", f"{pid!r} appears on rows {', '.join(rows)}; ids must be unique"))

    projects["benefit"] = _numbers(projects, "benefit", pf, out)
    for c in costs:
        projects[c] = _numbers(projects, c, pf, out, empty=0.0)
    for col in TEXT_COLUMNS:
        projects[col] = projects[col].str.strip() if col in projects else ""
    projects["min_local_share"] = (
        _numbers(projects, "min_local_share", pf, out, hi=1.0, empty=0.0, valid="a share between 0 and 1")
        if "min_local_share" in projects else 0.0)
    if "total_cost" in projects:
        projects["total_cost"] = _numbers(projects, "total_cost", pf, out)
    else:
        projects["total_cost"] = projects[costs].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1)
    if "fiscal_year" in projects:
        fy = _numbers(projects, "fiscal_year", pf, out, lo=1900, hi=3000, empty=math.nan,
                      valid="a fiscal year such as 2027 (or empty: the first fiscal year)")
        if (fy.dropna() % 1 != 0).any():
            out.append(Problem(pf, "fiscal_year", "fiscal years must be whole numbers, e.g. 2027"))
        projects["fiscal_year"] = fy
    for col in FLAG_COLUMNS:
        default = col in FLAG_DEFAULT_TRUE
        projects[col] = _flags(projects, col, pf, out, default) if col in projects else default

    if geography is not None:
        known = set(geography.provinces["iso_code"])
        clusters = set(geography.clusters["cluster_id"])
        for i, (prov, clu, partners) in enumerate(zip(projects["province"], projects["cluster"],
                                                      projects["partners"], strict=True)):
            if prov and prov not in known:
                out.append(Problem(pf, f"row {i + 2}.province", f"unknown province {prov!r}; use an "
                                   "ISO 3166-2:TH code such as TH-50 (see `allocsim data`)"))
            if clu and clu not in clusters:
                out.append(Problem(pf, f"row {i + 2}.cluster", f"unknown cluster {clu!r} under cluster "
                                   f"map {geography.cluster_map}; valid: {', '.join(sorted(clusters))}"))
            for p in partners.split():
                if p not in known:
                    out.append(Problem(pf, f"row {i + 2}.partners", f"unknown province {p!r}"))
    valid_strat = set(strategy_ids())
    for i, s in enumerate(projects["strategy"]):
        if s and s not in valid_strat:
            out.append(Problem(pf, f"row {i + 2}.strategy", f"unknown strategy {s!r}; valid: "
                               + ", ".join(strategy_ids())))
    _check_requires(projects, pf, out)

    resources = resources.copy()
    resources["resource"] = resources["resource"].str.strip()
    resources["capacity"] = _numbers(resources, "capacity", rf, out)
    rdup = resources["resource"][resources["resource"].duplicated()]
    for r in sorted(set(rdup)):
        out.append(Problem(rf, "resource", f"{r!r} is listed more than once"))
    names = set(resources["resource"])
    for c in costs:
        if c[len(COST_PREFIX):] not in names and c != COST_PREFIX:
            out.append(Problem(pf, c, f"unknown resource {c[len(COST_PREFIX):]!r}: add a row to "
                               f"{rf} (resource,capacity)"))
    if out:
        raise UserError(out)
    resources = resources[["resource", "capacity"]].reset_index(drop=True)
    return ProjectTable(projects.reset_index(drop=True), resources)


def load_project_table(projects_file: str | Path, resources_file: str | Path,
                       geography: Geography | None = None) -> ProjectTable:
    """Load and validate ``projects.csv`` + ``resources.csv`` (see module docstring)."""
    pf, rf = Path(projects_file), Path(resources_file)
    problems: list[Problem] = []
    frames = []
    for path, what in ((pf, "projects"), (rf, "resources")):
        try:
            frames.append(_read_csv(path, what))
        except UserError as err:
            problems.extend(err.problems)
    if problems:
        raise UserError(problems)
    return validate_tables(frames[0], frames[1], projects_file=str(pf), resources_file=str(rf),
                           geography=geography)
