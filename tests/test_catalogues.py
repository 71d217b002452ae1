"""One catalogue each for levers, metrics and rule switches, and everything derived from them
agrees: the schema's fields, BudgetModel's keywords, the page's controls, ``allocsim levers``;
the recorder's columns, ``run_metrics``, ``compare``'s better/worse, the formatter, Thai labels;
the portfolio rule modules, the scenario's ``[rules]``, ``select --without`` and RuleParams."""

from __future__ import annotations

import argparse
import re
import typing
from dataclasses import fields

import numpy as np
import pandas as pd
import pydantic
import pytest

from allocsim import metrics as catalogue
from allocsim.cli import build_parser, main
from allocsim.experiments.batch import paired_differences
from allocsim.experiments.metrics import run_metrics
from allocsim.metrics import AGGREGATIONS, KEY_COLUMNS, METRICS, METRICS_LIST, UNITS, Metric
from allocsim.optimise import RuleParams, rule_params
from allocsim.optimise.rules import MODULES, RULES, SWITCHES
from allocsim.report.format import fmt
from allocsim.report.i18n import TH
from allocsim.scenario.levers import LEVER_KEYWORDS, LEVERS, levers_table
from allocsim.scenario.schema import GeographyConfig, LeversConfig, RulesConfig, Scenario
from allocsim.simulate.model import BudgetModel

THAI = re.compile(r"[\u0e00-\u0e7f]")
APP_EXTRA = {"years", "citizens_per_province", "seed"}


# --- levers -------------------------------------------------------------------------------------
def test_schema_fields_are_the_lever_catalogue() -> None:
    assert list(LeversConfig.model_fields) == [lv.field for lv in LEVERS if lv.section == "levers"]
    assert list(GeographyConfig.model_fields) == [lv.field for lv in LEVERS if lv.section == "geography"]
    for lv in LEVERS:
        section = type(getattr(Scenario(name="x"), lv.section))
        f = section.model_fields[lv.field]
        assert f.get_default(call_default_factory=True) == lv.default, lv.field
        assert f.description == lv.description and f.title == lv.title
    # every section the catalogue names is a real section of the scenario
    assert {lv.section for lv in LEVERS} <= set(Scenario.model_fields)


def test_model_keywords_are_the_levers_and_reach_the_scenario() -> None:
    assert tuple(lv.field for lv in LEVERS) == LEVER_KEYWORDS
    # every lever set through its keyword lands in its own section (reform values differ from the
    # defaults, tests/test_scenario.py checks that), so BudgetModel sees the reform
    m = BudgetModel(Scenario(name="kw"), seed=1, years=1, citizens_per_province=2,
                    **{lv.field: lv.reform_value for lv in LEVERS})
    for lv in LEVERS:
        assert getattr(getattr(m.scenario, lv.section), lv.field) == lv.reform_value, lv.field
    assert m.levers.gateway.all() and m.levers.allocation_rule == "need"
    assert all(c.endswith("_2009") for c in m.cluster_ids)  # the 2009 cluster map was loaded
    # keywords are validated as the schema validates a file
    with pytest.raises(pydantic.ValidationError, match="data_sharing"):
        BudgetModel(Scenario(name="kw"), data_sharing=2.0)
    with pytest.raises(pydantic.ValidationError, match="unknown province code"):
        BudgetModel(Scenario(name="kw"), high_performance_provinces=["TH-99"])


def test_app_has_one_control_per_lever_with_the_schema_default() -> None:
    from allocsim.simulate.app import MODEL_PARAMS, AppModel

    controls = {k: v for k, v in MODEL_PARAMS.items() if k not in APP_EXTRA}
    assert list(controls) == list(LEVER_KEYWORDS)  # area_based_budgeting included
    sc = Scenario(name="app")
    for lv in LEVERS:
        c = controls[lv.field]
        default = getattr(getattr(sc, lv.section), lv.field)
        if c["type"] == "Select":
            allowed = typing.get_args(type(getattr(sc, lv.section)).model_fields[lv.field].annotation)
            assert set(c["values"]) <= (set(allowed) or set(lv.choices)) and c["value"] in c["values"]
        if c["type"] == "InputText":
            assert c["value"] == ", ".join(default)
        else:
            assert c["value"] == default, lv.field
    # the page's values, as the page sends them, build a model of today's practice
    m = AppModel(**{k: v["value"] for k, v in controls.items()}, seed="7", years=1, citizens_per_province=2)
    assert m.scenario.levers == sc.levers and m.scenario.geography == sc.geography and m.seed == 7
    m = AppModel(high_performance_provinces="TH-74, TH-70", years=1, citizens_per_province=2)
    assert m.scenario.levers.high_performance_provinces == ["TH-74", "TH-70"]


