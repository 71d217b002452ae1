"""Thailand's real area-based budget: provinces' and clusters' own development budgets by fiscal
year, local governments per province, and PAO appropriations (``reference/SOURCES.md`` §6).

The figures are the Budget Bureau's draft budget-bill amounts as published by WeVis
(wevisdemo/thailand-open-budget, CC BY-NC 4.0: credit WeVis, no commercial use). Every table is
checked when it is loaded, because a silently wrong real number is worse than none: columns, the
76 provinces and 18 clusters of the reference geography, non-negative whole-baht amounts, and the
FY2569 totals quoted in SOURCES.md. A check that fails raises :class:`UserError` naming the file
and field. Each loader takes an optional ``path`` so a user (or a test) can check another copy.

**FY2570 looks incomplete** (provinces get about a fifth of FY2569, clusters 4–6 M THB each): it
is loaded and shown, always with a warning, but :func:`real_envelopes` and
:func:`province_shares` refuse it unless the caller says ``allow_unverified=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from allocsim.data.geography import BANGKOK, REFERENCE, load_geography
from allocsim.errors import Problem, UserError

PROVINCE_FILE = "thailand_province_budget.csv"
CLUSTER_FILE = "thailand_cluster_budget.csv"
LGO_FILE = "thailand_local_government_by_province.csv"
PAO_FILE = "thailand_pao_budget.csv"

#: Fiscal years (B.E.) whose amounts were checked against a second source (SOURCES.md §6.2).
VERIFIED_YEARS = (2568, 2569)
#: Years that are in the tables but must not be used as real envelopes until checked.
UNVERIFIED_YEARS = {
    2570: "FY2570 looks INCOMPLETE: provinces get about one fifth of FY2569 and every cluster "
          "4-6 M THB (WeVis draft file, copied once, not checked against the bill; SOURCES.md "
          "§6.2). Do not use it as a real year until verified.",
}
DEFAULT_YEAR = 2569
#: FY2569 national totals in M THB as quoted in SOURCES.md §6.2 (the draft bill via WeVis);
#: a loaded table must reproduce them to within rounding (0.5 M THB).
FY2569_TOTAL_MTHB = {"province": 19_258, "cluster": 7_267}
#: Local governments in the list (BMA excluded), SOURCES.md §6.3.
LGO_TOTAL = 7_841

_BUDGET_COLUMNS = ["fiscal_year_be", "fiscal_year_ce", "budget_thb", "previous_year_budget_thb",
                   "budget_stage", "wevis_budgetary_id", "source", "note"]
PROVINCE_COLUMNS = ["iso_code", "name_th", *_BUDGET_COLUMNS]
CLUSTER_COLUMNS = ["cluster_id", "name_th", *_BUDGET_COLUMNS]
LGO_COLUMNS = ["iso_code", "name_th", "pao", "municipality_city", "municipality_town",
               "municipality_subdistrict", "municipality_total", "sao", "special_form", "lgo_total",
               "source_first_row", "source_last_row"]
PAO_COLUMNS = ["iso_code", "name_th", "unit_type", "unit_name_th", *_BUDGET_COLUMNS]


def year_caveat(year: int) -> str:
    """The warning to print next to a year's figures ('' for a verified year)."""
    return UNVERIFIED_YEARS.get(int(year), "")


def _read(path: Path | None, default: str) -> tuple[pd.DataFrame, str]:
    """Read a table as strings; return it with the name to use in messages."""
    if path is None:
        with (REFERENCE / default).open("rb") as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False), f"allocsim/data/reference/{default}"
    path = Path(path)
    if not path.is_file():
        raise UserError(Problem(str(path), "file", "not found"))
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8"), str(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(Problem(str(path), "file", f"not a readable UTF-8 CSV ({exc})")) from None


def _columns(t: pd.DataFrame, src: str, expected: list[str]) -> None:
    if list(t.columns) != expected:
        missing = [c for c in expected if c not in t.columns]
        extra = [c for c in t.columns if c not in expected]
        what = (f"missing {', '.join(missing)}" if missing else "") + \
               ("; " if missing and extra else "") + (f"unexpected {', '.join(extra)}" if extra else "")
        raise UserError(Problem(src, "columns", f"{what or 'wrong order'}; expected "
                                f"{','.join(expected)}"))


def _amounts(t: pd.DataFrame, src: str, col: str, key: str, *, blank_ok: set[str] = frozenset(),
             key_label: str | None = None) -> tuple[pd.Series, list[Problem]]:
    """Parse a column of whole, non-negative amounts; blanks allowed only for keys in blank_ok."""
    out, problems = [], []
    for k, v in zip(t[key], t[col].str.strip(), strict=True):
        if v == "" and k in blank_ok:
            out.append(pd.NA)
        elif not v.isdigit():
            why = "negative" if v.startswith("-") else "blank" if v == "" else f"{v!r} is not a whole number"
            problems.append(Problem(src, f"{col} ({key_label or key}={k})", f"{why}; amounts are whole, "
                                    "non-negative baht"))
            out.append(pd.NA)
        else:
            out.append(int(v))
    return pd.Series(out, index=t.index, dtype="Int64"), problems


