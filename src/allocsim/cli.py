"""The ``allocsim`` command: parse arguments, call the API, turn errors into messages and exit codes.

Exit codes: 0 success, 2 bad input (one ``file: field: message`` line per problem on stderr),
``select`` also 1 (rules conflict) and 4 (time limit without a solution), see ``SELECT_EXIT``;
130 interrupted. A user error never prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from allocsim.errors import Problem, RunError, UserError


def _default_out(name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("results") / f"{name}-{stamp}"


#: Options that change what a batch command computes (and so its default result folder); the
#: others (--workers, --scheduler, --quiet) only change how it runs.
_RESULT_OPTIONS = ("replicates", "futures", "packages", "levers", "search", "evaluations", "population", "lang")


def _batch_out(args: argparse.Namespace, name: str, files: list[str]) -> Path:
    """The result folder of compare/sweep/robust/packages: --out, or by default
    ``results/<name>-<hash>`` where the hash covers the command, the resolved scenarios (extends
    followed) and the options that change the result — so re-running the same command after
    Ctrl-C resumes in the same folder without repeating finished runs. Printed at the start;
    an interrupt prints the command with its --out."""
    import hashlib
    import json

    from allocsim.scenario import load_scenario

    if args.out:
        out = Path(args.out)
    else:
        scenarios = []
        for f in files:
            try:
                scenarios.append(load_scenario(f, allow=tuple(args.allow_path)).model_dump(mode="json"))
            except UserError:
                scenarios.append(None)  # the command itself reports the problem
        spec = {"command": args.command, "scenarios": scenarios,
                **{k: getattr(args, k, None) for k in _RESULT_OPTIONS}}
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]
        out = Path("results") / f"{name}-{digest}"
    args.resume_out = out
    print(f"result folder: {out} (finished runs are kept there; the same command resumes)", file=sys.stderr)
    return out


def _resume_command(args: argparse.Namespace) -> str:
    """The exact command that resumes an interrupted batch (its own arguments plus --out)."""
    import shlex

    argv = list(sys.argv[1:]) if getattr(args, "argv", None) is None else list(args.argv)
    if not args.out:
        argv += ["--out", str(args.resume_out)]
    return "allocsim " + shlex.join(argv)


def cmd_validate(args: argparse.Namespace) -> int:
    from allocsim.scenario import load_scenario

    problems: list[Problem] = []
    for f in args.files:
        try:
            sc = load_scenario(f, allow=tuple(args.allow_path))
        except UserError as err:
            problems.extend(err.problems)
        else:
            print(f"{f}: ok ({sc.name})")
    if problems:
        raise UserError(problems)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from allocsim.experiments.run import run_scenario
    from allocsim.scenario import load_scenario

    sc = load_scenario(args.scenario, allow=tuple(args.allow_path))
    if args.seed is not None:
        sc = sc.with_seed(args.seed)
    out = Path(args.out) if args.out else _default_out(sc.name)
    stages = {"run": (True, True), "optimise": (True, False), "simulate": (False, True)}[args.command]
    res = run_scenario(sc, out, overwrite=args.overwrite, optimise=stages[0], simulate=stages[1],
                       replicates=getattr(args, "replicates", None) or sc.experiments.replicates,
                       workers=getattr(args, "workers", None), scheduler=getattr(args, "scheduler", None),
                       progress=sys.stderr.isatty(), lang=getattr(args, "lang", "en"))
    m = res.manifest
    print(f"scenario {sc.name} (seed {sc.seed}, cluster map {m['cluster_map']}): "
          f"{len(res.geography.provinces)} areas, {len(res.geography.clusters)} clusters, "
          f"{m['projects']['count']} candidate projects")
    for line in res.summary_lines():
        print(line)
    print(f"results written to {out} (open {out / 'report.html'} in a browser)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Baseline vs reforms on common random numbers: the table of differences with CIs."""
    from allocsim.experiments import compare
    from allocsim.scenario import load_scenario

    scenarios, problems = [], []
    for f in [args.baseline, *args.reforms]:
        try:
            scenarios.append(load_scenario(f, allow=tuple(args.allow_path)))
        except UserError as err:
            problems.extend(err.problems)
    if problems:
        raise UserError(problems)
    base, reforms = scenarios[0], scenarios[1:]
    out = _batch_out(args, "compare-" + base.name, [args.baseline, *args.reforms])
    res = compare(base, reforms, args.replicates, workers=args.workers, scheduler=args.scheduler,
                  progress=not args.quiet, out=out, lang=args.lang)
    d = res.differences
    n = int(res.table["seed"].nunique())
    print(f"{base.name} vs {', '.join(r.name for r in reforms)}: {n} replicates on common random numbers; "
          f"difference = reform - baseline, {base.experiments.confidence:.0%} CI")
    for name, grp in d.groupby("scenario", sort=False):
        print(f"\n{name}")
        for _, r in grp.iterrows():
            ci = "" if pd.isna(r["ci_low"]) else f" [{r['ci_low']:,.4g}, {r['ci_high']:,.4g}]"
            print(f"  {r['metric']:>32}: {r['baseline_mean']:>12,.4g} -> {r['reform_mean']:>12,.4g}  "
                  f"diff {r['difference']:+,.4g}{ci}  {r['better']}")
    print(f"\nresults written to {out} (open {out / 'report.html'} in a browser)")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from allocsim.experiments import sweep
    from allocsim.scenario import load_scenario

    sc = load_scenario(args.scenario, allow=tuple(args.allow_path))
    out = _batch_out(args, "sweep-" + sc.name, [args.scenario])
    res = sweep(sc, n=args.replicates, workers=args.workers, scheduler=args.scheduler,
                progress=not args.quiet, out=out, lang=args.lang)
    cfg = sc.experiments.sweep
    print(f"sweep of {sc.name}: {cfg.design} design, {res.table['point'].nunique()} points x "
          f"{res.table['seed'].nunique()} seeds = {len(res.table)} runs")
    if len(res.indices):
        top = res.indices[res.indices["index"].isin(["mu_star", "ST", "delta"])]
        for metric, grp in top.groupby("metric", sort=False):
            best = grp.sort_values("value", ascending=False).iloc[0]
            print(f"  {metric:>32}: most influential {best['parameter']} ({best['index']} {best['value']:.3g})")
    print(f"results written to {out}")
    return 0