def test_levers_command_lists_every_lever(capsys: pytest.CaptureFixture[str]) -> None:
    t = levers_table()
    assert tuple(t["lever"]) == LEVER_KEYWORDS
    assert list(t["field"]) == [f"{lv.section}.{lv.field}" for lv in LEVERS]
    assert main(["levers"]) == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^(\w+) — ", out, flags=re.M)
    assert tuple(listed) == LEVER_KEYWORDS


# --- metrics ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_tables() -> dict[str, pd.DataFrame]:
    m = BudgetModel(Scenario(name="metrics"), seed=4, years=2, citizens_per_province=10)
    m.run()
    return m.tables()


def test_catalogue_covers_every_column_the_recorder_produces(sim_tables) -> None:
    for name in ("sim_steps", "sim_years", "sim_ledger", "sim_national"):
        cols = set(sim_tables[name].columns) - KEY_COLUMNS
        missing = sorted(cols - set(METRICS))
        assert not missing, f"{name}: add to allocsim/metrics.py: {missing}"
    # and nothing in the catalogue is a metric no table or headline produces
    produced = set().union(*(sim_tables[n].columns for n in ("sim_steps", "sim_years", "sim_ledger", "sim_national")))
    assert set(METRICS) - produced <= {m.name for m in METRICS_LIST if m.aggregation == "pooled_ratio"}


def test_recorder_columns_are_the_catalogue_entries_of_each_table(sim_tables) -> None:
    """Each table's measured columns are exactly, and in order, the catalogue's entries that
    name it; every entry that names a table is in it."""
    keys = {"sim_steps": ["step", "fiscal_year", "day", "province"], "sim_years": ["fiscal_year", "province"],
            "sim_national": ["fiscal_year"], "sim_ledger": ["fiscal_year", "holder"]}
    for name in catalogue.TABLES:
        assert list(sim_tables[name].columns) == keys[name] + list(catalogue.recorded_in(name)), name
    assert all(set(m.tables) <= set(catalogue.TABLES) for m in METRICS_LIST)


