"""Run one scenario end to end into a fresh result folder.

Today a run loads and validates the scenario, builds the geography and the project catalogue and
writes them with a manifest; the optimisation and simulation engines add their tables here.
Randomness: one ``numpy.random.SeedSequence`` from the scenario seed, spawned into independent
streams per stage, so changing one stage's draws never changes another's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocsim.data.geography import Geography
from allocsim.data.projects import ProjectTable, year_table
from allocsim.experiments.inputs import build_inputs
from allocsim.experiments.loop import run_world
from allocsim.experiments.provenance import environment, now_utc
from allocsim.experiments.seeds import STREAMS, loop_seed
from allocsim.optimise import OptimiseResult, optimise_scenario
from allocsim.scenario.loader import file_hashes, scenario_hash
from allocsim.scenario.schema import Scenario
from allocsim.store import atomic_write_csv, atomic_write_json, result_folder


@dataclass
class RunResult:
    scenario: Scenario
    geography: Geography
    projects: ProjectTable
    out: Path | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    optimisation: OptimiseResult | None = None
    manifest_extra: dict = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        lines = self.optimisation.summary_lines() if self.optimisation else []
        summ = self.tables.get("summary")
        if summ is not None and len(summ):
            n = int(summ["n"].max())
            lines.append(f"Monte Carlo, {n} replicates (mean and {self.scenario.experiments.confidence:.0%} CI):")
            for _, r in summ.iterrows():
                lines.append(f"  {r['metric']:>32}: {r['mean']:,.4g}  [{r['ci_low']:,.4g}, {r['ci_high']:,.4g}]")
        nat = self.tables.get("sim_national")
        if nat is not None and len(nat):
            lines.append(f"simulation, {len(nat)} fiscal years (national, per year):")
            for _, r in nat.iterrows():
                lines.append(
                    f"  FY{int(r['fiscal_year'])}: disbursed {r['disbursed_thb'] / 1e6:,.0f} M THB of "
                    f"{r['allocated_thb'] / 1e6:,.0f} M ({r.get('unfunded_thb', 0) / 1e6:,.0f} M never "
                    f"assigned to a project, {r['lapsed_thb'] / 1e6:,.0f} M "
                    f"lapsed in execution); "
                    f"{int(r['duplicates_approved'])} duplicates approved; "
                    f"{r['mean_days_to_disbursement']:.0f} days to first disbursement; "
                    f"change approval {r['mean_change_approval_days']:.1f} days; "
                    f"satisfaction {r['satisfaction']:.2f}")
        return lines


def _optimisation_tables(opt: OptimiseResult) -> dict[str, pd.DataFrame]:
    p = opt.portfolio
    port = p.table()
    extra = p.data
    port.insert(1, "province", [extra.provinces[i] if i >= 0 else "" for i in extra.province])
    port["channel"] = extra.channel
    tables = {"allocation": opt.allocation.table, "portfolio": port}
    if opt.scores is not None:  # illustrative, the same array the simulation's plan_score holds
        tables["plan_scores"] = pd.DataFrame({"province": list(extra.provinces), "plan_score": opt.scores})
    if opt.resource_values is not None:
        tables["resource_values"] = opt.resource_values
    alt = p.alternatives
    if alt is not None:
        tables["alternatives"] = alt.portfolios
        tables["alternatives_summary"] = alt.summary
        tables["alternative_ranges"] = alt.ranges
    if opt.allocation.duals is not None:
        tables["allocation_duals"] = opt.allocation.duals
    if opt.baselines is not None:
        tables["baselines"] = opt.baselines
    if opt.allocation_rules is not None:
        tables["allocation_rules"] = opt.allocation_rules
    if p.pareto is not None:
        tables["pareto"] = p.pareto
    if p.diagnosis is not None:
        tables["conflicts"] = p.diagnosis.conflicts
        tables["conflict_sets"] = p.diagnosis.iis
    return tables


def solver_summary(opt: OptimiseResult) -> dict:
    """Status, objective, bound, gap and time of every solve, as HiGHS reported them."""
    p, a = opt.portfolio, opt.allocation
    return {
        "portfolio": p.status.as_dict() | {"build_seconds": p.build_seconds,
                                           "rules": opt.params.switched_on(),
                                           "quota_rule": opt.params.quota_rule,
                                           "conflicts": p.diagnosis.messages() if p.diagnosis else []},
        "allocation": a.status.as_dict() | {"conflicts": a.conflicts},
    } | ({"reference": opt.reference.as_dict() | {
        "what": "benefit optimum under the same rules with national envelopes only: the reference "
                "of every share of the optimum in baselines.csv"}} if opt.reference is not None else {})


def reconcile_engines(tables: dict[str, pd.DataFrame], model: object) -> None:
    """The optimiser's written FY1 tables against what the simulation held and selected in FY1,
    two independently produced sides: under the optimal rule each holder's baht in the
    ``allocation`` table (rounded to whole baht) must be the simulation's money, and the
    ``portfolio`` selection must be the simulation's selection. Raises ``RunError`` naming the
    holder or project (a mismatch means the report describes a plan the simulation did not run)."""
    from allocsim.errors import RunError
    from allocsim.scenario.schema import SOURCES
    from allocsim.simulate.world import round_within

    m = model
    if not getattr(m, "plans", None) or m.plans[0].selected is None or not m.money_rows:
        return  # the provinces ranked: no optimiser selection to execute
    fy, n = m.plans[0].fiscal_year, m.n_provinces
    if "allocation" in tables:
        raw = np.zeros(m.n_holders)  # baht per holder, then the rounding rule of world.py
        a = tables["allocation"].groupby(["level", "area", "source"], as_index=False)["amount_mthb"].sum()
        for r in a.itertuples(index=False):
            if r.level == "province" and r.area in m.iso and r.source in SOURCES:
                raw[SOURCES.index(r.source) * n + m.iso.index(r.area)] += r.amount_mthb * 1e6
            elif r.level == "cluster" and r.area in m.cluster_ids:
                raw[len(SOURCES) * n + m.cluster_ids.index(r.area)] += r.amount_mthb * 1e6
        env, k = m.envelopes_thb(), len(SOURCES) * n  # FY1: nothing committed yet
        want = np.concatenate([round_within(raw[s * n:(s + 1) * n], int(env[s])) for s in range(len(SOURCES))]
                              + [round_within(raw[k:], int(env[len(SOURCES)]))])
        held = m.money_rows[0][1]
        bad = np.flatnonzero(want != held)
        if len(bad):
            i = int(bad[0])
            raise RunError(f"FY{fy}, holder {m.holder_names[i]}: allocation.csv gives {want[i]} THB but "
                           f"the simulation held {held[i]} THB")
    if "portfolio" in tables and "sim_projects" in tables:
        port, sim = tables["portfolio"], tables["sim_projects"]
        chosen = set(port.loc[port["selected"].astype(bool), "project_id"].astype(str))
        sim1 = sim[sim["fiscal_year"] == fy]
        ran = set(sim1.loc[sim1["selected"].astype(bool), "project_id"].astype(str))
        diff = sorted(chosen ^ ran)
        if diff:
            side = "portfolio.csv only" if diff[0] in chosen else "the simulation only"
            raise RunError(f"FY{fy}: project {diff[0]} is selected in {side} "
                           f"({len(diff)} project(s) differ between the engines)")


def run_scenario(sc: Scenario, out: Path | None = None, *, overwrite: bool = False,
                 optimise: bool = True, simulate: bool = True, replicates: int = 1,
                 workers: int | None = None, scheduler: str | None = None, progress: bool = False,
                 lang: str = "en") -> RunResult:
    """Build everything for a scenario; with ``out``, write a complete result folder atomically.

    The simulation runs the closed loop (``loop.py``). With ``replicates`` > 1 the loop also runs on
    that many seeds derived from the scenario seed and the metrics are summarised with confidence
    intervals (``replicates.csv``, ``summary.csv``). ``lang`` is report.html's language ("en"/"th").
    """
    started = now_utc()
    geo, table = build_inputs(sc)
    sim_tables = None
    if simulate:
        # one world: the optimiser's tables describe the first fiscal year's project book, the
        # very projects (ids, baht, benefit) the simulation's agents proposed and executed
        sim_tables, model = run_world(sc, table, loop_seed(sc.seed))
        if sc.projects.source != "file" and model.plans:
            table = model.plans[0].table
    result = RunResult(sc, geo, table)
    result.tables["provinces"] = geo.provinces
    result.tables["clusters"] = geo.clusters
    if optimise:
        # one set of plan scores: the simulation's (same function, same run seed without it)
        scores = dict(zip(model.iso, model.plan_score, strict=True)) if simulate else None
        # a user's table: the optimiser sees the first fiscal year's candidates, by the same rule
        # (``year_candidates``) the simulation's project book uses, so the same ids
        opt_table = year_table(table, sc.first_fiscal_year, sc.first_fiscal_year) \
            if sc.projects.source == "file" else table
        if opt_table.projects.empty:
            from allocsim.errors import Problem, UserError

            raise UserError(Problem(str(sc.projects.projects_file), "fiscal_year",
                                    f"no project is proposed in the first fiscal year {sc.first_fiscal_year} "
                                    "(rows without a fiscal_year belong to it); the optimiser has nothing to select"))
        result.optimisation = optimise_scenario(sc, geo, opt_table, loop_seed(sc.seed), scores=scores)
        result.tables.update(_optimisation_tables(result.optimisation))
        if geo.cluster_map == "2017" and result.optimisation.inputs is not None:
            from allocsim.experiments.hindcast import budget_changes, hindcast_table, predictions

            pred = predictions(sc, result.optimisation)
            result.tables["hindcast"] = hindcast_table(pred)
            result.tables["hindcast_provinces"] = pred.reset_index()
            result.tables["budget_changes"] = budget_changes()[0]
            from allocsim.experiments.hindcast import simulated_changes

            sim_ch, sim_dist = simulated_changes(sc, loop_seed(sc.seed))
            result.tables["simulated_budget_changes"] = sim_ch
            result.manifest_extra["incremental_simulation"] = sim_dist
    if simulate:
        result.tables.update(sim_tables)
        if optimise:
            reconcile_engines(result.tables, model)
        if replicates > 1:
            from allocsim.experiments.api import replicates as run_replicates

            rep = run_replicates(sc, replicates, workers=workers, scheduler=scheduler, progress=progress)
            result.tables["replicates"] = rep.table
            result.tables["summary"] = rep.summary
            result.manifest_extra["replicates"] = {"n": replicates, "seeds": rep.table["seed"].tolist()}
    manifest = {
        "scenario": sc.name,
        "scenario_file": str(sc.source) if sc.source else None,
        "scenario_hash": scenario_hash(sc),
        "scenario_files": file_hashes(sc),
        "seed": sc.seed,
        "random_streams": list(STREAMS),
        "cluster_map": geo.cluster_map,
        "projects": {"source": sc.projects.source, "count": len(table.projects),
                     "resources": len(table.resources)},
        **environment(),
        "started": started,
        "stages": {"optimise": optimise, "simulate": simulate},
    }
    result.manifest = manifest
    if out is None:
        return result
    with result_folder(out, overwrite=overwrite) as stage:
        atomic_write_json(sc.model_dump(mode="json"), stage / "scenario.json")
        inputs = stage / "inputs"
        table.write(inputs)
        for name, df in result.tables.items():
            atomic_write_csv(df, inputs / f"{name}.csv" if name in ("provinces", "clusters")
                             else stage / f"{name}.csv")
        if result.optimisation is not None:
            summary = solver_summary(result.optimisation)
            atomic_write_json(summary, stage / "solver.json")
            manifest["solver"] = {k: {"status": v["status"], "gap": v["gap"], "mip_gap": v["mip_gap"],
                                      "time_limit_s": v["time_limit_s"], "version": v["solver_version"]}
                                  for k, v in summary.items()}
        from allocsim.report import run_report

        result.out = Path(out)
        run_report(stage, result, lang=lang)
        manifest.update(result.manifest_extra)
        manifest["finished"] = now_utc()
        manifest["status"] = "ok"
        atomic_write_json(manifest, stage / "manifest.json")
    result.out = Path(out)
    return result
