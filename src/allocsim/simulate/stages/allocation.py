"""The formula allocation rules' weights per province and cluster (``world.py`` splits every
envelope by them): plan scores, citizens' unmet need, population, the real (``actual``) or fitted
shares, or last year's money less what lapsed (``incremental``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allocsim.simulate.model import BudgetModel


def rule_weights(m: BudgetModel) -> tuple[np.ndarray, np.ndarray]:
    """(province, cluster) weights of the scenario's formula allocation rule."""
    if m.levers.allocation_rule == "incremental":
        return incremental(m)
    if m.levers.allocation_rule in ("actual", "fitted"):
        cw = real_weights(m)[1]
    else:
        cw = _population_shares(m)
    return province_weights(m), cw


def _population_shares(m: BudgetModel) -> np.ndarray:
    cpop = np.bincount(m.cluster_of, weights=m.population, minlength=m.n_clusters)
    return cpop / cpop.sum()


def province_weights(m: BudgetModel) -> np.ndarray:
    rule = m.levers.allocation_rule
    if rule == "optimal" and m.allocation_weights is not None:
        w = np.asarray(m.allocation_weights, float)
    elif rule == "plan_score":
        w = m.population * m.plan_score
    elif rule in ("need", "optimal"):  # optimal without optimiser weights: need is its proxy
        w = m.population * m.citizens.unmet_need()
    elif rule in ("actual", "fitted"):  # measured: the budget bills' shares or the fitted formula
        w = real_weights(m)[0]
    elif rule == "incremental":
        w = incremental(m)[0]
    else:
        w = m.population.copy()
    return w / w.sum()


def incremental(m: BudgetModel) -> tuple[np.ndarray, np.ndarray]:
    """(province, cluster) shares of the ``incremental`` rule: last year's money of each
    holder less ``allocation.lapse_clawback`` × what it returned to the Treasury (money follows
    use), scaled to this year's envelopes; the first year starts from the real shares of
    ``actual_year``. Returned = unfunded + lapsed in execution: money a holder found no
    eligible project for is unused as much as money its projects failed to spend.

    With institutional friction (``simulation.incremental_friction_threshold`` > 0) that target
    is a signal, not the allocation: the Budget Bureau (:meth:`BudgetBureau.revise_shares`)
    keeps a holder's share until the pressure accumulated over the years passes the threshold.
    Computed once per fiscal year (the world asks for the weights more than once)."""
    year = len(m.recorder.ledger_rows)
    state = getattr(m, "_incremental", None)
    if state is not None and state["year"] == year:
        return state["shares"]
    if not m.recorder.ledger_rows:
        from allocsim.data.formula import actual_cluster_shares, actual_shares

        cfg = m.scenario.allocation
        clu = actual_cluster_shares(cfg.actual_year, m.cluster_ids)
        if np.isnan(clu).any():
            clu = _population_shares(m)
        shares = (actual_shares(cfg.actual_year, m.iso), clu)
        m._incremental = {"year": year, "shares": shares,
                          "pressure": (np.zeros(len(shares[0])), np.zeros(len(clu)))}
        return shares
    led = m.recorder.ledger_rows[-1]
    keep = np.maximum(led["money_thb"].to_numpy(float)
                      - m.scenario.allocation.lapse_clawback * led["returned_thb"].to_numpy(float), 0.0)
    n, k = m.n_provinces, m.n_sources * m.n_provinces
    prov, clu = keep[:k].reshape(m.n_sources, n).sum(axis=0), keep[k:]
    target = (prov / prov.sum() if prov.sum() > 0 else np.full(n, 1 / n),
              clu / clu.sum() if clu.sum() > 0 else np.full(len(clu), 1 / max(len(clu), 1)))
    if state is None:  # a subclass set the weights itself in year one: no status quo to keep
        m._incremental = {"year": year, "shares": target,
                          "pressure": (np.zeros(len(target[0])), np.zeros(len(target[1])))}
        return target
    out, pressure = [], []
    for sq, tg, p in zip(state["shares"], target, state["pressure"], strict=True):
        s, q = m.bureau.revise_shares(sq, tg, p)
        out.append(s)
        pressure.append(q)
    m._incremental = {"year": year, "shares": (out[0], out[1]), "pressure": (pressure[0], pressure[1])}
    return out[0], out[1]


def friction_shares(status_quo: np.ndarray, target: np.ndarray, pressure: np.ndarray,
                    threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Incremental budgeting with institutional friction (Jones & Baumgartner 2005): each year a
    holder's signed relative gap between the signal (``target`` share) and its current share
    (``status_quo``) is added to its accumulated ``pressure``; only where |pressure| exceeds
    ``threshold`` does the share move, and then by all of the accumulated pressure
    (share × (1 + pressure)) — so most years change little and a few change a lot. The holders
    that stay keep their share; those that move split the rest in proportion. Returns (shares
    summing to 1, pressure after the year: 0 where the share moved). ``threshold`` 0 moves every
    holder to its target every year (the rule without friction)."""
    sq, tg = np.asarray(status_quo, float), np.asarray(target, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(sq > 0, (tg - sq) / np.where(sq > 0, sq, 1.0), np.where(tg > 0, np.inf, 0.0))
    acc = np.asarray(pressure, float) + gap
    move = np.abs(acc) > threshold
    if threshold == 0:  # exactly the signal (sq × (1 + gap) = target up to rounding)
        return tg.copy(), np.zeros_like(tg)
    new = np.where(move, np.where(np.isfinite(acc), np.maximum(sq * (1 + acc), 0.0), tg), sq)
    stay = sq[~move].sum()
    moved = new[move].sum()
    if moved > 0 and stay < 1:
        new[move] *= (1 - stay) / moved
    return new / new.sum(), np.where(move, 0.0, acc)


def real_weights(m: BudgetModel) -> tuple[np.ndarray, np.ndarray]:
    """(province, cluster) shares of the ``actual`` or ``fitted`` rule, computed once. Clusters
    take the year's real cluster shares where the cluster map is the budget bill's, else
    population shares."""
    if getattr(m, "_real", None) is None:
        from allocsim.data.formula import actual_cluster_shares, actual_shares, fitted_shares

        cfg = m.scenario.allocation
        prov = (actual_shares(cfg.actual_year, m.iso) if m.levers.allocation_rule == "actual"
                else fitted_shares(m.iso, cfg.fit_year))
        clu = actual_cluster_shares(cfg.actual_year, m.cluster_ids)
        if np.isnan(clu).any() or m.levers.allocation_rule != "actual":
            clu = _population_shares(m)
        m._real = (prov, clu)
    return m._real
