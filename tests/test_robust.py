"""Robust decisions: uncertainty ranges, futures with common random numbers, robustness tables,
PRIM scenario discovery, reform packages. Most tests use a toy evaluator (a formula of the
scenario, known answer) so they are fast and have an independent oracle; one runs the real
simulation end to end through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocsim.errors import UserError
from allocsim.experiments.store import Task
from allocsim.robust.futures import robust, sample_futures
from allocsim.robust.packages import OBJECTIVES, pareto_mask, search_packages
from allocsim.robust.prim import prim
from allocsim.robust.report import write_tables
from allocsim.scenario import load_scenario
from tests.conftest import SCENARIOS, write

# A standalone scenario (no extends: the shipped ranges would be inherited) with three uncertain
# parameters; the toy evaluator below reads them.
TOY = """name = "toy"
seed = 7
[levers]
single_gateway = false
[simulation]
years = 1
citizens_per_province = 10
[uncertainty]
replicates = 2
citizens_per_province = 10
headline_metrics = ["duplicate_money_thb"]
[uncertainty.parameters]
"simulation.procurement_days" = { low = 20.0, high = 45.0, reason = "toy" }
"simulation.late_effect" = { low = 0.2, high = 0.8, reason = "toy" }
"levers.data_sharing" = { low = 0.1, high = 0.5, reason = "toy" }
"""
TOY_REFORM = """extends = "toy.toml"
name = "toy_gateway"
[levers]
single_gateway = true
"""
#: The planted failure: the toy gateway lowers duplicate money only while procurement_days < 32.
THRESHOLD = 32.0


def toy_evaluate(task: Task) -> dict:
    """Duplicate money = 100 − gateway effect (32 − procurement days) × 5 + seed noise (the same
    for baseline and reform on the same seed: common random numbers); benefit rises with
    late_effect; delay is data-sharing noise."""
    sc = task.scenario
    pdays = sc["simulation"]["procurement_days"]
    noise = np.random.default_rng(task.seed).normal(0, 3)
    gate = sc["levers"]["single_gateway"]
    dup = 100.0 + noise - (5.0 * (THRESHOLD - pdays) if gate else 0.0)
    nat = {"duplicate_money_thb": dup, "effective_benefit_thb": 50 * sc["simulation"]["late_effect"] + noise,
           "mean_days_to_disbursement": 200 + noise + (2 if gate else 0) * sc["levers"]["data_sharing"]}
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
            "params": task.params, "national": nat, "provinces": {}}


@pytest.fixture
def toy(tmp_path: Path) -> tuple:
    d = tmp_path / "toy"
    d.mkdir()
    base = load_scenario(write(d / "toy.toml", TOY))
    reform = load_scenario(write(d / "toy_gateway.toml", TOY_REFORM))
    return base, reform


# --- uncertainty ranges ---------------------------------------------------------------------------
def test_shipped_ranges_cover_illustrative_fields_and_are_inherited() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    reform = load_scenario(SCENARIOS / "reform_single_gateway.toml")
    unc = base.uncertainty.parameters
    assert len(unc) >= 50
    assert reform.uncertainty == base.uncertainty  # inherited, not restated
    # every range contains the baseline's own value: today's assumption is one plausible future
    from allocsim.robust.futures import get_field

    outside = [k for k, r in unc.items() if not r.low <= float(get_field(base, k)) <= r.high]
    assert not outside, outside
    # the REAL FY2569 envelopes stay fixed
    assert "allocation.cluster_envelope_mthb" not in unc
    assert "allocation.envelope_mthb.province_budget" not in unc


#: A section docstring that declares every number in it illustrative (how schema.py marks whole
#: sections: CatalogueParams, AllocationConfig, SimulationConfig).
_ALL_ILLUSTRATIVE = re.compile(r"all defaults (are )?illustrative|every other number is illustrative", re.I)
#: Sections that describe the modelled world: every number in them is an assumption unless ranged,
#: fixed (FIXED_FIELDS) or excluded with a reason (NOT_SAMPLED), marked illustrative or not.
_WORLD = ("catalogue", "allocation", "rules", "levers", "simulation")


def _illustrative_fields(sc: object) -> list[str]:
    """Every numeric field the schema marks illustrative (its description says so, or its section's
    docstring declares all its numbers illustrative) in any section, plus every numeric field of the
    world sections; a dict of numbers counts per key, a pair of numbers as the field."""
    from pydantic import BaseModel

    def numeric(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    out = []
    for sec in type(sc).model_fields:
        model = getattr(sc, sec)
        if not isinstance(model, BaseModel) or sec in ("uncertainty", "packages"):  # the method itself
            continue
        whole = bool(_ALL_ILLUSTRATIVE.search(type(model).__doc__ or ""))
        for name, f in type(model).model_fields.items():
            v = getattr(model, name)
            marked = whole or "illustrative" in (f.description or "").lower() or sec in _WORLD
            if not marked:
                continue
            key = f"{sec}.{name}"
            if numeric(v) or (isinstance(v, tuple | list) and v and all(map(numeric, v))):
                out.append(key)
            elif isinstance(v, dict) and v and all(map(numeric, v.values())):
                out += [f"{key}.{k}" for k in v]
    return out


def test_every_illustrative_number_has_a_range_or_is_fixed_on_purpose() -> None:
    """The illustrative fields are derived from the schema (not listed here), so a new
    illustrative parameter without a range fails this test until it gets one, or a reasoned
    entry in FIXED_FIELDS (real figures, regulation) or NOT_SAMPLED (pairs, policy targets)."""
    from allocsim.scenario.uncertainty import FIXED_FIELDS, NOT_SAMPLED

    base = load_scenario(SCENARIOS / "baseline.toml")
    unc = base.uncertainty.parameters
    fields = _illustrative_fields(base)
    # the derivation sees what the review found missing: dict entries, unmarked catalogue integers
    # (the class docstring marks them) and rules.min_cluster_partners
    assert {"catalogue.max_duplicate_copies", "catalogue.max_years", "catalogue.channel_weights.private",
            "rules.min_cluster_partners", "simulation.lg_capacity_sigma.sao",
            "allocation.envelope_mthb.local_grant", "objective.need_target"} <= set(fields)
    missing = [k for k in fields if k not in unc and k not in FIXED_FIELDS and k not in NOT_SAMPLED]
    assert not missing, f"illustrative parameters without an [uncertainty] range: {missing}"
    assert all(len(why) > 20 for why in NOT_SAMPLED.values())
    assert not set(NOT_SAMPLED) & set(unc)
    # a new illustrative field (here: a marked copy of a section) would be caught
    from pydantic import Field, create_model

    from allocsim.scenario.schema import RulesConfig

    Extra = create_model("Extra", __base__=RulesConfig, new_knob=(float, Field(0.4, description="illustrative")))

    class Probe:
        model_fields = {"rules": None}
        rules = Extra()

    assert "rules.new_knob" in _illustrative_fields(Probe())


@pytest.mark.parametrize("entry, words", [
    ('"simulation.procurement_days" = { low = -5.0, high = 45.0, reason = "bad" }',
     ["uncertainty.parameters.simulation.procurement_days", "greater than 0"]),
    ('"simulation.late_effect" = { low = 0.7, high = 0.3, reason = "bad" }',
     ["uncertainty.parameters.simulation.late_effect", "must be below high"]),
    ('"allocation.cluster_envelope_mthb" = { low = 5000.0, high = 8000.0, reason = "bad" }',
     ["allocation.cluster_envelope_mthb", "REAL FY2569"]),
    ('"simulation.no_such_thing" = { low = 1.0, high = 2.0, reason = "bad" }',
     ["simulation.no_such_thing", "no such scenario field", "procurement_days"]),
    ('"levers.single_gateway" = { low = 0.0, high = 1.0, reason = "bad" }',
     ["levers.single_gateway", "not a numeric field"]),
    ('"objective.equity_weight" = { low = 0.1, high = 0.3 }',  # a new range needs its reason
     ["uncertainty.parameters.objective.equity_weight.reason", "required"]),
])
def test_bad_range_is_a_clear_error_naming_the_field(scenario_dir: Path, entry: str, words: list[str]) -> None:
    f = write(scenario_dir / "bad.toml", f'extends = "baseline.toml"\nname = "bad"\n[uncertainty.parameters]\n{entry}\n')
    with pytest.raises(UserError) as err:
        load_scenario(f)
    text = str(err.value)
    assert "bad.toml" in text
    for w in words:
        assert w in text, (w, text)


@pytest.mark.parametrize("entry, pattern", [
    ('"levers.data_sharing" = { levels = [1.5], effort = 1.0 }', r"packages.levers.levers.data_sharing: value 1.5"),
    ('"levers.data_sharing" = { levels = [0.9], range = [0.3, 1.5], effort = 1.0 }',
     r"packages.levers.levers.data_sharing: value 1.5"),
    ('"levers.data_sharing" = { levels = [0.9], range = [0.9, 0.3], effort = 1.0 }', r"low \(0.9\) must be below"),
    ('"levers.data_sharing" = { levels = [0.9], range = [0.3, 0.4], step = 0.5, effort = 1.0 }',
     r"step \(0.5\) is larger than the range"),
    ('"levers.single_gateway" = { levels = [true], range = [0.0, 1.0], effort = 1.0 }',
     r"levers.single_gateway: not a numeric field"),
])
def test_bad_package_lever_is_a_clear_error(scenario_dir: Path, entry: str, pattern: str) -> None:
    f = write(scenario_dir / "bad.toml", f'extends = "baseline.toml"\nname = "bad"\n[packages.levers]\n{entry}\n')
    with pytest.raises(UserError, match=pattern):
        load_scenario(f)


# --- futures ----------------------------------------------------------------------------------------
def test_futures_are_a_latin_hypercube_and_integers_are_uniform() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    d = sample_futures(base, 40)
    assert list(d["future"]) == list(range(40))
    # Latin hypercube: each of the 40 equal strata of a continuous range holds exactly one future
    r = base.uncertainty.parameters["simulation.procurement_days"]
    strata = np.floor((d["simulation.procurement_days"] - r.low) / (r.high - r.low) * 40).astype(int)
    assert sorted(strata) == list(range(40))
    staff = d["simulation.province_staff"]  # integer range 1..3, each value about a third
    assert set(staff) == {1, 2, 3} and staff.value_counts().min() >= 12
    assert sample_futures(base, 40).equals(d)  # seeded from the scenario seed


def test_reform_keeps_the_lever_it_sets_and_runs_on_common_seeds(tmp_path: Path) -> None:
    from allocsim.robust.futures import robust_tasks

    base = load_scenario(SCENARIOS / "baseline.toml")
    reform = load_scenario(SCENARIOS / "reform_data_sharing.toml")
    design = sample_futures(base, 3)
    tasks = robust_tasks(base, [reform], design, 2)
    b = [t for t in tasks if t.label == base.name]
    r = [t for t in tasks if t.label == reform.name]
    assert [t.seed for t in b] == [t.seed for t in r]  # common random numbers
    assert len({t.seed for t in b}) == 6  # distinct seeds across futures and replicates
    for tb, tr, (_, row) in zip(b[::2], r[::2], design.iterrows(), strict=True):
        assert tb.scenario["levers"]["data_sharing"] == pytest.approx(row["levers.data_sharing"])
        assert tr.scenario["levers"]["data_sharing"] == reform.levers.data_sharing  # the reform's own value
        assert tr.scenario["simulation"]["procurement_days"] == pytest.approx(row["simulation.procurement_days"])
        assert tb.scenario["simulation"]["citizens_per_province"] == base.uncertainty.citizens_per_province


# --- robustness table = recomputation from futures.csv ---------------------------------------------------
def test_robustness_csv_equals_recomputation_from_futures_csv(toy: tuple, tmp_path: Path) -> None:
    base, reform = toy
    out = tmp_path / "out"
    res = robust(base, [reform], 60, workers=1, folder=out, progress=False, evaluate=toy_evaluate)
    write_tables(res, out)
    fut = pd.read_csv(out / "futures.csv")
    rob = pd.read_csv(out / "robustness.csv")
    assert len(fut) == 2 * 60
    lower = {"duplicate_money_thb", "mean_days_to_disbursement"}
    for m in OBJECTIVES:
        b = fut[fut.scenario == "toy"].set_index("future")[m]
        r = fut[fut.scenario == "toy_gateway"].set_index("future")[m]
        d = (r - b).to_numpy()
        s = -1 if m in lower else 1
        row = rob[(rob.scenario == "toy_gateway") & (rob.metric == m)].iloc[0]
        assert row.share_better == pytest.approx(np.mean(s * d > 0))
        assert row.median_difference == pytest.approx(np.median(d))
        assert row.p10_difference == pytest.approx(np.percentile(d, 10))
        assert row.p90_difference == pytest.approx(np.percentile(d, 90))
        assert row.worst_difference == pytest.approx((s * d).min() * s)
        best = np.maximum(s * b.to_numpy(), s * r.to_numpy())
        assert row.max_regret == pytest.approx((best - s * r.to_numpy()).max())
        brow = rob[(rob.scenario == "toy") & (rob.metric == m)].iloc[0]
        assert brow.mean_regret == pytest.approx((best - s * b.to_numpy()).mean())
    # the toy's planted truth: the gateway helps exactly where procurement_days < 32
    pd_days = fut[fut.scenario == "toy"].set_index("future")["simulation.procurement_days"]
    share = rob[(rob.scenario == "toy_gateway") & (rob.metric == "duplicate_money_thb")].share_better.iloc[0]
    assert share == pytest.approx(np.mean(pd_days < THRESHOLD))


# --- PRIM -----------------------------------------------------------------------------------------------
def test_prim_recovers_a_planted_box_within_tolerance() -> None:
    """Failures exactly where x0 > 0.6 and x1 < 0.3; three parameters are irrelevant. PRIM must
    find both thresholds within 0.05 (a peel step is 5 % of the box) and restrict nothing else."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.random((400, 5)), columns=[f"x{i}" for i in range(5)])
    y = ((X.x0 > 0.6) & (X.x1 < 0.3)).to_numpy()
    box = prim(X, y).box
    assert set(box.limits) == {"x0", "x1"}
    assert abs(box.limits["x0"][0] - 0.6) <= 0.05 and box.limits["x0"][1] == X.x0.max()
    assert abs(box.limits["x1"][1] - 0.3) <= 0.05 and box.limits["x1"][0] == X.x1.min()
    assert box.coverage >= 0.9 and box.density >= 0.9


