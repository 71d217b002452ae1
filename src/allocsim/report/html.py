"""report.html: self-contained (PNG charts embedded as base64), readable offline, opening with a
plain-words summary. ``run_report`` serves ``allocsim run``, ``compare_report`` ``allocsim compare``.
Every chart is also saved as a PNG file next to the report. ``lang="th"`` writes the report in Thai
(strings from :mod:`allocsim.report.i18n`, Thai province names, million baht) with the Sarabun font
embedded, so a browser without Thai fonts still shows Thai."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from allocsim.data.geography import CLUSTER_MAPS, load_geography
from allocsim.metrics import unit_of
from allocsim.report import charts, fonts
from allocsim.report.format import fmt, label
from allocsim.report.i18n import LANGS, t
from allocsim.report.map import choropleth
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
    def __init__(self, title: str, folder: Path, lang: str = "en") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
        self.title, self.folder, self.lang = title, folder, lang
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
        head = "".join(f"<th>{html.escape(label(str(c), self.lang))}</th>" for c in cols)
        rows = []
        for _, r in df.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
                    metric = formats.get(c, str(c))
                    raw = "" if pd.isna(v) else repr(float(v))
                    cells.append(f'<td class="num" data-col="{html.escape(str(c))}" data-value="{raw}">'
                                 f"{html.escape(fmt(metric, v, lang=self.lang))}</td>")
                else:
                    cls = f' class="{v}"' if v in ("better", "worse") else ""
                    shown = t(v, self.lang) if v in ("better", "worse", "changed", "no change", "no clear change") else str(v)
                    cells.append(f'<td data-col="{html.escape(str(c))}"{cls}>{html.escape(shown)}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        tid = f' id="{table_id}"' if table_id else ""
        self.parts.append(f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def write(self) -> Path:
        css = CSS
        if self.lang == "th":  # the packaged font, inlined: Thai shows without system Thai fonts
            css = fonts.font_face_css() + CSS + f"body{{font-family:'{fonts.FAMILY}',system-ui,sans-serif}}"
        foot = t("Made by allocsim. Every number that is not a reference fact is produced by scenario "
                 "parameters labelled illustrative; see the scenario section.", self.lang)
        doc = (f"<!DOCTYPE html><html lang='{self.lang}'><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
               f"<style>{css}</style></head><body><h1>{html.escape(self.title)}</h1>{''.join(self.parts)}"
               f"<p class='muted'>{html.escape(foot)}</p></body></html>")
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
    rep.h2(t("Scenario as run", rep.lang), "scenario")
    rep.p(t("Files (base first): {files}. Inherited values are resolved below.", rep.lang).format(
        files=" → ".join(html.escape(c) for c in chain)))
    # the uncertainty ranges and package efforts belong to `robust`/`packages` reports (their own
    # section there); a run or compare report lists the values the run used
    rows = [(k, v) for k, v in _flatten(scenario) if (only is None or k in only)
            and not k.startswith(("uncertainty", "packages"))]
    rep.table(pd.DataFrame(rows, columns=["field", "value"]), table_id="scenario-table")


def _province_names(geography, lang: str) -> dict[str, str]:
    """Province names in the report's language (Thai names from the reference data)."""
    p = geography.provinces
    return dict(zip(p["iso_code"], p["name_th" if lang == "th" else "name_en"], strict=True))


def _scenario_geography(sc):
    """The geography a scenario ran on (its cluster map), for the clusters drawn on maps."""
    cmap = sc.geography.cluster_map
    return load_geography(cmap if cmap in CLUSTER_MAPS else sc.resolve_path(cmap))


def dual_sentences(duals: pd.DataFrame, names: dict[str, str], lang: str = "en", limit: int = 1) -> list[str]:
    """Plain sentences from the LP's shadow prices: what one more million THB of each envelope
    buys, and the most valuable province limit."""
    out = []
    env = duals[duals["rule"].isin(["envelope", "cluster_envelope"])]
    for _, r in env.sort_values("benefit_per_extra_mthb", ascending=False).iterrows():
        v, src = r["benefit_per_extra_mthb"], t(r["source"], lang)
        if v > 0:
            out.append(t("one more million THB of {source} buys {value} M THB of benefit", lang).format(
                source=src, value=f"{v:,.2f}"))
        elif r["binding"]:
            out.append(t("more {source} buys nothing although its envelope is spent in full (other "
                         "rules bind first)", lang).format(source=src))
        else:
            out.append(t("more {source} buys nothing (its envelope is not spent in full)", lang).format(
                source=src))
    bind = duals[duals["rule"].isin(["absorption", "ceiling"]) & (duals["benefit_per_extra_mthb"] > 0)]
    for _, r in bind.sort_values("benefit_per_extra_mthb", ascending=False).head(limit).iterrows():
        out.append(t("raising {area}'s {rule} limit by one million THB buys {value} M THB of benefit", lang)
                   .format(area=names.get(r["area"], r["area"]), rule=t(r["rule"], lang),
                           value=f"{r['benefit_per_extra_mthb']:,.2f}"))
    return out


