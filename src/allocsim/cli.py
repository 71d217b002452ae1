"""The ``allocsim`` command: parse arguments, call the API, turn errors into messages and exit codes.

Exit codes: 0 success, 2 bad input (one ``file: field: message`` line per problem on stderr),
130 interrupted. A user error never prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from allocsim.errors import Problem, UserError


def _default_out(name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("results") / f"{name}-{stamp}"


def cmd_validate(args: argparse.Namespace) -> int:
    from allocsim.scenario import load_scenario

    problems: list[Problem] = []
    for f in args.files:
        try:
            sc = load_scenario(f)
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

    sc = load_scenario(args.scenario)
    if args.seed is not None:
        sc = sc.with_seed(args.seed)
    out = Path(args.out) if args.out else _default_out(sc.name)
    res = run_scenario(sc, out, overwrite=args.overwrite)
    m = res.manifest
    print(f"scenario {sc.name} (seed {sc.seed}, cluster map {m['cluster_map']}): "
          f"{len(res.geography.provinces)} areas, {len(res.geography.clusters)} clusters, "
          f"{m['projects']['count']} candidate projects")
    for line in res.summary_lines() if hasattr(res, "summary_lines") else []:
        print(line)
    print(f"results written to {out}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from allocsim.data.geography import load_geography, load_local_government_counts

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
    print(f"\nlocal governments (อปท.): {total:,} (DLA, 5 Jun 2020); sources: "
          "allocsim/data/reference/SOURCES.md")
    return 0


def cmd_levers(args: argparse.Namespace) -> int:
    from allocsim.scenario import levers_table

    t = levers_table()
    for _, row in t.iterrows():
        print(f"{row['lever']}  [{row['status']}]\n  field: {row['field']} (reform file sets "
              f"{row['reform_value']!r}); source: {row['source']}\n  {row['mechanism']}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="allocsim", description="Optimisation and agent-based "
                                 "simulation of Thailand's area-based budget.")
    from allocsim import __version__

    ap.add_argument("--version", action="version", version=f"allocsim {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files; exit 2 with one line per problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run a scenario into a fresh result folder")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", metavar="DIR", help="result folder (default results/<name>-<UTC time>)")
    p.add_argument("--seed", type=int, metavar="N", help="override the scenario's seed")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing result folder (only after the new run succeeded)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("data", help="print the provinces / clusters summary")
    p.add_argument("--cluster-map", default="2017", help='"2017" (default), "2009" or a CSV path')
    p.add_argument("--provinces", action="store_true", help="also list all 77 areas")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("levers", help="list the reform levers, their mechanism and status")
    p.set_defaults(func=cmd_levers)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "seed", None) is not None and args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    try:
        return int(args.func(args))
    except UserError as err:
        for prob in err.problems:
            print(str(prob), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted; earlier results are untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
