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
    #: each simulated year's LP/MILP status under the ``optimal`` rule (``world.solver_years``)
    solver_years: list[dict] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = []
        first = first_year_funding(self.tables)
        if first is not None:
            fy, n, thb = first
            lines.append(f"simulation FY{fy}: {n:,} projects funded, {thb / 1e6:,.1f} M THB "
                         "(sim_projects.csv; money per holder and year: sim_allocation.csv)")
        if self.optimisation:
            if counterfactual(self.scenario, self.tables):
                lines.append("optimiser: the optimal plan for the same money (counterfactual; "
                             f"the simulation ran the {self.scenario.levers.allocation_rule!r} rule):")
                lines += ["  " + x for x in self.optimisation.summary_lines()]
            else:
                lines += self.optimisation.summary_lines()
        if self.solver_years:
            lines.append("the chain's yearly solves (HiGHS status and gap; solver.json 'yearly'):")
            lines += [f"  FY{y['fiscal_year']}: {y['verdict']}" for y in self.solver_years]
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
                    f"{r['mean_days_to_disbursement']:.0f} days to first disbursement (the year's "
                    "projects paid within it); "
                    f"change approval {r['mean_change_approval_days']:.1f} days; "
                    f"satisfaction {r['satisfaction']:.2f}")
        return lines


def first_year_funding(tables: dict[str, pd.DataFrame]) -> tuple[int, int, int] | None:
    """(first fiscal year, projects the simulation funded in it, their baht) from
    ``sim_projects``: the headline's "funded" is what ran, not the optimiser's plan."""
    sp = tables.get("sim_projects")
    if sp is None or not len(sp):
        return None
    fy = int(sp["fiscal_year"].min())
    f = sp[(sp["fiscal_year"] == fy) & sp["funded"].astype(bool)]
    return fy, len(f), int(f["allocated_thb"].sum())


def counterfactual(sc: Scenario, tables: dict[str, pd.DataFrame]) -> bool:
    """True when the optimiser's allocation/portfolio tables are not what the simulation ran:
    a formula rule (they are the optimal plan for the same money), or the optimal rule when the
    chain fell back to a formula or its first year carried commitments."""
    if sc.levers.allocation_rule != "optimal":
        return True
    la = tables.get("sim_allocation")
    if la is not None and len(la):
        fy = la["fiscal_year"].min()
        first = la[la["fiscal_year"] == fy]
        if (first["selection"] != "portfolio MILP").any() or first["committed_thb"].sum() > 0:
            return True
    return False