def test_prim_chart_marks_the_box_reported_not_the_peeling_step() -> None:
    """The trajectory's marked point is the pasted and pruned box the tables report: its coverage,
    density, mass and restricted-parameter count equal the box's, and the chart circles exactly that
    point. In this case pasting/pruning moves the box off the peeling step it started from, so
    marking the peeling step (the old bug) would fail here."""
    from allocsim.robust.report import chart_trajectory

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.random((400, 5)), columns=[f"x{i}" for i in range(5)])
    y = ((X.x0 > 0.6) & (X.x1 < 0.3)).to_numpy() ^ (rng.random(400) < 0.05)
    res = prim(X, y)
    box, traj = res.box, res.trajectory
    marked = traj[traj["chosen"].astype(bool)]
    assert len(marked) == 1 and marked["kind"].iloc[0] == "reported"
    m = marked.iloc[0]
    inside = np.ones(len(X), bool)  # an independent recount of the reported box
    for p, (lo, hi) in box.limits.items():
        inside &= (X[p] >= lo).to_numpy() & (X[p] <= hi).to_numpy()
    assert m.coverage == pytest.approx(y[inside].sum() / y.sum()) == pytest.approx(box.coverage)
    assert m.density == pytest.approx(y[inside].mean()) == pytest.approx(box.density)
    assert m.mass == pytest.approx(box.mass) and m.n_restricted == len(box.limits)
    start = traj[traj["kind"] == "peel start"].iloc[0]
    assert (start.coverage, start.density) != pytest.approx((box.coverage, box.density))
    fig = chart_trajectory(traj, "test")
    (circle,) = [c for c in fig.axes[0].collections if c.get_gid() == "reported-box"]
    assert np.asarray(circle.get_offsets()).ravel().tolist() == pytest.approx([box.coverage, box.density])
    assert "reported box" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_prim_with_label_noise_still_finds_the_threshold() -> None:
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.random((500, 4)), columns=list("abcd"))
    y = (X.b > 0.7).to_numpy() ^ (rng.random(500) < 0.05)  # 5 % of outcomes flipped
    box = prim(X, y).box
    assert set(box.limits) == {"b"}
    assert abs(box.limits["b"][0] - 0.7) <= 0.05


