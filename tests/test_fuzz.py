"""Fuzzing bad input: malformed scenario files and project/resource tables always give exit code 2,
one `file: field: message` line per problem, no traceback, and nothing in the results folder."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from allocsim.cli import main
from allocsim.scenario.schema import Scenario
from tests.conftest import SCENARIOS


def _leaves(d: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        out.extend(_leaves(v, f"{prefix}{k}.") if isinstance(v, dict) and v else [f"{prefix}{k}"])
    return out


FIELDS = [f for f in _leaves(Scenario(name="x").model_dump(mode="json")) if f not in ("name",)]
KEY = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
VALUE = st.one_of(
    st.text(max_size=15), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3), st.just({}),
)


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{}"
    return str(v)


def scenario_text(mutations: list[tuple[str, object]]) -> str:
    lines = ['extends = "baseline.toml"', 'name = "fuzz"']
    for dotted, value in mutations:
        *table, key = dotted.split(".")
        if table:
            lines.append(f"[{'.'.join(table)}]")
        lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


LINE = re.compile(r"^(?P<file>/.+?\.(?:csv|toml)): (?P<field>.+?): (?P<msg>.+)$")


def check_exit_2_or_valid(rc: int, err: str, files: set[str]) -> None:
    assert "Traceback" not in err
    assert rc in (0, 2), err
    if rc == 2:
        lines = err.strip().splitlines()
        assert lines
        for line in lines:
            m = LINE.match(line)
            assert m, line
            assert m["file"] in files, line


@given(mutations=st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), KEY.map(lambda k: f"levers.{k}"), KEY),
                                     VALUE), min_size=1, max_size=4))
def test_fuzzed_scenarios(mutations, tmp_path_factory) -> None:
    d = tmp_path_factory.mktemp("fz")
    (d / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"), encoding="utf-8")
    f = d / "fuzz.toml"
    f.write_text(scenario_text(mutations), encoding="utf-8")
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["validate", str(f)])
    check_exit_2_or_valid(rc, err.getvalue(), {str(f), str(d / "baseline.toml")})
    if rc == 2:  # and `run` fails the same way before writing anything
        out = d / "results"
        err2 = io.StringIO()
        with contextlib.redirect_stderr(err2):
            assert main(["run", str(f), "--out", str(out)]) == 2
        assert not out.exists() and not list(d.glob(".results*"))


@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")
                                                                             if t.isprintable() else t.encode("utf-8", "replace"))))
def test_fuzzed_scenario_bytes(content: bytes, tmp_path_factory) -> None:
    d = tmp_path_factory.mktemp("fb")
    f = d / "raw.toml"
    f.write_bytes(content)
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["validate", str(f)])
    check_exit_2_or_valid(rc, err.getvalue(), {str(f)})
    assert rc == 2  # a file without `name` is never valid


SPECIAL = ["extends = \"fuzz.toml\"\nname = \"a\"\n", "extends = \"../outside.toml\"\nname = \"a\"\n",
           "extends = \"/etc/passwd\"\nname = \"a\"\n", "extends = 3\nname = \"a\"\n",
           "extends = \"baseline.toml\"\nname = \"a\"\n[geography]\ncluster_map = \"../../../etc/hosts\"\n",
           "extends = \"baseline.toml\"\nname = \"a\"\n[projects]\nsource = \"file\"\nprojects_file = \"/etc/passwd\"\nresources_file = \"r.csv\"\n"]


def test_special_cases_cycles_and_escapes(tmp_path: Path, capsys) -> None:
    d = tmp_path / "s"
    d.mkdir()
    (tmp_path / "outside.toml").write_text('name = "o"\n')
    (d / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for text in SPECIAL:
        f = d / "fuzz.toml"
        f.write_text(text)
        rc = main(["validate", str(f)])
        err = capsys.readouterr().err
        check_exit_2_or_valid(rc, err, {str(f), str(d / "baseline.toml")})
        assert rc == 2, text


CELL = st.one_of(st.sampled_from(["", "0", "1", "-1", "nan", "inf", "-inf", "1e400", "1e308", "0.5", "abc",
                                  "TH-50", "TH-99", "TH-10", "P1", "P2", "g1", "true", "maybe", " 3 ", "1,5"]),
                 st.text(max_size=6))
COLUMNS = ["project_id", "benefit", "cost:a", "cost:b", "province", "requires", "min_local_share",
           "duplicate_group", "aligned", "committed", "total_cost", "strategy", "partners"]


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


@given(header=st.lists(st.one_of(st.sampled_from(COLUMNS), KEY), min_size=1, max_size=8, unique=True),
       cells=st.lists(st.lists(CELL, min_size=8, max_size=8), max_size=6),
       res=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "local:TH-50", ""]), CELL), max_size=4),
       garbage=st.one_of(st.none(), st.binary(max_size=40)))
def test_fuzzed_tables(header, cells, res, garbage, tmp_path_factory) -> None:
    d = tmp_path_factory.mktemp("ft")
    p, r, out = d / "projects.csv", d / "resources.csv", d / "out"
    try:
        data = csv_bytes(header, [row[: len(header)] for row in cells])
    except UnicodeEncodeError:
        data = b"project_id,benefit\n\xff,1\n"
    p.write_bytes(data if garbage is None else data + garbage)
    r.write_bytes(csv_bytes(["resource", "capacity"], [list(x) for x in res]))
    import contextlib

    err, outp = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(outp):
        rc = main(["select", str(p), str(r), "--json", "--out", str(out), "--time-limit", "5", "--thailand"])
    e = err.getvalue()
    assert "Traceback" not in e
    assert rc in (0, 1, 2), e
    if rc == 2:
        for line in e.strip().splitlines():
            m = LINE.match(line)
            assert m and m["file"] in {str(p), str(r)}, line
        assert not out.exists()
    else:
        payload = json.loads(outp.getvalue())
        assert payload["status"] in ("optimal", "infeasible", "time_limit", "time_limit_no_solution")
        assert (out / "solver.json").exists()