def _years(t: pd.DataFrame, src: str) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    known = {*VERIFIED_YEARS, *UNVERIFIED_YEARS}
    ok = t["fiscal_year_be"].str.fullmatch(r"\d{4}") & t["fiscal_year_ce"].str.fullmatch(r"\d{4}")
    for v in sorted(set(t.loc[~ok, "fiscal_year_be"] + "/" + t.loc[~ok, "fiscal_year_ce"])):
        problems.append(Problem(src, "fiscal_year_be/fiscal_year_ce", f"{v!r} is not a 4-digit year"))
    t = t[ok].copy()
    t["fiscal_year_be"] = t["fiscal_year_be"].astype(int)
    t["fiscal_year_ce"] = t["fiscal_year_ce"].astype(int)
    for be in sorted(set(t["fiscal_year_be"]) - known):
        problems.append(Problem(src, "fiscal_year_be", f"{be} is not a known year; the tables hold "
                                f"{', '.join(map(str, sorted(known)))}"))
    bad = t[t["fiscal_year_ce"] != t["fiscal_year_be"] - 543]
    for be, ce in sorted(set(zip(bad["fiscal_year_be"], bad["fiscal_year_ce"], strict=True))):
        problems.append(Problem(src, "fiscal_year_ce", f"{ce} for FY{be}; must be fiscal_year_be - 543"))
    return t, problems


def _budget_table(path: Path | None, default: str, key: str, expected_units: dict[str, str],
                  columns: list[str], level: str) -> pd.DataFrame:
    """Shared checks of the province and cluster budget tables (one row per unit and year)."""
    t, src = _read(path, default)
    _columns(t, src, columns)
    t, problems = _years(t, src)
    t = t.copy()
    keyed = t.assign(unit=t[key] + ", FY" + t["fiscal_year_be"].astype(str))
    first = set(keyed.loc[t["fiscal_year_be"] == min(VERIFIED_YEARS), "unit"])
    for col in ("budget_thb", "previous_year_budget_thb"):
        # previous_year is blank for the first year of the table only
        vals, probs = _amounts(keyed, src, col, "unit", key_label=key,
                               blank_ok=first if col.startswith("previous") else set())
        t[col] = vals
        problems += probs
    for k in sorted(set(t[key]) - set(expected_units)):
        problems.append(Problem(src, f"{key}={k}", f"unknown {level}; expected one of the "
                                f"{len(expected_units)} {level}s of the reference geography"))
    for be, grp in t.groupby("fiscal_year_be"):
        for k in sorted(set(expected_units) - set(grp[key])):
            problems.append(Problem(src, f"{key}={k}", f"{level} missing for FY{be}; every year needs "
                                    f"all {len(expected_units)} {level}s"))
        for k in sorted(set(grp.loc[grp[key].duplicated(), key])):
            problems.append(Problem(src, f"{key}={k}", f"{level} listed twice for FY{be}"))
    names = t[key].map(expected_units)
    for k, n in sorted(set(zip(t.loc[names.notna() & (names != t["name_th"]), key],
                               t.loc[names.notna() & (names != t["name_th"]), "name_th"], strict=True))):
        problems.append(Problem(src, f"name_th ({key}={k})", f"{n!r} does not match the reference "
                                f"name {expected_units[k]!r}"))
    if not problems:
        total = t.loc[t["fiscal_year_be"] == DEFAULT_YEAR, "budget_thb"].sum() / 1e6
        want = FY2569_TOTAL_MTHB[level]
        if abs(total - want) > 0.5:
            problems.append(Problem(src, "budget_thb", f"FY2569 total over {level}s is "
                                    f"{total:,.1f} M THB; SOURCES.md §6.2 gives {want:,} M THB"))
        prev = t.set_index([key, "fiscal_year_be"])["budget_thb"]
        for r in t.itertuples():
            p = prev.get((getattr(r, key), r.fiscal_year_be - 1))
            if p is not None and r.previous_year_budget_thb != p:
                problems.append(Problem(src, f"previous_year_budget_thb ({key}={getattr(r, key)}, "
                                        f"FY{r.fiscal_year_be})", f"{r.previous_year_budget_thb} but "
                                        f"budget_thb for FY{r.fiscal_year_be - 1} is {p}"))
    if problems:
        raise UserError(problems)
    t["verified"] = t["fiscal_year_be"].isin(VERIFIED_YEARS)
    return t.reset_index(drop=True)


