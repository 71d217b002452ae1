"""What ``allocsim robust`` writes: the tables (CSV), charts and report.html, which opens with
one plain paragraph a committee can read aloud."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from allocsim.errors import Problem, UserError  # noqa: E402
from allocsim.report.format import fmt, label  # noqa: E402
from allocsim.report.html import Report  # noqa: E402
from allocsim.robust.futures import RobustResult, sign  # noqa: E402
from allocsim.scenario.uncertainty import HEADLINE_METRICS, NOT_SAMPLED  # noqa: E402
from allocsim.store import atomic_write_csv  # noqa: E402

#: Files of a robust result folder (the committee page reads them).
FILES = {"robustness": "robustness.csv", "futures": "futures.csv", "boxes": "prim_boxes.csv",
         "trajectories": "prim_trajectories.csv", "scores": "feature_scores.csv",
         "provinces": "robust_provinces.csv", "plan": "plan_delivery.csv"}


def write_tables(res: RobustResult, folder: Path) -> None:
    atomic_write_csv(res.robustness, folder / FILES["robustness"])
    atomic_write_csv(res.futures, folder / FILES["futures"])
    atomic_write_csv(res.boxes, folder / FILES["boxes"])
    atomic_write_csv(res.trajectories, folder / FILES["trajectories"])
    atomic_write_csv(res.scores, folder / FILES["scores"])
    atomic_write_csv(res.provinces, folder / FILES["provinces"])
    atomic_write_csv(res.plan, folder / FILES["plan"])


def verb(metric: str) -> str:
    return ("reduced " if sign(metric) < 0 else "raised ") + label(metric)


def plain_paragraph(res: RobustResult) -> str:
    """'Across 200 futures, the single gateway reduced duplicate money in 97 % of them; it failed
    when ...' — one sentence per reform, on the headline metric it is most reliably better at."""
    n = int(res.design.shape[0])
    rob = res.robustness.set_index(["scenario", "metric"])
    heads = list(dict.fromkeys(res.boxes["metric"])) if len(res.boxes) else []
    out = [f"Across {n} plausible futures (each run on {res.replicates} common seed{'s' if res.replicates > 1 else ''} for "
           f"{res.baseline} and every reform),"]
    sentences = []
    for reform in res.reforms:
        ms = [m for m in heads if (reform, m) in rob.index]
        if not ms:
            continue
        shares = {m: float(rob.loc[(reform, m), "share_better"]) for m in ms}
        best = max(ms, key=lambda m: (shares[m], -ms.index(m)))
        worse = float(rob.loc[(reform, best), "share_worse"])
        s = f"{reform} {verb(best)} in {shares[best]:.0%} of them, was worse in {worse:.0%}"
        und = rob.loc[(reform, best)].get("share_undecided", float("nan"))
        if pd.notna(und):
            s += f", within seed noise in {float(und):.0%}"
        others = [f"{label(m)} in {shares[m]:.0%}" for m in ms if m != best]
        if others:
            s += " (it was better on " + " and ".join(others) + ")"
        box = res.prim.get((reform, best))
        if box is not None and box.box is not None and box.box.limits:
            b = box.box
            base = 1.0 - shares[best]  # failures over all futures
            if b.density >= 0.5:
                s += (f"; it failed when {b.describe()} (that box holds {b.coverage:.0%} of its failures, "
                      f"and {b.density:.0%} of the futures in it are failures)")
            else:  # a box where it still mostly works: say only that failures are more frequent there
                s += (f"; its failures were more frequent when {b.describe()} ({b.density:.0%} of the "
                      f"futures in that box, against {base:.0%} overall; the box holds {b.coverage:.0%} "
                      "of its failures)")
        elif shares[best] < 1 and box is not None and box.box is not None:
            s += "; its failures are scattered, no range of the uncertain parameters explains them"
        sentences.append(s)
    if not sentences:
        return "No reform was compared."
    return out[0] + " " + "; ".join(sentences) + "." + noise_sentence(res)


