"""The ODD protocol (docs/ODD.md) is kept in step with the code: its parameter table is the
schema's, every parameter is labelled sourced, illustrative or a setting, and every code reference
names something that exists."""

from __future__ import annotations

import importlib
import re
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, create_model

from allocsim.data.catalogue import CatalogueParams
from allocsim.scenario import load_scenario, odd
from allocsim.scenario.schema import (
    AllocationConfig,
    GeographyConfig,
    LeversConfig,
    RulesConfig,
    SimulationConfig,
)
from allocsim.scenario.uncertainty import FIXED_FIELDS
from tests.conftest import ROOT, SCENARIOS

DOC = ROOT / "docs" / "ODD.md"
TEXT = DOC.read_text(encoding="utf-8")
BASELINE = load_scenario(SCENARIOS / "baseline.toml")
SIMULATE = ROOT / "src" / "allocsim" / "simulate"


def doc_rows() -> list[dict[str, str]]:
    """The parameter table as written in docs/ODD.md, parsed from the markdown."""
    lines = [ln for ln in odd.marked_block(TEXT).splitlines() if ln.startswith("| `")]
    head = ["parameter", "default", "baseline", "unit", "status", "meaning"]
    rows = []
    for ln in lines:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", ln)[1:-1]]
        rows.append(dict(zip(head, cells, strict=True)))
    return rows


def untick(cell: str) -> str:
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


def test_parameter_table_in_the_doc_is_the_generated_one() -> None:
    assert odd.marked_block(TEXT) == odd.generated_block(BASELINE), (
        f"docs/ODD.md's parameter table is stale (a scenario field was added, removed or changed); "
        f"regenerate it: {odd.REGENERATE}")


def test_constants_list_in_the_doc_is_the_generated_one() -> None:
    block = odd.marked_block(TEXT, odd.CONSTANTS_START, odd.CONSTANTS_END)
    assert block == odd.constants_block(), f"docs/ODD.md's constants list is stale; run {odd.REGENERATE}"


def test_each_constant_the_odd_lists_is_still_in_the_code_where_it_says() -> None:
    """The list of behavioural constants in code is true: each pattern still matches its file.
    When a constant becomes a parameter, this fails until its entry is removed (so the ODD never
    claims a constant that is gone); when the code moves, it names the new file."""
    src = ROOT / "src" / "allocsim"
    files = {p.relative_to(src).as_posix(): p.read_text(encoding="utf-8") for p in src.rglob("*.py")}
    assert len(odd.CONSTANTS_IN_CODE) == len({w for w, _, _ in odd.CONSTANTS_IN_CODE})
    for what, path, pattern in odd.CONSTANTS_IN_CODE:
        where = [f for f, text in files.items() if re.search(pattern, text)]
        assert where, (f"'{what}' is no longer in the code (pattern {pattern!r}): delete its entry "
                       f"in allocsim.scenario.odd.CONSTANTS_IN_CODE and run {odd.REGENERATE}")
        assert path in where, f"'{what}' moved from {path} to {', '.join(where)}: update its entry"


def test_table_lists_exactly_the_parameters_the_simulation_sections_hold() -> None:
    """An oracle independent of the generator: the field lists of the pydantic models."""
    want = {f"simulation.{f}" for f in SimulationConfig.model_fields}
    want |= {f"levers.{f}" for f in LeversConfig.model_fields}
    want |= {f"geography.{f}" for f in GeographyConfig.model_fields}
    want |= {f"catalogue.{f}" for f in CatalogueParams.model_fields} - set(odd.NOT_SIMULATED)
    want |= {"rules.matching_uptake_voluntary", "rules.matching_uptake_governor",
             "allocation.lapse_clawback", "allocation.plan_score_range"}
    names = [untick(r["parameter"]) for r in doc_rows()]
    assert len(names) == len(set(names)), "a parameter is listed twice"
    assert set(names) == want, (f"missing: {sorted(want - set(names))}; not in the schema: "
                                f"{sorted(set(names) - want)}; regenerate: {odd.REGENERATE}")


