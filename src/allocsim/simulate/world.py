"""One world: each fiscal year the simulation's agents propose, the allocation rule sets the money,
selection decides what is funded, and the simulation executes exactly those projects.

The yearly chain (``World.plan_year``):
1. **Proposals.** The proposing agents (provinces, ministries, local governments, the private
   sector, cluster offices) use the one catalogue generator (``data/catalogue.py``), conditioned on
   their citizens' current needs (strategy chances ∝ voiced need², benefit × relative need); or a
   user's ``projects.csv`` as given (``data.projects.year_candidates``: rows of this
   ``fiscal_year``; rows without one in the first fiscal year only). Each row of the year's
   table is one annual tranche of one project, with one id.
2. **Allocation** (the scenario's ``allocation_rule``): a formula rule splits every envelope by its
   province (and cluster) weights; the ``optimal`` rule solves the allocation LP on this year's
   table. The result is baht per holder: (province, source) and cluster pot.
3. **Selection.** Formula rules: each province ranks its screened proposals within its money (the
   simulation's ``Province.fund``, today's behaviour). ``optimal``: the portfolio MILP decides
   within the LP's money; provinces fund exactly its selection.
4. **Execution** (``model.py``): every friction acts on those projects; the year-end ledger
   reconciles allocation → funded → disbursed + carried + lapsed per holder to the baht.

**Rounding rule.** The optimiser works in million THB (floats); the simulation in integer baht.
A cost or amount in M THB becomes ``round(M THB × 10⁶)`` baht. A multi-year project's whole cost
C (baht, per money source, kept as ``whole_thb:<source>``) is split over its N tranches as
⌊C·k/N⌋ − ⌊C·(k−1)/N⌋ for tranche k, so the tranches sum to C exactly and each is within a baht of
C/N (``tranche_costs``). Formula rules share each envelope (less its commitments) among holders
by the largest-remainder method, so the holders' money sums to it exactly; the LP's amounts are
rounded per holder to the nearest baht, and where that would exceed a source's envelope the
holders rounded up the most give one baht back (``round_within``).

**Multi-year projects.** A project of N years is N annual tranches, each with its year profile's
share of the cost (exact to the baht, above) and of the benefit (``cost:y<FY>`` columns of a user's
table; the catalogue's profiles are even: C/N and benefit/N), each executed within its fiscal year. `003` §5.2.11 says *provincial and cluster
development plans* should be allowed to make cross-year commitments, i.e. today they cannot: so
today's rule applies to the ``province`` and ``cluster`` channels only (``PLAN_CHANNELS``): a later
tranche is re-proposed the next year and must win funding again; if it loses (or is screened out)
the project stops, and its delivered tranches keep only ``simulation.stopped_project_benefit``
(illustrative, default 0: partial works serve no one) of their benefit in the reported delivered
benefit (``write_down_stopped``; needs already relieved in past years are not re-opened). Line
ministries' investment budgets, local-government grants and private money commit multi-year works
through ordinary budget law, so their later tranches are committed in every scenario; the
``multi_year_projects`` reform extends commitment to provincial and cluster plans. A committed
tranche is funded first: its cost is deducted from the next year's envelope before the rule
shares the rest, the holder keeps exactly that money, it is set aside at the Budget Act and never
screened again, so every committed tranche is funded; work unfinished at year end carries over.
**Sizing.** With ``catalogue.oversubscription`` set, each holder proposes against its expected
money (``expected_money``), so money stays unassigned only when no eligible proposal fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocsim.data.catalogue import CHANNEL_SOURCE, generate_catalogue
from allocsim.data.projects import COST_PREFIX, LOCAL_PREFIX, ProjectTable, year_candidates
from allocsim.data.scores import plan_scores
from allocsim.scenario.schema import SOURCES
from allocsim.simulate.calendar import YEAR_DAYS

if TYPE_CHECKING:
    from allocsim.data.geography import Geography
    from allocsim.simulate.model import BudgetModel

CLUSTER_SOURCE = "cluster_budget"
MONEY = (*SOURCES, CLUSTER_SOURCE)
YEAR_COLUMNS = ("fiscal_year", "tranche", "tranches")
#: Channels whose plans cannot make cross-year commitments today (`003` §5.2.11).
PLAN_CHANNELS = ("province", "cluster")
#: A project's whole cost per money source in baht, kept on every tranche's row (rounding rule).
WHOLE_PREFIX = "whole_thb:"


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``weights`` that sum to ``total`` exactly
    (largest remainder; ties go to the lower index)."""
    w = np.clip(np.asarray(weights, float), 0.0, None)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base


def round_within(baht: np.ndarray, cap: int) -> np.ndarray:
    """Whole baht nearest to ``baht`` per holder; if the nearest baht of a source's holders would
    exceed its envelope ``cap`` (the LP's floats at the bound), the holders rounded up the most
    give one baht back each until the sum fits, so holders never hold more than the envelope."""
    x = np.asarray(baht, float)
    r = np.rint(x).astype(np.int64)
    excess = int(r.sum() - cap)
    if excess > 0:
        order = np.argsort(-(r - x), kind="stable")
        r[order[:excess]] -= 1
    return r


def to_thb(mthb: float | np.ndarray) -> np.ndarray:
    """The rounding rule: million THB (float) → integer baht, rounded to the nearest baht."""
    return np.rint(np.asarray(mthb, float) * 1e6).astype(np.int64)


