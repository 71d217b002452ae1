"""report.html: self-contained (PNG charts embedded as base64), readable offline, opening with a
plain-words summary. ``run_report`` serves ``allocsim run``, ``compare_report`` ``allocsim compare``.
Every chart is also saved as a PNG file next to the report."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from allocsim.report import charts
from allocsim.report.format import fmt, label
from allocsim.report.tilemap import plot_tilemap
from allocsim.store import atomic_write_text

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.summary{background:#f3f7fb;border-left:4px solid #2c7fb8;padding:.8em 1em;font-size:1.05em}
.warn{background:#fff4e5;border-left:4px solid #e6550d;padding:.6em 1em}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em} th,td{border:1px solid #ddd;padding:.25em .6em}
th{background:#f0f0f0;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;display:block;margin:.6em 0} .muted{color:#666;font-size:.85em}
.better{color:#1a9641;font-weight:600} .worse{color:#d7191c;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:1em} .grid img{max-width:48%}
"""


class Report:
    def __init__(self, title: str, folder: Path) -> None:
        self.title, self.folder = title, folder
        self.parts: list[str] = []

    def h2(self, text: str, anchor: str) -> None:
        self.parts.append(f'<h2 id="{anchor}">{html.escape(text)}</h2>')

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f'<p class="{cls}">{text}</p>' if cls else f"<p>{text}</p>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, fig, name: str, alt: str) -> None:
        data = charts.save(fig, self.folder / "charts" / f"{name}.png")
        b64 = base64.b64encode(data).decode()
        self.parts.append(f'<img src="data:image/png;base64,{b64}" alt="{html.escape(alt)}" title="{name}.png">')

    def table(self, df: pd.DataFrame, formats: dict[str, str] | None = None, table_id: str = "") -> None:
        """A real HTML table; numbers formatted by metric kind, raw value kept in data-value."""
        formats = formats or {}
        cols = list(df.columns)
        head = "".join(f"<th>{html.escape(label(str(c)))}</th>" for c in cols)
        rows = []
        for _, r in df.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
                    metric = formats.get(c, str(c))
                    raw = "" if pd.isna(v) else repr(float(v))
                    cells.append(f'<td class="num" data-col="{html.escape(str(c))}" data-value="{raw}">'
                                 f"{html.escape(fmt(metric, v))}</td>")
                else:
                    cls = f' class="{v}"' if v in ("better", "worse") else ""
                    cells.append(f'<td data-col="{html.escape(str(c))}"{cls}>{html.escape(str(v))}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        tid = f' id="{table_id}"' if table_id else ""
        self.parts.append(f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def write(self) -> Path:
        doc = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
               f"<style>{CSS}</style></head><body><h1>{html.escape(self.title)}</h1>{''.join(self.parts)}"
               "<p class='muted'>Made by allocsim. Every number that is not a reference fact is produced by "
               "scenario parameters labelled <em>illustrative</em>; see the scenario section.</p></body></html>")
        path = self.folder / "report.html"
        atomic_write_text(doc, path)
        return path


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, json.dumps(v, ensure_ascii=False)))
    return out


def _scenario_section(rep: Report, scenario: dict, chain: list[str], only: set[str] | None = None) -> None:
    rep.h2("Scenario as run", "scenario")
    rep.p("Files (base first): " + " → ".join(html.escape(c) for c in chain) + ". Inherited values are resolved below.")
    rows = [(k, v) for k, v in _flatten(scenario) if only is None or k in only]
    rep.table(pd.DataFrame(rows, columns=["field", "value"]), table_id="scenario-table")