def test_a_metric_catalogued_but_not_computed_stops_the_recorder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorder keeps no list: adding a catalogue entry for a table without computing it
    fails (naming it), and so does computing a value the catalogue does not list."""
    ghost = Metric("ghost_days", "days", "lower", "recorded", "a metric nobody computes", "ผี",
                   tables=(catalogue.N,))
    monkeypatch.setattr(catalogue, "METRICS_LIST", (*METRICS_LIST, ghost))
    m = BudgetModel(Scenario(name="ghost"), seed=1, years=1, citizens_per_province=2)
    with pytest.raises(KeyError, match="ghost_days"):
        m.run()
    with pytest.raises(KeyError, match="computed but not catalogued.*stray"):
        catalogue.catalogue_row("sim_ledger", {}, {"stray": 1.0})


def test_catalogue_entries_are_well_formed() -> None:
    assert len(METRICS) == len(METRICS_LIST)  # names unique
    for m in METRICS_LIST:
        assert m.unit in UNITS and m.aggregation in AGGREGATIONS and m.better in ("higher", "lower", "neither")
        assert m.description and THAI.search(m.label_th), m.name
        assert (m.ratio_of is not None) == (m.aggregation == "pooled_ratio"), m.name
        if m.headline:  # compare must be able to call every headline difference better or worse
            assert m.better != "neither", m.name


def test_run_metrics_reduces_each_metric_by_its_aggregation(sim_tables) -> None:
    out = run_metrics(sim_tables)
    assert list(out["national"]) == [m.name for m in METRICS_LIST if m.headline]
    assert list(out["provinces"]) == [m.name for m in METRICS_LIST if m.by_province]
    nat, years = sim_tables["sim_national"], sim_tables["sim_years"]
    assert len(nat) == 2
    # independent computations, one per aggregation kind
    assert out["national"]["disbursed_thb"] == pytest.approx((nat["disbursed_thb"][0] + nat["disbursed_thb"][1]) / 2)
    assert out["national"]["satisfaction"] == pytest.approx(nat["satisfaction"][1])
    assert out["national"]["lapse_rate"] == pytest.approx(nat["lapsed_thb"].sum() / nat["allocated_thb"].sum())
    assert out["national"]["alignment_share"] == pytest.approx(np.nanmean(years["alignment_share"]))
    w = years["allocated_thb"].to_numpy(float)
    assert out["national"]["q4_disbursement_rate"] == pytest.approx(
        sum(years["q4_disbursement_rate"].to_numpy() * w) / w.sum())
    iso = years["province"].iloc[0]
    rows = years[years["province"] == iso]
    assert out["provinces"]["lapsed_thb"][iso] == pytest.approx(rows["lapsed_thb"].mean())
    assert out["provinces"]["unmet_need"][iso] == pytest.approx(rows["unmet_need"].iloc[-1])


def _results(values: dict[str, tuple[float, float]]) -> list[dict]:
    """Baseline/reform results on 6 seeds: metric -> (baseline level, reform − baseline), with
    seed noise shared by both (common random numbers)."""
    out = []
    for s in range(6):
        noise = 0.01 * (s - 2.5)
        for label, k in (("base", 0.0), ("reform", 1.0)):
            out.append({"label": label, "seed": s, "provinces": {},
                        "national": {m: b + noise + k * d for m, (b, d) in values.items()}})
    return out


def test_compare_reads_each_metrics_direction() -> None:
    heads = [m for m in METRICS_LIST if m.headline]
    up = {m.name: (10.0, +1.0) for m in heads}
    down = {m.name: (10.0, -1.0) for m in heads}
    for values, sign in ((up, +1), (down, -1)):
        d, _ = paired_differences(_results(values), "base", 0.95)
        got = dict(zip(d["metric"], d["better"], strict=True))
        for m in heads:
            good = (sign > 0) == (m.better == "higher")
            assert got[m.name] == ("better" if good else "worse"), (m.name, sign)
    # a metric with direction 'lower' that decreases is better; that increases is worse
    assert METRICS["unmet_need"].better == "lower" and METRICS["unmet_need"].reading(-0.1) == "better"
    assert METRICS["mean_days_to_disbursement"].reading(+3.0) == "worse"
    # no direction, or a metric the catalogue does not know: a clear change is only "changed"
    d, _ = paired_differences(_results({"allocated_thb": (5.0, 1.0), "y": (1.0, 1.0)}), "base", 0.95)
    assert list(d["better"]) == ["changed", "changed"]


def test_formatter_uses_the_catalogue_unit_not_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = {"thb": "M THB", "share": "%", "days": "days"}
    for m in METRICS_LIST:
        text = fmt(m.name, 0.5)
        if m.unit in shown:
            assert shown[m.unit] in text, m.name
        else:
            assert text == "0.5", m.name
    # names that guessing would get wrong: a share without _share/_rate, a count ending in _days
    assert fmt("plan_achievement", 0.25) == "25.0 %"
    monkeypatch.setitem(catalogue.METRICS, "odd_days", Metric("odd_days", "share", "higher", "recorded", "d", "ก"))
    monkeypatch.setitem(catalogue.METRICS, "pay_thb", Metric("pay_thb", "count", "higher", "recorded", "d", "ก"))
    assert fmt("odd_days", 0.5) == "50.0 %" and fmt("pay_thb", 2e6) == "2,000,000"
    assert fmt("not_a_metric_thb", 2e6) == "2,000,000"  # unknown columns are plain numbers
    assert fmt("thb", 2e6) == "2.0 M THB"               # a unit name stands for itself


def test_thai_labels_come_from_the_catalogue() -> None:
    for m in METRICS_LIST:
        assert TH[m.name] == m.label_th


# --- rule switches ------------------------------------------------------------------------------
def test_rule_switches_agree_everywhere() -> None:
    assert list(RULES) == list(MODULES)
    assert SWITCHES == ("capacity", "duplicates", "follow_on", "matching", "alignment",
                        "cluster_partners", "committed")
    assert [n for n, f in RulesConfig.model_fields.items() if f.annotation is bool] == list(SWITCHES)
    assert set(SWITCHES) <= {f.name for f in fields(RuleParams)}
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    without = next(a for a in sub.choices["select"]._actions if "--without" in a.option_strings)
    assert tuple(without.choices) == SWITCHES and "eligibility" not in without.choices
    assert RuleParams().switched_on() == list(SWITCHES)


@pytest.mark.parametrize("name", SWITCHES)
def test_a_scenario_switch_turns_off_exactly_its_rule(name: str) -> None:
    sc = Scenario(name="r").updated({f"rules.{name}": False, "levers.allocation_rule": "optimal"})
    params = rule_params(sc, None, None)  # type: ignore[arg-type]  # no quota: data unused
    assert params.switched_on() == [n for n in SWITCHES if n != name]