def annual_tranches(table: pd.DataFrame, fiscal_year: int) -> pd.DataFrame:
    """Split each project into annual tranches by its year profile (its nonzero ``cost:y<FY>``
    columns in year order; ``data/projects.py``): returns this year's rows (tranche 1) with one
    cost column per money source, each scaled by the first tranche's share ``y_1 / Σ y``, plus
    ``tranche``/``tranches`` and ``tranche_shares`` (the profile, read by ``next_tranche``). A
    project without year columns is one tranche."""
    p = table.copy()
    ycols = sorted((c for c in p.columns if c.startswith(COST_PREFIX + "y") and c[len(COST_PREFIX) + 1:].isdigit()),
                   key=lambda c: int(c[len(COST_PREFIX) + 1:]))
    y = p[ycols].fillna(0.0).to_numpy(float) if ycols else np.zeros((len(p), 0))
    shares = [row[row > 0] / row[row > 0].sum() if (row > 0).any() else np.ones(1) for row in y]
    n = np.array([len(s) for s in shares], int)
    first = np.array([s[0] for s in shares], float)
    p = p.drop(columns=ycols)
    p["tranches"] = n
    for src in MONEY:
        c = COST_PREFIX + src
        if c not in p:
            p[c] = 0.0
        p[WHOLE_PREFIX + src] = to_thb(p[c].fillna(0.0).to_numpy(float))
    p["tranche_shares"] = [" ".join(repr(float(x)) for x in sh) for sh in shares]
    p = tranche_costs(p, np.ones(len(p), int))
    p["total_cost"] = (p["total_cost"] * first).round(6)
    p["benefit"] = (p["benefit"] * first).round(6)
    p["tranche"] = 1
    p["fiscal_year"] = fiscal_year
    return p


def next_tranche(rows: pd.DataFrame) -> pd.DataFrame:
    """The next annual tranche of each row: ``tranche`` + 1, its money exact to the baht
    (``tranche_costs``), its benefit and total cost rescaled from this tranche's share of the
    year profile to the next one's (equal tranches keep theirs)."""
    p = rows.copy()
    prof = _profiles(p)
    t = p["tranche"].to_numpy(int)
    f = np.array([pr[k] / pr[k - 1] if k < len(pr) else 1.0 for pr, k in zip(prof, t, strict=True)])
    for c in ("total_cost", "benefit"):
        p[c] = (p[c].to_numpy(float) * f).round(6)
    p["tranche"] += 1
    return tranche_costs(p, p["tranche"].to_numpy(int))


def _profiles(p: pd.DataFrame) -> list[np.ndarray]:
    """Each row's year profile (tranche shares summing to 1); even when none is recorded."""
    if "tranche_shares" in p:
        return [np.array(s.split(), float) for s in p["tranche_shares"].astype(str)]
    return [np.full(n, 1.0 / n) for n in p["tranches"].to_numpy(int)]


def tranche_costs(p: pd.DataFrame, k: np.ndarray) -> pd.DataFrame:
    """Set each row's cost columns to tranche ``k`` of its project: of a project's whole cost C
    baht (``whole_thb:<source>``) with cumulative profile shares S (S_N = 1), tranche k costs
    round(C·S_k) − round(C·S_{k−1}) baht, so the tranches sum to C exactly and each is within one
    baht of its share of C (an even profile: of C/N)."""
    p = p.copy()
    k = np.asarray(k, np.int64)
    cum = [np.concatenate([[0.0], np.cumsum(pr)]) for pr in _profiles(p)]
    for c in cum:
        c[-1] = 1.0  # the last tranche closes the cost exactly
    hi = np.array([c[min(kk, len(c) - 1)] for c, kk in zip(cum, k, strict=True)])
    lo = np.array([c[min(kk - 1, len(c) - 1)] for c, kk in zip(cum, k, strict=True)])
    for src in MONEY:
        w = WHOLE_PREFIX + src
        if w in p:
            whole = p[w].to_numpy(np.int64).astype(float)
            p[COST_PREFIX + src] = (np.rint(whole * hi) - np.rint(whole * lo)) / 1e6
    return p


def default_channels(p: pd.DataFrame) -> pd.Series:
    """A project's channel, or where a user's table leaves it empty, the channel of the money
    source it costs most (``province`` when it costs none of the money sources)."""
    inverse = {v: k for k, v in CHANNEL_SOURCE.items()}
    cols = [COST_PREFIX + s for s in MONEY if COST_PREFIX + s in p]
    if cols:
        money = p[cols].fillna(0.0).to_numpy(float)
        guess = np.where(money.max(axis=1) > 0,
                         np.array([inverse[c[len(COST_PREFIX):]] for c in cols], dtype=object)[money.argmax(axis=1)],
                         "province")
    else:
        guess = np.full(len(p), "province", dtype=object)
    ch = p["channel"].fillna("").astype(str).to_numpy() if "channel" in p else np.full(len(p), "", dtype=object)
    return pd.Series(np.where(ch == "", guess, ch), index=p.index)