def optimal_reference(tables: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """``plan_vs_delivery`` with one common reference that does not depend on the scenario's own
    plan: ``optimal_plan_benefit_thb``, the benefit of the portfolio MILP's selection for the
    first fiscal year's candidates under the scenario's rules and money (``portfolio.csv``: the
    chain's own selection under the ``optimal`` rule, the optimal plan for the same money, a
    counterfactual, under a formula rule), ``delivered_benefit_fy1_thb``, what the first year's
    funded projects delivered in the simulation, and ``delivered_vs_optimal_share``, their
    ratio. (``delivered_share`` stays: delivered ÷ the scenario's own plan, which under a
    formula rule is whatever the provinces funded.)"""
    pvd, port, sp = (tables.get(k) for k in ("plan_vs_delivery", "portfolio", "sim_projects"))
    if pvd is None or port is None or sp is None or not len(pvd) or "province" not in port:
        return None
    sel = port[port["selected"].astype(bool)]
    opt = (sel.groupby("province")["benefit"].sum() * 1e6)
    fy1 = sp[sp["fiscal_year"] == sp["fiscal_year"].min()]
    got = fy1.groupby("province")["delivered_benefit_thb"].sum()
    out = pvd.copy()
    nat = out["area"] == "national"
    out["optimal_plan_benefit_thb"] = np.where(nat, float(opt.sum()), out["area"].map(opt).fillna(0.0))
    out["delivered_benefit_fy1_thb"] = np.where(nat, float(got.sum()), out["area"].map(got).fillna(0.0))
    out["delivered_vs_optimal_share"] = np.divide(
        out["delivered_benefit_fy1_thb"], out["optimal_plan_benefit_thb"], out=np.full(len(out), np.nan),
        where=out["optimal_plan_benefit_thb"].to_numpy(float) > 0)
    return out


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
    """The written tables against what the simulation held and selected, for EVERY rule.

    1. ``sim_allocation`` (the chain's own yearly allocation, the money the rule gave each holder)
       must equal, per fiscal year and holder, to the baht, the money the simulation's ledger
       records the holder held (``money_rows``), and ``sim_projects`` must fund no more than it.
    2. Under the ``optimal`` rule the optimiser's FY1 ``allocation``/``portfolio`` tables (the
       chain's own FY1 solve, written rather than solved again: ``World.first_solve``) must
       also be that money and the simulation's selection, recomputed here from the tables and
       the simulation's book, when the first year carries no commitments (with commitments the chain's optimiser shares only the free money among new
       proposals, a different problem from the run's FY1 solve, whose tables are then labelled
       as the FY1 optimum, not the executed plan). Under formula rules those tables are the
       optimal plan for the same money, a counterfactual, and are not reconciled.
    Raises ``RunError`` naming the holder or project (a mismatch means the report describes
    money or a plan the simulation did not run)."""
    from allocsim.errors import RunError
    from allocsim.scenario.schema import SOURCES
    from allocsim.simulate.world import round_within

    m = model
    if not getattr(m, "plans", None) or not m.money_rows:
        return
    if "sim_allocation" in tables:
        sa = tables["sim_allocation"]
        for fy, held, _, _ in m.money_rows:
            got = sa[sa["fiscal_year"] == fy].set_index("holder")["amount_thb"]
            got = got.reindex(m.holder_names).fillna(-1).to_numpy(np.int64)
            bad = np.flatnonzero(got != held)
            if len(bad):
                i = int(bad[0])
                raise RunError(f"FY{fy}, holder {m.holder_names[i]}: sim_allocation.csv gives {got[i]} THB "
                               f"but the simulation held {held[i]} THB")
            if "sim_projects" in tables:
                sp = tables["sim_projects"]
                sp = sp[(sp["fiscal_year"] == fy) & sp["funded"].astype(bool)]
                spent = sp.groupby("holder")["allocated_thb"].sum().reindex(m.holder_names).fillna(0)
                over = np.flatnonzero(spent.to_numpy(np.int64) > got)
                if len(over):
                    i = int(over[0])
                    raise RunError(f"FY{fy}, holder {m.holder_names[i]}: sim_projects.csv funds "
                                   f"{int(spent.iat[i])} THB, more than the {got[i]} THB it held")
    if m.plans[0].selected is None:
        return  # a formula rule: the provinces ranked; the optimiser's tables are counterfactual
    if m.plans[0].committed_thb is not None and m.plans[0].committed_thb.any():
        return  # FY1 commitments: the run's FY1 solve is not the chain's (docstring)
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
    if simulate:
        from allocsim.simulate.world import solver_years

        result.solver_years = solver_years(model)
    result.tables["provinces"] = geo.provinces
    result.tables["clusters"] = geo.clusters
    if optimise:
        # one set of plan scores: the simulation's (same function, same run seed without it)
        scores = dict(zip(model.iso, model.plan_score_history[0], strict=True)) if simulate else None
        # a user's table: the optimiser sees the first fiscal year's candidates, by the same rule
        # (``year_candidates``) the simulation's project book uses, so the same ids
        opt_table = year_table(table, sc.first_fiscal_year, sc.first_fiscal_year) \
            if sc.projects.source == "file" else table
        if opt_table.projects.empty:
            from allocsim.errors import Problem, UserError

            raise UserError(Problem(str(sc.projects.projects_file), "fiscal_year",
                                    f"no project is proposed in the first fiscal year {sc.first_fiscal_year} "
                                    "(rows without a fiscal_year belong to it); the optimiser has nothing to select"))
        # under ``optimal`` the chain already solved FY1: write that solution, do not solve again
        chain = model.world.first_solve if simulate and sc.levers.allocation_rule == "optimal" else None
        result.optimisation = optimise_scenario(sc, geo, opt_table, loop_seed(sc.seed), scores=scores,
                                                chain=chain)
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
            ref = optimal_reference(result.tables)
            if ref is not None:
                result.tables["plan_vs_delivery"] = ref
        if replicates > 1:
            from allocsim.experiments.api import replicates as run_replicates

            rep = run_replicates(sc, replicates, workers=workers, scheduler=scheduler, progress=progress)
            result.tables["replicates"] = rep.table
            result.tables["summary"] = rep.summary
            result.manifest_extra["replicates"] = {"n": replicates, "seeds": rep.table["seed"].tolist()}
    written = table  # inputs/projects.csv: the public contract, re-runnable
    if simulate and sc.projects.source != "file":
        from allocsim.simulate.world import contract_table

        written = contract_table(model)  # every year's proposals with their year profiles
    manifest = {
        "scenario": sc.name,
        "scenario_file": str(sc.source) if sc.source else None,
        "scenario_hash": scenario_hash(sc),
        "scenario_files": file_hashes(sc),
        "seed": sc.seed,
        "random_streams": list(STREAMS),
        "cluster_map": geo.cluster_map,
        "projects": {"source": sc.projects.source, "count": len(written.projects),
                     "resources": len(written.resources)},
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
        written.write(inputs)
        for name, df in result.tables.items():
            atomic_write_csv(df, inputs / f"{name}.csv" if name in ("provinces", "clusters")
                             else stage / f"{name}.csv")
        if result.optimisation is not None:
            summary = solver_summary(result.optimisation)
            atomic_write_json(summary, stage / "solver.json")
            manifest["solver"] = {k: {"status": v["status"], "gap": v["gap"], "mip_gap": v["mip_gap"],
                                      "time_limit_s": v["time_limit_s"], "version": v["solver_version"]}
                                  for k, v in summary.items()}
        if result.solver_years:  # every year the chain solved, not only the FY1 solve above
            summary = (summary if result.optimisation is not None else {}) | {"yearly": result.solver_years}
            atomic_write_json(summary, stage / "solver.json")
            manifest.setdefault("solver", {})["yearly"] = [
                {k: y[k] for k in ("fiscal_year", "allocation_status", "allocation_gap", "selection_status",
                                   "selection_gap", "verdict")} for y in result.solver_years]
        from allocsim.report import run_report

        result.out = Path(out)
        run_report(stage, result, lang=lang)
        manifest.update(result.manifest_extra)
        manifest["finished"] = now_utc()
        manifest["status"] = "ok"
        atomic_write_json(manifest, stage / "manifest.json")
    result.out = Path(out)
    return result