def test_prim_reports_no_box_when_the_reform_never_fails() -> None:
    X = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    res = prim(X, np.zeros(20, bool))
    assert res.box is None and res.note == "never fails"


def test_robust_finds_the_planted_failure_region_of_a_reform(toy: tuple) -> None:
    """End to end through robust(): the toy gateway fails to reduce duplicate money when
    procurement_days >= 32; the PRIM box must say so within 1.5 days (6 % of the range)."""
    base, reform = toy
    res = robust(base, [reform], 200, workers=1, progress=False, evaluate=toy_evaluate)
    rows = res.boxes[(res.boxes.scenario == "toy_gateway") & (res.boxes.metric == "duplicate_money_thb")]
    assert list(rows.parameter) == ["simulation.procurement_days"]
    assert abs(rows.low.iloc[0] - THRESHOLD) <= 1.5
    assert rows.coverage.iloc[0] >= 0.9 and rows.density.iloc[0] >= 0.9
    # the trajectory's marked point is the box in the table (the written CSVs agree)
    tr = res.trajectories
    mk = tr[(tr.scenario == "toy_gateway") & (tr.metric == "duplicate_money_thb") & tr.chosen.astype(bool)]
    assert len(mk) == 1 and mk.kind.iloc[0] == "reported"
    assert (mk.coverage.iloc[0], mk.density.iloc[0]) == pytest.approx((rows.coverage.iloc[0], rows.density.iloc[0]))
    # feature scoring ranks the planted driver first, with a positive sign (more days, more money)
    sc = res.scores[(res.scores.metric == "duplicate_money_thb")].iloc[0]
    assert sc.parameter == "simulation.procurement_days" and sc.spearman_rho > 0.9
    from allocsim.robust.report import plain_paragraph

    text = plain_paragraph(res)
    assert "Across 200 plausible futures" in text and "simulation.procurement_days >= " in text


# --- feature scores: multiple testing ------------------------------------------------------------------
def test_holm_adjustment_equals_a_hand_computation() -> None:
    """p = (0.01, 0.04, 0.03, 0.005, NaN): four tests (NaN is not one). Sorted 0.005, 0.01, 0.03,
    0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; the running maximum makes the last 0.06."""
    from allocsim.robust.futures import holm

    got = holm(np.array([0.01, 0.04, 0.03, 0.005, np.nan]))
    assert got[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and np.isnan(got[4])
    assert holm(np.array([0.5, 0.6])) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm(np.array([0.02])) == pytest.approx([0.02])           # one test: unchanged


def test_feature_scores_holm_column_covers_every_test_of_the_run(toy: tuple) -> None:
    """p_holm is Holm over the whole family (parameters × reforms × metrics), recomputed here by
    hand from the raw p-values; with 3 parameters × 1 reform × 1 metric each raw p is multiplied
    by up to 3, and a correlation significant alone can stop being so."""
    base, reform = toy
    res = robust(base, [reform], 40, workers=1, progress=False, evaluate=toy_evaluate)
    s = res.scores
    p = s["p_value"].to_numpy(float)
    m = int(np.isfinite(p).sum())
    assert m == 3
    order = np.argsort(p)
    want = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):  # the textbook loop, not the vectorised version
        running = max(running, min(1.0, (m - i) * p[j]))
        want[j] = running
    assert s["p_holm"].to_numpy(float) == pytest.approx(want)
    assert (s["p_holm"] >= s["p_value"]).all()


# --- resume -------------------------------------------------------------------------------------------
class Interrupt:
    """Evaluate ``limit`` runs, then raise KeyboardInterrupt (Ctrl-C); count every call."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit, self.calls = limit, []

    def __call__(self, task: Task) -> dict:
        if self.limit is not None and len(self.calls) >= self.limit:
            raise KeyboardInterrupt
        self.calls.append(task.filename)
        return toy_evaluate(task)


def test_resume_after_interrupt_does_not_repeat_finished_runs(toy: tuple, tmp_path: Path) -> None:
    base, reform = toy
    out = tmp_path / "out"
    first = Interrupt(limit=13)
    with pytest.raises(KeyboardInterrupt):
        robust(base, [reform], 10, workers=1, folder=out, progress=False, evaluate=first)
    assert len(list((out / "runs").glob("*.json"))) == 13
    second = Interrupt()
    res = robust(base, [reform], 10, workers=1, folder=out, progress=False, evaluate=second)
    assert len(second.calls) == 2 * 10 * 2 - 13
    assert not set(first.calls) & set(second.calls)
    fresh = robust(base, [reform], 10, workers=1, progress=False, evaluate=toy_evaluate)
    pd.testing.assert_frame_equal(res.robustness, fresh.robustness)
    pd.testing.assert_frame_equal(res.futures, fresh.futures)


# --- packages -------------------------------------------------------------------------------------------
def test_pareto_mask_equals_brute_force() -> None:
    rng = np.random.default_rng(1)
    v = rng.integers(0, 4, size=(60, 3)).astype(float)  # many ties
    mask = pareto_mask(v)
    for i in range(len(v)):
        dominated = any(np.all(v[j] >= v[i]) and np.any(v[j] > v[i]) for j in range(len(v)) if j != i)
        assert mask[i] == (not dominated)


def test_package_front_on_shipped_levers_has_no_dominated_package(tmp_path: Path) -> None:
    """All 512 combinations of the shipped [packages.levers] levels (exhaustive search; toy outcomes
    so the test is fast): no front package is dominated by any package, every other package is
    dominated by one."""
    base = load_scenario(SCENARIOS / "baseline.toml")
    res = search_packages(base, replicates=2, futures=0, workers=1, progress=False, evaluate=_toy_package,
                          search="exhaustive")
    t = res.packages
    assert len(t) == 2 ** 7 * 2 * 2
    goals = np.column_stack([-t["duplicate_money_thb"], -t["mean_days_to_disbursement"],
                             t["effective_benefit_thb"], -t["effort"]]).astype(float)
    # dominance matrix by broadcasting (a different computation from pareto_mask's loop):
    # dom[j, i] = package j is at least as good as i everywhere and better somewhere
    dom = np.all(goals[:, None, :] >= goals[None, :, :], axis=2) & np.any(goals[:, None, :] > goals[None, :, :], axis=2)
    on = t["on_front"].to_numpy()
    assert on.sum() >= 2
    assert not dom[:, on].any()          # no front package is dominated by any package
    assert dom[:, ~on].any(axis=0).all()  # every other package is dominated by some package
    # effort is the sum of the shipped scores of the levers moved (data sharing: per unit)
    row = t[(t.single_gateway == True) & (t.levers == "single_gateway, data_sharing=0.9")].iloc[0]  # noqa: E712
    assert row.effort == pytest.approx(3.0 + 5.0 * (0.9 - 0.3))


def test_package_holds_its_lever_levels_in_the_futures_even_at_todays_value() -> None:
    """A front package that keeps data sharing at today's 0.3 (gateway on) chose 0.3: in every
    future it must run at 0.3, while the baseline's data sharing is sampled (0.15–0.45); before the
    fix the future overwrote a lever equal to the baseline's value."""
    seen: list[tuple[str, dict, float]] = []

    def record(task: Task) -> dict:
        seen.append((task.label, dict(task.params), task.scenario["levers"]["data_sharing"]))
        return _toy_package(task)

    base = _discrete(load_scenario(SCENARIOS / "baseline.toml"))
    assert base.levers.data_sharing == 0.3 and "levers.data_sharing" in base.uncertainty.parameters
    res = search_packages(base, levers=["single_gateway", "data_sharing"], replicates=2, futures=6, workers=1,
                          progress=False, evaluate=record, search="exhaustive")
    gw = res.front[res.front["levers"] == "single_gateway"]
    assert len(gw) == 1, res.front[["levers", "effort"]]
    name = gw["package"].iloc[0]
    held = [v for label, params, v in seen if label == name and "future" in params and not params.get("noise")]
    assert len(held) == 6 and set(held) == {0.3}         # one seed per future (uncertainty.replicates)
    # the extra seed-noise runs (noise_futures, noise_replicates) hold the lever too
    assert {v for label, params, v in seen if label == name and params.get("noise")} == {0.3}
    sampled = [v for label, params, v in seen if label == base.name and "future" in params]
    assert len(set(sampled)) == 6                       # the baseline's lever does vary across futures
    assert "levers.data_sharing" in res.robust.held[name]


