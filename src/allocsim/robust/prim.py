"""PRIM (Patient Rule Induction Method, Friedman & Fisher 1999) for scenario discovery.

Finds a box — lower and upper bounds on a few uncertain parameters — in which the futures where a
reform fails are concentrated. Peeling repeatedly removes the ``peel_alpha`` share of the futures
at one edge of the box, always the edge whose removal raises the box's density of failures most,
until the box holds only ``mass_min`` of the futures; every step is one point on the peeling
trajectory (coverage against density). The peeling step chosen is the densest one on the
trajectory that still covers ``min_coverage`` of all failures; pasting then widens its edges again
while that raises density, and restrictions that a one-sided binomial test cannot tell from chance
(``max_p``, like EMA Workbench's quasi-p-values) are dropped so the box names only the
parameters that matter. The box reported is that pasted and pruned box; it is appended to the
trajectory as its own point (``kind = "reported"``, ``chosen``), so a chart marks the box the
tables describe, not the peeling step it started from (``kind = "peel start"``).

Written here rather than taken from ``ema_workbench``: that package pulls in scikit-learn,
statsmodels, seaborn and platypus for a ~200-line algorithm, and this version is deterministic
(ties broken by parameter order) and tested against planted thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class PrimBox:
    """A box (bounds per restricted parameter) and how well it captures the failures."""

    limits: dict[str, tuple[float, float]]  # restricted parameters only: (low, high), inclusive
    coverage: float     # share of all failures inside the box
    density: float      # share of futures inside the box that are failures
    mass: float         # share of all futures inside the box
    n: int              # futures inside the box
    p_values: dict[str, float]
    bounds: dict[str, tuple[float, float]]  # the parameters' full sampled range, for wording
    #: held-out test that a failure region exists (:func:`held_out_p_value`), read after a Holm
    #: correction over every box of the run (``allocsim.robust.futures.holm_boxes``)
    p_value: float = float("nan")
    p_holm: float = float("nan")

    def describe(self, digits: int = 3) -> str:
        """Plain words: ``data_sharing < 0.35 and province_staff >= 3``."""
        parts = []
        for name, (lo, hi) in self.limits.items():
            full_lo, full_hi = self.bounds[name]
            if lo > full_lo and hi < full_hi:
                parts.append(f"{lo:.{digits}g} <= {name} <= {hi:.{digits}g}")
            elif lo > full_lo:
                parts.append(f"{name} >= {lo:.{digits}g}")
            else:
                parts.append(f"{name} <= {hi:.{digits}g}")
        return " and ".join(parts) if parts else "anywhere (no restriction explains the failures)"


@dataclass
class PrimResult:
    box: PrimBox | None
    trajectory: pd.DataFrame  # step, coverage, density, mass, n_restricted, kind, chosen
    note: str = ""

#: Trajectory columns. ``kind``: "peel" (a peeling step), "peel start" (the peeling step that
#: pasting and pruning started from) or "reported" (the box reported: ``chosen`` is True there only).
TRAJECTORY_COLUMNS = ["step", "coverage", "density", "mass", "n_restricted", "kind", "chosen"]


def _inside(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((lo <= X) & (hi >= X), axis=1)


def _stats(y: np.ndarray, inside: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    dens = float(y[inside].mean()) if n_in else 0.0
    cov = float(y[inside].sum() / y.sum()) if y.sum() else 0.0
    return cov, dens, n_in / len(y)


def prim(X: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
         mass_min: float = 0.05, min_coverage: float = 0.5, max_p: float = 0.05) -> PrimResult:
    """One PRIM box for the futures where ``y`` is true (a failure). ``X``: one numeric column per
    uncertain parameter, one row per future. Deterministic for the same inputs."""
    names = list(X.columns)
    A = X.to_numpy(float)
    y = np.asarray(y, bool)
    empty = pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    if len(y) == 0 or y.all() or not y.any():
        what = ("no future where the sign is decided" if len(y) == 0
                else ("fails in every future" if y.all() else "never fails"))
        return PrimResult(None, empty, what)
    full_lo, full_hi = A.min(axis=0), A.max(axis=0)
    bounds = {n: (float(full_lo[j]), float(full_hi[j])) for j, n in enumerate(names)}
    lo, hi = full_lo.copy(), full_hi.copy()
    inside = np.ones(len(y), bool)
    boxes = [(lo.copy(), hi.copy())]
    rows = [_row(0, y, inside, lo, hi, full_lo, full_hi)]
    while inside.mean() > mass_min:
        best = None
        for j in range(A.shape[1]):
            col = A[inside, j]
            if col.min() == col.max():
                continue
            for side in (0, 1):
                cut = np.quantile(col, peel_alpha if side == 0 else 1 - peel_alpha, method="lower" if side == 0 else "higher")
                if side == 0:
                    cut = cut if (col < cut).any() else col[col > col.min()].min()
                    keep = inside & (A[:, j] >= cut)
                else:
                    cut = cut if (col > cut).any() else col[col < col.max()].max()
                    keep = inside & (A[:, j] <= cut)
                if keep.mean() < mass_min or not keep.any():
                    continue
                dens = float(y[keep].mean())
                key = (dens, keep.sum())  # higher density, then the smaller peel
                if best is None or key > best[0]:
                    best = (key, j, side, cut, keep)
        if best is None:
            break
        _, j, side, cut, keep = best
        if side == 0:
            lo[j] = cut
        else:
            hi[j] = cut
        inside = keep
        boxes.append((lo.copy(), hi.copy()))
        rows.append(_row(len(rows), y, inside, lo, hi, full_lo, full_hi))
    traj = pd.DataFrame(rows)
    ok = traj[traj["coverage"] >= min_coverage]
    top = ok["density"].max()
    k = int(ok[ok["density"] >= top - 1e-12]["step"].min())  # the densest, with the most coverage
    lo, hi = (b.copy() for b in boxes[k])
    lo, hi = _paste(A, y, lo, hi, paste_alpha)
    lo, hi, pvals = _prune(A, y, lo, hi, full_lo, full_hi, names, max_p)
    traj.loc[traj["step"] == k, "kind"] = "peel start"
    inside = _inside(A, lo, hi)
    cov, dens, mass = _stats(y, inside)
    final = _row(len(traj), y, inside, lo, hi, full_lo, full_hi)
    final.update(kind="reported", chosen=True)
    traj = pd.concat([traj, pd.DataFrame([final])], ignore_index=True)[TRAJECTORY_COLUMNS]
    limits = {n: (float(lo[j]), float(hi[j])) for j, n in enumerate(names)
              if lo[j] > full_lo[j] or hi[j] < full_hi[j]}
    box = PrimBox(limits, cov, dens, mass, int(inside.sum()), pvals, bounds)
    return PrimResult(box, traj)


def held_out_p_value(X: pd.DataFrame, y: np.ndarray, **kw: float) -> float:
    """Is there a real failure region? A test PRIM's own choice cannot bias: PRIM on every other
    future (a half), its box tested on the other half by Fisher's exact test (one-sided: more
    failures inside the box than outside). 1.0 when the half finds no restricted box. The
    in-sample binomial test of a box is optimistic (the box was chosen to be dense): on random
    labels it passes far more often than its level."""
    y = np.asarray(y, bool)
    train = np.arange(len(y)) % 2 == 0
    res = prim(X[train], y[train], **kw)
    if res.box is None or not res.box.limits:
        return 1.0
    Xt, yt = X[~train], y[~train]
    inside = np.ones(len(yt), bool)
    for name, (lo, hi) in res.box.limits.items():
        inside &= (Xt[name].to_numpy(float) >= lo) & (Xt[name].to_numpy(float) <= hi)
    k, n, K = int(yt[inside].sum()), int(inside.sum()), int(yt.sum())
    table = [[k, n - k], [K - k, len(yt) - n - (K - k)]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


def _row(step: int, y: np.ndarray, inside: np.ndarray, lo: np.ndarray, hi: np.ndarray,
         full_lo: np.ndarray, full_hi: np.ndarray) -> dict:
    cov, dens, mass = _stats(y, inside)
    return {"step": step, "coverage": cov, "density": dens, "mass": mass,
            "n_restricted": int(((lo > full_lo) | (hi < full_hi)).sum()), "kind": "peel", "chosen": False}


def _paste(A: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Widen one edge at a time by about ``alpha`` of the box's futures while density rises."""
    while True:
        inside = _inside(A, lo, hi)
        dens = float(y[inside].mean())
        step = max(1, int(round(alpha * inside.sum())))
        best = None
        for j in range(A.shape[1]):
            for side in (0, 1):
                lo2, hi2 = lo.copy(), hi.copy()
                others = np.all(np.delete((lo <= A) & (hi >= A), j, axis=1), axis=1)
                outside = A[others & ~inside, j]
                outside = outside[outside < lo[j]] if side == 0 else outside[outside > hi[j]]
                if len(outside) == 0:
                    continue
                if side == 0:
                    lo2[j] = np.sort(outside)[::-1][:step].min()
                else:
                    hi2[j] = np.sort(outside)[:step].max()
                new = _inside(A, lo2, hi2)
                d2 = float(y[new].mean())
                if d2 > dens + 1e-12 and (best is None or d2 > best[0]):
                    best = (d2, lo2, hi2)
        if best is None:
            return lo, hi
        _, lo, hi = best


def _prune(A: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, full_lo: np.ndarray,
           full_hi: np.ndarray, names: list[str], max_p: float) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Drop restrictions the box does not need: a one-sided binomial test of the box's failures
    against the density of the box without that restriction; the least significant goes first."""
    while True:
        inside = _inside(A, lo, hi)
        n, k = int(inside.sum()), int(y[inside].sum())
        pvals = {}
        for j in range(len(names)):
            if lo[j] > full_lo[j] or hi[j] < full_hi[j]:
                lo2, hi2 = lo.copy(), hi.copy()
                lo2[j], hi2[j] = full_lo[j], full_hi[j]
                p0 = float(y[_inside(A, lo2, hi2)].mean())
                pvals[j] = float(stats.binom.sf(k - 1, n, p0)) if p0 < 1 else 1.0
        if not pvals:
            return lo, hi, {}
        worst = max(pvals, key=lambda j: (pvals[j], -j))
        if pvals[worst] <= max_p:
            return lo, hi, {names[j]: p for j, p in pvals.items()}
        lo[worst], hi[worst] = full_lo[worst], full_hi[worst]
