"""Charts for people (matplotlib, Agg backend): each function takes result tables and returns a
figure; ``save`` writes it as PNG and returns the bytes for embedding in report.html.

Every chart takes ``lang`` ("en" or "th"): Thai labels come from :mod:`allocsim.report.i18n` and
the chart is drawn with the packaged Sarabun font (:mod:`allocsim.report.fonts`)."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from allocsim.report import fonts  # noqa: E402
from allocsim.report.format import label  # noqa: E402
from allocsim.report.i18n import t  # noqa: E402
from allocsim.store import atomic_write_bytes  # noqa: E402

SOURCE_COLOURS = {"province_budget": "#1b9e77", "ministry_budget": "#d95f02", "local_grant": "#7570b3",
                  "private": "#e7298a", "cluster_budget": "#66a61e"}


def localised(func: Callable[..., plt.Figure]) -> Callable[..., plt.Figure]:
    """Draw the chart under the fonts of its ``lang`` keyword (Thai glyphs need Sarabun)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> plt.Figure:
        with plt.rc_context(fonts.rc(kwargs.get("lang", "en"))):
            return func(*args, **kwargs)
    return wrapper


def save(fig: plt.Figure, path: Path | None = None, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        atomic_write_bytes(data, path)
    return data


@localised
def allocation_by_province(allocation: pd.DataFrame, names: dict[str, str], *, lang: str = "en") -> plt.Figure:
    """Stacked bars: the allocation LP's money per province by source (million THB)."""
    prov = allocation[allocation["level"] == "province"]
    pivot = prov.pivot_table(index="area", columns="source", values="amount_mthb", aggfunc="sum", fill_value=0.0)
    pivot = pivot.loc[pivot.sum(axis=1).sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(12, 4))
    bottom = np.zeros(len(pivot))
    for src in pivot.columns:
        ax.bar(range(len(pivot)), pivot[src], bottom=bottom, label=t(src, lang) if lang == "th" else src.replace("_", " "),
               color=SOURCE_COLOURS.get(src), width=0.85)
        bottom += pivot[src].to_numpy()
    ax.set_xticks(range(len(pivot)), [names.get(c, c) for c in pivot.index], rotation=90, fontsize=6)
    ax.set_ylabel(t("M THB", lang))
    ax.set_ylim(0, float(bottom.max()) * 1.15 if len(bottom) else 1.0)
    ax.set_title(t("Optimal allocation by province and source", lang))
    ax.legend(fontsize=8, ncols=4)
    ax.margins(x=0.005)
    return fig


@localised
def pareto(frontier: pd.DataFrame, *, lang: str = "en") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(frontier["min_per_capita_benefit"], frontier["total_benefit"], "o-", color="#2c7fb8")
    ax.set_xlabel(t("minimum per-capita benefit over provinces (THB per head)", lang))
    ax.set_ylabel(label("total_benefit", lang))
    ax.set_title(t("Benefit–equity Pareto frontier", lang))
    ax.grid(alpha=0.3)
    return fig


@localised
def disbursement_curves(curves: dict[str, list[float]], *, lang: str = "en") -> plt.Figure:
    """Cumulative share of the budget disbursed by fiscal quarter, one line per scenario."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (name, rates) in enumerate(curves.items()):
        ax.plot([1, 2, 3, 4], np.asarray(rates) * 100, marker="o", lw=2 if k == 0 else 1.5,
                ls="-" if k == 0 else "--", label=name)
    ax.set_xticks([1, 2, 3, 4], [t(q, lang) for q in ("Q1 (Oct–Dec)", "Q2", "Q3", "Q4 (Jul–Sep)")])
    ax.set_ylabel(t("% of the year's budget disbursed", lang))
    ax.set_ylim(0, 100)
    ax.set_title(t("Disbursement by quarter", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


@localised
def plan_delivered(summary: pd.DataFrame, *, lang: str = "en") -> plt.Figure:
    """Share of the planned benefit delivered per scenario (mean over replicates, with CI)."""
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(len(summary), 1)))
    y = np.arange(len(summary))
    mean = summary["mean"].to_numpy(float) * 100
    err = np.vstack([mean - summary["ci_low"].to_numpy(float) * 100, summary["ci_high"].to_numpy(float) * 100 - mean])
    ax.barh(y, mean, xerr=np.nan_to_num(err), color="#4c78a8", capsize=3)
    ax.set_yticks(y, summary["scenario"].tolist())
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(t("% of the planned benefit delivered", lang))
    ax.set_title(t("How much of the plan was delivered", lang))
    ax.grid(axis="x", alpha=0.3)
    return fig


@localised
def distributions(delays: pd.Series, duplicates: pd.Series, title_suffix: str = "", *,
                  lang: str = "en") -> plt.Figure:
    """Histograms of days to first disbursement and duplicates approved (per province × year)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].hist(delays.dropna(), bins=25, color="#fdae61", edgecolor="white")
    axes[0].set_xlabel(t("mean days from Budget Act to first disbursement", lang))
    axes[0].set_ylabel(t("provinces × years", lang))
    axes[0].set_title(t("Delay", lang) + title_suffix)
    d = duplicates.dropna().astype(int)
    axes[1].hist(d, bins=np.arange(d.max() + 2) - 0.5 if len(d) else 1, color="#d7191c", edgecolor="white")
    axes[1].set_xlabel(t("duplicated projects approved", lang))
    axes[1].set_title(t("Duplication", lang) + title_suffix)
    return fig