class World:
    """The project book's supplier and the allocation/selection chain for one simulation."""

    def __init__(self, model: BudgetModel, geo: Geography, user_table: ProjectTable | None,
                 rng: np.random.Generator) -> None:
        self.m, self.geo, self.user, self.rng = model, geo, user_table, rng
        self.pending = pd.DataFrame()     # next year's continuation tranches
        self.years: list[pd.DataFrame] = []  # each year's candidate table (with decisions)
        self.status: list[dict] = []
        self.fallback: dict | None = None
        #: FY1's (allocation, portfolio, params, inputs) under the ``optimal`` rule when it carried no
        #: commitments: the run writes this solve's tables instead of solving FY1 again
        self.first_solve: tuple | None = None
        self.new_committed = pd.DataFrame()  # this year's user rows flagged committed
        self.user_committed_ids: set[str] = set()

    # --- 1. proposals --------------------------------------------------------------------------
    def proposals(self, fy: int) -> pd.DataFrame:
        m, sc = self.m, self.m.scenario
        if self.user is not None:
            # the one rule of the contract: this year's rows; rows without a year in the first
            p = year_candidates(self.user.projects, fy, sc.first_fiscal_year)
            p = p.drop(columns="fiscal_year", errors="ignore")
            p = p.assign(channel=default_channels(p))
            self._check_user(p)
            new = annual_tranches(p, fy)
        else:
            voiced = m.citizens.voiced_need()
            need = m.citizens.province_need()
            part = m.participation_rate()
            base = sc.simulation.problem_base + (1 - sc.simulation.problem_base) * part
            weight = voiced ** sc.simulation.strategy_need_exponent
            strat = weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
            # a problem-based idea (chance ``base``) follows voiced needs; a "want" picks any
            # strategy; the catalogue's ``problem`` flag records which (want_effect acts on it)
            S = strat.shape[1]
            strat = np.where(strat.sum(axis=1, keepdims=True) > 0, strat, 1.0 / S)
            rel = need / np.maximum(need.mean(axis=1, keepdims=True), 1e-9)
            order = [m.iso.index(c) for c in self.geo.province_codes]
            # each province's agencies send an idea through several channels with their learned
            # propensity (``Province.adapt_submission``; the scenario's duplicate_rate is where it
            # starts); overlapping planning calendars make them do so more, a staggered calendar
            # lets them see each other's proposals first
            sim = sc.simulation
            factor = sim.multi_channel_staggered if m.levers.staggered else sim.multi_channel_overlap
            dup_p = np.minimum(1.0, m.multi_channel_propensity() * factor)
            params = sc.catalogue
            cat = generate_catalogue(self.geo, params, self.rng, fy,
                                     strategy_p=strat[order], benefit_factor=rel[order],
                                     problem_p=base[order], duplicate_p=dup_p[order],
                                     holder_money=self.expected_money() if params.oversubscription else None,
                                     ministry_weights=np.array([mn.budget_weight for mn in m.ministries]),
                                     ministry_compliance=np.array([mn.compliance for mn in m.ministries]))
            new = annual_tranches(cat.projects, fy)
            new["duplicate_group"] = np.where(new["duplicate_group"] != "",
                                              f"{fy}-" + new["duplicate_group"].astype(str), "")
            new["requires"] = np.where(new["requires"] != "", f"{fy}-" + new["requires"].astype(str), "")
            new["project_id"] = f"{fy}-" + new["project_id"].astype(str)  # one id per project, ever
        if not self.pending.empty:  # a project already running proposes its next tranche only
            new = new[~new["project_id"].isin(self.pending["project_id"])]
        # a user's ``committed`` flag is the contract's "must be funded" (a commitment made
        # before the run): kept, and funded first like a committed tranche; generated proposals
        # are new ideas, never committed
        user_flag = self.user is not None and "committed" in new
        new["committed"] = new["committed"].astype(bool) if user_flag else False
        self.new_committed = new[new["committed"]] if user_flag else new.iloc[0:0]
        self.user_committed_ids |= set(self.new_committed["project_id"].astype(str))
        rows = [new] if self.pending.empty else [self.pending.assign(fiscal_year=fy), new]
        out = pd.concat(rows, ignore_index=True)
        if out["project_id"].duplicated().any():
            raise ValueError(f"fiscal year {fy}: project ids repeat in the project book")
        return out

    def expected_money(self) -> dict[tuple[str, str], float]:
        """Each holder's expected money this year (M THB), which the proposing agents size their
        requests against: the envelopes less the commitments already made, shared by the formula
        weights (the ``optimal`` rule uses need, its formula proxy). Commitments are left out:
        they are already funded."""
        m = self.m
        w, cw = m.rule_weights()
        inverse = {v: k for k, v in CHANNEL_SOURCE.items()}
        free = self.free_envelopes_thb() / 1e6
        out: dict[tuple[str, str], float] = {}
        for s, src in enumerate(SOURCES):
            for iso, wi in zip(m.iso, w, strict=True):
                out[(iso, inverse[src])] = float(free[s] * wi)
        for cid, wc in zip(m.cluster_ids, cw, strict=True):
            out[(cid, "cluster")] = float(free[len(SOURCES)] * wc)
        return out

    def committed_thb(self) -> np.ndarray:
        """Money already committed to this year's tranches of running projects (multi-year
        reform), per holder, in baht: it is deducted first from this year's envelopes."""
        m = self.m
        out = np.zeros(m.n_holders, np.int64)
        parts = [d for d in (self.pending, self.new_committed) if not d.empty]
        if not parts:
            return out
        c = pd.concat([d[d["committed"].astype(bool)] for d in parts], ignore_index=True)
        for k, (prov, clu, ch) in enumerate(zip(c["province"], c["cluster"], c["channel"], strict=True)):
            col = COST_PREFIX + CHANNEL_SOURCE[ch]
            out[self.holder_index(prov, clu, ch)] += int(to_thb(c[col].iat[k])) if col in c else 0
        return out

    def holder_index(self, province: str, cluster: str, channel: str) -> int:
        """The budget holder of a project: its cluster's pot, or (its source, its province)."""
        m, n = self.m, self.m.n_provinces
        if channel == "cluster":
            return len(SOURCES) * n + m.cluster_ids.index(cluster)
        return SOURCES.index(CHANNEL_SOURCE[channel]) * n + m.iso.index(province)

    def free_envelopes_thb(self) -> np.ndarray:
        """Each source's envelope (provincial sources, then the cluster pot) less what is already
        committed to running projects' tranches this year, in baht."""
        m, n = self.m, self.m.n_provinces
        env = m.envelopes_thb()
        com = self.committed_thb()
        held = np.append(com[:len(SOURCES) * n].reshape(len(SOURCES), n).sum(axis=1), com[len(SOURCES) * n:].sum())
        if (held > env).any():
            i = int(np.flatnonzero(held > env)[0])
            msg = (f"committed rows cost {held[i] / 1e6:,.6g} M THB of the '{MONEY[i]}' source this "
                   f"year (FY{m.scenario.first_fiscal_year + m.year}), more than its envelope of "
                   f"{env[i] / 1e6:,.6g} M THB")
            user = self.new_committed
            col = COST_PREFIX + MONEY[i]  # a cluster project costs its cluster_budget column
            if not user.empty and col in user and (user[col].fillna(0) > 0).any():
                from allocsim.errors import Problem, UserError
                first = user.loc[user[col].fillna(0) > 0, "project_id"].astype(str).head(5).tolist()
                raise UserError(Problem("projects.csv", "committed",
                                        f"{msg} (first committed rows: {', '.join(first)}); lower "
                                        "their cost, unflag some as committed or raise the envelope "
                                        "in the scenario's [allocation] section"))
            raise ValueError(f"commitments exceed an envelope: {msg}")
        return env - held

    def _check_user(self, p: pd.DataFrame) -> None:
        """A simulated project needs a simulated province and a known channel."""
        from allocsim.errors import Problem, UserError

        m, out = self.m, []
        for i, (pid, prov, ch) in enumerate(zip(p["project_id"], p["province"], p["channel"], strict=True)):
            if prov not in m.iso:
                out.append(Problem("projects.csv", f"{pid}.province", f"{prov!r} is not a simulated province; "
                                   f"the simulation needs one of the {m.n_provinces} provinces in a cluster"))
            if ch not in CHANNEL_SOURCE:
                out.append(Problem("projects.csv", f"{pid}.channel", f"{ch!r}: the simulation needs one of "
                                   + ", ".join(CHANNEL_SOURCE)))
            if len(out) >= 20 or i > 10_000:
                break
        if out:
            raise UserError(out)

    def resources(self) -> pd.DataFrame:
        """The year's money resources are the scenario's envelopes; local co-funding capacity is
        the simulation's local governments' (the MILP applies the same matching uptake)."""
        sc, m = self.m.scenario, self.m
        env = {**sc.allocation.envelope_mthb, CLUSTER_SOURCE: sc.allocation.cluster_envelope_mthb}
        rows = [(s, float(env.get(s, 0.0))) for s in MONEY]
        cap = m.lg.province_capacity_mthb(m.n_provinces)
        rows += [(f"{LOCAL_PREFIX}{iso}", float(c)) for iso, c in zip(m.iso, cap, strict=True)]
        return pd.DataFrame(rows, columns=["resource", "capacity"])

    # --- 2.–3. allocation and selection --------------------------------------------------------
    def plan_year(self, y: int) -> YearPlan:
        m, sc = self.m, self.m.scenario
        fy = sc.first_fiscal_year + y
        projects = self.proposals(fy)
        table = ProjectTable(projects, self.resources())
        com = self.committed_thb()
        plan = self._optimal(y, fy, table) if m.levers.allocation_rule == "optimal" else None
        if plan is None:
            plan = self._formula(fy, table, self.fallback if m.levers.allocation_rule == "optimal" else None)
        return replace(plan, committed_thb=com)

    def _formula(self, fy: int, table: ProjectTable, status: dict | None = None) -> YearPlan:
        m = self.m
        w, cw = m.rule_weights()
        # commitments first: each holder keeps its committed tranches' money, the rest of each
        # envelope is shared by the rule's weights
        com, free = self.committed_thb(), self.free_envelopes_thb()
        money = np.concatenate([apportion(int(free[s]), w) for s in range(len(SOURCES))]
                               + [apportion(int(free[len(SOURCES)]), cw)]) + com
        alloc = self._allocation_rows(money)
        st = status or {"allocation": m.levers.allocation_rule, "allocation_status": "formula",
                        "selection": "province ranking"}
        return YearPlan(fy, table, money, None, alloc, st)

    def _optimal(self, y: int, fy: int, table: ProjectTable) -> YearPlan | None:
        from allocsim.optimise import lp_quota, rule_params, select_portfolio
        from allocsim.optimise.allocation import allocation_inputs, solve_allocation
        from allocsim.optimise.problem import build_data
        from allocsim.optimise.solve import SolveOptions

        m, sc = self.m, self.m.scenario
        options = SolveOptions(sc.solver.mip_gap, sc.solver.time_limit_s, sc.solver.threads)
        # committed tranches are already funded: the optimiser allocates and selects the rest of
        # each envelope among the new proposals
        com, free = self.committed_thb(), self.free_envelopes_thb()
        done = table.projects["committed"].to_numpy(bool)
        full = table
        table = ProjectTable(full.projects[~done].reset_index(drop=True), full.resources)
        cfg = sc.allocation.model_copy(update={
            "envelope_mthb": {s: free[k] / 1e6 for k, s in enumerate(SOURCES)},
            "cluster_envelope_mthb": free[len(SOURCES)] / 1e6})
        data = build_data(table, self.geo)
        # the simulation's plan scores; a province it does not simulate gets the same function's
        drawn = plan_scores(list(data.provinces), m.seed, sc.allocation.plan_score_range)
        scores = np.array([m.plan_score[m.iso.index(c)] if c in m.iso else d
                           for c, d in zip(data.provinces, drawn, strict=True)])
        params = rule_params(sc, data, scores)
        inp = allocation_inputs(self.geo, table, cfg, params=params, data=data)
        if y > 0:
            f = capacity_factor(m)
            inp = replace(inp, absorption_factor=np.array([f[m.iso.index(c)] for c in inp.provinces]))
        kind = sc.objective.kind if sc.objective.kind in ("benefit", "equity", "shortfall") else "benefit"
        alloc = solve_allocation(inp, options, objective=kind, need_target=sc.objective.need_target)
        st = {"allocation": "optimal", "allocation_status": alloc.status.status,
              "allocation_gap": alloc.status.gap}
        if alloc.total_benefit is None:  # say why, as HiGHS said it, and fall back to need
            st["selection"] = "province ranking (allocation LP had no solution: formula 'need' used)"
            st["allocation_conflicts"] = "; ".join(alloc.conflicts)
            st["fallback"] = "need"
            self.fallback = st
            return None
        params = replace(params, quota=lp_quota(inp, alloc), quota_rule="allocation LP")
        port = select_portfolio(data, params, objective=sc.objective.kind, options=options,
                                equity_weight=sc.objective.equity_weight,
                                need_target=sc.objective.need_target)
        # the label says what HiGHS said: a time-limited MILP is never called the optimal selection
        st |= {"selection": "portfolio MILP" if port.status.optimal else
               f"portfolio MILP, NOT OPTIMAL ({port.status.status}, gap {_gap(port.status.gap)})",
               "selection_status": port.status.status, "selection_gap": port.status.gap}
        n, k = m.n_provinces, len(SOURCES) * m.n_provinces
        raw = np.zeros(m.n_holders)  # the LP's baht per holder, before rounding
        t = alloc.table
        prov = t[t["level"] == "province"].groupby(["area", "source"])["amount_mthb"].sum()
        for (iso, src), v in prov.items():
            if iso in m.iso and src in SOURCES:
                raw[SOURCES.index(src) * n + m.iso.index(iso)] += v * 1e6
        clu = t[t["level"] == "cluster"].groupby("area")["amount_mthb"].sum()
        for c, v in clu.items():
            raw[k + m.cluster_ids.index(c)] += v * 1e6
        money = np.concatenate([round_within(raw[s * n:(s + 1) * n], int(free[s])) for s in range(len(SOURCES))]
                               + [round_within(raw[k:], int(free[len(SOURCES)]))]) + com
        rows = self._allocation_rows(money)
        if y == 0 and not com.any() and not done.any():
            self.first_solve = (alloc, port, params, inp)
        if port.x is None:  # no MILP solution: provinces rank within the LP's money
            st["selection"] = f"province ranking (MILP {port.status.status})"
            return YearPlan(fy, full, money, None, rows, st)
        selected = done.copy()  # committed tranches, plus the MILP's selection of the new ones
        selected[~done] = port.x > 0.5
        return YearPlan(fy, full, money, selected, rows, st)

    def _allocation_rows(self, money: np.ndarray) -> pd.DataFrame:
        """The allocation table of the holders' baht (M THB), one row per holder."""
        m, n = self.m, self.m.n_provinces
        rows = [("province", iso, src, money[s * n + i] / 1e6)
                for s, src in enumerate(SOURCES) for i, iso in enumerate(m.iso)]
        rows += [("cluster", c, CLUSTER_SOURCE, money[len(SOURCES) * n + i] / 1e6)
                 for i, c in enumerate(m.cluster_ids)]
        return pd.DataFrame(rows, columns=["level", "area", "source", "amount_mthb"])

    # --- after the year ------------------------------------------------------------------------
    def write_down_stopped(self, y: int) -> np.ndarray:
        """Projects stopped this year: a later tranche (not committed) that lost funding, or was
        rejected at screening, stops its project, and the tranches it already delivered keep only
        ``simulation.stopped_project_benefit`` of their benefit (partial works). Returns the book
        rows written down. Reported delivered benefit only: the needs those tranches relieved in
        past years are not re-opened (a limitation)."""
        from allocsim.simulate import book as B

        m, bk = self.m, self.m.book
        rows = np.flatnonzero(bk["year"] == y)
        p = m.plans[y].table.projects
        lost = rows[np.isin(bk["state"][rows], (B.UNFUNDED, B.REJECTED_DUPLICATE, B.REJECTED_RULE))
                    & (p["tranche"].to_numpy(int) > 1)]
        if len(lost) == 0:
            return lost
        ids = {m.project_ids[j] for j in lost}
        before = np.flatnonzero(bk["year"] < y)
        done = before[np.array([m.project_ids[j] in ids for j in before], bool)]
        bk["effective"][done] *= m.scenario.simulation.stopped_project_benefit
        return done

    def close_year(self, plan: YearPlan, funded: np.ndarray, cancelled: np.ndarray) -> None:
        """Record the year's decisions; the next tranche of each multi-year project funded (and
        not cancelled) this year is proposed next year (committed under the reform)."""
        p = plan.table.projects.copy()
        p["selected_by_optimiser"] = plan.selected if plan.selected is not None else False
        self.years.append(p)
        go = funded & ~cancelled & (p["tranche"] < p["tranches"]).to_numpy()
        nxt = p[go].drop(columns="selected_by_optimiser").copy()
        nxt = next_tranche(nxt)
        # provincial and cluster plans may not commit across years today (`003` §5.2.11); other
        # channels' multi-year projects are committed under ordinary budget law
        # (a user's committed project stays committed in its later tranches)
        nxt["committed"] = (bool(self.m.levers.multi_year) | ~nxt["channel"].isin(PLAN_CHANNELS)
                            | nxt["project_id"].isin(self.user_committed_ids).to_numpy())
        nxt["requires"] = ""
        self.pending = nxt.reset_index(drop=True)


