"""Reference data integrity: 77 areas, 18 clusters, each province in exactly one cluster."""

from __future__ import annotations

import pandas as pd
import pytest

from allocsim.data.geography import BANGKOK, load_geography, load_local_government_counts
from allocsim.data.strategies import load_missions, load_strategies, strategy_ids
from allocsim.errors import UserError


@pytest.mark.parametrize("cmap", ["2017", "2009"])
def test_every_province_in_exactly_one_cluster(cmap: str) -> None:
    geo = load_geography(cmap)
    p = geo.provinces
    assert len(p) == 77 and p["iso_code"].is_unique
    assert p["iso_code"].str.fullmatch(r"TH-\d\d").all()
    assert len(geo.clusters) == 18 and geo.clusters["cluster_id"].is_unique
    bkk = p[p["iso_code"] == BANGKOK]
    assert bkk["cluster_id"].item() == ""
    provs = p[p["iso_code"] != BANGKOK]
    assert len(provs) == 76
    assert set(provs["cluster_id"]) == set(geo.clusters["cluster_id"])
    assert geo.clusters["member_count"].sum() == 76
    # hubs, where known, are members of their own cluster
    for _, c in geo.clusters.iterrows():
        if c["hub_province_iso"]:
            assert c["hub_province_iso"] in geo.members(c["cluster_id"])


def test_reference_facts_carried_through() -> None:
    geo = load_geography()
    p = geo.provinces.set_index("iso_code")
    assert p["population"].sum() == 66_171_439  # DOPA total, 31 Dec 2021
    assert p.loc["TH-50", "name_en"] == "Chiang Mai"
    assert p.loc["TH-50", "name_th"] == "เชียงใหม่"
    assert p["region_6"].value_counts().to_dict() == {
        "Northeast": 20, "Central": 22, "South": 14, "North": 9, "East": 7, "West": 5}
    # GPP has no verified source: it is left out, not invented
    assert not any("gpp" in c for c in geo.provinces.columns)
    lao = load_local_government_counts().set_index("lao_type_en")["count"]
    assert lao["Total"] == 7852


def test_2009_and_2017_maps_differ_by_twenty_provinces() -> None:
    a = load_geography("2017").provinces.set_index("iso_code")["cluster_id"]
    b = load_geography("2009").provinces.set_index("iso_code")["cluster_id"]
    # cluster ids differ in name; compare the partitions: which provinces share a cluster
    def partners(s: pd.Series) -> dict[str, frozenset]:
        return {iso: frozenset(s[s == c].index) for iso, c in s.items() if c}
    pa, pb = partners(a), partners(b)
    moved = [iso for iso in pa if pa[iso] != pb[iso]]
    assert len(moved) >= 20  # SOURCES.md: 20 provinces changed cluster (others saw partners change)
    assert a["TH-11"] == "central_metro" and b["TH-11"] == "central_middle_2009"


def test_custom_cluster_map(tmp_path) -> None:
    base = load_geography("2017").provinces
    rows = base[base["iso_code"] != BANGKOK][["iso_code"]].copy()
    rows["cluster_id"] = ["tourism" if i % 2 else "agro" for i in range(len(rows))]
    rows["hub"] = ""
    rows.loc[rows["iso_code"] == "TH-50", "hub"] = "1"
    f = tmp_path / "issue_based.csv"
    rows.to_csv(f, index=False)
    geo = load_geography(f)
    assert sorted(geo.clusters["cluster_id"]) == ["agro", "tourism"]
    assert geo.clusters["member_count"].sum() == 76


def test_custom_map_integrity_errors_name_file_and_province(tmp_path) -> None:
    base = load_geography("2017").provinces
    rows = base[~base["iso_code"].isin([BANGKOK, "TH-50"])][["iso_code", "cluster_id"]]
    extra = pd.DataFrame({"iso_code": ["TH-11", "TH-99", BANGKOK], "cluster_id": ["x", "x", "x"]})
    f = tmp_path / "bad_map.csv"
    pd.concat([rows, extra]).to_csv(f, index=False)
    with pytest.raises(UserError) as ei:
        load_geography(f)
    text = str(ei.value)
    assert str(f) in text
    assert "TH-50" in text and "in no cluster" in text          # missing province
    assert "TH-11" in text and "exactly one" in text            # in two clusters
    assert "TH-99" in text and "unknown province" in text
    assert "Bangkok belongs to no province cluster" in text


def test_strategies_and_missions() -> None:
    s = load_strategies()
    assert len(s) == 6 and strategy_ids()[0] == "security"
    m = load_missions()
    assert m["mission_id"].nunique() == 6
    assert set(m["strategy_id"]) <= set(strategy_ids())
