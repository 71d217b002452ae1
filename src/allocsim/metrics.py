"""The metric catalogue: every number the simulation records, declared once (name, unit, which
direction is better, how a run's years reduce to one headline number, what it means, Thai label).

A metric is one object, as EMA Workbench's ``ScalarOutcome`` is: the recorder's tables are checked
against this catalogue (``tests/test_catalogues.py``), ``run_metrics`` reduces a run with each
entry's ``aggregation``, ``compare`` reads ``better`` to call a difference better or worse, the
formatter shows a value by its ``unit`` and the Thai report labels it with ``label_th``.

Adding a column to the simulation's tables means adding an entry here; the tests fail otherwise.
This module imports nothing from allocsim, so every layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How a value is shown: money in THB (shown as million THB), a share 0–1 (shown as %), days,
#: a count, a 0–1 index (need, satisfaction, Gini) or a ratio (benefit per baht).
Unit = Literal["thb", "share", "days", "count", "index", "ratio"]
UNITS: tuple[str, ...] = ("thb", "share", "days", "count", "index", "ratio")
#: Which direction of change is an improvement; "neither" for figures that only describe a run.
Better = Literal["higher", "lower", "neither"]
#: How one run's fiscal years reduce to its headline number (``run_metrics``):
#: ``year_mean`` mean of the national yearly values; ``final_year`` the last year's value (stocks
#: such as need); ``pooled_ratio`` Σ numerator / Σ denominator over the years (``ratio_of``);
#: ``province_year_mean`` unweighted mean over province-years of ``sim_years``;
#: ``budget_weighted`` mean over province-years weighted by allocated money;
#: ``recorded`` in the tables only, no headline number.
Aggregation = Literal["year_mean", "final_year", "pooled_ratio", "province_year_mean",
                      "budget_weighted", "recorded"]
AGGREGATIONS: tuple[str, ...] = ("year_mean", "final_year", "pooled_ratio", "province_year_mean",
                                 "budget_weighted", "recorded")


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    better: Better
    aggregation: Aggregation
    description: str
    label_th: str
    by_province: bool = False                 # also in the per-province breakdown of a run
    ratio_of: tuple[str, str] | None = None   # (numerator, denominator) for ``pooled_ratio``
    tables: tuple[str, ...] = ()              # the simulation's tables that record it (S, Y, N, L)

    @property
    def headline(self) -> bool:
        """Reported per run, summarised over replicates and compared between scenarios."""
        return self.aggregation != "recorded"

    def reading(self, difference: float) -> str:
        """"better" or "worse" for a clear (non-zero) reform − baseline difference; "changed"
        when the metric has no better direction."""
        if self.better == "neither":
            return "changed"
        return "better" if (difference > 0) == (self.better == "higher") else "worse"


#: The simulation's tables whose measured columns the recorder takes from this catalogue: per
#: step × province, per year × province, national per year, the ledger per budget holder.
S, Y, N, L = "sim_steps", "sim_years", "sim_national", "sim_ledger"
TABLES: tuple[str, ...] = (S, Y, N, L)


def _q(q: int) -> Metric:
    months = {1: "Oct–Dec", 2: "Oct–Mar", 3: "Oct–Jun", 4: "the whole year"}[q]
    return Metric(f"q{q}_disbursement_rate", "share", "higher", "budget_weighted",
                  f"share of the year's provincial budget disbursed by the end of quarter {q} "
                  f"({months}); national figure weighted by budgets",
                  f"อัตราการเบิกจ่ายสะสม ไตรมาส {q}", tables=(Y,))


METRICS_LIST: tuple[Metric, ...] = (
    # --- headline metrics, in the order results list them ---
    Metric("disbursed_thb", "thb", "higher", "year_mean",
           "money paid out to projects in the fiscal year", "เงินที่เบิกจ่าย", tables=(S, Y, N, L)),
    Metric("lapsed_thb", "thb", "lower", "year_mean",
           "execution lapse: money of funded projects unpaid at year end and not carried over "
           "(cancellations, projects still in procurement, carried-over contracts past their "
           "deadline); excludes unfunded money",
           "งบประมาณที่ตกพับระหว่างดำเนินการ", by_province=True, tables=(S, Y, N, L)),
    Metric("effective_benefit_thb", "thb", "higher", "year_mean",
           "benefit that reached citizens' needs: spending × potential benefit, less for wants, "
           "late spending and duplicates", "ประโยชน์ที่เกิดขึ้นจริง", by_province=True, tables=(Y, N)),
    Metric("value_for_money", "ratio", "higher", "year_mean",
           "effective benefit per baht disbursed", "ความคุ้มค่าของเงิน", tables=(S, Y, N)),
    Metric("duplicates_approved", "count", "lower", "year_mean",
           "funded copies of a project idea that another channel also funded",
           "โครงการซ้ำซ้อนที่อนุมัติ", by_province=True, tables=(S, Y, N)),
    Metric("duplicate_money_thb", "thb", "lower", "year_mean",
           "money committed to duplicate copies", "เงินของโครงการซ้ำซ้อน", tables=(S, Y, N)),
    Metric("wasted_on_duplicates_thb", "thb", "lower", "year_mean",
           "money disbursed on duplicate copies in the year (it meets no need)",
           "เงินที่สูญเปล่าจากโครงการซ้ำซ้อน", tables=(Y, N)),
    Metric("mean_days_to_disbursement", "days", "lower", "year_mean",
           "mean days from the Budget Act to a project's first payment",
           "จำนวนวันเฉลี่ยถึงการเบิกจ่ายครั้งแรก", by_province=True, tables=(S, Y, N)),
    Metric("mean_change_approval_days", "days", "lower", "year_mean",
           "mean days a change or cancellation request waited for its decision",
           "จำนวนวันเฉลี่ยในการอนุมัติเปลี่ยนแปลงโครงการ", tables=(Y, N)),
    Metric("mean_days_on_hold", "days", "lower", "year_mean",
           "mean days a funded project spent on hold waiting for decisions on its change or "
           "cancellation requests", "จำนวนวันเฉลี่ยที่โครงการถูกระงับรออนุมัติ", by_province=True, tables=(Y, N)),
    Metric("mean_completion_delay_days", "days", "lower", "year_mean",
           "mean days a completed project finished after its schedule (start of works + planned "
           "execution weeks)", "จำนวนวันเฉลี่ยที่โครงการแล้วเสร็จล่าช้ากว่าแผน", by_province=True, tables=(Y, N)),
    Metric("notification_days", "days", "lower", "year_mean",
           "days from the Budget Act until the ministries have notified every governor of their "
           "allocation", "จำนวนวันที่ส่วนราชการแจ้งจัดสรรงบประมาณ", tables=(Y, N)),
    Metric("mean_planning_days", "days", "lower", "year_mean",
           "mean days from the ministries' notification to the province's final action plan for "
           "a funded project", "จำนวนวันเฉลี่ยในการจัดทำแผนปฏิบัติราชการ", by_province=True, tables=(Y, N)),
    Metric("escalations", "count", "lower", "year_mean",
           "stuck projects escalated by six-monthly reports (cumulative count)",
           "เรื่องที่ส่งขึ้นไปพิจารณาระดับสูง", tables=(N,)),
    Metric("equity_gini_per_capita_benefit", "index", "lower", "year_mean",
           "Gini coefficient of effective benefit per head across provinces (0 = equal)",
           "ค่าสัมประสิทธิ์จีนีของประโยชน์ต่อหัว", tables=(N,)),
    Metric("plan_achievement", "share", "higher", "year_mean",
           "share of each province's planned strategies whose need fell in the year "
           "(national: population-weighted)", "ผลสัมฤทธิ์ตามแผน", tables=(Y, N)),
    Metric("cluster_targets_met_share", "share", "higher", "year_mean",
           "share of provinces that met the disbursement target their cluster cascades",
           "สัดส่วนเป้าหมายกลุ่มจังหวัดที่บรรลุ", tables=(N,)),
    Metric("unmet_need", "index", "lower", "final_year",
           "citizens' mean unmet need (0–1) after the last year's services (population-weighted)",
           "ความต้องการที่ยังไม่ได้รับการตอบสนอง", by_province=True, tables=(S, Y, N)),
    Metric("satisfaction", "index", "higher", "final_year",
           "citizens' mean satisfaction (0–1) after the last year (population-weighted)",
           "ความพึงพอใจของประชาชน", by_province=True, tables=(S, Y, N)),
    Metric("lapse_rate", "share", "lower", "pooled_ratio",
           "share of all allocated money that lapsed in execution over the run (unfunded money "
           "apart: unfunded_rate)", "อัตรางบประมาณตกพับระหว่างดำเนินการ",
           ratio_of=("lapsed_thb", "allocated_thb")),
    Metric("unfunded_rate", "share", "lower", "pooled_ratio",
           "share of all allocated money no project was funded with over the run",
           "สัดส่วนงบที่ไม่ได้จัดสรรให้โครงการ", ratio_of=("unfunded_thb", "allocated_thb")),
    Metric("alignment_share", "share", "higher", "province_year_mean",
           "share of committed money on projects aligned with the provincial plan",
           "สัดส่วนที่สอดคล้องกับยุทธศาสตร์", tables=(S, Y)),
    *(_q(q) for q in (1, 2, 3, 4)),
    Metric("plan_delivered_share", "share", "higher", "pooled_ratio",
           "how much of the plan was delivered: benefit that reached citizens over the benefit of "
           "the projects selected (the province's ranking, or the optimiser's portfolio)",
           "สัดส่วนประโยชน์ตามแผนที่ส่งมอบได้", ratio_of=("effective_benefit_thb", "planned_benefit_thb")),
    Metric("plan_disbursed_share", "share", "higher", "pooled_ratio",
           "money disbursed over the money of the projects selected", "สัดส่วนงบตามแผนที่เบิกจ่ายได้",
           ratio_of=("disbursed_thb", "planned_thb")),
    # --- recorded in the simulation's tables, no headline number ---
    Metric("planned_benefit_thb", "thb", "neither", "recorded",
           "benefit of the projects selected in the year (the plan)", "ประโยชน์ตามแผน", tables=(N,)),
    Metric("planned_thb", "thb", "neither", "recorded",
           "money of the projects selected in the year (the plan)", "งบตามแผน", tables=(N,)),
    Metric("money_thb", "thb", "neither", "recorded",
           "the holder's money from this year's allocation (int baht, rounding rule of world.py)",
           "งบประมาณที่ได้รับจัดสรรในปี", tables=(L,)),
    Metric("carried_in_thb", "thb", "neither", "recorded",
           "commitments carried in from the previous fiscal year", "เงินกันเหลื่อมปีที่ยกมา", tables=(L,)),
    Metric("funded_thb", "thb", "neither", "recorded",
           "money of the projects the holder funded in the year", "งบที่จัดสรรให้โครงการ", tables=(L,)),
    Metric("unfunded_thb", "thb", "lower", "recorded",
           "money of the year's allocation no project was funded with (returned to the "
           "Treasury; not part of lapsed_thb)",
           "งบที่ไม่ได้จัดสรรให้โครงการ", tables=(Y, N, L)),
    Metric("returned_thb", "thb", "lower", "recorded",
           "money returned to the Treasury at year end: unfunded + lapsed in execution",
           "งบประมาณที่ส่งคืนคลัง", tables=(N, L)),
    Metric("allocated_thb", "thb", "neither", "recorded",
           "money available to the budget holder in the year (new budget + carried in)",
           "งบประมาณที่จัดสรร", tables=(S, Y, N, L)),
    Metric("committed_thb", "thb", "neither", "recorded",
           "money committed to funded projects so far this year", "งบประมาณที่ผูกพันแล้ว", tables=(S,)),
    Metric("envelope_thb", "thb", "neither", "recorded",
           "the scenario's envelopes for the fiscal year (all sources and the cluster pot)",
           "วงเงินงบประมาณรวม", tables=(N,)),
    Metric("unallocated_thb", "thb", "lower", "recorded",
           "envelope money the allocation gave to no budget holder (lapses at source); "
           "envelope = holders' money + unallocated", "งบประมาณที่ไม่ได้จัดสรรให้ผู้ถือเงิน", tables=(N,)),
    Metric("carried_over_thb", "thb", "neither", "recorded",
           "money carried into the next fiscal year: multi-year commitments and contracted "
           "projects' unpaid money (contract carry-over)",
           "เงินกันไว้เบิกเหลื่อมปี", tables=(Y, N, L)),
    Metric("disbursement_rate", "share", "higher", "recorded",
           "share of the year's budget disbursed so far", "อัตราการเบิกจ่าย", tables=(S,)),
    Metric("p90_days_to_disbursement", "days", "lower", "recorded",
           "90th percentile of days from the Budget Act to a project's first payment",
           "จำนวนวันถึงการเบิกจ่ายครั้งแรก (เปอร์เซ็นไทล์ที่ 90)", tables=(S, Y)),
    Metric("change_requests", "count", "neither", "recorded",
           "change and cancellation requests decided in the year", "คำขอเปลี่ยนแปลงโครงการ", tables=(Y, N)),
    Metric("equity_gini", "index", "lower", "recorded",
           "Gini of effective benefit per head across provinces, on each year's closing week",
           "ค่าสัมประสิทธิ์จีนีของประโยชน์ต่อหัว", tables=(S,)),
    Metric("cluster_target_met", "count", "higher", "recorded",
           "whether the province met the disbursement target its cluster cascades (1 = yes)",
           "บรรลุเป้าหมายการเบิกจ่ายของกลุ่มจังหวัด", tables=(Y,)),
    # --- m1: notification deadline and escalation outcomes
    Metric("late_notifications", "count", "lower", "year_mean",
           "ministries that notified the governors after the legal deadline (notify_deadline_days, "
           "`000` Del-3) in the year", "ส่วนราชการที่แจ้งจัดสรรงบประมาณล่าช้ากว่ากำหนด", tables=(N,)),
    Metric("escalations_resolved", "count", "higher", "year_mean",
           "escalated problems the reporting chain solved in the year (the hold ends at its decision)",
           "เรื่องที่ส่งขึ้นไปและได้รับการแก้ไข", tables=(N,)),
    Metric("escalations_failed", "count", "lower", "year_mean",
           "escalated problems the reporting chain did not solve in the year (the hold runs on)",
           "เรื่องที่ส่งขึ้นไปแต่ไม่ได้รับการแก้ไข", tables=(N,)),
)

METRICS: dict[str, Metric] = {m.name: m for m in METRICS_LIST}
#: Columns of the simulation's tables that identify a row rather than measure something.
KEY_COLUMNS: frozenset[str] = frozenset({"step", "fiscal_year", "day", "province", "holder"})


def metric(name: str) -> Metric:
    """The catalogue entry of ``name`` (a KeyError naming the catalogue if there is none)."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the metric catalogue (allocsim/metrics.py); known: "
                       f"{', '.join(METRICS)}") from None