def money_provenance(sc, lang: str = "en") -> str:  # sc: scenario.schema.Scenario
    """Which money figures are real and which are assumed: the envelopes are compared with the
    packaged budget-bill tables (verified years only), so the sentence cannot drift from the data."""
    from allocsim.data.budget import VERIFIED_YEARS, real_envelopes

    a = sc.allocation
    real = []
    for year in sorted(VERIFIED_YEARS, reverse=True):
        env = real_envelopes(year)
        if abs(a.envelope_mthb.get("province_budget", -1.0) - env.province_total_mthb) < 0.01:
            real.append(t("the provincial envelope ({amount}) is the real FY{year} total of the 76 provinces' "
                          "own budgets", lang).format(amount=fmt("thb", env.province_total_mthb * 1e6, lang=lang),
                                                     year=year))
        if abs(a.cluster_envelope_mthb - env.cluster_total_mthb) < 0.01:
            real.append(t("the cluster envelope ({amount}) is the real FY{year} total of the 18 clusters' "
                          "budgets", lang).format(amount=fmt("thb", env.cluster_total_mthb * 1e6, lang=lang),
                                                  year=year))
        if real:
            break
    head = (t("Real figures: {list} (budget bills via WeVis open-budget data).", lang).format(
        list="; ".join(real)) + " " + t("Licence of these figures: CC BY-NC 4.0 (WeVis).", lang) if real else t("No money figure in this scenario is a real budget amount.", lang))
    return head + " " + t("Assumed (illustrative): ministries' function budgets, grants to local governments, "
                          "private money, floors, ceilings, absorption capacities, and every project's cost "
                          "and benefit.", lang) + " " + t(
        "The simulation spends the same envelopes, to the baht.", lang)


def pvd_units(cols: list[str]) -> dict[str, str]:
    """Each plan-vs-delivery column's unit: the metric catalogue's where it has the column, else
    the column's own unit suffix (``_thb`` baht, ``_share`` share, ``days`` days), so baht are
    never shown next to plain numbers."""
    out = {}
    for c in cols:
        u = unit_of(c)
        if u == "number":
            u = "thb" if c.endswith("_thb") else "share" if c.endswith("_share") else \
                "days" if "days" in c else "number"
        out[c] = u
    return out


def run_report(folder: Path, result, lang: str = "en") -> Path:  # result: experiments.run.RunResult
    """report.html for one run; ``lang`` "en" (default) or "th"."""
    with plt.rc_context(fonts.rc(lang)):
        return _run_report(folder, result, lang)