#: Seed noise that does NOT cancel between packages: the staggered-calendar-only package gets
#: these deviations on every objective (in its favour on average: mean +0.5, sd 5.8 over 4 seeds).
NOISE = (5.0, -4.0, 6.0, -5.0)


def _noise_only(task: Task) -> dict:
    """Two levers with the same effort (2.0): either one, alone, raises benefit by 10 and lowers
    duplicates and delay by 10 (the same true effect); the staggered-calendar-only package
    also carries NOISE (so its means beat the delegated-changes-only package's on all three, by
    noise alone); both levers together are truly worse than either alone by 8 on every objective
    (with a little noise) at twice the effort."""
    lv, r = task.scenario["levers"], task.params["replicate"]
    stag, dele = lv["staggered_calendar"], lv["delegated_changes"]
    gain = 10.0 if (stag or dele) else 0.0
    if stag and not dele:
        gain += NOISE[r]
    if stag and dele:
        gain -= 8.0 + (0.5, -0.5, 0.5, -0.5)[r]
    nat = {"effective_benefit_thb": 100 + gain, "duplicate_money_thb": 50 - gain,
           "mean_days_to_disbursement": 200 - gain}
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
            "params": task.params, "national": nat, "provinces": {}}


def test_noise_aware_front_keeps_noise_twins_and_drops_the_truly_dominated() -> None:
    """Packages that differ only by seed noise: neither may dominate the other (plain dominance on
    the means would drop the delegated-changes package, whose means lose to its twin's on all three
    objectives by noise). A package truly worse everywhere at more effort must be dropped despite
    its noise. Stability: today's rules and the twins' relation are checked against the exact
    bootstrap probabilities (all 4^4 resamples of the 4 seeds enumerated)."""
    import itertools

    base = _discrete(load_scenario(SCENARIOS / "baseline.toml"))
    res = search_packages(base, levers=["staggered_calendar", "delegated_changes"], replicates=4, futures=0,
                          workers=1, progress=False, evaluate=_noise_only, search="exhaustive")
    t = res.packages.set_index("levers")
    assert res.replicates == 4 and set(t["seeds"]) == {4}
    stag, dele, both = "staggered_calendar", "delegated_changes", "staggered_calendar, delegated_changes"
    assert t.loc[stag, "effort"] == t.loc[dele, "effort"] == 2.0
    # plain dominance on the means would drop the twin ...
    assert not t.loc[dele, "on_mean_front"] and t.loc[stag, "on_mean_front"]
    # ... the noise-aware front keeps both twins, and today's rules (cheapest)
    assert t.loc[stag, "on_front"] and t.loc[dele, "on_front"] and t.loc["today's rules", "on_front"]
    # the truly dominated package is dropped (by either twin: paired difference 8 ± 0.5)
    assert not t.loc[both, "on_front"]
    # stability = share of bootstrap resamples in which the package is undominated on the means;
    # exact oracle: the twins' means tie-break on the resampled mean of NOISE
    means = [np.mean([NOISE[i] for i in idx]) for idx in itertools.product(range(4), repeat=4)]
    p_stag = np.mean([m >= 0 for m in means])  # stag undominated unless its noise mean is < 0
    p_dele = np.mean([m <= 0 for m in means])
    assert t.loc["today's rules", "stability"] == 1.0 and t.loc[both, "stability"] == 0.0
    n = base.packages.bootstrap
    tol = 4 * np.sqrt(0.25 / n)  # four binomial standard errors
    assert abs(t.loc[stag, "stability"] - p_stag) <= tol and abs(t.loc[dele, "stability"] - p_dele) <= tol
    assert 0 < t.loc[dele, "stability"] < 1
    # the front table says how many seeds and how stable
    assert {"seeds", "stability", "on_mean_front"} <= set(res.front.columns)


def test_noisy_dominance_against_a_hand_computed_t_bound() -> None:
    """Two packages, three seeds, one noisy objective plus effort: differences (2, 3, 4) have mean 3,
    sd 1, so the one-sided 95 % bound is 3 − 2.919987 · 1/√3 = 1.314 > 0 (dominates at equal
    effort); differences (−1, 3, 7) (mean 3, sd 4) give 3 − 6.744 < 0 (does not)."""
    from allocsim.robust.packages import noisy_dominance

    def G(diffs: tuple) -> np.ndarray:
        a = np.array([[[10 + d, -1.0] for d in diffs], [[10.0, -1.0]] * 3])
        return a

    assert noisy_dominance(G((2, 3, 4)), 0.95).tolist() == [[False, True], [False, False]]
    assert not noisy_dominance(G((-1, 3, 7)), 0.95).any()
    assert not noisy_dominance(G((2, 3, 4)), 0.95)[1, 0]
    # at 99.9 % (t = 22.327) the first is no longer shown either
    assert not noisy_dominance(G((2, 3, 4)), 0.999).any()
    # equal on the noisy objective (zero differences), cheaper: dominates exactly
    cheap = np.array([[[10.0, -1.0]] * 3, [[10.0, -2.0]] * 3])
    assert noisy_dominance(cheap, 0.95).tolist() == [[False, True], [False, False]]
    # a third package with a missing value (the stand-in) neither hides the first difference nor wins
    from allocsim.robust.packages import MISSING

    three = np.concatenate([G((2, 3, 4)), np.array([[[-MISSING, -1.0]] * 3])])
    assert noisy_dominance(three, 0.95).tolist() == [[False, True, True], [False, False, True],
                                                     [False, False, False]]
    # one seed: a noisy difference cannot be shown, only an exact tie counts
    assert not noisy_dominance(G((2, 3, 4))[:, :1], 0.95).any()


