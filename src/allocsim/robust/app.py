"""The committee page: open a result folder of ``allocsim compare``, ``robust`` or ``packages``,
pick a reform and metrics, and read the differences with their intervals, how often each reform
beats today's rules across futures, where it fails (PRIM boxes), which uncertainties drive it,
the province map and disbursement against plan.

    allocsim serve RESULTS          # or: ALLOCSIM_RESULTS=RESULTS solara run src/allocsim/robust/app.py

Solara (the same framework as the simulation page, so one set of offline front-end assets serves
both — ``scripts/fetch_solara_assets.py`` caches them at install time; nothing is loaded from a
CDN). The page only reads the CSV files of the folder; every number shown carries its raw value
in ``data-value`` so a test can check it against the CSV.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import solara  # noqa: E402

from allocsim.experiments.metrics import LOWER_IS_BETTER  # noqa: E402
from allocsim.report.format import fmt, label  # noqa: E402
from allocsim.robust.futures import PLAN_METRICS  # noqa: E402

CSS = """
table.c{border-collapse:collapse;margin:.5em 0;font-size:.9em} .c th,.c td{border:1px solid #ddd;padding:.25em .6em}
.c th{background:#f0f0f0;text-align:left} .c td.num{text-align:right;font-variant-numeric:tabular-nums}
.summary{background:#f3f7fb;border-left:4px solid #2c7fb8;padding:.6em 1em}
"""
HEADLINE = ("effective_benefit_thb", "duplicate_money_thb", "mean_days_to_disbursement")


def folder_kind(folder: Path) -> str | None:
    """What a result folder holds: "robust", "packages", "compare" or None."""
    for kind, f in (("robust", "robustness.csv"), ("packages", "packages.csv"), ("compare", "comparison.csv")):
        if (Path(folder) / f).is_file():
            return kind
    return None


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    f = folder / name
    return pd.read_csv(f) if f.is_file() else None


def load(folder: Path) -> dict[str, pd.DataFrame | None]:
    """Every table the page can show (missing files are None)."""
    names = {"robustness": "robustness.csv", "boxes": "prim_boxes.csv", "scores": "feature_scores.csv",
             "comparison": "comparison.csv", "provinces": "comparison_provinces.csv", "summary": "summary.csv",
             "packages": "packages.csv", "front": "package_front.csv",
             "robust_provinces": "robust_provinces.csv", "plan": "plan_delivery.csv"}
    data = {k: _read(folder, v) for k, v in names.items()}
    if data["robustness"] is None and (folder / "futures" / "robustness.csv").is_file():  # a package search
        for k in ("robustness", "boxes", "scores", "robust_provinces", "plan"):
            data[k] = _read(folder / "futures", names[k])
    return data


def _num(metric: str, v: float, *, signed: bool = False, share: bool = False, cell_id: str = "") -> str:
    raw = "" if pd.isna(v) else repr(float(v))
    text = ("–" if pd.isna(v) else f"{float(v):.1%}") if share else fmt(metric, v, signed=signed)
    ident = f' id="{cell_id}"' if cell_id else ""
    return f'<td class="num"{ident} data-value="{raw}">{html.escape(text)}</td>'


def robust_table(rob: pd.DataFrame, reform: str, metrics: list[str]) -> str:
    """Share of futures better, median difference with its 10–90 % interval, worst case, regret."""
    r = rob[(rob["scenario"] == reform) & rob["metric"].isin(metrics)].set_index("metric")
    rows = []
    for m in metrics:
        if m not in r.index:
            continue
        x = r.loc[m]
        rows.append(f"<tr><td>{html.escape(label(m))}</td><td>{x['better_is']}</td>"
                    + _num(m, x["share_better"], share=True, cell_id=f"share-{m}")
                    + _num(m, x["median_difference"], signed=True, cell_id=f"median-{m}")
                    + _num(m, x["p10_difference"], signed=True, cell_id=f"p10-{m}")
                    + _num(m, x["p90_difference"], signed=True, cell_id=f"p90-{m}")
                    + _num(m, x["worst_difference"], signed=True, cell_id=f"worst-{m}")
                    + _num(m, x["max_regret"], cell_id=f"regret-{m}") + "</tr>")
    head = ("<tr><th>metric</th><th>better is</th><th>share of futures better</th><th>median difference"
            "</th><th>p10</th><th>p90</th><th>worst case</th><th>max regret</th></tr>")
    return f'<table class="c" id="robust-table" data-reform="{html.escape(reform)}">{head}{"".join(rows)}</table>'


def compare_table(cmp: pd.DataFrame, reform: str, metrics: list[str]) -> str:
    r = cmp[(cmp["scenario"] == reform) & cmp["metric"].isin(metrics)].set_index("metric")
    rows = []
    for m in metrics:
        if m not in r.index:
            continue
        x = r.loc[m]
        rows.append(f"<tr><td>{html.escape(label(m))}</td>" + _num(m, x["baseline_mean"])
                    + _num(m, x["reform_mean"]) + _num(m, x["difference"], signed=True, cell_id=f"diff-{m}")
                    + _num(m, x["ci_low"], signed=True, cell_id=f"lo-{m}")
                    + _num(m, x["ci_high"], signed=True, cell_id=f"hi-{m}")
                    + f"<td>{html.escape(str(x['better']))}</td></tr>")
    head = ("<tr><th>metric</th><th>baseline</th><th>reform</th><th>difference</th><th>CI low</th>"
            "<th>CI high</th><th>reading</th></tr>")
    return f'<table class="c" id="compare-table" data-reform="{html.escape(reform)}">{head}{"".join(rows)}</table>'


def side_by_side(source: pd.DataFrame, kind: str, reforms: list[str], metrics: list[str]) -> str:
    """Several reforms side by side, one column group per reform: the difference from the
    baseline with its interval (compare: mean difference and confidence interval; robust: median
    difference across futures, p10 to p90, and the share of futures better)."""
    robust_kind = kind != "compare"
    diff, lo, hi = (("median_difference", "p10_difference", "p90_difference") if robust_kind
                    else ("difference", "ci_low", "ci_high"))
    t = source[source["scenario"].isin(reforms) & source["metric"].isin(metrics)].set_index(["scenario", "metric"])
    rows = []
    for m in metrics:
        cells = []
        for r in reforms:
            if (r, m) not in t.index:
                cells.append("<td></td>" * (4 if robust_kind else 3))
                continue
            x = t.loc[(r, m)]
            cells.append(_num(m, x[diff], signed=True, cell_id=f"side-diff-{r}-{m}")
                         + _num(m, x[lo], signed=True, cell_id=f"side-lo-{r}-{m}")
                         + _num(m, x[hi], signed=True, cell_id=f"side-hi-{r}-{m}")
                         + (_num(m, x["share_better"], share=True, cell_id=f"side-share-{r}-{m}") if robust_kind else ""))
        rows.append(f"<tr><td>{html.escape(label(m))}</td>{''.join(cells)}</tr>")
    sub = ["median", "p10", "p90", "share better"] if robust_kind else ["difference", "CI low", "CI high"]
    head = ("<tr><th></th>" + "".join(f'<th colspan="{len(sub)}">{html.escape(r)}</th>' for r in reforms)
            + "</tr><tr><th>metric</th>" + "".join(f"<th>{h}</th>" for _ in reforms for h in sub) + "</tr>")
    return (f'<table class="c" id="side-table" data-reforms="{html.escape(",".join(reforms))}">'
            f'{head}{"".join(rows)}</table>')


def boxes_table(boxes: pd.DataFrame, reform: str, metrics: list[str]) -> str:
    b = boxes[(boxes["scenario"] == reform) & boxes["metric"].isin(metrics)]
    rows = []
    for (m, _), grp in b.groupby(["metric", "box"], sort=False, dropna=False):
        x = grp.iloc[0]
        box = x["box"] if isinstance(x["box"], str) else ""
        note = x["note"] if isinstance(x["note"], str) else ""
        rows.append(f"<tr><td>{html.escape(label(m))}</td><td id='box-{m}'>{html.escape(box or note)}</td>"
                    + _num(m, x["coverage"], share=True, cell_id=f"coverage-{m}")
                    + _num(m, x["density"], share=True, cell_id=f"density-{m}") + "</tr>")
    head = "<tr><th>metric</th><th>the reform fails when</th><th>coverage</th><th>density</th></tr>"
    return f'<table class="c" id="prim-table">{head}{"".join(rows)}</table>'


def province_table(prov: pd.DataFrame, reform: str, metric: str, n: int = 5) -> str:
    """The ``n`` provinces where the reform helps most and the ``n`` where it helps least (median
    reform − baseline difference across futures, with its 10–90 % interval), beside the map."""
    r = prov[(prov["scenario"] == reform) & (prov["metric"] == metric)].dropna(subset=["median_difference"])
    s = -1.0 if metric in LOWER_IS_BETTER else 1.0
    r = r.assign(_k=s * r["median_difference"]).sort_values(["_k", "province"], ascending=[False, True])
    pick = pd.concat([r.head(n), r.tail(n)]).drop_duplicates("province") if len(r) > 2 * n else r
    names = _province_names()
    rows = []
    for x in pick.itertuples():
        rows.append(f'<tr data-province="{x.province}"><td>{html.escape(names.get(x.province, x.province))} '
                    f"({x.province})</td>"
                    + _num(metric, x.median_difference, signed=True, cell_id=f"prov-median-{x.province}")
                    + _num(metric, x.p10_difference, signed=True, cell_id=f"prov-p10-{x.province}")
                    + _num(metric, x.p90_difference, signed=True, cell_id=f"prov-p90-{x.province}")
                    + _num(metric, x.share_better, share=True, cell_id=f"prov-share-{x.province}") + "</tr>")
    head = ("<tr><th>province (most and least helped)</th><th>median difference</th><th>p10</th><th>p90</th>"
            "<th>share of futures better</th></tr>")
    return (f'<table class="c" id="province-table" data-reform="{html.escape(reform)}" data-metric="{metric}">'
            f'{head}{"".join(rows)}</table>')


def _province_names() -> dict[str, str]:
    try:
        from allocsim.data.geography import load_geography

        return dict(zip(load_geography().provinces["iso_code"], load_geography().provinces["name_en"], strict=True))
    except Exception:  # noqa: BLE001 - names are a courtesy; the ISO code is always shown
        return {}


def plan_table(plan: pd.DataFrame, scenarios: list[str]) -> str:
    """Plan against delivery across futures: per scenario, the median share of the year's money
    disbursed by each quarter's end (the plan: 25/50/75/100 %) and the plan shares, with p10–p90."""
    ms = [m for m in PLAN_METRICS if m in set(plan["metric"])]
    rows = []
    for name in scenarios:
        p = plan[plan["scenario"] == name].set_index("metric")
        if not len(p):
            continue
        cells = []
        for m in ms:
            if m not in p.index:
                cells.append("<td></td>")
                continue
            x = p.loc[m]
            cells.append(f'<td class="num" id="plan-{html.escape(name)}-{m}" data-value="{float(x["median"])!r}" '
                         f'data-p10="{float(x["p10"])!r}" data-p90="{float(x["p90"])!r}">'
                         f'{html.escape(fmt(m, x["median"]))} <small>[{html.escape(fmt(m, x["p10"]))} – '
                         f'{html.escape(fmt(m, x["p90"]))}]</small></td>')
        rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    head = "<tr><th>scenario</th>" + "".join(f"<th>{html.escape(label(m))}</th>" for m in ms) + "</tr>"
    return f'<table class="c" id="plan-table">{head}{"".join(rows)}</table>'


def plan_chart(plan: pd.DataFrame, scenarios: list[str]) -> plt.Figure:
    """Cumulative disbursement by quarter against the even-spending plan: median across futures,
    bars from the 10th to the 90th percentile."""
    fig, ax = plt.subplots(figsize=(5, 3))
    qs = [f"q{q}_disbursement_rate" for q in (1, 2, 3, 4)]
    for k, name in enumerate(scenarios):
        p = plan[(plan["scenario"] == name) & plan["metric"].isin(qs)].set_index("metric").reindex(qs)
        if p["median"].isna().all():
            continue
        med = p["median"].to_numpy(float) * 100
        x = np.arange(1, 5) + (k - (len(scenarios) - 1) / 2) * 0.06
        ax.errorbar(x, med, yerr=[med - p["p10"].to_numpy(float) * 100, p["p90"].to_numpy(float) * 100 - med],
                    fmt="o-", capsize=3, label=name)
    ax.plot([1, 2, 3, 4], [25, 50, 75, 100], "--", color="#999", label="plan (even spending)")
    ax.set_xticks([1, 2, 3, 4], ["Q1", "Q2", "Q3", "Q4"])
    ax.set_ylabel("% of the year's budget disbursed")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def interval_chart(rob: pd.DataFrame, reform: str, metrics: list[str]) -> plt.Figure:
    """Median difference with its 10–90 % interval across futures, per metric (each in its own unit,
    so drawn as one small panel per metric)."""
    r = rob[(rob["scenario"] == reform) & rob["metric"].isin(metrics)].set_index("metric")
    ms = [m for m in metrics if m in r.index]
    fig, axes = plt.subplots(1, max(len(ms), 1), figsize=(3.2 * max(len(ms), 1), 2.6), squeeze=False)
    for ax, m in zip(axes[0], ms, strict=False):
        scale = 1e6 if m.endswith("_thb") else 1.0
        x = r.loc[m]
        med = x["median_difference"] / scale
        ax.errorbar([0], [med], yerr=[[med - x["p10_difference"] / scale], [x["p90_difference"] / scale - med]],
                    fmt="o", color="#2c7fb8", capsize=6)
        ax.axhline(0, color="#999", lw=0.8)
        ax.set_xticks([])
        ax.set_title(f"{label(m)}\n{x['share_better']:.0%} of futures better", fontsize=8)
        ax.set_ylabel("difference" + (" (M THB)" if scale > 1 else ""), fontsize=8)
    fig.tight_layout()
    return fig


@solara.component
def Page() -> None:
    folder = Path(os.environ.get("ALLOCSIM_RESULTS", ".")).resolve()
    kind = folder_kind(folder)
    data = solara.use_memo(lambda: load(folder) if kind else {}, [str(folder)])
    rob, cmp = data.get("robustness"), data.get("comparison")
    source = rob if rob is not None else cmp
    scen = source["scenario"] if source is not None else pd.Series(dtype=str)
    base_rows = rob[rob["share_better"].isna()]["scenario"] if rob is not None else pd.Series(dtype=str)
    reforms = [s for s in dict.fromkeys(scen) if s not in set(base_rows)]
    all_metrics = list(dict.fromkeys(source["metric"])) if source is not None else []
    reform, set_reform = solara.use_state(reforms[0] if reforms else "")
    picked, set_picked = solara.use_state(list(reforms))  # side by side: several reforms at once
    metrics, set_metrics = solara.use_state([m for m in HEADLINE if m in all_metrics] or all_metrics[:3])
    solara.Style(CSS)
    solara.Title("allocsim — committee page")
    if kind is None:
        solara.Markdown(f"**{folder}** is not a compare, robust or packages result folder.")
        return
    solara.Markdown(f"## {html.escape(folder.name)} ({kind})")
    if kind == "packages":
        PackagesView(data)
    if not reforms:
        return
    solara.SelectMultiple("Metrics", values=metrics, all_values=all_metrics, on_value=set_metrics)
    if len(reforms) > 1:
        solara.Markdown("### Reforms side by side (pick several)")
        solara.ToggleButtonsMultiple(value=picked, values=reforms, on_value=set_picked, classes=["side-reforms"])
        chosen = [r for r in reforms if r in picked]
        if chosen:
            solara.HTML(tag="div", unsafe_innerHTML=side_by_side(source, kind, chosen, metrics))
        solara.Markdown("### One reform in detail")
        with solara.Row():
            solara.ToggleButtonsSingle(value=reform, values=reforms, on_value=set_reform, classes=["detail-reform"])
    if rob is not None:
        solara.Markdown("### Across plausible futures: how often the reform beats the baseline")
        solara.HTML(tag="div", unsafe_innerHTML=robust_table(rob, reform, metrics))
        solara.FigureMatplotlib(interval_chart(rob, reform, metrics), format="png", dpi=80)
        if data["boxes"] is not None:
            solara.Markdown("### Where the reform fails (PRIM boxes)")
            solara.HTML(tag="div", unsafe_innerHTML=boxes_table(data["boxes"], reform, metrics))
        RobustMapPlan(data, rob, reform, metrics)
        if data["scores"] is not None:
            s = data["scores"]
            top = s[(s["scenario"] == reform) & s["metric"].isin(metrics) & (s["rank"] <= 3)]
            solara.Markdown("### What drives the effect (rank correlation with the difference)")
            holm = "p_holm" in top.columns
            solara.Markdown("\n".join(
                f"- {label(r.metric)}: **{r.parameter}** (rho {r.spearman_rho:+.2f}"
                + (f", Holm-adjusted p {r.p_holm:.3g}" if holm and pd.notna(r.p_holm) else "") + ")"
                for r in top.itertuples()) or "–")
            if holm:
                solara.Markdown(f"p adjusted by Holm's method over all {int(s['p_value'].notna().sum())} "
                                "tests (parameters × reforms × metrics); significant when below 0.05.")
    if cmp is not None:
        CompareView(data, reform, metrics)


@solara.component
def RobustMapPlan(data: dict, rob: pd.DataFrame, reform: str, metrics: list[str]) -> None:
    """The province map (median reform − baseline difference across futures) and plan against
    delivery (median and p10/p90 across futures) of a robust folder."""
    chosen, set_chosen = solara.use_state("")  # the map's metric ("": the first one available)
    prov = data.get("robust_provinces")
    if prov is not None and len(prov):
        have = list(dict.fromkeys(prov["metric"]))
        pm = [m for m in metrics if m in have] or have
        metric = chosen if chosen in pm else pm[0]
        solara.Markdown("### Across the province map: median change across futures")
        if len(pm) > 1:
            solara.ToggleButtonsSingle(value=metric, values=pm, on_value=set_chosen)
        from allocsim.report.tilemap import plot_tilemap

        v = prov[(prov["scenario"] == reform) & (prov["metric"] == metric)].set_index("province")["median_difference"]
        thb = metric.endswith("_thb")
        fig = plot_tilemap(v / (1e6 if thb else 1.0), title=f"{reform}: median change in {label(metric)}",
                           diverging=True, label="M THB" if thb else "")
        solara.FigureMatplotlib(fig, format="png", dpi=60)
        solara.HTML(tag="div", unsafe_innerHTML=province_table(prov, reform, metric))
    plan = data.get("plan")
    if plan is not None and len(plan):
        base = [sc for sc in dict.fromkeys(rob["scenario"]) if rob[rob["scenario"] == sc]["share_better"].isna().all()]
        names = [*base[:1], reform]
        solara.Markdown("### Plan against delivery across futures (median, p10–p90)")
        solara.FigureMatplotlib(plan_chart(plan, names), format="png", dpi=80)
        solara.HTML(tag="div", unsafe_innerHTML=plan_table(plan, names))


@solara.component
def CompareView(data: dict, reform: str, metrics: list[str]) -> None:
    cmp = data["comparison"]
    solara.Markdown("### Differences from the baseline (common random numbers, confidence intervals)")
    solara.HTML(tag="div", unsafe_innerHTML=compare_table(cmp, reform, metrics))
    prov = data["provinces"]
    if prov is not None:
        pm = [m for m in metrics if m in set(prov["metric"])]
        if pm:
            from allocsim.report.tilemap import plot_tilemap

            v = prov[(prov["scenario"] == reform) & (prov["metric"] == pm[0])].set_index("province")["difference"]
            fig = plot_tilemap(v / (1e6 if pm[0].endswith("_thb") else 1.0), title=f"{reform}: change in {label(pm[0])}",
                               diverging=True, label="M THB" if pm[0].endswith("_thb") else "")
            solara.FigureMatplotlib(fig, format="png", dpi=60)
    summ = data["summary"]
    if summ is not None:
        q = summ[summ["metric"].str.match(r"q\d_disbursement_rate")]
        if len(q):
            fig, ax = plt.subplots(figsize=(5, 3))
            for name, grp in q.groupby("scenario", sort=False):
                ax.plot([1, 2, 3, 4], grp.sort_values("metric")["mean"].to_numpy(float) * 100, "o-", label=name)
            ax.plot([1, 2, 3, 4], [25, 50, 75, 100], "--", color="#999", label="plan (even spending)")
            ax.set_xticks([1, 2, 3, 4], ["Q1", "Q2", "Q3", "Q4"])
            ax.set_ylabel("% of the year's budget disbursed")
            ax.legend(fontsize=7)
            solara.Markdown("### Plan against delivery")
            solara.FigureMatplotlib(fig, format="png", dpi=80)


@solara.component
def PackagesView(data: dict) -> None:
    front = data["front"]
    if front is None:
        return
    solara.Markdown(f"### Pareto front: {len(front)} of {len(data['packages'])} packages")
    cols = [c for c in ["package", "levers", "effort", *HEADLINE, "clearly_better_on", "stability", "seeds",
                        "share_better_all"] if c in front.columns]
    rows = []
    for r in front[cols].itertuples(index=False):
        cells = []
        for c, v in zip(cols, r, strict=True):
            if c in HEADLINE:
                cells.append(_num(c, v))
            elif c in ("share_better_all", "stability"):
                cells.append(_num(c, v, share=True))
            elif c == "effort":
                cells.append(f'<td class="num" data-value="{float(v)!r}">{float(v):g}</td>')
            else:
                cells.append(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(label(c))}</th>" for c in cols)
    solara.HTML(tag="div", unsafe_innerHTML=f'<table class="c" id="front-table"><tr>{head}</tr>{"".join(rows)}</table>')


__all__ = ["Page", "folder_kind", "load"]
