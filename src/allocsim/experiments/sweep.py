"""Parameter sweeps and sensitivity analysis (SALib).

A sweep varies dotted scenario fields (``"levers.data_sharing" = [0.0, 1.0]``) with one design:
``grid`` (every combination; a numeric [low, high] range gives ``samples`` evenly spaced levels),
``lhs`` (Latin hypercube), ``morris`` (elementary effects: mu*, sigma) or ``sobol`` (first-order and
total indices, Saltelli sampling). Booleans vary as 0/1 and integers are rounded. Every design
point runs ``replicates`` seeds; indices use the mean over seeds of each point.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from pydantic import ValidationError

from allocsim.errors import Problem, UserError
from allocsim.scenario.schema import Scenario, SweepConfig


def _problem(cfg: SweepConfig, file: str) -> dict:
    names, bounds = [], []
    for name, values in cfg.parameters.items():
        if len(values) != 2 or any(isinstance(v, str) for v in values):
            raise UserError(Problem(file, f"experiments.sweep.parameters.{name}", "needs a [low, high] "
                                    f"range for the {cfg.design} design (value lists are for grid)"))
        lo, hi = (float(v) for v in values)
        if not lo < hi:
            raise UserError(Problem(file, f"experiments.sweep.parameters.{name}", "low must be below high"))
        names.append(name)
        bounds.append([lo, hi])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def design_points(cfg: SweepConfig, seed: int, file: str = "scenario") -> list[dict]:
    """The parameter values of every design point, in design order (SALib's for morris/sobol)."""
    if not cfg.parameters:
        raise UserError(Problem(file, "experiments.sweep.parameters", "no parameters to sweep; add e.g. "
                                '"levers.data_sharing" = [0.0, 1.0]'))
    if cfg.design == "grid":
        axes = []
        for values in cfg.parameters.values():
            if len(values) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                axes.append(list(np.linspace(float(values[0]), float(values[1]), cfg.samples)))
            else:
                axes.append(list(values))
        return [dict(zip(cfg.parameters, combo, strict=True)) for combo in itertools.product(*axes)]
    problem = _problem(cfg, file)
    if cfg.design == "lhs":
        from SALib.sample import latin

        X = latin.sample(problem, cfg.samples, seed=seed % 2**32)
    elif cfg.design == "morris":
        from SALib.sample import morris

        X = morris.sample(problem, cfg.samples, num_levels=4, seed=seed % 2**32)
    else:
        from SALib.sample import sobol

        X = sobol.sample(problem, cfg.samples, calc_second_order=False, seed=seed % 2**32)
    return [dict(zip(problem["names"], row, strict=True)) for row in X]


def typed(value: object, like: object) -> object:
    """Cast a sampled float back to the field's type (bool → threshold 0.5, int → round)."""
    if isinstance(like, bool):
        return bool(float(value) >= 0.5) if not isinstance(value, bool) else value
    if isinstance(like, int) and not isinstance(value, bool):
        return int(round(float(value)))
    return float(value) if isinstance(value, np.floating) else value


def apply_params(sc: Scenario, params: dict, file: str = "scenario") -> Scenario:
    """The scenario with dotted fields set (sampled floats cast to each field's type), validated;
    bad paths or values name the sweep field."""
    current = sc.model_dump(mode="json")
    typed_params = {}
    for dotted, value in params.items():
        node: object = current
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise UserError(Problem(file, f"experiments.sweep.parameters.{dotted}", "no such scenario field"))
            node = node[part]
        typed_params[dotted] = typed(value, node)
    try:
        return sc.updated(typed_params)
    except (ValueError, ValidationError) as err:
        e = err.errors()[0] if isinstance(err, ValidationError) else {"loc": (), "msg": str(err)}
        raise UserError(Problem(file, "experiments.sweep.parameters", f"{'.'.join(map(str, e['loc']))}: "
                                f"{e['msg']} (value {params})")) from None


def sensitivity(cfg: SweepConfig, points: list[dict], table: pd.DataFrame, metrics: list[str], seed: int,
                file: str = "scenario") -> pd.DataFrame:
    """Sensitivity indices per metric and parameter (morris: mu_star/sigma; sobol: S1/ST;
    lhs: delta/S1 moment-independent; grid: none)."""
    if cfg.design == "grid":
        return pd.DataFrame(columns=["metric", "parameter", "index", "value", "conf", "note"])
    problem = _problem(cfg, file)
    X = np.array([[float(p[n]) for n in problem["names"]] for p in points])
    means = table.groupby("point")[metrics].mean().sort_index()
    rows = []
    for m in metrics:
        Y = means[m].to_numpy(float)
        if not np.isfinite(Y).all() or np.ptp(Y) == 0:
            continue
        # SALib reports small-sample trouble as warnings (and resets the warning filters); keep
        # them with the indices they concern instead of scattering them on stderr
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _analyse(cfg.design, problem, X, Y, seed)
        notes = [str(w.message) for w in caught]
        for (index, _conf_name), (values, confs) in result.items():
            for k, name in enumerate(problem["names"]):
                mine = sorted({n.split("] ", 1)[-1].split(". ")[0] for n in notes if n.startswith(f"[{name}]")})
                rows.append({"metric": m, "parameter": name, "index": index, "value": float(values[k]),
                             "conf": float(confs[k]) if confs is not None else float("nan"),
                             "note": "; ".join(mine)})
    return pd.DataFrame(rows)


def _analyse(design: str, problem: dict, X: np.ndarray, Y: np.ndarray, seed: int) -> dict:
    rs = seed % 2**32
    if design == "morris":
        from SALib.analyze import morris

        r = morris.analyze(problem, X, Y, num_levels=4, seed=rs)
        return {("mu_star", "mu_star_conf"): (r["mu_star"], r["mu_star_conf"]), ("sigma", ""): (r["sigma"], None)}
    if design == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(problem, Y, calc_second_order=False, seed=rs)
        return {("S1", "S1_conf"): (r["S1"], r["S1_conf"]), ("ST", "ST_conf"): (r["ST"], r["ST_conf"])}
    from SALib.analyze import delta

    r = delta.analyze(problem, X, Y, seed=rs)
    key = "delta" if "delta" in r else "delta_balanced"  # SALib >= 1.5 reports bias-balanced delta
    return {("delta", "delta_conf"): (r[key], r[f"{key}_conf"]), ("S1", "S1_conf"): (r["S1"], r["S1_conf"])}