def noise_sentence(res: RobustResult) -> str:
    """How 'better' is decided: the seed-noise bar, or (without a noise model) the sign alone."""
    rob = res.robustness
    z = rob["noise_z"].dropna() if "noise_z" in rob.columns else pd.Series(dtype=float)
    if not len(z):
        return (" (Better or worse is the sign of the difference alone: no future was run on two or more "
                "seeds, so seed noise was not measured.)")
    nf, extra = res.noise_plan
    where = (f"{nf} futures run on {res.replicates + extra} seeds" if nf
             else f"every future's {res.replicates} seeds")
    return (f" A future counts as better or worse only when the difference exceeds {float(z.iloc[0]):.4g} × "
            f"its seed-noise sd (measured from {where}; [uncertainty] noise_z, whose default 1.2816 is "
            "the one-sided 90 % normal quantile, an illustrative setting); otherwise it is within seed noise and left out of PRIM's failures. "
            "PRIM boxes are reported only when a held-out test (PRIM on half the futures, its box "
            "tested on the other half), Holm-adjusted over every reform × metric, is below [uncertainty] "
            "prim_alpha (default 5 %): on pure-noise failures PRIM alone finds a box about one time in "
            "twenty.")


def chart_shares(res: RobustResult, metrics: list[str]) -> plt.Figure:
    rob = res.robustness
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(res.reforms) * len(metrics)))
    labels, vals = [], []
    for reform in res.reforms:
        for m in metrics:
            r = rob[(rob["scenario"] == reform) & (rob["metric"] == m)]
            if len(r):
                labels.append(f"{reform}: {label(m)}")
                vals.append(float(r["share_better"].iloc[0]) * 100)
    ax.barh(range(len(vals)), vals, color="#2c7fb8")
    ax.set_yticks(range(len(vals)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(50, color="#999", lw=0.8, ls="--")
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of futures in which the reform is better than the baseline (%)")
    return fig


def chart_trajectory(traj: pd.DataFrame, title: str) -> plt.Figure:
    """The peeling trade-off (one dot per peeling step) and, circled and labelled, the box the
    tables report: the peeling step PRIM started from after pasting and pruning (``kind =
    "reported"``), which generally lies off the peeling path."""
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    kind = traj["kind"] if "kind" in traj.columns else pd.Series("peel", index=traj.index)
    peel = traj[kind != "reported"]
    sc = ax.scatter(peel["coverage"], peel["density"], c=peel["n_restricted"], cmap="viridis", s=14)
    start = traj[kind == "peel start"]
    if len(start):
        ax.scatter(start["coverage"], start["density"], s=60, marker="x", color="#555",
                   label="peeling step pasted and pruned")
    ch = traj[traj["chosen"].astype(bool)]
    ax.scatter(ch["coverage"], ch["density"], s=90, facecolors="none", edgecolors="#d7191c", lw=1.5,
               label="reported box", gid="reported-box")
    for r in ch.itertuples():
        ax.annotate(f"reported box\n({r.coverage:.0%}, {r.density:.0%})", (r.coverage, r.density),
                    textcoords="offset points", xytext=(-10, -24), fontsize=7, color="#d7191c", ha="right")
    ax.set_xlabel("coverage (share of failures in the box)")
    ax.set_ylabel("density (failures among futures in box)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(sc, ax=ax, label="parameters restricted")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    return fig


@dataclass
class PackageFront:
    """A package search's front as its folder holds it (package_front.csv and the manifest)."""

    table: pd.DataFrame
    folder: Path
    search: str = ""        # which search produced it, in words (from the manifest)
    noise: str = ""         # how the front guards against seed noise, in words (from the manifest)


def read_front(folder: Path, given: bool = False) -> PackageFront | None:
    """The front of a packages result folder; None when ``folder`` has none and was not named
    explicitly (``--packages``), a clear error when it was."""
    f = folder / "package_front.csv"
    if not f.is_file():
        if given:
            raise UserError(Problem(str(folder), "--packages", "not a packages result folder (no "
                                    "package_front.csv); run `allocsim packages BASELINE --out DIR` first"))
        return None
    try:
        table = pd.read_csv(f)
    except (OSError, ValueError) as err:
        raise UserError(Problem(str(f), "package_front.csv", f"unreadable: {err}")) from None
    missing = [c for c in ("package", "levers", "effort", *HEADLINE_METRICS) if c not in table.columns]
    if missing:
        raise UserError(Problem(str(f), "package_front.csv", f"missing columns: {', '.join(missing)}"))
    search = noise = ""
    man = folder / "manifest.json"
    if man.is_file():
        try:
            m = json.loads(man.read_text(encoding="utf-8"))
        except ValueError:
            m = {}
        if m.get("command") == "packages":
            search = str(m.get("search_text") or m.get("search") or "exhaustive search")
            noise = str(m.get("noise_text") or "")
    return PackageFront(table, folder, search, noise)


def front_section(rep: Report, front: PackageFront) -> None:
    """The package front: one sentence, then the table (numbers as in package_front.csv)."""
    t = front.table
    seeds = int(t["seeds"].iloc[0]) if "seeds" in t.columns and len(t) else None
    s = (f"{len(t)} reform packages are on the Pareto front of delivered benefit, duplicate money, delay "
         "and reform effort" + (f" ({front.search})" if front.search else "")
         + (f"; {front.noise}" if front.noise else
            f"; every package ran on the same {seeds} seeds (common random numbers)" if seeds else "")
         + f". From {front.folder.name}/package_front.csv.")
    rep.p(html.escape(s), "muted")
    rep.raw(_front_table(t))


def _front_table(t: pd.DataFrame) -> str:
    share = "share_better_all" if "share_better_all" in t.columns else None
    stab = "stability" in t.columns
    heads = ["package", "levers", "effort", *(label(m) for m in HEADLINE_METRICS), "clearly better on"]
    if stab:
        heads.append("stability (share of bootstrap resamples on the front)")
    if share:
        heads.append("better on all three, share of futures")
    rows = []
    for r in t.to_dict("records"):
        cells = [html.escape(str(r["package"])), html.escape(str(r["levers"]))]
        attrs = f'data-package="{html.escape(str(r["package"]))}" data-effort="{float(r["effort"])!r}"'
        nums = [f'<td class="num">{float(r["effort"]):g}</td>']
        for m in HEADLINE_METRICS:
            attrs += f' data-{m.replace("_", "-")}="{float(r[m])!r}"'
            nums.append(f'<td class="num">{fmt(m, r[m])}</td>')
        better = r.get("clearly_better_on")
        tail = [f"<td>{html.escape(label_list(better))}</td>"]
        if stab:
            v = r["stability"]
            attrs += f' data-stability="{float(v)!r}"'
            tail.append(f'<td class="num">{"–" if pd.isna(v) else f"{v:.0%}"}</td>')
        if share:
            v = r[share]
            attrs += f' data-share-better-all="{float(v)!r}"'
            tail.append(f'<td class="num">{"–" if pd.isna(v) else f"{v:.0%}"}</td>')
        rows.append(f"<tr {attrs}>" + "".join(f"<td>{c}</td>" for c in cells) + "".join(nums)
                    + "".join(tail) + "</tr>")
    return ('<table id="package-front-table"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def label_list(value: object) -> str:
    """'duplicate_money_thb, effective_benefit_thb' -> their labels; empty for none."""
    if not isinstance(value, str) or not value.strip():
        return "–"
    return ", ".join(label(v.strip()) for v in value.split(","))


def robust_report(folder: Path, res: RobustResult, front: PackageFront | None = None) -> Path:
    """report.html: the plain paragraph, the robustness table, PRIM boxes, the package front (when
    a package search ran into the same folder or was named with --packages), feature scores."""
    heads = list(dict.fromkeys(res.boxes["metric"])) if len(res.boxes) else []
    rep = Report(f"allocsim robust — {res.baseline} vs {', '.join(res.reforms)}", folder)
    rep.p(html.escape(plain_paragraph(res)), "summary")
    held = {k: v for k, v in res.held.items() if v}
    if held:
        rep.p("Uncertain parameters a reform sets itself keep the reform's value in every future: "
              + "; ".join(f"{html.escape(k)}: {', '.join(map(html.escape, v))}" for k, v in held.items()) + ".",
              "muted")
    rep.p("Illustrative values not sampled (held at each scenario's own value in every future): "
          + "; ".join(f"{html.escape(k)} ({html.escape(v)})" for k, v in NOT_SAMPLED.items()) + ".", "muted")
    rep.h2("How often each reform beats the baseline", "robustness")
    if heads:
        rep.figure(chart_shares(res, heads), "robustness_shares", "share of futures better")
    rob = res.robustness
    shown = rob[rob["metric"].isin(heads)] if heads else rob
    rep.raw(_robust_table(shown))
    rep.p("within noise = share of futures whose difference is within the seed-noise bar (noise_z × "
          "noise sd, in robustness.csv), counted neither better nor worse. "
          f"difference = reform − baseline in the same future; p10/p90 = 10th and 90th percentile over "
          f"futures; worst = the least favourable difference; regret = how far an option falls short of "
          f"the best of all options in the same future. All {rob['metric'].nunique()} metrics are in "
          "robustness.csv.", "muted")
    rep.h2("Where each reform fails (PRIM scenario discovery)", "prim")
    rep.p("A failure is a future in which the reform is worse than the baseline by more than the "
          "seed-noise bar (futures within seed noise are left out). PRIM peels the "
          "range of the uncertain parameters down to a box where failures concentrate; coverage = share "
          "of all failures inside the box, density = share of futures in the box that are failures. "
          "The chart shows the peeling trade-off; the circled, labelled point is the box reported in the "
          "table (the peeling step marked × after pasting and pruning).", "muted")
    if len(res.boxes):
        b = res.boxes.drop_duplicates(["scenario", "metric"])[["scenario", "metric", "box", "coverage",
                                                                "density", "mass", "n_futures", "note"]]
        rep.raw(_boxes_table(b))
        rep.raw('<div class="grid">')
        for (reform, m), grp in res.trajectories.groupby(["scenario", "metric"], sort=False):
            rep.figure(chart_trajectory(grp, f"{reform}: {label(m)}"), f"prim_{reform}_{m}",
                       f"PRIM peeling trajectory for {reform}, {m}")
        rep.raw("</div>")
    if front is not None:
        rep.h2("Reform packages: the Pareto front", "packages")
        front_section(rep, front)
    rep.h2("Which uncertainties drive each reform's effect", "scores")
    n_tests = int(res.scores["p_value"].notna().sum()) if len(res.scores) else 0
    rep.p("Spearman rank correlation of each uncertain parameter with the reform − baseline difference "
          f"across futures (top 5 per reform and metric; all in feature_scores.csv). p (Holm) is the "
          f"p-value adjusted by Holm's method over all {n_tests} tests (every parameter × reform × "
          "metric), so the chance that any correlation marked significant (p (Holm) < 0.05) is due to "
          "chance alone is at most 5 %; p_value in the CSV is each test on its own.", "muted")
    if len(res.scores):
        top = res.scores[res.scores["rank"] <= 5][["scenario", "metric", "rank", "parameter", "spearman_rho",
                                                   "p_holm"]]
        top = top.assign(spearman_rho=top["spearman_rho"].round(3), p_holm=top["p_holm"].round(4),
                         significant=["yes" if p < 0.05 else "no" for p in top["p_holm"].fillna(1.0)])
        rep.table(top.rename(columns={"p_holm": "p (Holm)"}),
                  formats={"spearman_rho": "x", "p (Holm)": "x", "rank": "x"})
    return rep.write()


def _robust_table(rob: pd.DataFrame) -> str:
    heads = ["scenario", "metric", "better is", "futures", "share better", "share worse", "within noise",
             "median difference", "p10 to p90", "worst", "mean regret", "max regret", "noise sd"]
    rows = []
    for r in rob.itertuples():
        m = r.metric
        rows.append(
            f'<tr data-scenario="{html.escape(r.scenario)}" data-metric="{m}" data-share="{r.share_better!r}">'
            f"<td>{html.escape(r.scenario)}</td><td>{html.escape(label(m))}</td><td>{r.better_is}</td>"
            f'<td class="num">{r.n_futures}</td>'
            f'<td class="num">{"–" if pd.isna(r.share_better) else f"{r.share_better:.0%}"}</td>'
            f'<td class="num">{_pct(getattr(r, "share_worse", float("nan")))}</td>'
            f'<td class="num">{_pct(getattr(r, "share_undecided", float("nan")))}</td>'
            f'<td class="num">{fmt(m, r.median_difference, signed=True)}</td>'
            f'<td class="num">{fmt(m, r.p10_difference, signed=True)} to {fmt(m, r.p90_difference, signed=True)}</td>'
            f'<td class="num">{fmt(m, r.worst_difference, signed=True)}</td>'
            f'<td class="num">{fmt(m, r.mean_regret)}</td><td class="num">{fmt(m, r.max_regret)}</td>'
            f'<td class="num">{fmt(m, getattr(r, "noise_sd", float("nan")))}</td></tr>')
    return ('<table id="robustness-table"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _pct(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:.0%}"


def _boxes_table(b: pd.DataFrame) -> str:
    heads = ["scenario", "metric", "fails when", "coverage", "density", "mass", "futures in box", "note"]
    def pct(v: float) -> str:
        return "–" if pd.isna(v) else f"{v:.0%}"

    rows = []
    for r in b.itertuples():
        rows.append(f"<tr><td>{html.escape(r.scenario)}</td><td>{html.escape(label(r.metric))}</td>"
                    f"<td>{html.escape(str(r.box) if isinstance(r.box, str) else '')}</td>"
                    f'<td class="num">{pct(r.coverage)}</td><td class="num">{pct(r.density)}</td>'
                    f'<td class="num">{pct(r.mass)}</td><td class="num">{r.n_futures}</td>'
                    f"<td>{html.escape(str(r.note) if isinstance(r.note, str) else '')}</td></tr>")
    return ('<table id="prim-table"><thead><tr>' + "".join(f"<th>{h}</th>" for h in heads)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def robust_lines(res: RobustResult) -> list[str]:
    """Console summary: the plain paragraph and the headline shares."""
    lines = [plain_paragraph(res), ""]
    rob = res.robustness
    heads = list(dict.fromkeys(res.boxes["metric"])) if len(res.boxes) else []
    for r in rob[rob["metric"].isin(heads) & (rob["scenario"] != res.baseline)].itertuples():
        lines.append(f"  {r.scenario:>28} {r.metric:>28}: better in {r.share_better:4.0%}, worse in "
                     f"{r.share_worse:4.0%}, within seed noise in {r.share_undecided:4.0%}, median "
                     f"{fmt(r.metric, r.median_difference, signed=True)} "
                     f"[p10 {fmt(r.metric, r.p10_difference, signed=True)}, p90 "
                     f"{fmt(r.metric, r.p90_difference, signed=True)}]")
    return lines


__all__ = ["FILES", "PackageFront", "front_section", "plain_paragraph", "read_front", "robust_lines", "robust_report", "write_tables"]