@dataclass
class YearPlan:
    """One fiscal year's decisions before execution: the candidates both engines read, each
    holder's baht, the optimiser's selection (None: provinces rank) and the allocation table."""

    fiscal_year: int
    table: ProjectTable
    money_thb: np.ndarray
    selected: np.ndarray | None
    allocation: pd.DataFrame
    status: dict = field(default_factory=dict)
    committed_thb: np.ndarray | None = None  # per holder: money committed before the rule shared


def reconcile(model: BudgetModel) -> None:
    """Cross-engine conservation, to the baht, checked from the project book against the
    allocation table and the year-end ledger (not one number against itself): for every fiscal
    year and holder, the allocation table's amount equals what the book's funded projects were
    charged plus the money the ledger records as unfunded; every funded project was charged its
    cost in the optimiser's table; and each holder's payments summed project by project in the
    book equal the ledger's yearly disbursements summed. Raises ``InvariantError`` naming the
    holder (or project) and the fiscal year. (``experiments/run.py`` ``reconcile_engines`` checks
    the optimiser's written tables against the simulation.)"""
    from allocsim.simulate import book as B
    from allocsim.simulate.model import InvariantError

    n = model.n_provinces
    bk = model.book
    names = model.holder_names
    led = pd.concat(model.recorder.ledger_rows, ignore_index=True) if model.recorder.ledger_rows else None
    won_states = (B.PROCUREMENT, B.EXECUTING, B.DONE, B.CANCELLED, B.LAPSED)
    for y, plan in enumerate(model.plans):
        fy = plan.fiscal_year
        if led is None or y >= len(model.money_rows):
            break
        want = np.zeros(model.n_holders, np.int64)
        for r in plan.allocation.itertuples(index=False):
            if r.level == "province" and r.area in model.iso and r.source in SOURCES:
                want[SOURCES.index(r.source) * n + model.iso.index(r.area)] += int(to_thb(r.amount_mthb))
            elif r.level == "cluster" and r.area in model.cluster_ids:
                want[len(SOURCES) * n + model.cluster_ids.index(r.area)] += int(to_thb(r.amount_mthb))
        rows = np.flatnonzero(bk["year"] == y)
        won = rows[np.isin(bk["state"][rows], won_states) & (bk["alloc"][rows] > 0)]
        charged = np.bincount(model.holders(won), weights=bk["alloc"][won], minlength=model.n_holders)
        unfunded = led.loc[led["fiscal_year"] == fy, "unfunded_thb"].to_numpy(np.int64)
        bad = np.flatnonzero(charged.astype(np.int64) + unfunded != want)
        if len(bad):
            i = int(bad[0])
            raise InvariantError(f"FY{fy}, holder {names[i]}: the allocation table gives {want[i]} THB but "
                                 f"the book's funded projects were charged {int(charged[i])} THB and the "
                                 f"ledger records {unfunded[i]} THB unfunded")
        bad = won[bk["alloc"][won] != bk["cost"][won]]
        if len(bad):
            j = int(bad[0])
            raise InvariantError(f"FY{fy}, holder {names[int(model.holders(np.array([j]))[0])]}: "
                                 f"project {model.project_ids[j]} was charged {bk['alloc'][j]} THB, "
                                 f"its cost in the project table is {bk['cost'][j]} THB")
        tcost = plan.table.projects
        src = tcost["channel"].map(CHANNEL_SOURCE).fillna("province_budget").to_numpy()
        cost = np.zeros(len(tcost))
        for s in set(src):
            if COST_PREFIX + s in tcost:
                cost[src == s] = tcost[COST_PREFIX + s].to_numpy(float)[src == s]
        bad = np.flatnonzero(to_thb(cost) != bk["cost"][rows])
        if len(bad):
            j = int(rows[bad[0]])
            raise InvariantError(f"FY{fy}: project {model.project_ids[j]} costs {bk['cost'][j]} THB in the "
                                 f"simulation but {int(to_thb(cost[bad[0]]))} THB in the optimiser's table")
    if led is not None and len(bk):
        paid = np.bincount(model.holders(np.arange(len(bk))), weights=bk["disb"], minlength=model.n_holders)
        booked = led.groupby("holder", sort=False)["disbursed_thb"].sum().reindex(names).to_numpy(np.int64)
        bad = np.flatnonzero(paid.astype(np.int64) != booked)
        if len(bad):
            i = int(bad[0])
            fy = int(led["fiscal_year"].max())
            raise InvariantError(f"FY{fy} (run end), holder {names[i]}: the book's projects were paid "
                                 f"{int(paid[i])} THB but the ledger records {booked[i]} THB disbursed")