def cmd_robust(args: argparse.Namespace) -> int:
    """Baseline and reforms across sampled futures: robustness, PRIM boxes, feature scores."""
    from allocsim.robust.commands import robust_command

    return robust_command(args, _batch_out(args, "robust-" + Path(args.baseline).stem, [args.baseline, *args.reforms]))


def cmd_packages(args: argparse.Namespace) -> int:
    """Exhaustive search over lever combinations: the Pareto front against reform effort."""
    from allocsim.robust.commands import packages_command

    return packages_command(args, _batch_out(args, "packages-" + Path(args.baseline).stem, [args.baseline]))


def cmd_serve(args: argparse.Namespace) -> int:
    from allocsim.robust.commands import serve_command

    return serve_command(args)


SELECT_EXIT = """exit codes:
  0  a portfolio: proven optimal within --gap, or labelled NOT OPTIMAL (e.g. time limit reached
     with a solution; the label gives HiGHS's gap and bound)
  1  the rules cannot all hold (infeasible); the conflicting rules are explained
  2  bad input (file, field or option), one line per problem
  4  time limit (or another solver limit) reached without any feasible portfolio
  3  internal or file error"""


def cmd_select(args: argparse.Namespace) -> int:
    """Portfolio MILP on user tables alone; exit codes in ``SELECT_EXIT``."""
    import json

    from allocsim.optimise.selection import select_tables

    sel = select_tables(args.projects, args.resources, year=args.year, objective=args.objective,
                        need_target=args.need_target, gap=args.gap, time_limit=args.time_limit,
                        alignment=args.alignment, without=args.without, thailand=args.thailand,
                        decompose=args.decompose, workers=args.workers,
                        warm_start=not args.no_warm_start, alternatives=args.alternatives,
                        slack=args.slack, resource_values=args.resource_values, out=args.out,
                        overwrite=args.overwrite)
    res, payload, values, alt = sel.portfolio, sel.payload, sel.resource_values, sel.portfolio.alternatives
    if args.json:
        print(json.dumps(payload))
    else:
        if sel.fiscal_year is not None:
            print(f"selecting for fiscal year {sel.fiscal_year} (choose another with --year)")
        print(f"{res.status.label()}; {len(res.selected)} of {sel.candidates} projects selected"
              + (f", total benefit {res.total_benefit:,.3f}" if res.total_benefit is not None else ""))
        if res.decomposition is not None:
            print(f"  decomposition: {res.decomposition['message']}")
        if values is not None:
            for r in values.itertuples(index=False):
                print(f"  resource {r.resource}: +{r.step:,.3g} buys {r.benefit_gain:,.3f} benefit "
                      f"({r.status}); LP-relaxation dual {r.lp_relaxation_dual:,.3g}")
        if alt is not None:
            for r in alt.summary.itertuples(index=False):
                if r.portfolio:
                    print(f"  alternative {r.portfolio}: {r.status}, benefit {r.total_benefit:,.3f} "
                          f"({r.share_of_optimum:.1%} of the optimum), {r.projects} projects, "
                          f"{r.shared_with_optimum} shared with the optimum")
            must = alt.ranges[alt.ranges["kind"] == "must-fund"]
            print(f"  {len(must)} of {len(alt.ranges)} provinces receive money in every portfolio within "
                  f"{args.slack:.0%} of the optimum (must-fund); the rest are negotiable")
        for msg in payload.get("conflicts", []):
            print(f"  conflict: {msg}")
        if args.out:
            print(f"results written to {args.out}")
    if res.status.has_solution:
        return 0
    if res.status.status in ("infeasible", "infeasible_or_unbounded"):
        return 1
    if res.status.status.endswith("_no_solution"):
        return 4
    return 3


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-run a result folder from its manifest and scenario; exit 0 if every table reproduces."""
    from allocsim.experiments.verify import verify

    ok, lines = verify(Path(args.folder))
    for line in lines:
        print(line)
    print("reproduces" if ok else "DOES NOT reproduce")
    return 0 if ok else 1


def _print_budget(year: int) -> int:
    """`allocsim data --budget`: real provincial and cluster budgets, per head and ranked."""
    from allocsim.data.budget import budget_per_head, year_caveat

    caveat = year_caveat(year)
    if caveat:
        print(f"WARNING: {caveat}", file=sys.stderr)
        print(f"WARNING: {caveat}\n")
    prov, cl = budget_per_head(year, allow_unverified=bool(caveat))
    stage = "draft budget bill" + (" (UNVERIFIED, looks incomplete)" if caveat else "")
    print(f"FY{year} ({stage}): 76 provinces {prov['budget_mthb'].sum():,.2f} M THB, "
          f"18 clusters {cl['budget_mthb'].sum():,.2f} M THB; source: Budget Bureau bill via WeVis "
          "open-budget data (CC BY-NC 4.0), see allocsim/data/reference/SOURCES.md §6")
    print("per head uses DOPA registered population, 31 Dec 2021; rank 1 = largest\n")
    cols = ["name_en", "budget_mthb", "population", "thb_per_head", "rank_budget", "rank_per_head"]
    fmts = {"budget_mthb": "{:,.2f}".format, "population": "{:,}".format,
            "thb_per_head": "{:,.1f}".format}
    with pd.option_context("display.width", 140, "display.max_rows", 200):
        print("provinces (own development budget, M THB):")
        print(prov[cols].to_string(formatters=fmts))
        print("\nprovince clusters (M THB):")
        print(cl[cols].to_string(formatters=fmts))
    if caveat:
        print(f"\nWARNING: FY{year} figures above look incomplete; do not use them as a real year.")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from allocsim.data.geography import load_geography, load_local_government_counts

    if args.budget:
        if args.cluster_map != "2017":
            raise UserError(Problem("--cluster-map", "cluster_map", "the budget tables follow the 2017 "
                                    "cluster map; drop --cluster-map with --budget"))
        return _print_budget(args.year)
    geo = load_geography(args.cluster_map)
    p = geo.provinces
    print(f"{len(p)} areas: {len(geo.province_codes)} provinces + Bangkok (in no cluster); "
          f"registered population {p['population'].sum():,} (DOPA, 31 Dec 2021)")
    print(f"{len(geo.clusters)} province clusters under the {geo.cluster_map} map:\n")
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(geo.summary().to_string(index=False))
        if args.provinces:
            print()
            print(p[["iso_code", "name_en", "name_th", "region_6", "cluster_id", "population",
                     "area_km2"]].to_string(index=False))
    lao = load_local_government_counts()
    total = lao.loc[lao["lao_type_en"] == "Total", "count"].iloc[0]
    from allocsim.data.budget import load_local_governments

    by_prov = load_local_governments()
    print(f"\nlocal governments (อปท.): {int(by_prov['lgo_total'].sum()):,} counted by province and type "
          f"without Bangkok's BMA (undated WeVis list; the simulation's agents), {total:,} in DLA's national "
          "count of 5 Jun 2020 (SAOs since upgraded to municipalities explain most of the difference); "
          "sources: "
          "allocsim/data/reference/SOURCES.md")
    return 0


def cmd_levers(args: argparse.Namespace) -> int:
    from allocsim.scenario import levers_table

    t = levers_table()
    for _, row in t.iterrows():
        print(f"{row['lever']} — {row['title']}  [{row['status']}]\n  field: {row['field']} "
              f"(default {row['default']!r}; scenarios/reform_{row['reform']}.toml sets "
              f"{row['reform_value']!r}); source: {row['source']}\n  {row['mechanism']}\n")
    return 0


def _batch_options(p: argparse.ArgumentParser, replicates_help: str) -> None:
    """Options shared by the commands that run batches of runs (compare, sweep)."""
    p.add_argument("--replicates", type=int, metavar="N", help=replicates_help)
    p.add_argument("--out", metavar="DIR", help="result folder; re-running into it resumes unfinished runs "
                   "(default results/<name>-<hash of the scenarios and options>: the same command resumes)")
    p.add_argument("--workers", type=int, metavar="K", help="local processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (tcp://host:port)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


class _RuleSwitches:
    """``select --without`` choices: the switchable rules (``optimise.rules.SWITCHES``), read only
    when argparse needs them, so other commands do not import the optimiser."""

    def _names(self) -> tuple[str, ...]:
        from allocsim.optimise.rules import SWITCHES

        return SWITCHES

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:  # argparse lists the valid names in its error message
        return iter(self._names())


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="allocsim", description="Optimisation and agent-based "
                                 "simulation of Thailand's area-based budget.")
    from allocsim import __version__

    ap.add_argument("--version", action="version", version=f"allocsim {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files; exit 2 with one line per problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run a scenario (optimisation + simulation) into a fresh result folder")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", metavar="DIR", help="result folder (default results/<name>-<UTC time>)")
    p.add_argument("--seed", type=int, metavar="N", help="override the scenario's seed")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing result folder (only after the new run succeeded)")
    p.set_defaults(func=cmd_run)

    for p in (sub.choices["run"],):
        p.add_argument("--replicates", type=int, metavar="N", help="Monte Carlo replicates (seeds derived from the scenario seed)")
        p.add_argument("--workers", type=int, metavar="K", help="local processes (default: all cores)")
        p.add_argument("--scheduler", metavar="ADDRESS", help="run replicates on a Dask cluster")

    p = sub.add_parser("compare", help="compare reforms with a baseline on common random numbers")
    p.add_argument("baseline", metavar="BASELINE")
    p.add_argument("reforms", metavar="REFORM", nargs="+")
    _batch_options(p, "replicates per scenario (default: the baseline's [experiments] replicates, at least 10)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="run the [experiments.sweep] design of a scenario, with sensitivity indices")
    p.add_argument("scenario", metavar="FILE")
    _batch_options(p, "seeds per design point")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("robust", help="baseline and reforms across sampled futures: robustness, PRIM, feature scores")
    p.add_argument("baseline", metavar="BASELINE")
    p.add_argument("reforms", metavar="REFORM", nargs="+")
    p.add_argument("--futures", type=int, default=200, metavar="N",
                   help="futures sampled over [uncertainty.parameters] (Latin hypercube; default 200)")
    p.add_argument("--packages", metavar="DIR", help="a packages result folder whose front the report shows "
                   "(default: the output folder's own package_front.csv, if a search was run into it)")
    _batch_options(p, "seeds per future (default: the baseline's [uncertainty] replicates)")
    p.set_defaults(func=cmd_robust)

    p = sub.add_parser("packages", help="search lever combinations for the Pareto front of benefit, "
                       "duplicate money, delay and reform effort")
    p.add_argument("baseline", metavar="BASELINE")
    p.add_argument("--levers", metavar="A,B,...", help="only these [packages.levers] (dotted or short "
                   "names, e.g. single_gateway,data_sharing); default all")
    p.add_argument("--futures", type=int, metavar="N", help="futures per front package for its robustness "
                   "share (default: [packages] futures; 0 skips)")
    p.add_argument("--search", choices=("auto", "exhaustive", "nsga2"), help="exhaustive, NSGA-II, or auto "
                   "(default: [packages] search: exhaustive unless a lever has a range or the space is large)")
    p.add_argument("--evaluations", type=int, metavar="N", help="NSGA-II budget of distinct packages "
                   "(default: [packages] evaluations)")
    p.add_argument("--population", type=int, metavar="N", help="NSGA-II population (default: [packages] population)")
    _batch_options(p, "seeds per package (default: [packages] replicates)")
    p.set_defaults(func=cmd_packages)

    p = sub.add_parser("serve", help="open a compare/robust/packages result folder in the committee page")
    p.add_argument("folder", metavar="RESULTS")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--no-open", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_serve)

    for name, text in (("optimise", "run only a scenario's optimisation (allocation LP + portfolio MILP)"),
                       ("simulate", "run only a scenario's budget-cycle simulation (Mesa)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("scenario", metavar="SCENARIO")
        p.add_argument("--out", metavar="DIR", help="result folder (default results/<name>-<UTC time>)")
        p.add_argument("--seed", type=int, metavar="N", help="override the scenario's seed")
        p.add_argument("--overwrite", action="store_true", help="replace an existing result folder")
        p.set_defaults(func=cmd_run)

    p = sub.add_parser("select", help="solve the portfolio MILP on a projects/resources table pair",
                       description="Choose projects from PROJECTS.csv under the capacities in "
                       "RESOURCES.csv and the portfolio rules (see README, 'Project table format').",
                       epilog=SELECT_EXIT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("projects", metavar="PROJECTS.csv")
    p.add_argument("resources", metavar="RESOURCES.csv")
    p.add_argument("--objective", choices=["benefit", "equity", "shortfall"], default="benefit",
                   help="benefit: most total benefit; equity: max-min per-capita benefit, then most "
                   "benefit; shortfall: smallest largest shortfall below --need-target, then most "
                   "benefit")
    p.add_argument("--need-target", type=float, metavar="THB", help="per-head benefit every "
                   "province should reach (for --objective shortfall; your number, no default)")
    p.add_argument("--decompose", action="store_true", help="split into independent blocks (only "
                   "when no rule row links them: exact) and solve them in parallel processes")
    p.add_argument("--workers", type=int, metavar="K", help="processes for --decompose (default: cores)")
    p.add_argument("--no-warm-start", action="store_true", help="do not start HiGHS from the greedy "
                   "portfolio (by default a time-limited solve returns at least the greedy's benefit)")
    p.add_argument("--alternatives", type=int, default=0, metavar="K",
                   help="also find K near-optimal portfolios, each as different as possible from the "
                        "optimum and from each other (alternatives.csv, alternative_ranges.csv)")
    p.add_argument("--slack", type=float, default=0.02, metavar="S",
                   help="alternatives keep at least (1 - S) of the optimum's benefit (default 0.02)")
    p.add_argument("--resource-values", action="store_true",
                   help="also value every resource: the LP-relaxation bound and duals, and one MILP "
                        "re-solve per resource with 1%% more capacity (resource_values.csv)")
    p.add_argument("--year", type=int, metavar="FY", help="fiscal year to select for when the table "
                   "has a fiscal_year column (default: its earliest; rows without a year belong to it)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--out", metavar="DIR", help="also write portfolio.csv and solver.json here")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--gap", type=float, default=1e-4, metavar="G",
                   help="relative MIP gap at which HiGHS stops (default 1e-4)")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                   help="solver time limit in seconds (default 60)")
    p.add_argument("--alignment", type=float, default=0.0, metavar="SHARE",
                   help="minimum aligned share of funded cost per province and nationally (default 0: off)")
    p.add_argument("--without", action="append", default=[], metavar="RULE",
                   choices=_RuleSwitches(), help="switch a rule off (repeatable); the names are "
                   "the switchable rule modules of optimise/rules/")
    p.add_argument("--thailand", action="store_true",
                   help="check provinces against the reference data and use real populations")
    p.set_defaults(func=cmd_select)

    for name in ("run", "optimise", "simulate", "compare", "sweep"):
        sub.choices[name].add_argument("--lang", choices=["en", "th"], default="en",
                                       help="language of report.html and its charts (default en)")

    for name in ("validate", "run", "optimise", "simulate", "compare", "sweep", "robust", "packages"):
        sub.choices[name].add_argument(
            "--allow-path", action="append", default=[], metavar="DIR",
            help="also allow extends/data files inside DIR (default: only the scenario's own folder)")

    p = sub.add_parser("verify", help="re-run a result folder and check that every table reproduces")
    p.add_argument("folder", metavar="DIR")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("data", help="print the provinces / clusters summary")
    p.add_argument("--cluster-map", default="2017", help='"2017" (default), "2009" or a CSV path')
    p.add_argument("--provinces", action="store_true", help="also list all 77 areas")
    p.add_argument("--budget", action="store_true",
                   help="print the real provincial and cluster budgets (M THB, per head, ranked)")
    p.add_argument("--year", type=int, default=2569, metavar="B.E.",
                   help="fiscal year for --budget: 2568, 2569 (default) or 2570 (looks incomplete)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("levers", help="list the reform levers, their mechanism and status")
    p.set_defaults(func=cmd_levers)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = None if argv is None else list(argv)
    if getattr(args, "seed", None) is not None and args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    if getattr(args, "futures", None) is not None and args.futures < (1 if args.command == "robust" else 0):
        parser.error("--futures must be a positive integer" if args.command == "robust" else "--futures must be >= 0")
    for opt in ("replicates", "workers"):
        if getattr(args, opt, None) is not None and getattr(args, opt) < 1:
            parser.error(f"--{opt} must be a positive integer")
    for opt, least in (("evaluations", 2), ("population", 4)):
        if getattr(args, opt, None) is not None and getattr(args, opt) < least:
            parser.error(f"--{opt} must be at least {least}")
    if getattr(args, "gap", None) is not None and not 0 <= args.gap <= 1:
        parser.error("--gap must be between 0 and 1")
    if getattr(args, "time_limit", None) is not None and not args.time_limit > 0:
        parser.error("--time-limit must be a positive number of seconds")
    if getattr(args, "alignment", None) is not None and not 0 <= args.alignment <= 1:
        parser.error("--alignment must be a share between 0 and 1")
    try:
        return int(args.func(args))
    except UserError as err:
        for prob in err.problems:
            print(str(prob), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        if getattr(args, "resume_out", None) is not None:
            print(f"interrupted; finished runs are kept in {args.resume_out}. To resume without repeating them:\n"
                  f"  {_resume_command(args)}", file=sys.stderr)
        else:
            print("interrupted; earlier results are untouched", file=sys.stderr)
        return 130
    except RunError as err:
        print(f"allocsim: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # e.g. `allocsim data | head`
        sys.stderr.close()
        return 0
    except OSError as err:  # e.g. disk full while writing results
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        print(f"allocsim: file error{where}: {err.strerror or err}; nothing was half-written and earlier "
              "results are untouched", file=sys.stderr)
        return 3
    except Exception as err:
        from allocsim.simulate.model import InvariantError

        if isinstance(err, InvariantError):
            print(f"allocsim: internal invariant violated, results not written: {err}", file=sys.stderr)
            return 3
        raise


if __name__ == "__main__":
    sys.exit(main())