def _toy_package(task: Task) -> dict:
    lv = task.scenario["levers"]
    noise = np.random.default_rng(task.seed).normal(0, 1)
    nat = {"effective_benefit_thb": 10 * lv["participation"] + 3 * lv["area_based_budgeting"] + noise,
           "duplicate_money_thb": 50 - 20 * lv["single_gateway"] * lv["data_sharing"] - 5 * lv["staggered_calendar"] + noise,
           "mean_days_to_disbursement": 200 - 8 * lv["delegated_changes"] - 3 * lv["personnel_delegation"] + noise}
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
            "params": task.params, "national": nat, "provinces": {}}


# --- the real simulation, end to end ---------------------------------------------------------------------
REAL = """name = "tiny"
seed = 11
[catalogue]
projects_per_province = 4
projects_per_cluster = 1
[simulation]
years = 1
[uncertainty]
replicates = 1
citizens_per_province = 10
[uncertainty.parameters]
"simulation.procurement_days" = { low = 20.0, high = 45.0, reason = "test" }
"levers.data_sharing" = { low = 0.1, high = 0.5, reason = "test" }
[packages]
replicates = 1
futures = 2
[packages.levers]
"levers.single_gateway" = { levels = [true], effort = 3.0, reason = "test" }
"levers.delegated_changes" = { levels = [true], effort = 2.0, reason = "test" }
"""


def test_cli_robust_and_packages_on_the_real_simulation(tmp_path: Path) -> None:
    from allocsim.cli import main

    d = tmp_path / "sc"
    d.mkdir()
    write(d / "tiny.toml", REAL)
    write(d / "tiny_gateway.toml", 'extends = "tiny.toml"\nname = "tiny_gateway"\n[levers]\nsingle_gateway = true\n')
    pk = tmp_path / "pk"
    # NSGA-II on the real simulation (the 4-package space is exhausted within the budget)
    assert main(["packages", str(d / "tiny.toml"), "--workers", "1", "--out", str(pk), "--quiet",
                 "--search", "nsga2", "--evaluations", "4", "--population", "4"]) == 0
    t = pd.read_csv(pk / "packages.csv")
    assert len(t) == 4 and (pk / "package_front.csv").is_file() and (pk / "charts" / "package_front.png").is_file()
    man = json.loads((pk / "manifest.json").read_text())
    assert man["search"] == "nsga2" and man["evaluations"] == 4 and man["platypus_opt"] >= "1.4"
    assert "NSGA-II" in (pk / "report.html").read_text()
    out = tmp_path / "rob"
    assert main(["robust", str(d / "tiny.toml"), str(d / "tiny_gateway.toml"), "--futures", "3",
                 "--workers", "1", "--out", str(out), "--quiet", "--packages", str(pk)]) == 0
    for f in ("robustness.csv", "futures.csv", "prim_boxes.csv", "feature_scores.csv", "report.html"):
        assert (out / f).is_file(), f
    assert json.loads((out / "manifest.json").read_text())["futures"] == 3
    page = (out / "report.html").read_text()
    assert "Across 3 plausible futures" in page and 'id="package-front-table"' in page and "NSGA-II" in page
    # the replicate count and the noise-aware test are stated where the front is shown
    assert "same 1 seed (common random numbers)" in page and "paired (same-seed) t-test at 95%" in page
    assert "paired (same-seed) t-test at 95%" in (pk / "report.html").read_text()
    assert man["dominance_confidence"] == 0.95 and set(t["seeds"]) == {1}


# --- NSGA-II package search ---------------------------------------------------------------------------
def _grid_toy() -> tuple[list, object, set]:
    """Two objectives with a known Pareto set: f1 = x + pen, f2 = (1 − x)² + pen, pen = y + 0.2 c +
    0.2 s ≥ 0. Any pen > 0 is dominated by the same x with pen = 0, and along pen = 0 the two
    objectives trade off strictly, so the Pareto set is exactly {y = 0, s off, c = 0} × 21 x."""
    from allocsim.robust.nsga import Decision

    dec = [Decision("x", low=0.0, high=1.0, step=0.05), Decision("y", low=0.0, high=1.0, step=0.1),
           Decision("s", values=(False, True)), Decision("c", values=(0, 1, 2))]

    def f(c: tuple) -> tuple[float, float]:
        x, y, s, k = c
        pen = y + 0.2 * k + 0.2 * s
        return (x + pen, (1 - x) ** 2 + pen)

    true = {(round(0.05 * i, 10), 0.0, False, 0) for i in range(21)}
    return dec, f, true


def test_nsga2_recovers_a_known_front_and_never_evaluates_a_candidate_twice() -> None:
    from allocsim.robust.nsga import nsga2

    dec, f, true = _grid_toy()
    # brute force over the whole grid (21 × 11 × 2 × 3 = 1,386 points) agrees with the analysis
    grid = [(round(0.05 * i, 10), round(0.1 * j, 10), s, k) for i in range(21) for j in range(11)
            for s in (False, True) for k in (0, 1, 2)]
    brute = {c for c, m in zip(grid, pareto_mask(-np.array([f(c) for c in grid])), strict=True) if m}
    assert brute == true
    seen: list[tuple] = []

    def objectives(cands: list[tuple]) -> list[tuple[float, float]]:
        seen.extend(cands)
        return [f(c) for c in cands]

    log = nsga2(dec, objectives, 2, budget=300, population=20, seed=3)
    assert len(seen) == len(set(seen)) == len(log.candidates)      # cache: nothing evaluated twice
    assert 300 <= len(log.candidates) < 300 + 20                    # the budget, within one population
    assert log.proposals > len(log.candidates)                      # ... while repeats were proposed
    for x, y, _, _ in log.candidates:                               # continuous levels on their grid
        assert 0 <= x <= 1 and abs(x / 0.05 - round(x / 0.05)) < 1e-9 and abs(y / 0.1 - round(y / 0.1)) < 1e-9
    front = {c for c, m in zip(log.candidates, pareto_mask(-np.array(log.objectives)), strict=True) if m}
    assert front <= true                           # nothing returned is off the true Pareto set
    assert len(front) >= 0.8 * len(true)           # and it recovers most of it (21 points)


def test_nsga2_same_seed_same_search_and_its_own_random_stream() -> None:
    """platypus draws from the global `random`: the search must be seeded from its seed alone,
    leave the caller's global state as it was, and not be disturbed by an evaluation that uses it."""
    import random

    from allocsim.robust.nsga import nsga2

    dec, f, _ = _grid_toy()
    random.seed(123)
    before = random.getstate()
    a = nsga2(dec, lambda cs: [f(c) for c in cs], 2, budget=80, population=12, seed=5)
    assert random.getstate() == before             # the caller's stream is untouched

    def noisy(cs: list[tuple]) -> list[tuple[float, float]]:
        random.random()                            # an evaluation that consumes the global stream
        return [f(c) for c in cs]

    b = nsga2(dec, noisy, 2, budget=80, population=12, seed=5)
    c = nsga2(dec, lambda cs: [f(c) for c in cs], 2, budget=80, population=12, seed=6)
    assert a.candidates == b.candidates and a.objectives == b.objectives
    assert a.candidates != c.candidates            # the seed matters