def _province_names() -> dict[str, str]:
    p = load_geography().provinces
    p = p[p["iso_code"] != BANGKOK]
    return dict(zip(p["iso_code"], p["name_th"], strict=True))


def _cluster_names() -> dict[str, str]:
    c = load_geography("2017").clusters
    return dict(zip(c["cluster_id"], c["name_th"], strict=True))


@cache
def _province_default() -> pd.DataFrame:
    return _budget_table(None, PROVINCE_FILE, "iso_code", _province_names(), PROVINCE_COLUMNS,
                         "province")


@cache
def _cluster_default() -> pd.DataFrame:
    return _budget_table(None, CLUSTER_FILE, "cluster_id", _cluster_names(), CLUSTER_COLUMNS,
                         "cluster")


def load_province_budget(path: Path | None = None) -> pd.DataFrame:
    """Each province's own development budget (งบจังหวัด), THB, one row per province and year.

    Column ``verified`` is False for FY2570 (see :data:`UNVERIFIED_YEARS`).
    """
    if path is None:
        return _province_default().copy()
    return _budget_table(path, PROVINCE_FILE, "iso_code", _province_names(), PROVINCE_COLUMNS,
                         "province")


def load_cluster_budget(path: Path | None = None) -> pd.DataFrame:
    """Each province cluster's budget (งบกลุ่มจังหวัด, 2017 cluster map), THB, per year."""
    if path is None:
        return _cluster_default().copy()
    return _budget_table(path, CLUSTER_FILE, "cluster_id", _cluster_names(), CLUSTER_COLUMNS,
                         "cluster")


def load_local_governments(path: Path | None = None) -> pd.DataFrame:
    """Local governments per province by type (WeVis lgo_data.csv; 7,841 without the BMA)."""
    t, src = _read(path, LGO_FILE)
    _columns(t, src, LGO_COLUMNS)
    names = _province_names()
    problems: list[Problem] = []
    counts = LGO_COLUMNS[2:]
    for col in counts:
        vals, probs = _amounts(t, src, col, "iso_code")
        t[col] = vals
        problems += probs
    for k in sorted(set(t["iso_code"]) - set(names)):
        problems.append(Problem(src, f"iso_code={k}", "unknown province (Bangkok's BMA is not in this "
                                "list); use the 76 ISO codes TH-11 … TH-96"))
    for k in sorted(set(names) - set(t["iso_code"])):
        problems.append(Problem(src, f"iso_code={k}", "province missing; all 76 provinces are needed"))
    for k in sorted(set(t.loc[t["iso_code"].duplicated(), "iso_code"])):
        problems.append(Problem(src, f"iso_code={k}", "province listed twice"))
    if not problems:
        parts = ["municipality_city", "municipality_town", "municipality_subdistrict"]
        for r in t[t[parts].sum(axis=1) != t["municipality_total"]].itertuples():
            problems.append(Problem(src, f"municipality_total (iso_code={r.iso_code})",
                                    "is not city + town + subdistrict"))
        whole = ["pao", "municipality_total", "sao", "special_form"]
        for r in t[t[whole].sum(axis=1) != t["lgo_total"]].itertuples():
            problems.append(Problem(src, f"lgo_total (iso_code={r.iso_code})",
                                    "is not pao + municipality_total + sao + special_form"))
        for r in t[t["pao"] != 1].itertuples():
            problems.append(Problem(src, f"pao (iso_code={r.iso_code})", f"{r.pao}; every province has "
                                    "exactly one PAO"))
        if not problems and int(t["lgo_total"].sum()) != LGO_TOTAL:
            problems.append(Problem(src, "lgo_total", f"sums to {int(t['lgo_total'].sum()):,}; "
                                    f"SOURCES.md §6.3 gives {LGO_TOTAL:,}"))
    if problems:
        raise UserError(problems)
    return t.astype({c: "int64" for c in counts}).reset_index(drop=True)