def _run_report(folder: Path, result, lang: str) -> Path:
    sc, tb = result.scenario, result.tables
    names = _province_names(result.geography, lang)
    rep = Report(f"allocsim — {sc.name}", folder, lang)
    nat = tb.get("sim_national")
    opt = result.optimisation
    words = [t("<b>{name}</b> ({description}) was run with seed {seed} on the {cluster_map} cluster map "
               "and {projects} candidate projects.", lang).format(
        name=html.escape(sc.name), description=html.escape(sc.description or t("no description", lang)),
        seed=sc.seed, cluster_map=html.escape(result.geography.cluster_map),
        projects=f"{len(result.projects.projects):,}")]
    from allocsim.experiments.run import counterfactual, first_year_funding

    first = first_year_funding(tb)
    if first is not None:  # the headline is what the simulation funded, not the optimiser's plan
        words.append(t("In the simulation, <b>{n} projects were funded</b> in FY{fy} ({money} M THB).",
                       lang).format(n=f"{first[1]:,}", fy=first[0], money=f"{first[2] / 1e6:,.1f}"))
    if opt is not None:
        p = opt.portfolio
        cf = counterfactual(sc, tb)
        words.append(t("The portfolio optimisation is <b>{status}</b>", lang).format(
            status=html.escape(p.status.label()))
            + (t(": {n} projects funded, total benefit {benefit}.", lang).format(
                n=int(p.x.sum()), benefit=f"{p.total_benefit:,.1f}") if p.x is not None else ".")
            + (" " + t("This is the optimal plan for the same money (counterfactual), not what the simulation "
                       "ran: the simulation followed the scenario's allocation rule.", lang) if cf else ""))
    if nat is not None and len(nat):
        years = len(nat)
        unf = nat["unfunded_thb"] if "unfunded_thb" in nat else nat["lapsed_thb"] * 0  # apart from lapse
        words.append(t(
            "Over {years} simulated fiscal year{plural}, on average {disbursed} of {allocated} was disbursed a "
            "year ({unfunded} funded no project: the proposals left cost more than their holder's money left or lacked local co-funding; {lapsed} lapsed in execution); "
            "{duplicates} duplicated projects were approved a year; projects "
            "waited {wait} days from the Budget Act to their first payment and change approvals took "
            "{change} days.", lang).format(
            years=years, plural="s" if years > 1 else "", disbursed=fmt("thb", nat["disbursed_thb"].mean(), lang=lang),
            allocated=fmt("thb", nat["allocated_thb"].mean(), lang=lang),
            lapsed=fmt("lapsed_thb", nat["lapsed_thb"].mean(), lang=lang),
            unfunded=fmt("thb", unf.mean(), lang=lang),
            duplicates=f"{nat['duplicates_approved'].mean():.1f}",
            wait=f"{nat['mean_days_to_disbursement'].mean():.0f}",
            change=f"{nat['mean_change_approval_days'].mean():.1f}"))
    if opt is not None:
        words.append(html.escape(money_provenance(sc, lang)))
        if opt.allocation.duals is not None and len(opt.allocation.duals):
            said = dual_sentences(opt.allocation.duals, names, lang)
            if said:
                words.append(html.escape(t("In the allocation LP, {sentences}.", lang).format(
                    sentences="; ".join(said))))
    summ = tb.get("summary")
    if summ is not None and len(summ):
        s = summ.set_index("metric")
        words.append(t("Across {n} Monte Carlo replicates, effective benefit was {mean} a year (95% CI "
                       "{low} to {high}).", lang).format(
            n=int(s["n"].max()), mean=fmt("thb", s.loc["effective_benefit_thb", "mean"], lang=lang),
            low=fmt("thb", s.loc["effective_benefit_thb", "ci_low"], lang=lang),
            high=fmt("thb", s.loc["effective_benefit_thb", "ci_high"], lang=lang)))
    rep.p(" ".join(words), "summary")
    yearly = getattr(result, "solver_years", None)
    if yearly:  # every year's solve of the chain, not only FY1: a time limit or fallback is visible
        bad = [y for y in yearly if y["verdict"] != "optimal"]
        rep.p(t("Each simulated year the optimiser allocated and selected again; HiGHS's status and gap "
                "per year:", lang) + " " + "; ".join(
            f"FY{y['fiscal_year']}: " + ("<b>" + html.escape(y["verdict"]) + "</b>" if y in bad
                                         else html.escape(t("optimal", lang))) for y in yearly) + ".",
              "warn" if bad else "")
    if opt is not None and not opt.portfolio.status.optimal:
        rep.p(t("The portfolio solution is <b>not a proven optimum</b>: read its numbers as a feasible "
                "plan, not the best one.", lang), "warn")

    if opt is not None:
        rep.h2(t("Allocation", lang), "allocation")
        a = opt.allocation
        rep.p(t("Allocation LP: {status}.", lang).format(status=html.escape(a.status.label())) + " " + t(
            "Amounts in million THB by province, source and cluster. The LP is the continuous relaxation "
            "of project selection: each source funds only the projects its rules allow (ministry budgets "
            "ministries' projects, local grants co-funded local projects, province and cluster budgets area "
            "projects, private money projects with a private partner), and benefit comes only from money "
            "spent on candidate projects, so its optimum bounds what any portfolio can deliver with the "
            "same money.", lang) + " " + html.escape(money_provenance(sc, lang)) + (" " + t(
            "This run's allocation rule is '{rule}': the simulation's budget holders get that rule's "
            "split of the envelopes, and the LP's allocation shown here is what the optimiser would do "
            "with the same money (the table of formula allocations below compares them).", lang).format(
            rule=sc.levers.allocation_rule) if sc.levers.allocation_rule != "optimal" else ""))
        if len(a.table):
            rep.figure(charts.allocation_by_province(a.table, names, lang=lang), "allocation",
                       "allocation by province and source")
            per = a.table[a.table["level"] == "province"].groupby("area")["amount_mthb"].sum().sort_values(ascending=False)
            top = pd.DataFrame({"province": [names.get(c, c) for c in per.index[:10]],
                                "allocated_thb": per.to_numpy()[:10] * 1e6})
            rep.table(top, table_id="allocation-top")
            pop_all = result.geography.provinces.set_index("iso_code")["population"]
            lp_head = per * 1e6 / pop_all.reindex(per.index)
            from allocsim.data.budget import real_envelopes

            real = real_envelopes(sc.allocation.actual_year).province_mthb
            real_head = real * 1e6 / pop_all.reindex(real.index)
            rep.raw('<div class="grid">')
            rep.figure(choropleth(lp_head, t("Allocation LP: money per head (THB, four sources)", lang),
                                  t("THB per head", lang), clusters=result.geography.provinces, lang=lang),
                       "map_allocation", "map of the LP's money per head")
            rep.figure(choropleth(real_head, t("Real provincial budget per head, FY{year} (THB)", lang).format(
                year=sc.allocation.actual_year), t("THB per head", lang), clusters=result.geography.provinces,
                lang=lang), "map_real_budget", "map of the real provincial budget per head")
            rep.raw("</div>")
        for c in a.conflicts:
            rep.p(html.escape(c), "warn")
        if a.duals is not None and len(a.duals):
            rep.p(t("Shadow prices: the benefit one more million THB of each limit would buy (HiGHS's duals "
                    "of the LP; 0 where the limit does not bind). Envelopes, and the ten most valuable "
                    "province limits:", lang))
            d = a.duals
            shown = pd.concat([d[d["rule"].isin(["envelope", "cluster_envelope"])],
                               d[~d["rule"].isin(["envelope", "cluster_envelope"]) & (d["benefit_per_extra_mthb"].abs() > 0)]
                               .sort_values("benefit_per_extra_mthb", ascending=False).head(10)])
            shown = shown.assign(area=[names.get(x, x) for x in shown["area"]])
            rep.table(shown, table_id="allocation-duals")
        if opt.allocation_rules is not None:
            rep.p(t("Formula allocations against the LP optimum: each formula splits every envelope (after "
                    "the per-capita floor) by its weights and each area then funds its best projects under "
                    "the same rules, so no formula can exceed 100 %:", lang))
            rep.table(opt.allocation_rules, {"share_of_optimum": "share"}, table_id="allocation-rules")

        hc = tb.get("hindcast")
        if hc is not None and len(hc):
            from allocsim.experiments.hindcast import budget_changes

            best = hc.iloc[0]
            _ch, dist = budget_changes()
            rep.h2(t("Hindcast: which rule predicts FY2569", lang), "hindcast")
            rep.p(t("Each allocation rule is given the real FY2569 provincial total and predicts its split "
                    "from FY2568 data; errors are against the real FY2569 budgets. {best} predicts best "
                    "(mean absolute error {mape:.1f} %, rank correlation {rho:.2f}). Rules marked "
                    "'illustrative inputs' rest on the synthetic catalogue or drawn plan scores. The real "
                    "year-on-year changes of the 94 provinces and clusters have kurtosis {kurt:.1f} (3 for a "
                    "normal distribution) and range from {lo:+.1f} % to {hi:+.1f} %.", lang).format(
                best=html.escape(str(best["rule"])), mape=best["mape_pct"], rho=best["spearman"],
                kurt=dist["kurtosis"], lo=dist["min_pct"], hi=dist["max_pct"]))
            rep.table(hc, table_id="hindcast")
            sim_ch = tb.get("simulated_budget_changes")
            if sim_ch is not None and len(sim_ch):
                from allocsim.data.formula import kurtosis

                x = sim_ch["change_pct"].to_numpy(float)
                rep.p(t("Next to it, the simulation under the incremental rule (last year's money less a share of "
                        "what lapsed, {n} year-on-year changes of {units} provinces and clusters): kurtosis "
                        "{kurt:.1f}, standard deviation {sd:.1f} % (real: {rkurt:.1f} and {rsd:.1f} %).", lang).format(
                    n=len(x), units=sim_ch.iloc[:, 0].nunique(), kurt=kurtosis(x), sd=float(x.std()),
                    rkurt=dist["kurtosis"], rsd=dist["sd_pct"]))
                rep.figure(charts.change_distributions(_ch["change_pct"], sim_ch["change_pct"], lang=lang),
                           "budget_changes", "distribution of year-on-year budget changes")
            hp = tb.get("hindcast_provinces")
            if hp is not None and best["rule"] in hp:
                err = (100 * (hp[best["rule"]] - hp["actual"]) / hp["actual"]).set_axis(hp["iso_code"])
                rep.figure(choropleth(err, t("Hindcast error of the best rule ({rule}), % of the real FY2569 budget",
                                             lang).format(rule=best["rule"]), "%",
                                      clusters=result.geography.provinces, diverging=True, lang=lang),
                           "map_hindcast", "map of the hindcast error")

        rep.h2(t("Portfolio", lang), "portfolio")
        p = opt.portfolio
        rep.p(t("Portfolio MILP over {n} candidate projects: {status}; solve time {seconds} s; rules: "
                "{rules}.", lang).format(n=f"{p.data.n:,}", status=html.escape(p.status.label()),
                                         seconds=f"{p.status.solve_seconds:.2f}",
                                         rules=", ".join(opt.params.switched_on())))
        if p.diagnosis is not None:
            for m in p.diagnosis.messages():
                rep.p(html.escape(m), "warn")
        if opt.baselines is not None:
            rep.p(t("How far each allocation rule is from the optimum (same rules, same projects):", lang))
            rep.table(opt.baselines, {"share_of_optimum": "share"}, table_id="baselines")
        alt = p.alternatives
        if alt is not None and len(alt.summary) > 1:
            rep.h2(t("Near-optimal alternatives", lang), "alternatives")
            rep.p(t("Portfolios within {slack:.0%} of the optimum's benefit, each as different as possible "
                    "from the optimum and from the ones before (portfolio 0 is the optimum). Provinces whose "
                    "least money within that slack is positive are must-fund; the others are negotiable.",
                    lang).format(slack=alt.slack))
            rep.table(alt.summary, {"share_of_optimum": "share"}, table_id="alternatives")
            chosen = alt.portfolios.assign(v=1).pivot_table(index="project_id", columns="portfolio", values="v",
                                                            fill_value=0)
            differ = chosen[(chosen.sum(axis=1) > 0) & (chosen.sum(axis=1) < chosen.shape[1])]
            if len(differ):
                ben = pd.Series(p.data.benefit, index=p.data.ids)
                top = differ.loc[ben.reindex(differ.index).sort_values(ascending=False).index[:25]]
                rep.p(t("Projects that some near-optimal portfolios fund and others do not (largest benefit "
                        "first; 1 = funded):", lang))
                rep.table(top.reset_index().rename(columns=lambda c: f"portfolio {c}" if isinstance(c, int | np.integer) else c),
                          table_id="alternatives-differ")
            rng = alt.ranges.assign(name=[names.get(c, n) for c, n in zip(alt.ranges["province"], alt.ranges["name"], strict=True)])
            rep.table(rng.sort_values("max_bound_mthb", ascending=False).head(20), table_id="alternative-ranges")
        if p.pareto is not None:
            rep.figure(charts.pareto(p.pareto, lang=lang), "pareto", "Pareto frontier")

    if nat is not None and len(nat):
        years_t = tb["sim_years"]
        rep.h2(t("Simulation over time", lang), "simulation")
        pvd = tb.get("plan_vs_delivery")
        if pvd is not None and len(pvd) and (pvd["area"] == "national").any():
            g = pvd[pvd["area"] == "national"].iloc[0]
            rep.p("<b>" + t("How much of the plan was delivered", lang) + "</b>: " + t(
                "{share} of the planned benefit reached citizens ({planned} M THB of projects planned). "
                "Of {money} M THB allocated over {years} years and {carried_in} M THB carried in, "
                "{disbursed} M THB was disbursed, {carried} M THB carried over, {lapsed} M THB lapsed in "
                "execution and {unfunded} M THB funded no project ({cofund} M THB of it with holders whose "
                "proposals left fitted their money but lacked local co-funding); {horizon} M THB was "
                "still carried over at the end of the last year, paying beyond the horizon (the "
                "delivered share cannot count it yet); "
                "{dups} duplicate projects were funded.", lang).format(
                share=f"{g['delivered_share']:.0%}", planned=f"{g['planned_thb'] / 1e6:,.0f}",
                disbursed=f"{g['disbursed_thb'] / 1e6:,.0f}", carried=f"{g['carried_over_thb'] / 1e6:,.0f}",
                lapsed=f"{g['lapsed_thb'] / 1e6:,.0f}",
                money=f"{(g['money_thb'] + g['cluster_money_thb']) / 1e6:,.0f}",
                carried_in=f"{g['carried_in_thb'] / 1e6:,.0f}", unfunded=f"{g['unfunded_thb'] / 1e6:,.0f}",
                cofund=f"{g.get('unfunded_cofunding_thb', 0) / 1e6:,.0f}",
                horizon=f"{g.get('carried_out_at_horizon_thb', 0) / 1e6:,.0f}",
                years=len(nat), dups=int(g["duplicates_funded"])))
            worst = pvd[pvd["area"] != "national"].sort_values("delivered_share").head(10)
            cols = ["area", "name", "planned_benefit_thb", "delivered_benefit_thb", "delivered_share", "planned_thb",
                    "disbursed_thb", "lapsed_thb", "duplicates_funded", "mean_days_to_first_payment"]
            rep.table(worst.assign(name=worst["area"].map(names))[[c for c in cols if c in worst or c == "name"]],
                      formats=pvd_units(cols), table_id="plan-vs-delivery")
            rep.p(t("Mean days to first payment here pool every funded project of every year, including "
                    "projects first paid after their fiscal year; the yearly tables' days to first "
                    "disbursement count a year's projects paid within that year.", lang))
        w = years_t["allocated_thb"].astype(float)
        curve = [float((years_t[f"q{q}_disbursement_rate"] * w).sum() / w.sum()) for q in (1, 2, 3, 4)]
        rep.figure(charts.disbursement_curves({sc.name: curve}, lang=lang), "disbursement", "disbursement by quarter")
        rep.figure(charts.distributions(years_t["mean_days_to_disbursement"], years_t["duplicates_approved"],
                                        lang=lang), "distributions", "delay and duplication distributions")
        cols = ["fiscal_year", "allocated_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb", "effective_benefit_thb",
                "duplicates_approved", "wasted_on_duplicates_thb", "mean_days_to_disbursement",
                "mean_change_approval_days", "unmet_need", "satisfaction", "equity_gini_per_capita_benefit"]
        rep.table(nat[cols].astype({"fiscal_year": str}), table_id="national")

        rep.h2(t("Per-province results", lang), "provinces")
        per = years_t.groupby("province").agg(effective_benefit_thb=("effective_benefit_thb", "mean"),
                                              mean_days_to_disbursement=("mean_days_to_disbursement", "mean"),
                                              duplicates_approved=("duplicates_approved", "mean"),
                                              lapsed_thb=("lapsed_thb", "mean"), satisfaction=("satisfaction", "last"))
        pop = result.geography.provinces.set_index("iso_code")["population"]
        per_head = per["effective_benefit_thb"] / pop.reindex(per.index)
        rep.raw('<div class="grid">')
        clusters = result.geography.provinces
        rep.figure(choropleth(per_head, t("Effective benefit per head (THB a year)", lang), t("THB per head", lang),
                              clusters=clusters, lang=lang), "map_benefit", "map of benefit per head")
        rep.figure(choropleth(per["mean_days_to_disbursement"], t("Days from Budget Act to first payment", lang),
                              t("days", lang), cmap="magma_r", clusters=clusters, lang=lang),
                   "map_delay", "map of delays")
        rep.figure(choropleth(per["lapsed_thb"] / pop.reindex(per.index), t("Lapsed money per head (THB a year)", lang),
                              t("THB per head", lang), cmap="Reds", clusters=clusters, lang=lang),
                   "map_lapsed", "map of lapsed money per head")
        rep.figure(choropleth(per["duplicates_approved"], t("Duplicated projects approved (a year)", lang),
                              t("projects", lang), cmap="Oranges", clusters=clusters, lang=lang),
                   "map_duplicates", "map of duplicates approved")
        rep.figure(choropleth(per["satisfaction"], t("Citizen satisfaction (final year)", lang), t("share", lang),
                              clusters=clusters, lang=lang), "map_satisfaction", "map of satisfaction")
        rep.raw("</div>")
        table = per.reset_index()
        table.insert(1, "name", table["province"].map(names))
        rep.table(table, table_id="province-table")

    _scenario_section(rep, sc.model_dump(mode="json"), [str(p) for p in sc.chain])
    return rep.write()