def _section_field(name: str) -> tuple[type[BaseModel], str]:
    section, field = name.split(".", 1)
    models = {"simulation": SimulationConfig, "levers": LeversConfig, "geography": GeographyConfig,
              "catalogue": CatalogueParams, "rules": RulesConfig, "allocation": AllocationConfig}
    return models[section], field


def test_defaults_and_baseline_values_in_the_doc_parse_back_to_the_schemas() -> None:
    """The default column read as TOML is the schema default; the baseline column (where filled)
    is the shipped baseline's value and differs from the default."""
    for r in doc_rows():
        name = untick(r["parameter"])
        model, field = _section_field(name)
        default = model.model_fields[field].get_default(call_default_factory=True)
        parsed = tomllib.loads(f"x = {untick(r['default'])}")["x"]
        as_list = list(default) if isinstance(default, tuple) else default
        assert parsed == as_list, f"{name}: doc says {parsed!r}, schema default is {default!r}"
        section, _ = name.split(".", 1)
        actual = getattr(getattr(BASELINE, section), field)
        actual = list(actual) if isinstance(actual, tuple) else actual
        if r["baseline"]:
            assert tomllib.loads(f"x = {untick(r['baseline'])}")["x"] == actual != as_list, name
        else:
            assert actual == as_list, f"{name}: baseline.toml sets {actual!r}, the doc shows none"


def test_every_parameter_is_sourced_illustrative_or_a_setting() -> None:
    """No unlabelled number: a row is sourced (citing a source mark), illustrative, or a setting
    that makes no claim about the world (horizon, step, sample size, model mode)."""
    for r in doc_rows():
        name, status = untick(r["parameter"]), r["status"]
        model, field = _section_field(name)
        info = model.model_fields[field]
        if "illustrative" in (info.description or "").lower():
            assert status == "illustrative", f"{name}: its description says illustrative"
        if status.startswith("sourced"):
            assert re.search(r"\b00[0-4]\b", status), f"{name}: 'sourced' must cite the source"
        elif status == "setting":
            mode = typing.get_origin(info.annotation) is typing.Literal
            assert mode or "not an assumption" in FIXED_FIELDS.get(name, ""), \
                f"{name}: labelled a setting but it is neither a model mode nor a FIXED_FIELDS setting"
        else:
            assert status == "illustrative", f"{name}: status {status!r}; label it illustrative or cite a source"


def test_an_unlabelled_field_is_reported_not_silently_passed() -> None:
    """The labelling can fail: a number in a section without a section-wide declaration, with no
    'illustrative' and no source in its description, is UNLABELLED."""
    m = create_model("Fake", rate=(float, Field(0.3, description="how fast things happen")))
    assert odd.status_of("fake.rate", m, "rate", all_illustrative=False) == "UNLABELLED"
    assert odd.status_of("fake.rate", m, "rate", all_illustrative=True) == "illustrative"
    m2 = create_model("Fake2", rate=(float, Field(0.3, description="set by `004` §3.4")))
    assert odd.status_of("fake.rate", m2, "rate", all_illustrative=True).startswith("sourced")


def test_a_field_added_without_regenerating_fails_with_the_command_to_fix_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    grown = create_model("Grown", __base__=SimulationConfig,
                         strategy_need_exponent=(float, Field(2.0, description="illustrative exponent")))
    doc = tmp_path / "docs" / "ODD.md"
    doc.parent.mkdir()
    doc.write_text(TEXT, encoding="utf-8")
    sections = tuple((s, grown if s == "simulation" else m, a, o) for s, m, a, o in odd.SECTIONS)
    monkeypatch.setattr(odd, "SECTIONS", sections)
    assert odd.main(["--check", str(doc)]) == 1
    assert odd.REGENERATE in capsys.readouterr().out
    assert odd.main(["--write", str(doc)]) == 0
    new = doc.read_text(encoding="utf-8")
    assert "`simulation.strategy_need_exponent` | `2` |" in new
    assert odd.main(["--check", str(doc)]) == 0


