"""Exact decomposition of the portfolio MILP into independent blocks, solved in parallel processes.

Selection splits into independent problems exactly when no constraint row couples two groups of
projects: the connected components of the bipartite row–column graph of the rule matrix. This is
checked on the matrix itself, never assumed. Two exact reductions come first:

* the equity rows and the z column are dropped — for the ``benefit`` objective z is free and
  does not restrict x (other objectives couple every province through z: not decomposable);
* a national capacity row is dropped when it is implied by province quotas: every project that
  uses the resource splits fully over provinces (shares sum to 1) and the quotas of the resource
  add up to at most its capacity (so Σ cost·x = Σ_i Σ share·cost·x <= Σ_i quota_i <= capacity).

Blocks (typically a province with its own projects, or a cluster with its joint projects) are
packed into a few chunks, each still a union of whole blocks, and solved by separate HiGHS
instances in 'forkserver' (or 'spawn') processes. The combined objective is the sum, the combined
bound the sum of bounds, so the combined gap is at most the largest block gap.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from allocsim.optimise.portfolio import PortfolioLp, make_highs_lp, new_highs
from allocsim.optimise.problem import PortfolioData, RuleParams
from allocsim.optimise.solve import (
    SolveOptions,
    SolveStatus,
    highs_status,
    highs_version,
    relative_gap,
)

IMPLIED_TOL = 1e-9


@dataclass
class Blocks:
    labels: np.ndarray            # (n,) block of every project
    count: int
    rows: np.ndarray              # rule rows kept (after the exact reductions)
    dropped: list[str] = field(default_factory=list)  # rows dropped as implied, in words


def implied_capacity_rows(data: PortfolioData, params: RuleParams, lp: PortfolioLp) -> dict[int, str]:
    """Capacity rows (matrix row index -> resource) implied by the province quota rows."""
    q = params.quota
    if q is None or "capacity" not in lp.rows_of or "province_quota" not in lp.rows_of:
        return {}
    r0 = lp.rows_of["capacity"][0]
    covered = np.asarray(data.share.sum(axis=1)).ravel()
    out = {}
    for k, res in enumerate(data.resources):
        if not np.isfinite(q[:, k]).all():
            continue
        uses = data.cost[:, k].toarray().ravel() > 0
        if np.all(covered[uses] >= 1 - IMPLIED_TOL) and q[:, k].sum() <= data.capacity[k] * (1 + IMPLIED_TOL):
            out[r0 + k] = res
    return out


def find_blocks(data: PortfolioData, params: RuleParams, lp: PortfolioLp) -> Blocks:
    """Connected components of the row–column graph of the rule rows (equity rows excluded)."""
    n = data.n
    e0, e1 = lp.equity_rows
    implied = implied_capacity_rows(data, params, lp)
    rows = np.array([r for r in range(lp.A.shape[0]) if not (e0 <= r < e1) and r not in implied],
                    dtype=np.int64)
    B = lp.A[:, :n].tocsr()[rows]
    m = len(rows)
    G = sp.bmat([[None, B], [B.T, None]], format="csr") if m else sp.csr_matrix((n, n))
    _, lab = connected_components(G, directed=False)
    col_lab = lab[m:] if m else lab
    _, labels = np.unique(col_lab, return_inverse=True)
    return Blocks(labels=labels, count=int(labels.max()) + 1 if n else 0, rows=rows,
                  dropped=[f"capacity of {r} (implied by its province quotas)" for r in implied.values()])


def _solve_chunk(A: sp.csc_matrix, rlo: np.ndarray, rhi: np.ndarray, cost: np.ndarray,
                 start: np.ndarray | None, options: SolveOptions) -> tuple[np.ndarray | None, dict]:
    """One chunk in a worker process: a fresh HiGHS, the same status mapping."""
    k = A.shape[1]
    h = new_highs(options)
    h.passModel(make_highs_lp(A, rlo, rhi, cost, np.zeros(k), np.ones(k), n_integer=k))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("time_limit", float(options.time_limit_s))
    start_obj = None
    if start is not None:
        start_obj = float(cost @ start)
        h.setSolution(k, np.arange(k, dtype=np.int32), start.astype(float))
    t0 = time.perf_counter()
    h.run()
    st = highs_status(h, options, time.perf_counter() - t0)
    x = np.round(np.asarray(h.getSolution().col_value)[:k]) if st.has_solution else None
    if start_obj is not None and st.status.startswith(("time_limit", "iteration", "objective_limit",
                                                       "interrupted")) and (
            x is None or st.objective < start_obj):
        x = start.astype(float)
        st = replace(st, status=st.status.removesuffix("_no_solution"), objective=start_obj,
                     gap=relative_gap(start_obj, st.bound))
    return x, {"status": st.status, "objective": st.objective, "bound": st.bound,
               "seconds": st.solve_seconds, "termination": st.termination}


@dataclass
class Decomposed:
    status: SolveStatus | None   # None: not decomposed (caller solves the single MILP)
    x: np.ndarray | None
    info: dict
    build_seconds: float = 0.0


def _chunks(labels: np.ndarray, count: int, k: int) -> list[np.ndarray]:
    """Pack whole blocks into at most k chunks of similar size (largest first)."""
    sizes = np.bincount(labels, minlength=count)
    load = np.zeros(k)
    owner = np.empty(count, dtype=np.int64)
    for b in np.argsort(-sizes, kind="stable"):
        c = int(np.argmin(load))
        owner[b] = c
        load[c] += sizes[b]
    return [np.flatnonzero(owner[labels] == c) for c in range(k) if load[c] > 0]


def solve_decomposed(data: PortfolioData, params: RuleParams, lp: PortfolioLp, options: SolveOptions,
                     *, objective: str = "benefit", start: np.ndarray | None = None,
                     workers: int | None = None, context: str = "forkserver") -> Decomposed:
    """Solve exact blocks in parallel, or say why the problem does not decompose."""
    t0 = time.perf_counter()
    if objective != "benefit":
        return Decomposed(None, None, {"blocks": 1, "exact": False, "used": False, "message": (
            f"not decomposed: the '{objective}' objective links every province through the "
            "minimum per-capita benefit; solved as one MILP")})
    blocks = find_blocks(data, params, lp)
    if blocks.count <= 1:
        return Decomposed(None, None, {"blocks": blocks.count, "exact": False, "used": False, "message": (
            "not decomposed: the rule rows (e.g. a national capacity without province quotas, or "
            "the national alignment row) connect every project into one block; solved as one MILP")})
    workers = workers or os.cpu_count() or 1
    chunks = _chunks(blocks.labels, blocks.count, max(1, min(blocks.count, 2 * workers)))
    Ar = lp.A[:, : data.n].tocsr()[blocks.rows]
    tasks = []
    for cols in chunks:
        sub = Ar[:, cols]
        rr = np.flatnonzero(np.diff(sub.indptr) > 0)
        tasks.append((sub[rr].tocsc(), lp.row_lower[blocks.rows][rr], lp.row_upper[blocks.rows][rr],
                      lp.benefit[cols], None if start is None else start[cols], options))
    # rows with no entries: HiGHS would not see them; they hold iff 0 is within their bounds
    empty = np.diff(Ar.indptr) == 0
    lo, hi = lp.row_lower[blocks.rows][empty], lp.row_upper[blocks.rows][empty]
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    if np.any(lo > 1e-9) or np.any(hi < -1e-9):
        st = SolveStatus("infeasible", "empty row out of bounds", None, None, None, 0.0,
                         options.mip_gap, options.time_limit_s)
        return Decomposed(st, None, {"blocks": blocks.count, "exact": True, "used": True,
                                     "message": "a rule row with no projects cannot hold"}, build)
    if len(tasks) == 1 or workers == 1:
        results = [_solve_chunk(*t) for t in tasks]
    else:
        ctx = mp.get_context(context if context in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as ex:
            results = list(ex.map(_solve_chunk, *zip(*tasks, strict=True)))
    wall = time.perf_counter() - t1
    x = np.zeros(data.n)
    statuses = [r[1]["status"] for r in results]
    feasible = all(r[0] is not None for r in results)
    for cols, (xc, _) in zip(chunks, results, strict=True):
        if xc is not None:
            x[cols] = xc
    if all(s == "optimal" for s in statuses):
        status = "optimal"
    else:
        status = next(s for s in statuses if s != "optimal")
        if not feasible and not status.endswith("_no_solution") and status.startswith("time_limit"):
            status = "time_limit_no_solution"
    obj = float(sum(r[1]["objective"] for r in results)) if feasible else None
    bounds = [r[1]["bound"] for r in results]
    bound = float(sum(bounds)) if all(b is not None for b in bounds) else None
    msg = (f"exact: no rule row couples two of the {blocks.count} blocks; solved in {len(tasks)} "
           f"chunks on {min(workers, len(tasks))} processes ({context})")
    if blocks.dropped:
        msg += "; dropped as implied: " + ", ".join(blocks.dropped)
    st = SolveStatus(status=status, termination="decomposed: " + ",".join(sorted(set(statuses))),
                     objective=obj, bound=bound, gap=relative_gap(obj, bound), solve_seconds=wall,
                     mip_gap=options.mip_gap, time_limit_s=options.time_limit_s,
                     solver_version=highs_version(), note=msg)
    info = {"blocks": blocks.count, "chunks": len(tasks), "exact": True, "used": True,
            "dropped_rows": blocks.dropped, "chunk_seconds": [r[1]["seconds"] for r in results],
            "wall_seconds": wall, "message": msg}
    return Decomposed(st, x if feasible else None, info, build)