def unit_of(name: str) -> str:
    """How to show a value: the metric's unit; a unit name stands for itself; any other column
    (solver tables, hindcast errors) is a plain number."""
    if name in METRICS:
        return METRICS[name].unit
    return name if name in UNITS else "number"


def recorded_in(table: str) -> tuple[str, ...]:
    """The measured columns of one of the simulation's ``TABLES``, in catalogue order."""
    if table not in TABLES:
        raise KeyError(f"{table!r} is not a simulation table; known: {', '.join(TABLES)}")
    return tuple(m.name for m in METRICS_LIST if table in m.tables)


def catalogue_row(table: str, keys: dict, values: dict) -> dict:
    """One table's row (or block of rows): the key columns, then exactly the catalogue's
    metrics for ``table`` taken from ``values``. A metric computed but not catalogued, or
    catalogued but not computed, is an error naming both lists (the recorder keeps no list)."""
    names = recorded_in(table)
    missing = [n for n in names if n not in values]
    extra = sorted(set(values) - set(names))
    if missing or extra:
        raise KeyError(f"{table}: the recorder and the metric catalogue (allocsim/metrics.py) disagree: "
                       f"catalogued but not computed {missing}; computed but not catalogued {extra}")
    return {**keys, **{n: values[n] for n in names}}


def headline() -> tuple[Metric, ...]:
    return tuple(m for m in METRICS_LIST if m.headline)
