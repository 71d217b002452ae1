"""The ``robust``, ``packages`` and ``serve`` commands (argument handling lives in cli.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from allocsim.errors import Problem, UserError


def _load(files: list[str], allow: tuple[str, ...]) -> list:
    from allocsim.scenario import load_scenario

    scenarios, problems = [], []
    for f in files:
        try:
            scenarios.append(load_scenario(f, allow=allow))
        except UserError as err:
            problems.extend(err.problems)
    if problems:
        raise UserError(problems)
    return scenarios


def _manifest(out: Path, command: str, extra: dict) -> None:
    from allocsim.experiments.provenance import environment, now_utc
    from allocsim.store import atomic_write_json

    atomic_write_json({"command": command, **extra, **environment(), "finished": now_utc(), "status": "ok"},
                      out / "manifest.json")


def robust_command(args: argparse.Namespace, out: Path) -> int:
    from allocsim.robust.futures import robust
    from allocsim.robust.report import read_front, robust_lines, robust_report, write_tables

    base, *reforms = _load([args.baseline, *args.reforms], tuple(args.allow_path))
    front = read_front(Path(args.packages) if args.packages else out, given=bool(args.packages))
    res = robust(base, reforms, args.futures, replicates=args.replicates, workers=args.workers,
                 scheduler=args.scheduler, folder=out, progress=not args.quiet)
    write_tables(res, out)
    robust_report(out, res, front)
    _manifest(out, "robust", {"baseline": str(base.source), "reforms": [str(r.source) for r in reforms],
                              "futures": args.futures, "replicates": res.replicates, "seed": base.seed,
                              "uncertain_parameters": sorted(base.uncertainty.parameters),
                              "citizens_per_province": base.uncertainty.citizens_per_province,
                              # the seed-noise model: futures on extra seeds, extra seeds each, z
                              "noise_futures": res.noise_plan[0], "noise_extra_seeds": res.noise_plan[1],
                              "noise_z": base.uncertainty.noise_z, "prim_alpha": base.uncertainty.prim_alpha})
    for line in robust_lines(res):
        print(line)
    print(f"\nresults written to {out} (open {out / 'report.html'} in a browser, or `allocsim serve {out}`)")
    return 0


def packages_command(args: argparse.Namespace, out: Path) -> int:
    from importlib.metadata import version

    from allocsim.robust.packages import package_lines, search_packages, write_packages

    (base,) = _load([args.baseline], tuple(args.allow_path))
    levers = [s.strip() for s in args.levers.split(",")] if args.levers else None
    res = search_packages(base, levers=levers, replicates=args.replicates, futures=args.futures,
                          workers=args.workers, scheduler=args.scheduler, folder=out, progress=not args.quiet,
                          search=args.search, evaluations=args.evaluations, population=args.population)
    write_packages(res, out)
    _manifest(out, "packages", {"baseline": str(base.source), "levers": res.levers,
                                "replicates": res.replicates, "futures": res.futures, "seed": base.seed,
                                "search": res.search, "search_text": res.search_text(),
                                "noise_text": res.noise_text(), "dominance_confidence": res.confidence,
                                "bootstrap": res.resamples,
                                "evaluations": res.evaluations, "budget": res.budget,
                                "population": res.population, "generations": res.generations,
                                # the front depends on the search library's version too
                                **({"platypus_opt": version("platypus-opt")} if res.search == "nsga2" else {})})
    for line in package_lines(res):
        print(line)
    print(f"\nresults written to {out} (open {out / 'report.html'} in a browser, or `allocsim serve {out}`)")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    """Start the committee page on a results folder (Solara; offline, assets from the local cache)."""
    from allocsim.robust.app import folder_kind

    folder = Path(args.folder).resolve()
    kind = folder_kind(folder)
    if kind is None:
        raise UserError(Problem(str(folder), "RESULTS", "not a compare, robust or packages result folder "
                                "(expected comparison.csv, robustness.csv or packages.csv)"))
    exe = Path(sys.executable).with_name("solara")
    if not exe.exists():
        raise UserError(Problem("serve", "solara", "Solara is not installed; pip install 'allocsim[viz]'"))
    cmd = [str(exe), "run", str(Path(__file__).with_name("app.py")), "--host", args.host, "--port", str(args.port)]
    if args.no_open:
        cmd.append("--no-open")
    print(f"committee page for {folder} ({kind}) at http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    # become the server (exec, not a child process): stopping this process stops the page
    os.execve(str(exe), cmd, {**os.environ, "ALLOCSIM_RESULTS": str(folder)})
    return 0  # pragma: no cover - execve does not return