def load_pao_budget(path: Path | None = None) -> pd.DataFrame:
    """Direct appropriations to each PAO (and the BMA), THB, FY2569 and FY2570 (draft).

    Yala's PAO (TH-95) was not found in the source, so its amounts are missing (<NA>), not zero.
    These appropriations are only part of a PAO's revenue.
    """
    t, src = _read(path, PAO_FILE)
    _columns(t, src, PAO_COLUMNS)
    t, problems = _years(t, src)
    t = t.copy()
    keyed = t.assign(unit=t["iso_code"] + ", FY" + t["fiscal_year_be"].astype(str))
    yala = set(keyed.loc[keyed["iso_code"] == "TH-95", "unit"])  # not found in the source (§6.4)
    first = set(keyed.loc[keyed["fiscal_year_be"] == 2569, "unit"])
    for col in ("budget_thb", "previous_year_budget_thb"):
        blank = yala | first if col.startswith("previous") else yala
        vals, probs = _amounts(keyed, src, col, "unit", blank_ok=blank, key_label="iso_code")
        t[col] = vals
        problems += probs
    known = set(load_geography().provinces["iso_code"])
    for k in sorted(set(t["iso_code"]) - known):
        problems.append(Problem(src, f"iso_code={k}", "unknown area; use ISO 3166-2:TH codes"))
    for be, grp in t.groupby("fiscal_year_be"):
        for k in sorted(known - set(grp["iso_code"])):
            problems.append(Problem(src, f"iso_code={k}", f"missing for FY{be}"))
    bad_type = ~t["unit_type"].isin(["PAO", "BMA"]) | ((t["unit_type"] == "BMA") != (t["iso_code"] == BANGKOK))
    for r in t[bad_type].itertuples():
        problems.append(Problem(src, f"unit_type (iso_code={r.iso_code})", f"{r.unit_type!r}; expected "
                                "BMA for TH-10 and PAO elsewhere"))
    if problems:
        raise UserError(problems)
    t["verified"] = t["fiscal_year_be"].isin(VERIFIED_YEARS)
    return t.reset_index(drop=True)


@dataclass(frozen=True)
class RealEnvelopes:
    """One fiscal year's real provincial and cluster budgets, in million THB."""

    year: int
    province_mthb: pd.Series  # iso_code -> M THB (76 provinces)
    cluster_mthb: pd.Series  # cluster_id -> M THB (18 clusters)
    verified: bool
    caveat: str

    @property
    def province_total_mthb(self) -> float:
        return float(self.province_mthb.sum())

    @property
    def cluster_total_mthb(self) -> float:
        return float(self.cluster_mthb.sum())


def _check_year(year: int, allow_unverified: bool) -> int:
    year = int(year)
    known = (*VERIFIED_YEARS, *UNVERIFIED_YEARS)
    if year not in known:
        raise UserError(Problem("budget year", "year", f"{year} is not in the tables; choose one of "
                                f"{', '.join(map(str, known))} (B.E.)"))
    if year in UNVERIFIED_YEARS and not allow_unverified:
        raise UserError(Problem("budget year", "year", UNVERIFIED_YEARS[year] + " Use "
                                f"{', '.join(map(str, VERIFIED_YEARS))}."))
    return year


@cache
def real_envelopes(year: int = DEFAULT_YEAR, *, allow_unverified: bool = False) -> RealEnvelopes:
    """Province and cluster totals for a fiscal year (B.E.), M THB. FY2570 needs
    ``allow_unverified=True`` and then carries its caveat."""
    year = _check_year(year, allow_unverified)
    p = load_province_budget()
    c = load_cluster_budget()
    pm = p[p["fiscal_year_be"] == year].set_index("iso_code")["budget_thb"].astype(float) / 1e6
    cm = c[c["fiscal_year_be"] == year].set_index("cluster_id")["budget_thb"].astype(float) / 1e6
    return RealEnvelopes(year, pm.rename("budget_mthb"), cm.rename("budget_mthb"),
                         year in VERIFIED_YEARS, year_caveat(year))


def province_shares(year: int = DEFAULT_YEAR, *, allow_unverified: bool = False) -> pd.Series:
    """Each province's share of the year's total provincial budget (sums to 1)."""
    env = real_envelopes(year, allow_unverified=allow_unverified)
    return (env.province_mthb / env.province_mthb.sum()).rename("share")


def budget_per_head(year: int = DEFAULT_YEAR, *, allow_unverified: bool = False
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Provinces and clusters with budget (M THB), population (DOPA 2021), THB per head and
    ranks (1 = largest): what ``allocsim data --budget`` prints."""
    env = real_envelopes(year, allow_unverified=allow_unverified)
    geo = load_geography("2017")
    p = geo.provinces.set_index("iso_code")
    prov = pd.DataFrame({"name_en": p["name_en"], "name_th": p["name_th"],
                         "cluster_id": p["cluster_id"]}).loc[env.province_mthb.index]
    prov["budget_mthb"] = env.province_mthb
    prov["population"] = p["population"].reindex(prov.index)
    cl = geo.clusters.set_index("cluster_id")[["name_en", "name_th"]].loc[env.cluster_mthb.index]
    cl["budget_mthb"] = env.cluster_mthb
    cl["population"] = prov.groupby("cluster_id")["population"].sum().reindex(cl.index)
    out = []
    for t in (prov, cl):
        t["thb_per_head"] = t["budget_mthb"] * 1e6 / t["population"]
        t["rank_budget"] = t["budget_mthb"].rank(ascending=False, method="min").astype(int)
        t["rank_per_head"] = t["thb_per_head"].rank(ascending=False, method="min").astype(int)
        out.append(t.sort_values("budget_mthb", ascending=False))
    return out[0], out[1]