def _discrete(base: object) -> object:
    """The shipped baseline with data sharing and participation at their listed levels only
    (no continuous range): the 512-package space that exhaustive search covers."""
    from allocsim.scenario.schema import Scenario

    d = base.model_dump(mode="json")
    for k in ("levers.data_sharing", "levers.participation"):
        d["packages"]["levers"][k].update(range=None, step=None)
    return Scenario.model_validate(d)


class Counting:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, task: Task) -> dict:
        self.calls.append(task.key)
        return _toy_package(task)


def test_nsga2_package_front_on_shipped_levers_is_undominated_and_inside_the_exhaustive_front(tmp_path: Path) -> None:
    """The shipped levers (toy outcomes): NSGA-II over half the 512-package budget returns a front
    in which no package is dominated by any package it evaluated, every package on it is on the
    exhaustive front, and most of the exhaustive front is found; the packages are evaluated with
    the same common-random-number runs as exhaustive search, each exactly once."""
    disc = _discrete(load_scenario(SCENARIOS / "baseline.toml"))
    ex = search_packages(disc, replicates=2, futures=0, workers=1, progress=False, evaluate=_toy_package)
    assert ex.search == "exhaustive" and len(ex.packages) == 512
    count = Counting()
    res = search_packages(disc, replicates=2, futures=0, workers=1, progress=False, evaluate=count,
                          search="nsga2", evaluations=256, population=32, folder=tmp_path / "pk")
    t = res.packages
    assert res.search == "nsga2" and len(t) == res.evaluations >= 256
    assert len(count.calls) == len(set(count.calls)) == 2 * len(t)  # each package simulated once (2 seeds)
    assert t.levers.iloc[0] == "today's rules"
    goals = np.column_stack([t["effective_benefit_thb"], -t["duplicate_money_thb"],
                             -t["mean_days_to_disbursement"], -t["effort"]]).astype(float)
    dom = np.all(goals[:, None, :] >= goals[None, :, :], axis=2) & np.any(goals[:, None, :] > goals[None, :, :], axis=2)
    on = t["on_front"].to_numpy()
    assert not dom[:, on].any() and dom[:, ~on].any(axis=0).all()
    exf = set(ex.front.levers)
    assert set(res.front.levers) <= exf and len(res.front) >= 0.8 * len(exf)
    # same CRN evaluation as exhaustive: a package's means are the exhaustive table's
    ext = ex.packages.set_index("levers")
    for r in t.itertuples():
        for m in OBJECTIVES:
            assert getattr(r, m) == pytest.approx(ext.loc[r.levers, m])
    # resumable: the same search into the same folder simulates nothing again, same table
    again = Counting()
    res2 = search_packages(disc, replicates=2, futures=0, workers=1, progress=False, evaluate=again,
                           search="nsga2", evaluations=256, population=32, folder=tmp_path / "pk")
    assert again.calls == []
    pd.testing.assert_frame_equal(res2.packages, t)


def test_shipped_continuous_levels_are_searched_by_nsga2_deterministically() -> None:
    """With data sharing and participation continuous (the shipped ranges), auto picks NSGA-II; the
    levels it tries lie on the stated grid inside the stated ranges; same seed, same front."""
    base = load_scenario(SCENARIOS / "baseline.toml")
    kw = dict(replicates=2, futures=0, workers=1, progress=False, evaluate=_toy_package, evaluations=60,
              population=12)
    a = search_packages(base, **kw)
    assert a.search == "nsga2" and a.budget == 60
    for k, (low, high) in (("data_sharing", (0.3, 0.9)), ("participation", (0.2, 0.6))):
        v = a.packages[k].to_numpy(float)
        assert ((v >= low - 1e-12) & (v <= high + 1e-12)).all()
        assert np.allclose((v - low) / 0.05, np.round((v - low) / 0.05))
        assert len(set(v)) > 2                     # more than the two listed levels are tried
    b = search_packages(base, **kw)
    pd.testing.assert_frame_equal(a.packages, b.packages)
    c = search_packages(base.with_seed(base.seed + 1), **kw)
    assert not a.packages["levers"].equals(c.packages["levers"])