def test_write_rewrites_only_the_marked_block(tmp_path: Path) -> None:
    doc = tmp_path / "ODD.md"
    before, after = "# Title\nprose before\n\n", "\n\nprose after\n"
    doc.write_text(f"{before}{odd.START}\n| stale | row |\n{odd.END}{after}", encoding="utf-8")
    assert odd.rewrite(doc) is True
    text = doc.read_text(encoding="utf-8")
    assert text == before + odd.generated_block() + after
    assert odd.rewrite(doc) is False  # idempotent
    (tmp_path / "bare.md").write_text("no markers here\n", encoding="utf-8")
    assert odd.main(["--check", str(tmp_path / "bare.md")]) == 2


def test_every_row_has_a_unit_and_a_meaning_written_once() -> None:
    names = set()
    for r in doc_rows():
        name = untick(r["parameter"])
        names.add(name)
        assert r["unit"], (f"{name}: no unit; give the field json_schema_extra={{'unit': ...}} "
                           "or an entry in allocsim.scenario.odd.UNITS")
        assert not odd.is_terse(r["meaning"]), (f"{name}: the meaning is only a label; explain the "
                                                "field in its description (or odd.GLOSSES)")
    for name in odd.GLOSSES:
        assert name in names, f"GLOSSES has {name}, which is no parameter"
        model, field = _section_field(name)
        assert odd.is_terse(model.model_fields[field].description or ""), (
            f"{name}: the schema's description now explains it; delete its entry in odd.GLOSSES")


def test_other_sections_fields_the_simulation_reads_are_listed_or_inputs() -> None:
    """Scan simulate/: a field of [allocation] or [rules] it names must be in the table or be one
    of the documented inputs; the catalogue fields left out must really be unread."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in SIMULATE.rglob("*.py"))
    listed = {untick(r["parameter"]) for r in doc_rows()} | set(odd.INPUT_FIELDS)
    for section, model in (("allocation", AllocationConfig), ("rules", RulesConfig)):
        for field in model.model_fields:
            if "_" in field and re.search(rf"\b{field}\b", source):
                assert f"{section}.{field}" in listed, f"simulate/ reads {section}.{field}; add it to odd.SECTIONS"
    for name in odd.NOT_SIMULATED:
        field = name.split(".", 1)[1]
        assert not re.search(rf"\b{field}\b", source), f"simulate/ now reads {name}: list it in the table"


def resolve(dotted: str) -> object:
    """Import the longest module prefix of a dotted name, then get the attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_submodel_names_code_that_exists() -> None:
    """Each '### 7.x' submodel cites at least one allocsim function, and every dotted allocsim
    name in the document imports (a renamed or moved function fails until the doc follows)."""
    refs = re.findall(r"`(allocsim(?:\.\w+)+)`", TEXT)
    assert len(refs) > 20
    for ref in sorted(set(refs)):
        try:
            obj = resolve(ref)
        except (ModuleNotFoundError, AttributeError) as exc:
            pytest.fail(f"docs/ODD.md names `{ref}`, which does not exist ({exc})")
        assert obj is not None
    subs = re.split(r"^### ", TEXT.split("## 7. Submodels", 1)[1].split("\n## ", 1)[0], flags=re.M)[1:]
    assert len(subs) >= 10
    for body in subs:
        code = [r for r in re.findall(r"`(allocsim(?:\.\w+)+)`", body) if callable(resolve(r))]
        assert code, f"submodel {body.splitlines()[0]!r} names no function of the code"
        assert re.search(r"`00[0-4]`|DOMAIN\.md", body), f"submodel {body.splitlines()[0]!r} cites no source"


def test_the_seven_odd_elements_are_present_in_order() -> None:
    heads = re.findall(r"^## (\d)\. (.+)$", TEXT, flags=re.M)
    assert [h[0] for h in heads][:7] == list("1234567")
    for concept in ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning",
                    "Prediction", "Sensing", "Interaction", "Stochasticity", "Collectives",
                    "Observation"):
        assert f"**{concept}.**" in TEXT, f"design concept {concept} missing"
    for pattern in ("(a)", "(b)", "(c)", "(d)", "(e)"):
        assert f"| {pattern} |" in TEXT