def compare_report(folder: Path, res, baseline, reforms: list, lang: str = "en") -> Path:  # res: CompareResult
    """report.html for ``allocsim compare``; ``lang`` "en" (default) or "th"."""
    with plt.rc_context(fonts.rc(lang)):
        return _compare_report(folder, res, baseline, reforms, lang)


def _compare_report(folder: Path, res, baseline, reforms: list, lang: str) -> Path:
    d = res.differences
    n = int(res.table["seed"].nunique())
    rep = Report(f"allocsim — {baseline.name} vs {', '.join(r.name for r in reforms)}", folder, lang)
    words = [t("<b>{baseline}</b> was compared with {reforms} on {n} common random-number replicates; "
               "differences are reform − baseline with {confidence} confidence intervals.", lang).format(
        baseline=html.escape(baseline.name), reforms=", ".join("<b>" + html.escape(r.name) + "</b>" for r in reforms),
        n=n, confidence=f"{baseline.experiments.confidence:.0%}")]
    for name, grp in d.groupby("scenario", sort=False):
        sig = grp[grp["better"].isin(["better", "worse"])]
        if len(sig) == 0:
            words.append(t("{name} shows no clear change in any metric.", lang).format(name=html.escape(name)))
            continue
        bits = [f"{label(r.metric, lang)} {fmt(r.metric, r.difference, signed=True, lang=lang)} "
                f"({fmt(r.metric, r.ci_low, signed=True, lang=lang)} {t('to', lang)} "
                f"{fmt(r.metric, r.ci_high, signed=True, lang=lang)}, {t(r.better, lang)})"
                for r in sig.itertuples()][:5]
        words.append(f"{html.escape(name)}: " + "; ".join(html.escape(b) for b in bits) + ".")
    rep.p(" ".join(words), "summary")
    plan = res.summary[res.summary["metric"] == "plan_delivered_share"]
    if len(plan):
        rep.h2(t("How much of the plan was delivered", lang), "plan")
        rep.figure(charts.plan_delivered(plan, lang=lang), "plan_delivered", "share of the plan delivered per scenario")
        # the share's denominator is each scenario's own plan: the delivered baht stand beside it
        ben = res.summary[res.summary["metric"] == "effective_benefit_thb"].set_index("scenario")["mean"]
        rows = pd.DataFrame({"scenario": plan["scenario"].to_numpy(),
                             "effective_benefit_thb": plan["scenario"].map(ben).to_numpy(float),
                             "plan_delivered_share": plan["mean"].to_numpy(float)})
        rep.table(rows, table_id="plan-delivered")
    rep.h2(t("Differences from the baseline", lang), "differences")
    rep.figure(charts.differences(d, lang=lang), "differences", "differences with confidence intervals")
    if "crn_correlation" not in d:
        d = d.assign(crn_correlation=np.nan)
    shown = d[["scenario", "metric", "baseline_mean", "reform_mean", "difference", "ci_low", "ci_high", "better",
               "crn_correlation"]]
    heads = [t(h, lang) for h in ("scenario", "metric", "baseline", "reform", "difference")]
    rep.raw('<table id="comparison-table"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
            + f"<th>95% CI</th><th>{t('reading', lang)}</th>"
            + f"<th>{t('baseline/reform correlation', lang)}</th></tr></thead><tbody>")
    for r in shown.itertuples():
        rep.raw(f'<tr data-scenario="{html.escape(r.scenario)}" data-metric="{r.metric}" data-difference="{r.difference!r}">'
                f"<td>{html.escape(r.scenario)}</td><td>{html.escape(label(r.metric, lang))}</td>"
                f'<td class="num">{fmt(r.metric, r.baseline_mean, lang=lang)}</td>'
                f'<td class="num">{fmt(r.metric, r.reform_mean, lang=lang)}</td>'
                f'<td class="num">{fmt(r.metric, r.difference, signed=True, lang=lang)}</td>'
                f'<td class="num">{fmt(r.metric, r.ci_low, signed=True, lang=lang)} {t("to", lang)} '
                f'{fmt(r.metric, r.ci_high, signed=True, lang=lang)}</td>'
                f'<td class="{r.better}">{t(r.better, lang)}</td>'
                f'<td class="num">{"–" if pd.isna(r.crn_correlation) else f"{r.crn_correlation:.2f}"}</td></tr>')
    rep.raw("</tbody></table>")
    rep.h2(t("Disbursement by quarter", lang), "disbursement")
    s = res.summary.set_index(["scenario", "metric"])["mean"]
    curves = {name: [float(s.get((name, f"q{q}_disbursement_rate"), np.nan)) for q in (1, 2, 3, 4)]
              for name in [baseline.name] + [r.name for r in reforms]}
    rep.figure(charts.disbursement_curves(curves, lang=lang), "disbursement", "disbursement curves vs baseline")
    rep.h2(t("Per-province differences", lang), "provinces")
    pv = res.provinces
    rep.raw('<div class="grid">')
    for reform in reforms:
        name, geo = reform.name, _scenario_geography(reform)
        for metric, title in (("mean_days_to_disbursement", "days to first payment"), ("effective_benefit_thb", "benefit")):
            v = pv[(pv["scenario"] == name) & (pv["metric"] == metric)].set_index("province")["difference"]
            money = unit_of(metric) == "thb"  # the metric catalogue's unit, not the name
            if money:
                v = v / 1e6
            unit = t("M THB" if money else "days", lang)
            heading = f"{name}: {t('change in', lang)} {t(title, lang)}"
            fig = choropleth(v, heading, unit, clusters=geo.provinces, diverging=True, lang=lang)
            rep.figure(fig, f"map_{name}_{metric}", f"map of {metric} difference for {name}")
    rep.raw("</div>")
    base_flat = dict(_flatten(baseline.model_dump(mode="json")))
    for r in reforms:
        diff_keys = {k for k, v in _flatten(r.model_dump(mode="json")) if base_flat.get(k) != v}
        rep.h2(f"{r.name}: {t('what differs from the baseline', lang)}", f"scenario-{r.name}")
        rep.table(pd.DataFrame([(k, base_flat.get(k), v) for k, v in _flatten(r.model_dump(mode="json")) if k in diff_keys],
                               columns=["field", "baseline", "reform"]))
    _scenario_section(rep, baseline.model_dump(mode="json"), [str(p) for p in baseline.chain])
    return rep.write()