def test_robust_report_shows_the_package_front_with_the_csv_numbers(toy: tuple, tmp_path: Path) -> None:
    """A package search and a robust run into the same folder: report.html has the front, and
    every number in it is the one in package_front.csv (raw in data attributes, shown formatted)."""
    import html
    import re

    from allocsim.report.format import fmt
    from allocsim.robust.packages import write_packages
    from allocsim.robust.report import read_front, robust_report

    base, reform = toy
    out = tmp_path / "out"
    shipped = _discrete(load_scenario(SCENARIOS / "baseline.toml"))
    pk = search_packages(shipped, levers=["single_gateway", "staggered_calendar", "data_sharing"], replicates=2,
                         futures=0, workers=1, progress=False, evaluate=_toy_package)
    write_packages(pk, out)
    res = robust(base, [reform], 20, workers=1, folder=out, progress=False, evaluate=toy_evaluate)
    write_tables(res, out)
    robust_report(out, res, read_front(out))
    page = (out / "report.html").read_text()
    csv = pd.read_csv(out / "package_front.csv")
    # the order the issue asks for: paragraph, robustness table, PRIM boxes, then the front
    pos = [page.index(s) for s in ('class="summary"', 'id="robustness-table"', 'id="prim-table"',
                                   'id="package-front-table"')]
    assert pos == sorted(pos)
    table = page[page.index('id="package-front-table"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr (data-package=[^>]*)>(.*?)</tr>", table)
    assert [re.search(r'data-package="([^"]+)"', a).group(1) for a, _ in rows] == list(csv["package"])
    for (attrs, cells), r in zip(rows, csv.itertuples(), strict=True):
        shown = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
        assert shown[1] == r.levers and float(shown[2]) == r.effort
        for i, m in enumerate(OBJECTIVES):
            raw = float(re.search(rf'data-{m.replace("_", "-")}="([^"]+)"', attrs).group(1))
            assert raw == getattr(r, m)
            assert shown[3 + i] == fmt(m, getattr(r, m))
        assert float(re.search(r'data-stability="([^"]+)"', attrs).group(1)) == r.stability
        assert shown[7] == f"{r.stability:.0%}"
    assert "same 2 seeds" in page  # the replicate count (with a manifest: the test too, see the CLI test)
    # a named folder without a front is a clear error, not a traceback
    with pytest.raises(UserError, match="--packages.*package_front.csv"):
        read_front(tmp_path / "nowhere", given=True)
    assert read_front(tmp_path / "nowhere") is None


# --- seed noise: better / worse / within seed noise ------------------------------------------------------
NOISY = TOY.replace("replicates = 2\n", "replicates = 1\n")
#: per-run noise of the synthetic model below (independent for baseline and reform on a seed, so
#: the reform − baseline difference has sd NOISE_SD·√2 within a future)
NOISE_SD = 4.0


class NoisyEvaluate:
    """Duplicate money = 100 − effect (gateway on) + N(0, NOISE_SD) noise drawn per scenario and
    seed: the paired difference is the effect plus noise of known sd NOISE_SD·√2."""

    def __init__(self, effect: float) -> None:
        self.effect = effect
        self.calls: list[dict] = []

    def __call__(self, task: Task) -> dict:
        self.calls.append(dict(task.params))
        gate = bool(task.scenario["levers"]["single_gateway"])
        noise = np.random.default_rng([task.seed, int(gate)]).normal(0, NOISE_SD)
        nat = {"duplicate_money_thb": 100.0 - (self.effect if gate else 0.0) + noise,
               "effective_benefit_thb": 50.0 + noise, "mean_days_to_disbursement": 200.0 + noise}
        return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
                "params": task.params, "national": nat, "provinces": {}}


@pytest.fixture
def noisy(tmp_path: Path) -> tuple:
    d = tmp_path / "noisy"
    d.mkdir()
    return load_scenario(write(d / "toy.toml", NOISY)), load_scenario(write(d / "toy_gateway.toml", TOY_REFORM))


def test_pure_noise_reform_is_mostly_within_seed_noise_and_costs_at_most_15_percent(noisy: tuple) -> None:
    """A reform with no effect: before the noise model, the sign of one seed's noise made it
    'better' in ~50 % of futures. Now the within-future sd is measured (15 futures × 3 seeds,
    true sd 4·√2) and only |difference| > 1.2816 sd counts: ~80 % within seed noise."""
    from allocsim.robust.futures import failures, threshold

    base, reform = noisy
    # cost at the shipped setting: 15 noise futures × 2 extra seeds × 2 scenarios on top of
    # 200 × 2 main runs = 15 %
    ev = NoisyEvaluate(effect=0.0)
    robust(base, [reform], 200, workers=1, progress=False, evaluate=ev)
    main = [c for c in ev.calls if not c.get("noise")]
    assert len(main) == 400 and len(ev.calls) - len(main) == 60
    # accuracy: 40 noise futures (80 degrees of freedom, sd within about ±19 % at 99 %)
    base = base.model_copy(update={"uncertainty": base.uncertainty.model_copy(update={"noise_futures": 40})})
    res = robust(base, [reform], 200, workers=1, progress=False, evaluate=NoisyEvaluate(effect=0.0))
    row = res.robustness.set_index(["scenario", "metric"]).loc[("toy_gateway", "duplicate_money_thb")]
    true_sd = NOISE_SD * np.sqrt(2)
    assert 0.75 * true_sd <= row.noise_sd <= 1.25 * true_sd and row.noise_df == 40 * 2
    assert row.noise_z == pytest.approx(1.2816)
    assert row.share_undecided >= 0.65 and row.share_better <= 0.25 and row.share_worse <= 0.25
    assert row.share_better + row.share_worse + row.share_undecided == pytest.approx(1.0)
    # the shares follow the bar: recomputed from futures.csv's differences
    fut = res.futures
    d = (fut[fut.scenario == "toy_gateway"].set_index("future")["duplicate_money_thb"]
         - fut[fut.scenario == "toy"].set_index("future")["duplicate_money_thb"])
    bar = 1.2816 * row.noise_sd
    assert row.share_better == pytest.approx(np.mean(-d > bar))
    assert row.share_undecided == pytest.approx(np.mean(d.abs() <= bar))
    # PRIM's labels: only the decided futures, failures = worse
    fail = failures(fut, "toy", "toy_gateway", "duplicate_money_thb", threshold(res.robustness, "toy_gateway",
                                                                                 "duplicate_money_thb"))
    assert len(fail) == round((row.share_better + row.share_worse) * 200)
    assert int(fail.sum()) == round(row.share_worse * 200)
    from allocsim.robust.report import plain_paragraph

    text = plain_paragraph(res)
    assert "within seed noise in" in text and "1.282 × its seed-noise sd" in text


def test_real_effect_five_times_the_noise_is_better_in_almost_every_future(noisy: tuple) -> None:
    base, reform = noisy
    effect = 5 * NOISE_SD * np.sqrt(2)
    res = robust(base, [reform], 200, workers=1, progress=False, evaluate=NoisyEvaluate(effect))
    row = res.robustness.set_index(["scenario", "metric"]).loc[("toy_gateway", "duplicate_money_thb")]
    assert row.share_better >= 0.97 and row.share_worse == 0.0
    # no failures where the sign is decided: PRIM reports no box
    b = res.boxes[(res.boxes.scenario == "toy_gateway") & (res.boxes.metric == "duplicate_money_thb")]
    assert b.box.fillna("").eq("").all()


def test_noise_model_off_is_the_sign_alone(noisy: tuple) -> None:
    """noise_futures = 0 with one seed: no noise sd, the sign decides (and the report says so)."""
    base, reform = noisy
    base = base.model_copy(update={"uncertainty": base.uncertainty.model_copy(update={"noise_futures": 0})})
    ev = NoisyEvaluate(0.0)
    res = robust(base, [reform], 40, workers=1, progress=False, evaluate=ev)
    row = res.robustness.set_index(["scenario", "metric"]).loc[("toy_gateway", "duplicate_money_thb")]
    assert np.isnan(row.noise_sd) and row.share_better + row.share_worse == pytest.approx(1.0)
    assert len(ev.calls) == 80
    from allocsim.robust.report import plain_paragraph

    assert "seed noise was not measured" in plain_paragraph(res)


def test_prim_boxes_on_random_labels_are_rare_after_the_held_out_holm_test() -> None:
    """Pure-noise failures: PRIM alone reports a box in several of 20 seeded runs of 2 reforms ×
    3 metrics (the in-sample box looks dense by construction). With the held-out test and Holm
    over the run's boxes at 5 %, at most 1 of the 20 runs may report any box (stated level 5 %)."""
    from allocsim.robust.futures import explain_failures, holm_boxes

    raw = kept = 0
    for trial in range(20):
        rng = np.random.default_rng(trial)
        found = {}
        for k in range(6):
            X = pd.DataFrame(rng.uniform(size=(200, 6)), columns=[f"p{i}" for i in range(6)])
            found[("r", str(k))] = explain_failures(X, rng.uniform(size=200) < 0.3)
        raw += any(r.box is not None and r.box.limits for r in found.values())
        holm_boxes(found, 0.05)
        kept += any(r.box is not None and r.box.limits for r in found.values())
    assert raw >= 3          # the problem is real: uncorrected PRIM finds spurious boxes
    assert kept <= 1


def test_holm_keeps_a_planted_box() -> None:
    from allocsim.robust.futures import explain_failures, holm_boxes

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.uniform(size=(200, 8)), columns=[f"p{i}" for i in range(8)])
    found = {("r", "m"): explain_failures(X, (X["p2"] > 0.7).to_numpy()),
             **{("r", str(k)): explain_failures(X, rng.uniform(size=200) < 0.3) for k in range(5)}}
    holm_boxes(found, 0.05)
    b = found[("r", "m")].box
    assert b is not None and list(b.limits) == ["p2"] and b.p_holm < 1e-6


def test_mistyped_headline_metric_is_a_clear_error(scenario_dir: Path) -> None:
    f = write(scenario_dir / "bad.toml", 'extends = "baseline.toml"\nname = "bad"\n[uncertainty]\n'
              'headline_metrics = ["duplicate_money", "mean_days_to_disbursement"]\n')
    with pytest.raises(UserError) as err:
        load_scenario(f)
    text = str(err.value)
    assert "bad.toml" in text and "uncertainty.headline_metrics" in text and "'duplicate_money'" in text
    assert "valid:" in text and "duplicate_money_thb" in text


def test_package_lever_needs_a_reason(scenario_dir: Path) -> None:
    # standalone: a lever the baseline lists would inherit the baseline's reason
    f = write(scenario_dir / "bad.toml", 'name = "bad"\n[packages.levers]\n'
              '"levers.data_sharing" = { levels = [0.9], effort = 1.0 }\n')
    with pytest.raises(UserError, match=r"packages.levers.levers.data_sharing.reason"):
        load_scenario(f)