@localised
def differences(diff: pd.DataFrame, *, lang: str = "en") -> plt.Figure:
    """Reform − baseline as % of the baseline mean, with CI error bars, one panel per reform."""
    reforms = list(dict.fromkeys(diff["scenario"]))
    metrics = list(dict.fromkeys(diff["metric"]))
    fig, axes = plt.subplots(1, len(reforms), figsize=(4.2 * len(reforms) + 1.5, 0.32 * len(metrics) + 1.2),
                             sharey=True, squeeze=False)
    for ax, name in zip(axes[0], reforms, strict=True):
        d = diff[diff["scenario"] == name].set_index("metric").reindex(metrics)
        base = d["baseline_mean"].abs().replace(0, np.nan)
        rel = 100 * d["difference"] / base
        lo = 100 * (d["difference"] - d["ci_low"]) / base
        hi = 100 * (d["ci_high"] - d["difference"]) / base
        colours = ["#1a9641" if b == "better" else "#d7191c" if b == "worse" else "#969696" for b in d["better"]]
        y = np.arange(len(metrics))
        ax.barh(y, rel.fillna(0), color=colours)
        ax.errorbar(rel.fillna(0), y, xerr=[lo.fillna(0), hi.fillna(0)], fmt="none", ecolor="black", lw=0.8, capsize=2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(t("% change vs baseline (95% CI)", lang))
        ax.set_yticks(y, [label(m, lang) if lang == "th" else m.replace("_", " ") for m in metrics],
                      fontsize=7)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(t("Differences from the baseline (green better, red worse, grey no clear change)", lang),
                 fontsize=10)
    return fig


def sensitivity(indices: pd.DataFrame, metric: str) -> plt.Figure:
    d = indices[indices["metric"] == metric]
    kinds = [k for k in ("mu_star", "ST", "S1", "delta") if k in set(d["index"])]
    fig, ax = plt.subplots(figsize=(6, 0.5 * d["parameter"].nunique() + 1.5))
    params = list(dict.fromkeys(d["parameter"]))
    y = np.arange(len(params))
    w = 0.8 / max(len(kinds), 1)
    for k, kind in enumerate(kinds):
        v = d[d["index"] == kind].set_index("parameter").reindex(params)
        ax.barh(y + k * w, v["value"], height=w, xerr=v["conf"].fillna(0), label=kind, capsize=2)
    ax.set_yticks(y + w * (len(kinds) - 1) / 2, params, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"Sensitivity of {metric.replace('_', ' ')}")
    ax.legend(fontsize=8)
    return fig


@localised
def change_distributions(real: pd.Series, simulated: pd.Series, lang: str = "en") -> plt.Figure:
    """Histograms of year-on-year budget changes: the real FY2568→FY2569 ones and the
    simulation's under the incremental rule (same bins, densities)."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    both = np.concatenate([real.to_numpy(float), simulated.to_numpy(float)])
    bins = np.linspace(np.floor(both.min()), np.ceil(both.max()), 30)
    ax.hist(real, bins=bins, density=True, alpha=0.6, label=t("real FY2568→FY2569", lang))
    ax.hist(simulated, bins=bins, density=True, alpha=0.6, label=t("simulated, incremental rule", lang))
    ax.set_xlabel(t("Year-on-year budget changes (%)", lang))
    ax.legend()
    fig.tight_layout()
    return fig
