"""Thailand's provinces and province clusters, from the packaged reference tables.

The cluster map is a *scenario input*, not a constant (DOMAIN.md §1): the 2017 arrangement is the
default, the 2009 Royal Gazette arrangement is shipped too, and a scenario may supply its own map
(e.g. the reformers' issue-based clusters). Whatever the map, integrity is checked on load: every
province in exactly one cluster, Bangkok in none. Sources: ``reference/SOURCES.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from allocsim.errors import Problem, UserError

BANGKOK = "TH-10"
REFERENCE = files("allocsim.data") / "reference"
#: Packaged cluster maps: name -> reference file. "2017" is the current arrangement.
CLUSTER_MAPS = {"2017": "thailand_clusters.csv", "2009": "thailand_clusters_2009.csv"}
DEFAULT_CLUSTER_MAP = "2017"


@dataclass(frozen=True)
class Geography:
    """Provinces with their cluster under one cluster map, and that map's clusters.

    ``provinces``: one row per area (77), columns iso_code, name_en, name_th, region_6,
    cluster_id (empty string for Bangkok), population, population_year, area_km2.
    ``clusters``: one row per cluster, columns cluster_id, name_en, name_th,
    hub_province_iso (empty where no source names a hub), member_count.
    """

    provinces: pd.DataFrame
    clusters: pd.DataFrame
    cluster_map: str

    @property
    def province_codes(self) -> list[str]:
        """The 76 provinces (Bangkok excluded): the units that get provincial budgets."""
        return [c for c in self.provinces["iso_code"] if c != BANGKOK]

    def members(self, cluster_id: str) -> list[str]:
        """ISO codes of the provinces in a cluster, in table order."""
        p = self.provinces
        return p.loc[p["cluster_id"] == cluster_id, "iso_code"].tolist()

    def name(self, iso_code: str) -> str:
        """English name of a province, for messages written in policy words."""
        row = self.provinces.loc[self.provinces["iso_code"] == iso_code, "name_en"]
        return str(row.iloc[0]) if len(row) else iso_code

    def summary(self) -> pd.DataFrame:
        """Clusters with member count, population and hub name: what `allocsim data` prints."""
        p = self.provinces[self.provinces["cluster_id"] != ""]
        agg = p.groupby("cluster_id").agg(
            provinces=("iso_code", "size"), population=("population", "sum")
        )
        out = self.clusters.set_index("cluster_id").join(agg)
        out["hub"] = out["hub_province_iso"].map(lambda c: self.name(c) if c else "")
        return out.reset_index()[["cluster_id", "name_en", "provinces", "population", "hub"]]


def _read_reference(name: str) -> pd.DataFrame:
    with (REFERENCE / name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8")


@cache
def _provinces_base() -> pd.DataFrame:
    p = _read_reference("thailand_provinces.csv")
    p["population"] = p["population"].astype("int64")
    p["population_year"] = p["population_year"].astype("int64")
    p["area_km2"] = p["area_km2"].astype(float)
    # GPP columns are empty for every row (no verified source): drop rather than ship NaNs.
    return p.drop(columns=["gpp_per_capita_thb", "gpp_year"])


def load_local_government_counts() -> pd.DataFrame:
    """DLA counts of local administrative organisations by type (5 Jun 2020; 7,852 in all)."""
    t = _read_reference("thailand_local_government_counts.csv")
    t["count"] = t["count"].astype("int64")
    return t


def _packaged_map(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Membership (iso_code, cluster_id) and clusters table of a packaged map."""
    raw = _read_reference(CLUSTER_MAPS[name])
    if name == "2009":
        raw = raw.rename(columns={"cluster_id_2009": "cluster_id"})
    members = [
        (iso, row["cluster_id"]) for _, row in raw.iterrows() for iso in row["members_iso"].split()
    ]
    membership = pd.DataFrame(members, columns=["iso_code", "cluster_id"])
    clusters = raw[["cluster_id", "name_en", "name_th", "hub_province_iso"]].copy()
    return membership, clusters


