"""Scenario files: inheritance, every shipped file validates, invalid files give precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocsim.cli import main
from allocsim.errors import UserError
from allocsim.scenario import LEVERS, load_scenario, scenario_hash
from tests.conftest import SCENARIOS, write

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_validates(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.name == path.stem


def test_one_reform_file_per_lever_changing_only_its_field() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml").model_dump()
    for lever in LEVERS:
        sc = load_scenario(SCENARIOS / f"reform_{lever.reform}.toml")
        section, key = lever.section, lever.field
        assert sc.model_dump()[section][key] == lever.reform_value
        assert base[section][key] != lever.reform_value, lever.reform
        # nothing else differs from the baseline
        other = sc.model_dump()
        for s in base:
            if s in ("name", "description"):
                continue
            if s == section:
                assert {k: v for k, v in other[s].items() if k != key} == \
                       {k: v for k, v in base[s].items() if k != key}
            else:
                assert other[s] == base[s], (lever.reform, s)


def test_extends_merges_tables_key_by_key(scenario_dir: Path) -> None:
    write(scenario_dir / "mid.toml", 'extends = "baseline.toml"\nname = "mid"\n[levers]\nsingle_gateway = true\n')
    write(scenario_dir / "top.toml", 'extends = "mid.toml"\nname = "top"\nseed = 5\n[levers]\ndata_sharing = 1.0\n')
    sc = load_scenario(scenario_dir / "top.toml")
    assert (sc.name, sc.seed) == ("top", 5)
    assert sc.levers.single_gateway is True and sc.levers.data_sharing == 1.0
    assert sc.levers.allocation_rule == "actual"            # inherited from baseline
    assert [p.name for p in sc.chain] == ["baseline.toml", "mid.toml", "top.toml"]
    base = load_scenario(scenario_dir / "baseline.toml")
    assert scenario_hash(sc) != scenario_hash(base)
    assert scenario_hash(base) == scenario_hash(load_scenario(SCENARIOS / "baseline.toml"))


def test_error_points_at_the_file_that_set_the_value(scenario_dir: Path) -> None:
    base = (scenario_dir / "baseline.toml").read_text()
    write(scenario_dir / "baseline.toml", base.replace("mip_gap = 0.005", "mip_gap = 7"))
    write(scenario_dir / "reform.toml", 'extends = "baseline.toml"\nname = "r"\n[levers]\nparticipation = 2\n')
    with pytest.raises(UserError) as ei:
        load_scenario(scenario_dir / "reform.toml")
    by_field = {p.field: p.file for p in ei.value.problems}
    assert by_field["solver.mip_gap"].endswith("baseline.toml")
    assert by_field["levers.participation"].endswith("reform.toml")


INVALID = {
    "unknown_top_key": ('seeed = 3', "seeed", "unknown field"),
    "seed_wrong_type": ('seed = "abc"', "seed", "integer"),
    "seed_negative": ('seed = -1', "seed", "greater than or equal to 0"),
    "share_above_one": ('[levers]\ndata_sharing = 1.5', "levers.data_sharing", "less than or equal to 1"),
    "unknown_rule_choice": ('[levers]\nallocation_rule = "lottery"', "levers.allocation_rule", "'actual'"),
    "unknown_province": ('[levers]\nhigh_performance_provinces = ["TH-99"]', "levers.high_performance_provinces", "TH-99"),
    "negative_gap": ('[solver]\nmip_gap = -1', "solver.mip_gap", "greater than or equal to 0"),
    "negative_need_target": ('[objective]\nneed_target = -5', "objective.need_target", "greater than or equal to 0"),
    "file_source_without_files": ('[projects]\nsource = "file"', "projects", "projects_file"),
    "unknown_cluster_map": ('[geography]\ncluster_map = "1999"', "geography.cluster_map", "packaged map"),
    "typo_in_lever": ('[levers]\ngatway = true', "levers.gatway", "valid fields here"),
    "unknown_source": ('[allocation.envelope_mthb]\ntaxes = 5.0', "allocation.envelope_mthb.taxes", "province_budget"),
    "negative_catalogue": ('[catalogue]\nprojects_per_province = -1', "catalogue.projects_per_province", "greater than or equal to 0"),
    "bad_name": ('name = "no spaces allowed"', "name", "pattern"),
    "section_not_table": ('levers = 3', "levers", "valid dictionary"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_scenarios_exit_2_naming_the_field(case: str, scenario_dir: Path, capsys) -> None:
    body, field, hint = INVALID[case]
    # name/seed lines go before any table header so they stay top-level keys
    f = write(scenario_dir / f"{case}.toml", f'extends = "baseline.toml"\n{body}\n')
    if not body.startswith("name"):
        f.write_text(f'name = "{case}"\n' + f.read_text())
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert any(line.startswith(f"{f}: {field}: ") and hint in line for line in lines), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "field", "hint"),
    [
        (b"", "file", "empty scenario file"),
        (b"name = \"x\"\n\xff\xfe = 1\n", "file", "not UTF-8"),
        (b"name = \"x\n", "toml", "not valid TOML"),
        (b'seed = 1\n', "name", "required field is missing"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, field: str, hint: str, capsys) -> None:
    f = tmp_path / "bad.toml"
    f.write_bytes(content)
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: {field}: " in err and hint in err


def test_cyclic_and_escaping_extends(scenario_dir: Path, tmp_path: Path, capsys) -> None:
    write(scenario_dir / "a.toml", 'extends = "b.toml"\nname = "a"\n')
    write(scenario_dir / "b.toml", 'extends = "a.toml"\nname = "b"\n')
    write(tmp_path / "outside.toml", 'name = "outside"\n')
    write(scenario_dir / "escape.toml", 'extends = "../outside.toml"\nname = "e"\n')
    assert main(["validate", str(scenario_dir / "a.toml"), str(scenario_dir / "escape.toml")]) == 2
    err = capsys.readouterr().err
    assert "extends: cyclic extends" in err
    assert "extends: '../outside.toml' points outside the scenario folder" in err


def test_validate_reports_every_file(scenario_dir: Path, capsys) -> None:
    good = scenario_dir / "baseline.toml"
    bad = write(scenario_dir / "bad.toml", 'extends = "baseline.toml"\nname = "bad"\nseed = -4\n[solver]\nmip_gap = 2\n')
    assert main(["validate", str(good), str(bad)]) == 2
    out = capsys.readouterr()
    assert "baseline.toml: ok" in out.out
    assert len(out.err.strip().splitlines()) == 2  # one line per problem
