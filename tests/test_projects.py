"""The projects/resources contract: valid files load, bad files are rejected precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocsim.data.geography import load_geography
from allocsim.data.projects import load_project_table
from allocsim.errors import UserError
from tests.conftest import write

GOOD = """project_id,benefit,cost:province_budget,cost:y2027,province,strategy,requires,min_local_share,duplicate_group
A,10,5,5,TH-50,security,,0.2,g1
B,7.5,3,,TH-57,,A,,g1
C,1,1,1,,,,,
"""
RES = "resource,capacity\nprovince_budget,8\ny2027,6\nlocal:TH-50,2\n"


def _load(tmp_path: Path, projects: str, resources: str = RES):
    pf = write(tmp_path / "projects.csv", projects)
    rf = write(tmp_path / "resources.csv", resources)
    return load_project_table(pf, rf, geography=load_geography())


def test_valid_table_loads_with_defaults(tmp_path: Path) -> None:
    t = _load(tmp_path, GOOD)
    p = t.projects.set_index("project_id")
    assert t.resource_names == ["province_budget", "y2027"]
    assert p.loc["B", "cost:y2027"] == 0.0            # empty cost cell means 0
    assert p.loc["A", "total_cost"] == 10.0          # default: sum of cost columns
    assert p.loc["B", "min_local_share"] == 0.0
    assert bool(p.loc["C", "aligned"]) is True       # default: aligned
    assert t.local_capacity() == {"TH-50": 2.0}
    assert t.capacity("province_budget") == 8.0


@pytest.mark.parametrize(
    ("projects", "resources", "expect"),
    [
        ("benefit,cost:x\n1,1\n", "resource,capacity\nx,1\n", "project_id: required column"),
        ("project_id,benefit\nA,1\n", RES, "cost:<resource>: no cost column"),
        ("project_id,benefit,cost:x\nA,-1,1\n", "resource,capacity\nx,1\n", "row 2.benefit"),
        ("project_id,benefit,cost:x\nA,nan,1\n", "resource,capacity\nx,1\n", "row 2.benefit"),
        ("project_id,benefit,cost:x\nA,1,abc\n", "resource,capacity\nx,1\n", "row 2.cost:x"),
        ("project_id,benefit,cost:x\nA,1,1e300\n", "resource,capacity\nx,1\n", "row 2.cost:x"),
        ("project_id,benefit,cost:x\nA,1,1\nA,2,1\n", "resource,capacity\nx,1\n", "'A' appears on rows 2, 3"),
        ("project_id,benefit,cost:x\nA,1,1\n", "resource,capacity\ny,1\n", "unknown resource 'x'"),
        ("project_id,benefit,cost:x,province\nA,1,1,TH-99\n", "resource,capacity\nx,1\n", "row 2.province: unknown province"),
        ("project_id,benefit,cost:x,requires\nA,1,1,Z\n", "resource,capacity\nx,1\n", "row 2.requires: unknown project_id"),
        ("project_id,benefit,cost:x,requires\nA,1,1,B\nB,1,1,A\n", "resource,capacity\nx,1\n", "cycle"),
        ("project_id,benefit,cost:x,min_local_share\nA,1,1,1.5\n", "resource,capacity\nx,1\n", "row 2.min_local_share"),
        ("project_id,benefit,cost:x,strategy\nA,1,1,space\n", "resource,capacity\nx,1\n", "unknown strategy 'space'"),
        ("project_id,benefit,cost:x\nA,1,1\n", "resource,capacity\nx,-5\n", "row 2.capacity"),
        ("project_id,benefit,cost:x\nA,1,1\n", "resource,capacity\nx,1\nx,2\n", "'x' is listed more than once"),
        ("project_id,benefit,cost:x,aligned\nA,1,1,maybe\n", "resource,capacity\nx,1\n", "row 2.aligned"),
        ("", "resource,capacity\nx,1\n", "file is empty"),
    ],
)
def test_bad_tables_are_rejected_precisely(tmp_path: Path, projects: str, resources: str, expect: str) -> None:
    with pytest.raises(UserError) as ei:
        _load(tmp_path, projects, resources)
    assert expect in str(ei.value)
    assert all(p.file.endswith(".csv") for p in ei.value.problems)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    bad = "project_id,benefit,cost:x,province\nA,-1,1,TH-99\nA,2,zz,TH-50\n"
    with pytest.raises(UserError) as ei:
        _load(tmp_path, bad, "resource,capacity\nx,1\n")
    fields = {p.field for p in ei.value.problems}
    assert {"row 2.benefit", "row 3.cost:x", "row 2.province", "project_id"} <= fields


def test_flood_of_bad_cells_is_summarised(tmp_path: Path) -> None:
    rows = "".join(f"P{i},x,1\n" for i in range(50))
    with pytest.raises(UserError) as ei:
        _load(tmp_path, "project_id,benefit,cost:x\n" + rows, "resource,capacity\nx,1\n")
    assert len(ei.value.problems) == 6  # five named cells + one summary line
    assert "45 more invalid cells" in str(ei.value)


def test_non_utf8_file_is_rejected(tmp_path: Path) -> None:
    pf = tmp_path / "projects.csv"
    pf.write_bytes(b"project_id,benefit,cost:x\n\xff\xfe,1,1\n")
    rf = write(tmp_path / "resources.csv", "resource,capacity\nx,1\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_project_table(pf, rf)