def _custom_map(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A user-made map: CSV with iso_code, cluster_id and optional name_en, hub (1 marks the hub)."""
    if not path.is_file():
        raise UserError(Problem(str(path), "cluster_map", "file not found; give a CSV with "
                                "columns iso_code,cluster_id or one of " + ", ".join(CLUSTER_MAPS)))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(Problem(str(path), "cluster_map", f"not a readable UTF-8 CSV ({exc})")) from None
    missing = {"iso_code", "cluster_id"} - set(raw.columns)
    if missing:
        raise UserError(Problem(str(path), ",".join(sorted(missing)),
                                "missing column; a cluster map needs iso_code,cluster_id"))
    raw = raw[raw["cluster_id"].str.strip() != ""]
    membership = raw[["iso_code", "cluster_id"]].apply(lambda s: s.str.strip())
    hub = raw["hub"].str.strip().isin(["1", "true", "yes"]) if "hub" in raw else None
    names = raw["name_en"] if "name_en" in raw else raw["cluster_id"]
    rows = []
    for cid, grp in membership.groupby("cluster_id", sort=False):
        hubs = grp["iso_code"][hub[grp.index]].tolist() if hub is not None else []
        rows.append({"cluster_id": cid, "name_en": names[grp.index[0]] or cid, "name_th": "",
                     "hub_province_iso": hubs[0] if len(hubs) == 1 else ""})
    return membership, pd.DataFrame(rows)


def check_membership(membership: pd.DataFrame, source: str) -> list[Problem]:
    """Integrity of a cluster map: every province in exactly one cluster, Bangkok in none."""
    known = set(_provinces_base()["iso_code"])
    out: list[Problem] = []
    for iso in sorted(set(membership["iso_code"]) - known):
        out.append(Problem(source, f"iso_code={iso}", "unknown province; use ISO 3166-2:TH codes "
                           "TH-11 … TH-96 (see `allocsim data`)"))
    if BANGKOK in set(membership["iso_code"]):
        out.append(Problem(source, f"iso_code={BANGKOK}", "Bangkok belongs to no province cluster"))
    counts = membership.groupby("iso_code")["cluster_id"].nunique()
    for iso, n in counts[counts > 1].items():
        out.append(Problem(source, f"iso_code={iso}", f"province is in {n} clusters; it must be in exactly one"))
    dup_rows = membership.duplicated(keep="first")
    for iso in sorted(set(membership.loc[dup_rows, "iso_code"]) - set(counts[counts > 1].index)):
        out.append(Problem(source, f"iso_code={iso}", "province listed twice in the same cluster"))
    absent = known - {BANGKOK} - set(membership["iso_code"])
    for iso in sorted(absent):
        out.append(Problem(source, f"iso_code={iso}", "province is in no cluster; every province "
                           "except Bangkok must be in exactly one"))
    return out


def load_geography(cluster_map: str | Path = DEFAULT_CLUSTER_MAP) -> Geography:
    """Provinces and clusters under a cluster map: "2017" (default), "2009" or a CSV path.

    Raises :class:`UserError` naming the file and province when a map breaks integrity.
    """
    if isinstance(cluster_map, str) and cluster_map in CLUSTER_MAPS:
        membership, clusters = _packaged_map(cluster_map)
        source, label = f"allocsim/data/reference/{CLUSTER_MAPS[cluster_map]}", cluster_map
    else:
        path = Path(cluster_map)
        membership, clusters = _custom_map(path)
        source, label = str(path), str(path)
    problems = check_membership(membership, source)
    if problems:
        raise UserError(problems)
    provinces = _provinces_base().copy()
    lookup = dict(zip(membership["iso_code"], membership["cluster_id"], strict=True))
    provinces["cluster_id"] = provinces["iso_code"].map(lookup).fillna("")
    counts = membership.groupby("cluster_id").size()
    clusters = clusters.assign(member_count=clusters["cluster_id"].map(counts).astype("int64"))
    return Geography(provinces.reset_index(drop=True), clusters.reset_index(drop=True), label)