def world_tables(model: BudgetModel) -> dict[str, pd.DataFrame]:
    """``sim_projects`` (one row per project per fiscal year), ``plan_vs_delivery`` (per province
    and national: the plan against what the simulation delivered) and ``world_years`` (each
    year's allocation and selection, with solver statuses as HiGHS gave them)."""
    from allocsim.simulate import book as B
    from allocsim.simulate.metrics import project_delays

    bk, m = model.book, model
    n = len(bk)
    fy0 = m.scenario.first_fiscal_year
    state_names = ("proposed", "rejected_duplicate", "rejected_rule", "unfunded", "procurement",
                   "executing", "done", "cancelled", "lapsed")
    funded = ~np.isin(bk["state"], (B.PROPOSED, B.REJECTED_DUPLICATE, B.REJECTED_RULE, B.UNFUNDED))
    year_start = bk["year"].astype(float) * YEAR_DAYS
    groups = np.concatenate([y.table.projects["duplicate_group"].astype(str).to_numpy() for y in m.plans]) \
        if m.plans else np.zeros(0, object)
    tranche = np.concatenate([y.table.projects["tranche"].to_numpy(int) for y in m.plans]) if m.plans else np.zeros(0, int)
    # a funded copy of an idea whose group has another funded project (lapsed ones included)
    grp = bk["group"].astype(np.int64)
    fg = grp[funded & (grp >= 0)]
    counts = np.bincount(fg, minlength=int(grp.max(initial=-1)) + 1) if len(fg) else np.zeros(max(int(grp.max(initial=-1)) + 1, 1), int)
    dup = funded & bk["copy"] & (grp >= 0) & (counts[np.maximum(grp, 0)] > 1)
    projects = pd.DataFrame({
        "project_id": m.project_ids, "fiscal_year": fy0 + bk["year"].astype(int),
        "province": np.array(m.iso, dtype=object)[bk["province"].astype(int)],
        "cluster": np.array(m.cluster_ids, dtype=object)[bk["cluster"].astype(int)],
        "channel": np.array(B.CHANNELS, dtype=object)[bk["channel"].astype(int)],
        "holder": np.array(m.holder_names, dtype=object)[m.holders(np.arange(n))] if n else [],
        "tranche": tranche, "tranches": bk["years"].astype(int), "committed": bk["committed"],
        "selected": bk["selected"], "funded": funded,
        "final_state": np.array(state_names, dtype=object)[bk["state"].astype(int)],
        "not_funded_reason": np.array(B.NOT_FUNDED_REASONS, dtype=object)[bk["reason"].astype(int)],
        "cost_thb": bk["cost"], "allocated_thb": bk["alloc"], "disbursed_thb": bk["disb"],
        "first_payment_day": bk["first_disb"] - year_start,
        **project_delays(bk, np.arange(n)),
        "duplicate_group": groups, "duplicate_funded": dup,
        "planned_benefit_thb": np.where(bk["selected"], bk["potential"], 0.0),
        "delivered_benefit_thb": bk["effective"],
    })
    led = pd.concat(m.recorder.ledger_rows, ignore_index=True) if m.recorder.ledger_rows else pd.DataFrame()
    sel = projects[projects["selected"]]
    fun = projects[projects["funded"]]

    def summarise(key: pd.Series | None) -> pd.DataFrame:
        def g(d: pd.DataFrame):  # noqa: ANN202
            return d.groupby(key.loc[d.index]) if key is not None else d.groupby(lambda _: "national")

        out = pd.DataFrame({
            "planned_benefit_thb": g(sel)["planned_benefit_thb"].sum(),
            "delivered_benefit_thb": g(projects)["delivered_benefit_thb"].sum(),
            "planned_thb": g(sel)["cost_thb"].sum(),
            "funded_thb": g(fun)["allocated_thb"].sum(),
            "duplicates_funded": g(fun)["duplicate_funded"].sum(),
            "mean_days_to_first_payment": g(fun)["first_payment_day"].mean(),
        })
        return out

    prov_key = projects["province"]
    per = summarise(prov_key).reindex(m.iso).fillna({"planned_benefit_thb": 0.0, "delivered_benefit_thb": 0.0,
                                                     "planned_thb": 0, "funded_thb": 0, "duplicates_funded": 0})
    nat = summarise(None)
    if len(led):
        # one basis per province: its own holders' money plus the cluster money spent on the
        # cluster projects located in it (``cluster_money_thb``), and every flow of both, so
        # money + cluster money + carried in = unfunded + disbursed + carried over + lapsed
        # per row to the baht. Nationally, cluster_money_thb is the cluster pots' money and
        # unfunded includes what the pots funded no project with. ``lapsed_thb`` is the
        # execution lapse; unfunded money is apart from it.
        cols = ["carried_in_thb", "unfunded_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb"]
        own = ~led["holder"].str.startswith("cluster:")
        owner = led["holder"].str.split(":").str[0]
        sums = led[own].groupby(owner[own])[["money_thb", *cols]].sum().reindex(m.iso).fillna(0)
        flows = m.recorder.cluster_rows
        clu = {k: np.sum([r[k] for r in flows], axis=0) if flows else np.zeros(m.n_provinces, np.int64)
               for k in ("cluster_money_thb", "carried_in_thb", "disbursed_thb", "carried_over_thb",
                         "lapsed_thb")}
        sums.insert(1, "cluster_money_thb", clu["cluster_money_thb"])
        for k in ("carried_in_thb", "disbursed_thb", "carried_over_thb", "lapsed_thb"):
            sums[k] = sums[k].to_numpy(np.int64) + clu[k]
        per = per.join(sums.astype(np.int64))
        nat["money_thb"] = int(led.loc[own, "money_thb"].sum())
        nat["cluster_money_thb"] = int(led.loc[~own, "money_thb"].sum())
        for k in cols:
            nat[k] = int(led[k].sum())
        nat["unallocated_thb"] = float(pd.DataFrame(m.recorder.national_rows)["unallocated_thb"].sum())
        # unfunded money of holders (per year) whose leftover proposals fitted their money but
        # failed on local co-funding: money that a co-funding rule, not a lack of ideas, left idle
        cof = projects.loc[projects["not_funded_reason"] == "no_cofunding", ["holder", "fiscal_year"]]
        hit = led.set_index(["holder", "fiscal_year"]).index.isin(pd.MultiIndex.from_frame(cof.drop_duplicates()))
        cof_thb = led.loc[hit].groupby(owner[hit])["unfunded_thb"].sum().reindex(m.iso).fillna(0)
        per["unfunded_cofunding_thb"] = cof_thb.astype(np.int64)
        nat["unfunded_cofunding_thb"] = int(led.loc[hit, "unfunded_thb"].sum())
        # money carried out of the run's last year: it pays after the horizon, so delivered
        # benefit cannot count it yet (read delivered_share with it)
        last = led["fiscal_year"] == led["fiscal_year"].max()
        hor = led[last].groupby(owner[last])["carried_over_thb"].sum().reindex(m.iso).fillna(0)
        hor = hor.to_numpy(np.int64) + (flows[-1]["carried_over_thb"] if flows else 0)
        per["carried_out_at_horizon_thb"] = hor
        nat["carried_out_at_horizon_thb"] = int(led.loc[last, "carried_over_thb"].sum())
    per.index.name = "area"
    nat.index.name = "area"
    pvd = pd.concat([nat.reset_index(), per.reset_index()], ignore_index=True)
    pvd["delivered_share"] = np.divide(pvd["delivered_benefit_thb"], pvd["planned_benefit_thb"],
                                       out=np.full(len(pvd), np.nan), where=pvd["planned_benefit_thb"] > 0)
    years = pd.DataFrame([{"fiscal_year": p.fiscal_year, "candidates": len(p.table.projects),
                           "money_thb": int(p.money_thb.sum()), **p.status} for p in m.plans])
    return {"sim_projects": projects, "plan_vs_delivery": pvd, "world_years": years}