def test_cli_default_folder_is_resumable_after_interrupt(toy: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    """Without --out: the default folder is derived from the inputs (not the clock), so the same
    command after Ctrl-C resumes there without repeating finished runs; the interrupt message
    prints the exact command with --out."""
    import shlex

    import allocsim.robust.futures as futures_module
    from allocsim.cli import main

    base, reform = toy
    real = futures_module.robust
    current = {"evaluate": Interrupt(limit=13)}
    monkeypatch.setattr(futures_module, "robust",
                        lambda *a, **k: real(*a, **{**k, "workers": 1, "evaluate": current["evaluate"]}))
    monkeypatch.chdir(tmp_path)
    argv = ["robust", str(base.source), str(reform.source), "--futures", "10", "--quiet"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    folders = list((tmp_path / "results").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("robust-toy-")
    folder = Path("results") / folders[0].name
    assert f"result folder: {folder}" in err
    resume = err.split("To resume without repeating them:\n", 1)[1].strip().splitlines()[0]
    assert shlex.split(resume) == ["allocsim", *argv, "--out", str(folder)]
    assert len(list((folders[0] / "runs").glob("*.json"))) == 13
    # the same command again: same folder, only the unfinished runs
    current["evaluate"] = second = Interrupt()
    assert main(argv) == 0
    assert len(second.calls) == 2 * 10 * 2 - 13
    assert list((tmp_path / "results").iterdir()) == folders and (folders[0] / "robustness.csv").is_file()
    # a different option is a different folder (nothing mixed)
    current["evaluate"] = Interrupt()
    assert main([*argv[:3], "--futures", "11", "--quiet"]) == 0
    assert len(list((tmp_path / "results").iterdir())) == 2


def _package_noise(task: Task) -> dict:
    """_toy_package with noise of its own per package and seed (sd 1.5, independent between
    packages), so the noise-aware rule and plain dominance on the means disagree."""
    out = _toy_package(task)
    own = np.random.default_rng([task.seed, task.params.get("package", 0)]).normal(0, 1.5, 3)
    out["national"] = {m: v + e for (m, v), e in zip(out["national"].items(), own, strict=True)}
    return out


def test_noise_aware_front_with_package_specific_noise_equals_a_scipy_oracle(tmp_path: Path) -> None:
    """Shipped levers (512 packages, 3 seeds), each package with its own seed noise: the
    noise-aware front equals a second implementation (scipy's one-sided paired t-tests on every
    pair and objective, effort exact), and the packages dominated on the means yet kept are
    counted in package_front.csv, the report and the console (here there are some)."""
    from scipy import stats

    from allocsim.robust.packages import package_lines, write_packages

    base = _discrete(load_scenario(SCENARIOS / "baseline.toml"))
    R, conf = 3, base.packages.dominance_confidence
    res = search_packages(base, replicates=R, futures=0, workers=1, progress=False, evaluate=_package_noise,
                          search="exhaustive")
    t = res.packages
    n = len(t)
    assert n == 512
    # per package × seed × objective (to maximise), from the same evaluator, independently of the code
    from allocsim.experiments.seeds import replicate_seeds

    G = np.empty((n, R, 3))
    today = base.levers.model_dump(mode="json")
    for p in range(n):
        levers = {**today, **{k.removeprefix("levers."): t.loc[p, k.removeprefix("levers.")].item() for k in res.levers}}
        for r, s in enumerate(replicate_seeds(base.seed, R)):
            task = Task(index=0, scenario={"levers": levers}, seed=s, label="x", params={"package": p})
            nat = _package_noise(task)["national"]
            G[p, r] = [nat["effective_benefit_thb"], -nat["duplicate_money_thb"], -nat["mean_days_to_disbursement"]]
    effort = -t["effort"].to_numpy(float)
    alpha = 1 - conf
    dominated = np.zeros(n, bool)
    for j in range(n):
        d = G - G[j][None]                              # every package i minus j
        with np.errstate(all="ignore"):
            p = stats.ttest_rel(G, np.broadcast_to(G[j], G.shape), axis=1, alternative="greater").pvalue
        allzero = np.all(d == 0, axis=1)
        geq = np.where(allzero, True, p <= alpha).all(axis=1) & (effort >= effort[j])
        gt = np.where(allzero, False, p < alpha).any(axis=1) | (effort > effort[j])
        dom = geq & gt
        dom[j] = False
        dominated[j] = dom.any()
    assert np.array_equal(t["on_front"].to_numpy(), ~dominated)
    # both fronts: plain dominance on the means (broadcast, not pareto_mask's loop)
    M = np.column_stack([G.mean(axis=1), effort])
    mdom = (np.all(M[:, None, :] >= M[None, :, :], axis=2) & np.any(M[:, None, :] > M[None, :, :], axis=2)).any(axis=0)
    kept = int((~dominated & mdom).sum())
    assert kept > 0 and int(t["dominated_on_means"].sum()) == kept
    write_packages(res, tmp_path)
    front = pd.read_csv(tmp_path / "package_front.csv")
    assert int(front["dominated_on_means"].sum()) == kept
    phrase = f"{kept} front packages are dominated on the means yet kept"
    assert phrase in (tmp_path / "report.html").read_text() and phrase in "\n".join(package_lines(res))


@pytest.mark.parametrize("entry, pattern", [
    ('"simulation.procurement_days" = { levels = [30], effort = 1.0, reason = "test" }',
     r"packages.levers.simulation.procurement_days: .*valid capacity fields: simulation.province_staff"),
    ('"simulation.province_staff" = { levels = [500], effort = 1.0, reason = "test" }',
     r"packages.levers.simulation.province_staff: value 500 is outside"),
])
def test_bad_capacity_lever_is_a_clear_error(scenario_dir: Path, entry: str, pattern: str) -> None:
    f = write(scenario_dir / "bad.toml", f'extends = "baseline.toml"\nname = "bad"\n[packages.levers]\n{entry}\n')
    with pytest.raises(UserError, match=pattern):
        load_scenario(f)


def test_staff_level_is_a_package_lever_with_effort_per_officer() -> None:
    """simulation.province_staff as a lever: packages run at the chosen staff level (seen by the
    evaluator), effort = score × officers added, and more staff (the toy's only benefit source
    here) puts the staffed packages on the front."""
    seen: dict[str, int] = {}

    def staffed(task: Task) -> dict:
        staff = task.scenario["simulation"]["province_staff"]
        seen[task.label] = staff
        nat = {"effective_benefit_thb": 10.0 * staff, "duplicate_money_thb": 50.0,
               "mean_days_to_disbursement": 200.0 - 5 * task.scenario["levers"]["delegated_changes"]}
        return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
                "params": task.params, "national": nat, "provinces": {}}

    base = load_scenario(SCENARIOS / "baseline.toml")
    d = base.model_dump(mode="json")
    d["packages"]["levers"]["simulation.province_staff"] = {"levels": [3, 4], "effort": 1.5, "reason": "test"}
    from allocsim.scenario.schema import Scenario

    base = Scenario.model_validate(d)
    assert base.simulation.province_staff == 2
    res = search_packages(base, levers=["province_staff", "delegated_changes"], replicates=2, futures=0,
                          workers=1, progress=False, evaluate=staffed, search="exhaustive")
    t = res.packages.set_index("levers")
    assert len(t) == 3 * 2
    assert t.loc["province_staff=4", "effort"] == pytest.approx(1.5 * 2)
    assert t.loc["province_staff=3, delegated_changes", "effort"] == pytest.approx(1.5 + 2.0)
    assert seen[t.loc["province_staff=4", "package"]] == 4 and seen[t.loc["today's rules", "package"]] == 2
    # every package is a trade-off of benefit/delay against effort: all six on the front
    assert t["on_front"].all()