def run_report(folder: Path, result) -> Path:  # result: experiments.run.RunResult
    sc, t = result.scenario, result.tables
    names = dict(zip(result.geography.provinces["iso_code"], result.geography.provinces["name_en"], strict=True))
    rep = Report(f"allocsim — {sc.name}", folder)
    nat = t.get("sim_national")
    opt = result.optimisation
    words = [f"<b>{html.escape(sc.name)}</b> ({html.escape(sc.description or 'no description')}) was run with seed "
             f"{sc.seed} on the {html.escape(result.geography.cluster_map)} cluster map and "
             f"{len(result.projects.projects):,} candidate projects."]
    if opt is not None:
        p = opt.portfolio
        words.append(f"The portfolio optimisation is <b>{html.escape(p.status.label())}</b>"
                     + (f": {int(p.x.sum())} projects funded, total benefit {p.total_benefit:,.1f}." if p.x is not None else "."))
    if nat is not None and len(nat):
        years = len(nat)
        words.append(
            f"Over {years} simulated fiscal year{'s' if years > 1 else ''}, on average "
            f"{fmt('x_thb', nat['disbursed_thb'].mean())} of {fmt('x_thb', nat['allocated_thb'].mean())} was disbursed a year "
            f"({fmt('lapsed_thb', nat['lapsed_thb'].mean())} lapsed); {nat['duplicates_approved'].mean():.1f} duplicated projects "
            f"were approved a year; projects waited {nat['mean_days_to_disbursement'].mean():.0f} days from the Budget Act to "
            f"their first payment and change approvals took {nat['mean_change_approval_days'].mean():.1f} days.")
    summ = t.get("summary")
    if summ is not None and len(summ):
        s = summ.set_index("metric")
        words.append(f"Across {int(s['n'].max())} Monte Carlo replicates, effective benefit was "
                     f"{fmt('x_thb', s.loc['effective_benefit_thb', 'mean'])} a year "
                     f"(95% CI {fmt('x_thb', s.loc['effective_benefit_thb', 'ci_low'])} to "
                     f"{fmt('x_thb', s.loc['effective_benefit_thb', 'ci_high'])}).")
    rep.p(" ".join(words), "summary")
    if opt is not None and not opt.portfolio.status.optimal:
        rep.p("The portfolio solution is <b>not a proven optimum</b>: read its numbers as a feasible plan, "
              "not the best one.", "warn")

    if opt is not None:
        rep.h2("Allocation", "allocation")
        a = opt.allocation
        rep.p(f"Allocation LP: {html.escape(a.status.label())}. Amounts in million THB by province and source "
              "(envelopes, floors and absorption capacities are illustrative scenario parameters). Sources are "
              "interchangeable in the LP's benefit, so how a province's total splits across sources is one of "
              "several equally good answers; the totals per province are what the optimum determines. The "
              "simulation's yearly budget is set differently (the catalogue's budget tightness × the cost of the "
              "year's proposals), and only the provincial <em>shares</em> pass from the LP to the simulation "
              "when the allocation rule is \"optimal\".")
        if len(a.table):
            rep.figure(charts.allocation_by_province(a.table, names), "allocation", "allocation by province and source")
            per = a.table[a.table["level"] == "province"].groupby("area")["amount_mthb"].sum().sort_values(ascending=False)
            top = pd.DataFrame({"province": [names.get(c, c) for c in per.index[:10]],
                                "allocated_thb": per.to_numpy()[:10] * 1e6})
            rep.table(top, table_id="allocation-top")
        for c in a.conflicts:
            rep.p(html.escape(c), "warn")
        if opt.allocation_rules is not None:
            rep.p("Benefit of formula allocations against the LP optimum (same concave benefit):")
            rep.table(opt.allocation_rules.assign(share_of_optimum=opt.allocation_rules["share_of_optimum"]),
                      {"share_of_optimum": "x_share"}, table_id="allocation-rules")

        rep.h2("Portfolio", "portfolio")
        p = opt.portfolio
        rep.p(f"Portfolio MILP over {p.data.n:,} candidate projects: {html.escape(p.status.label())}; "
              f"solve time {p.status.solve_seconds:.2f} s; rules: {', '.join(opt.params.switched_on())}.")
        if p.diagnosis is not None:
            for m in p.diagnosis.messages():
                rep.p(html.escape(m), "warn")
        if opt.baselines is not None:
            rep.p("How far each allocation rule is from the optimum (same rules, same projects):")
            rep.table(opt.baselines, {"share_of_optimum": "x_share"}, table_id="baselines")
        if p.pareto is not None:
            rep.figure(charts.pareto(p.pareto), "pareto", "Pareto frontier")

    if nat is not None and len(nat):
        years_t = t["sim_years"]
        rep.h2("Simulation over time", "simulation")
        w = years_t["allocated_thb"].astype(float)
        curve = [float((years_t[f"q{q}_disbursement_rate"] * w).sum() / w.sum()) for q in (1, 2, 3, 4)]
        rep.figure(charts.disbursement_curves({sc.name: curve}), "disbursement", "disbursement by quarter")
        rep.figure(charts.distributions(years_t["mean_days_to_disbursement"], years_t["duplicates_approved"]),
                   "distributions", "delay and duplication distributions")
        cols = ["fiscal_year", "allocated_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb", "effective_benefit_thb",
                "duplicates_approved", "wasted_on_duplicates_thb", "mean_days_to_disbursement",
                "mean_change_approval_days", "unmet_need", "satisfaction", "equity_gini_per_capita_benefit"]
        rep.table(nat[cols].astype({"fiscal_year": str}), table_id="national")

        rep.h2("Per-province results", "provinces")
        per = years_t.groupby("province").agg(effective_benefit_thb=("effective_benefit_thb", "mean"),
                                              mean_days_to_disbursement=("mean_days_to_disbursement", "mean"),
                                              duplicates_approved=("duplicates_approved", "mean"),
                                              lapsed_thb=("lapsed_thb", "mean"), satisfaction=("satisfaction", "last"))
        pop = result.geography.provinces.set_index("iso_code")["population"]
        per_head = per["effective_benefit_thb"] / pop.reindex(per.index)
        rep.raw('<div class="grid">')
        rep.figure(plot_tilemap(per_head, title="Effective benefit per head (THB a year)", label="THB per head",
                                geo=result.geography), "map_benefit", "map of benefit per head")
        rep.figure(plot_tilemap(per["mean_days_to_disbursement"], title="Days from Budget Act to first payment",
                                label="days", cmap="magma_r", geo=result.geography), "map_delay", "map of delays")
        rep.raw("</div>")
        table = per.reset_index()
        table.insert(1, "name", table["province"].map(names))
        rep.table(table, table_id="province-table")

    _scenario_section(rep, sc.model_dump(mode="json"), [str(p) for p in sc.chain])
    return rep.write()