#: the public contract's columns (``data/projects.py``) a run's ``inputs/projects.csv`` keeps
CONTRACT_COLUMNS = ("project_id", "fiscal_year", "benefit", "total_cost", "province", "cluster", "partners",
                    "strategy", "agency", "channel", "duplicate_group", "requires", "min_local_share",
                    "construction", "aligned", "problem", "committed")


def contract_table(model: BudgetModel) -> ProjectTable:
    """Every project the simulation's agents proposed, in the public ``projects.csv`` contract, so
    a run can be re-run from its own ``inputs/projects.csv``: one row per project (its first
    tranche's year as ``fiscal_year``; later tranches are not rows: they follow from the profile),
    its whole cost per money source (``cost:<source>``, the ``whole_thb`` baht / 10⁶, exact) and
    benefit, and its year profile as ``cost:y<FY>`` columns; internal columns (tranche,
    tranche_shares, whole_thb:*) are left out. ``resources.csv``: the first year's money
    resources plus one row per year column with that column's total (a profile, not a limit)."""
    parts = []
    for plan in model.plans:
        p = plan.table.projects
        p = p[p["tranche"].to_numpy(int) == 1].reset_index(drop=True)
        if p.empty:
            continue
        prof = _profiles(p)
        first = np.array([pr[0] for pr in prof], float)
        out = pd.DataFrame({c: p[c] for c in CONTRACT_COLUMNS if c in p})
        out["benefit"] = p["benefit"].to_numpy(float) / first
        out["total_cost"] = p["total_cost"].to_numpy(float) / first
        whole = np.zeros(len(p))
        for src in MONEY:
            w = p[WHOLE_PREFIX + src].to_numpy(np.int64) if WHOLE_PREFIX + src in p else np.zeros(len(p), np.int64)
            out[COST_PREFIX + src] = w / 1e6
            whole += w / 1e6
        for k in range(max(len(pr) for pr in prof)):
            share = np.array([pr[k] if k < len(pr) else 0.0 for pr in prof])
            out[f"{COST_PREFIX}y{plan.fiscal_year + k}"] = whole * share
        parts.append(out)
    projects = pd.concat(parts, ignore_index=True).fillna(
        {c: 0.0 for c in set().union(*(q.columns for q in parts)) if c.startswith(COST_PREFIX + "y")}) \
        if parts else pd.DataFrame(columns=list(CONTRACT_COLUMNS))
    res = model.plans[0].table.resources if model.plans else pd.DataFrame(columns=["resource", "capacity"])
    ycols = [c for c in projects.columns if c.startswith(COST_PREFIX + "y")]
    years = pd.DataFrame({"resource": [c[len(COST_PREFIX):] for c in ycols],
                          "capacity": [float(projects[c].sum()) for c in ycols]})
    return ProjectTable(projects, pd.concat([res, years], ignore_index=True))


