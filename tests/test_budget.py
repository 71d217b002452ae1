"""Real budget tables: the loaders reproduce the CSV, check it, and reject corrupted copies with a
message naming the file and field; FY2570 is never used silently."""

from __future__ import annotations

import csv
import re
from importlib.resources import files
from pathlib import Path

import pytest

from allocsim.cli import main
from allocsim.data import budget
from allocsim.data.geography import load_geography
from allocsim.errors import UserError

REF = files("allocsim.data") / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    """The packaged CSV read with the csv module: an oracle independent of the pandas loader."""
    with (REF / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_fy2569_totals_match_sources_and_csv() -> None:
    env = budget.real_envelopes(2569)
    raw = _rows(budget.PROVINCE_FILE)
    want = sum(int(r["budget_thb"]) for r in raw if r["fiscal_year_be"] == "2569")
    assert want == 19_258_414_100  # SOURCES.md §6.2, exact
    assert env.province_total_mthb == pytest.approx(want / 1e6, abs=1e-6)
    assert env.cluster_total_mthb == pytest.approx(7_266.7706, abs=1e-6)
    assert set(env.province_mthb.index) == set(load_geography().province_codes)
    assert set(env.cluster_mthb.index) == set(load_geography().clusters["cluster_id"])
    shares = budget.province_shares(2569)
    assert shares.sum() == pytest.approx(1.0)
    assert shares["TH-30"] == pytest.approx(442_450_100 / want)  # Nakhon Ratchasima, MGR Online


def test_fy2570_is_refused_unless_asked_for_and_flagged() -> None:
    with pytest.raises(UserError, match="INCOMPLETE"):
        budget.real_envelopes(2570)
    with pytest.raises(UserError, match="INCOMPLETE"):
        budget.province_shares(2570)
    env = budget.real_envelopes(2570, allow_unverified=True)
    assert not env.verified and "INCOMPLETE" in env.caveat
    assert budget.real_envelopes(2569).verified
    t = budget.load_province_budget()
    assert set(t.loc[~t["verified"], "fiscal_year_be"]) == {2570}


def test_local_governments_and_pao_tables() -> None:
    lgo = budget.load_local_governments()
    assert int(lgo["lgo_total"].sum()) == 7_841 and (lgo["pao"] == 1).all()
    assert int(lgo["sao"].sum()) == 4_990 and int(lgo["municipality_total"].sum()) == 2_774
    pao = budget.load_pao_budget()
    yala = pao[pao["iso_code"] == "TH-95"]
    assert yala["budget_thb"].isna().all()  # not found in the source: missing, not zero
    p69 = pao[(pao["unit_type"] == "PAO") & (pao["fiscal_year_be"] == 2569)]
    assert int(p69["budget_thb"].sum()) == 31_266_457_400  # SOURCES.md §6.4


def _corrupt(tmp_path: Path, name: str, edit) -> Path:
    rows = _rows(name)
    rows = edit(rows)
    return _write(tmp_path / name, rows)


def _set(rows, key, value, col, new):
    out = [dict(r) for r in rows]
    for r in out:
        if r[key] == value and r.get("fiscal_year_be", "2569") == "2569":
            r[col] = new
            break
    return out


def _bump(rows, thb):
    """Chiang Mai's FY2569 amount raised by ``thb``, everything else untouched."""
    out = [dict(r) for r in rows]
    for r in out:
        if r["iso_code"] == "TH-50" and r["fiscal_year_be"] == "2569":
            r["budget_thb"] = str(int(r["budget_thb"]) + thb)
    return out


@pytest.mark.parametrize(("name", "edit", "field", "words"), [
    (budget.PROVINCE_FILE, lambda r: _set(r, "iso_code", "TH-50", "budget_thb", "-100"),
     "budget_thb (iso_code=TH-50, FY2569)", "negative"),
    (budget.PROVINCE_FILE, lambda r: [x for x in r if x["iso_code"] != "TH-96"],
     "iso_code=TH-96", "province missing for FY2568"),
    (budget.PROVINCE_FILE, lambda r: _bump(r, 100),  # too small to move the total: link check
     "previous_year_budget_thb (iso_code=TH-50, FY2570)", "budget_thb for FY2569"),
    (budget.PROVINCE_FILE, lambda r: _set(r, "iso_code", "TH-50", "name_th", "เชียงราย"),
     "name_th (iso_code=TH-50)", "does not match"),
    (budget.PROVINCE_FILE, lambda r: _bump(r, 1_000_000),  # a changed total
     "budget_thb", "SOURCES.md §6.2 gives 19,258 M THB"),
    (budget.CLUSTER_FILE, lambda r: _set(r, "cluster_id", "east_1", "cluster_id", "east_9"),
     "cluster_id=east_9", "unknown cluster"),
    (budget.CLUSTER_FILE, lambda r: [{k: v for k, v in x.items() if k != "budget_thb"} for x in r],
     "columns", "missing budget_thb"),
    (budget.PROVINCE_FILE, lambda r: _set(r, "iso_code", "TH-50", "fiscal_year_ce", "2027"),
     "fiscal_year_ce", "must be fiscal_year_be - 543"),
    (budget.LGO_FILE, lambda r: _set(r, "iso_code", "TH-50", "sao", "3"),
     "lgo_total (iso_code=TH-50)", "is not pao + municipality_total"),
    (budget.PAO_FILE, lambda r: _set(r, "iso_code", "TH-50", "budget_thb", ""),
     "budget_thb (iso_code=TH-50, FY2569)", "blank"),
    (budget.PROVINCE_FILE, lambda r: _set(r, "iso_code", "TH-50", "previous_year_budget_thb", ""),
     "previous_year_budget_thb (iso_code=TH-50, FY2569)", "blank"),
])
def test_corrupted_copy_is_rejected_with_clear_message(tmp_path, name, edit, field, words) -> None:
    loader = {budget.PROVINCE_FILE: budget.load_province_budget,
              budget.CLUSTER_FILE: budget.load_cluster_budget,
              budget.LGO_FILE: budget.load_local_governments,
              budget.PAO_FILE: budget.load_pao_budget}[name]
    loader(_write(tmp_path / ("ok_" + name), _rows(name)))  # the unedited copy passes
    bad = _corrupt(tmp_path, name, edit)
    with pytest.raises(UserError) as err:
        loader(bad)
    msgs = [str(p) for p in err.value.problems]
    assert any(p.file == str(bad) and field in p.field and words in p.message
               for p in err.value.problems), msgs


def test_cli_prints_the_csv_numbers(capsys) -> None:
    assert main(["data", "--budget", "--year", "2569"]) == 0
    out = capsys.readouterr().out
    assert "WARNING" not in out
    raw = {r["iso_code"]: int(r["budget_thb"]) for r in _rows(budget.PROVINCE_FILE)
           if r["fiscal_year_be"] == "2569"}
    geo = load_geography().provinces.set_index("iso_code")
    printed = {}
    for m in re.finditer(r"^(TH-\d\d)\s+.+?\s+([\d,]+\.\d\d)\s+([\d,]+)\s+([\d,]+\.\d)\s+(\d+)\s+(\d+)$",
                         out, re.M):
        printed[m[1]] = m
    assert set(printed) == set(raw)
    for iso, m in printed.items():
        assert m[2] == f"{raw[iso] / 1e6:,.2f}"
        assert int(m[3].replace(",", "")) == geo.loc[iso, "population"]
        assert m[4] == f"{raw[iso] / geo.loc[iso, 'population']:,.1f}"
    ranks = sorted(printed.values(), key=lambda m: int(m[5]))
    assert [m[1] for m in ranks][:1] == ["TH-30"]  # largest FY2569 provincial budget
    rows = [ln for ln in out.splitlines() if ln.startswith("east_1")]
    assert len(rows) == 1
    c = {r["cluster_id"]: int(r["budget_thb"]) for r in _rows(budget.CLUSTER_FILE)
         if r["fiscal_year_be"] == "2569"}
    assert f"{c['east_1'] / 1e6:,.2f}" in rows[0]


def test_cli_fy2570_warns(capsys) -> None:
    assert main(["data", "--budget", "--year", "2570"]) == 0
    cap = capsys.readouterr()
    assert "looks INCOMPLETE" in cap.out and "looks INCOMPLETE" in cap.err
    assert main(["data", "--budget", "--year", "2400"]) == 2
    assert "2400 is not in the tables" in capsys.readouterr().err