def sweep_report(folder: Path, res, sc, lang: str = "en") -> Path:  # res: experiments.api.SweepResult
    """report.html for ``allocsim sweep``: what was swept, the most influential parameter per
    metric, the sensitivity charts (saved under charts/) and the scenario."""
    with plt.rc_context(fonts.rc(lang)):
        cfg, idx = sc.experiments.sweep, res.indices
        rep = Report(f"allocsim — {t('sweep', lang)}: {sc.name}", folder, lang)
        rep.p(t("<b>{name}</b> was swept with a {design} design: {points} parameter points × {seeds} "
                "seeds = {runs} runs of the closed loop.", lang).format(
            name=html.escape(sc.name), design=html.escape(cfg.design),
            points=int(res.table["point"].nunique()), seeds=int(res.table["seed"].nunique()),
            runs=len(res.table)), "summary")
        rep.h2(t("Swept parameters", lang), "parameters")
        rep.table(pd.DataFrame([(k, v[0], v[-1]) for k, v in cfg.parameters.items()],
                               columns=["parameter", "low", "high"]), table_id="sweep-parameters")
        if len(idx):
            main_kinds = idx[idx["index"].isin(["mu_star", "ST", "delta"])]
            top = main_kinds.sort_values("value", ascending=False).groupby("metric", sort=False).head(1)
            rep.h2(t("Most influential parameter per metric", lang), "summary-table")
            rep.table(top[["metric", "parameter", "index", "value", "conf"]].reset_index(drop=True),
                      formats={"value": "index", "conf": "index"}, table_id="sweep-summary")
            rep.h2(t("Sensitivity", lang), "sensitivity")
            for metric in dict.fromkeys(idx["metric"]):
                rep.figure(charts.sensitivity(idx, metric), f"sensitivity_{metric}",
                           f"sensitivity of {metric}")
        _scenario_section(rep, sc.model_dump(mode="json"), [str(p) for p in sc.chain])
        return rep.write()