def sim_allocation(model: BudgetModel) -> pd.DataFrame:
    """The chain's own yearly allocation, as the simulation executed it (``sim_allocation.csv``):
    one row per fiscal year and budget holder with the baht the scenario's rule gave it
    (``YearPlan.money_thb``, integers at the rounding rule) and the part already committed to
    running projects. Under every rule this, not the optimiser's counterfactual
    ``allocation.csv``, is the money the simulation's holders held (``reconcile_engines``)."""
    n, rows = model.n_provinces, []
    for plan in model.plans:
        com = plan.committed_thb if plan.committed_thb is not None else np.zeros(model.n_holders, np.int64)
        for i, name in enumerate(model.holder_names):
            if i < len(SOURCES) * n:
                level, area, src = "province", model.iso[i % n], SOURCES[i // n]
            else:
                level, area, src = "cluster", model.cluster_ids[i - len(SOURCES) * n], CLUSTER_SOURCE
            rows.append((plan.fiscal_year, name, level, area, src, int(plan.money_thb[i]), int(com[i]),
                         plan.status.get("allocation", ""), plan.status.get("selection", "")))
    return pd.DataFrame(rows, columns=["fiscal_year", "holder", "level", "area", "source", "amount_thb",
                                       "committed_thb", "rule", "selection"])


def _gap(g: float | None) -> str:
    return "none" if g is None or not np.isfinite(g) else f"{g:.4g}"


def solver_years(model: BudgetModel) -> list[dict]:
    """Each fiscal year's allocation LP and portfolio MILP status and gap, as HiGHS gave them, under
    the ``optimal`` rule (empty under formula rules, which solve nothing). ``verdict`` is "optimal",
    "NOT OPTIMAL (...)" or "FALLBACK (...)" (the LP had no solution and the ``need`` formula set the
    money), so the summary, report, solver.json and manifest never hide a later year's solve."""
    out = []
    for plan in getattr(model, "plans", []):
        st = plan.status
        if "allocation_status" not in st or st.get("allocation_status") == "formula":
            continue
        a, s = st.get("allocation_status"), st.get("selection_status")
        if st.get("fallback"):
            verdict = f"FALLBACK (allocation LP {a}: formula '{st['fallback']}' set the money, provinces ranked)"
        elif a != "optimal" or s != "optimal":
            verdict = (f"NOT OPTIMAL (allocation LP {a}, gap {_gap(st.get('allocation_gap'))}; "
                       f"portfolio MILP {s}, gap {_gap(st.get('selection_gap'))})")
        else:
            verdict = "optimal"
        out.append({"fiscal_year": int(plan.fiscal_year), "allocation_status": a,
                    "allocation_gap": st.get("allocation_gap"), "selection_status": s,
                    "selection_gap": st.get("selection_gap"), "selection": st.get("selection", ""),
                    "fallback": st.get("fallback"), "verdict": verdict})
    return out


def capacity_factor(model: BudgetModel) -> np.ndarray:
    """Per-province multiplier of absorption capacity from last year's simulation: disbursement
    performance relative to the national rate (clipped to ``simulation.absorption_performance_min``
    –``max``) × the share of the province's money not already committed to carried-over projects
    (at least ``absorption_free_min``)."""
    sim = model.scenario.simulation
    led = model.recorder.year_rows[-1]
    n = model.n_provinces
    alloc = led["allocated_thb"].to_numpy(float)[:n]
    rate = np.divide(led["disbursed_thb"].to_numpy(float)[:n], alloc, out=np.zeros(n), where=alloc > 0)
    national = rate[alloc > 0].mean() if (alloc > 0).any() else 1.0
    perf = np.clip(rate / max(national, 1e-12), sim.absorption_performance_min, sim.absorption_performance_max)
    committed = np.divide(led["carried_over_thb"].to_numpy(float)[:n], alloc, out=np.zeros(n), where=alloc > 0)
    return perf * np.clip(1.0 - committed, sim.absorption_free_min, 1.0)


__all__ = ["CHANNEL_SOURCE", "MONEY", "PLAN_CHANNELS", "WHOLE_PREFIX", "World", "YearPlan",
           "annual_tranches", "apportion", "capacity_factor", "solver_years", "contract_table", "next_tranche", "reconcile", "round_within",
           "sim_allocation", "to_thb", "tranche_costs", "world_tables"]