def compare_report(folder: Path, res, baseline, reforms: list) -> Path:  # res: CompareResult
    d = res.differences
    n = int(res.table["seed"].nunique())
    rep = Report(f"allocsim — {baseline.name} vs {', '.join(r.name for r in reforms)}", folder)
    words = [f"<b>{html.escape(baseline.name)}</b> was compared with "
             f"{', '.join('<b>' + html.escape(r.name) + '</b>' for r in reforms)} on {n} common random-number "
             f"replicates; differences are reform − baseline with {baseline.experiments.confidence:.0%} confidence intervals."]
    for name, grp in d.groupby("scenario", sort=False):
        sig = grp[grp["better"].isin(["better", "worse"])]
        if len(sig) == 0:
            words.append(f"{html.escape(name)} shows no clear change in any metric.")
            continue
        bits = [f"{label(r.metric)} {fmt(r.metric, r.difference, signed=True)} "
                f"({fmt(r.metric, r.ci_low, signed=True)} to {fmt(r.metric, r.ci_high, signed=True)}, {r.better})"
                for r in sig.itertuples()][:5]
        words.append(f"{html.escape(name)}: " + "; ".join(html.escape(b) for b in bits) + ".")
    rep.p(" ".join(words), "summary")
    rep.h2("Differences from the baseline", "differences")
    rep.figure(charts.differences(d), "differences", "differences with confidence intervals")
    shown = d[["scenario", "metric", "baseline_mean", "reform_mean", "difference", "ci_low", "ci_high", "better"]]
    rep.raw('<table id="comparison-table"><thead><tr><th>scenario</th><th>metric</th><th>baseline</th><th>reform</th>'
            "<th>difference</th><th>95% CI</th><th>reading</th></tr></thead><tbody>")
    for r in shown.itertuples():
        rep.raw(f'<tr data-scenario="{html.escape(r.scenario)}" data-metric="{r.metric}" data-difference="{r.difference!r}">'
                f"<td>{html.escape(r.scenario)}</td><td>{html.escape(label(r.metric))}</td>"
                f'<td class="num">{fmt(r.metric, r.baseline_mean)}</td><td class="num">{fmt(r.metric, r.reform_mean)}</td>'
                f'<td class="num">{fmt(r.metric, r.difference, signed=True)}</td>'
                f'<td class="num">{fmt(r.metric, r.ci_low, signed=True)} to {fmt(r.metric, r.ci_high, signed=True)}</td>'
                f'<td class="{r.better}">{r.better}</td></tr>')
    rep.raw("</tbody></table>")
    rep.h2("Disbursement by quarter", "disbursement")
    s = res.summary.set_index(["scenario", "metric"])["mean"]
    curves = {name: [float(s.get((name, f"q{q}_disbursement_rate"), np.nan)) for q in (1, 2, 3, 4)]
              for name in [baseline.name] + [r.name for r in reforms]}
    rep.figure(charts.disbursement_curves(curves), "disbursement", "disbursement curves vs baseline")
    rep.h2("Per-province differences", "provinces")
    pv = res.provinces
    rep.raw('<div class="grid">')
    for name in [r.name for r in reforms]:
        for metric, title in (("mean_days_to_disbursement", "days to first payment"), ("effective_benefit_thb", "benefit")):
            v = pv[(pv["scenario"] == name) & (pv["metric"] == metric)].set_index("province")["difference"]
            if metric.endswith("_thb"):
                v = v / 1e6
            rep.figure(plot_tilemap(v, title=f"{name}: change in {title}", diverging=True,
                                    label="M THB" if metric.endswith("_thb") else "days"),
                       f"map_{name}_{metric}", f"map of {metric} difference for {name}")
    rep.raw("</div>")
    base_flat = dict(_flatten(baseline.model_dump(mode="json")))
    for r in reforms:
        diff_keys = {k for k, v in _flatten(r.model_dump(mode="json")) if base_flat.get(k) != v}
        rep.h2(f"{r.name}: what differs from the baseline", f"scenario-{r.name}")
        rep.table(pd.DataFrame([(k, base_flat.get(k), v) for k, v in _flatten(r.model_dump(mode="json")) if k in diff_keys],
                               columns=["field", "baseline", "reform"]))
    _scenario_section(rep, baseline.model_dump(mode="json"), [str(p) for p in baseline.chain])
    return rep.write()
