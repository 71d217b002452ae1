"""Citizens as numpy arrays, never one Mesa agent each.

Each province has a sample of citizens (``citizens_per_province``), each standing for
population / sample people. A citizen has a need in [0, 1] for every strategy, takes part in
hearings / forums / community plans or not (the participation lever), and has a satisfaction in
[0, 1]. Everything is updated in place with vectorised operations; province figures are weighted
means computed with ``np.bincount``.
"""

from __future__ import annotations

import numpy as np


class Citizens:
    def __init__(self, population: np.ndarray, per_province: int, strategies: int,
                 participation: np.ndarray, rng: np.random.Generator, *,
                 need_beta: tuple[float, float], satisfaction: float) -> None:
        self.n_provinces = len(population)
        self.strategies = strategies
        self.population = np.asarray(population, float)
        self.province = np.repeat(np.arange(self.n_provinces, dtype=np.int32), per_province)
        self.size = len(self.province)
        self.per_province = per_province
        self.rng = rng
        # illustrative starting needs (simulation.need_beta_a/b), differing by person and strategy
        self.need = rng.beta(need_beta[0], need_beta[1], size=(self.size, strategies)).astype(np.float32)
        self.satisfaction = np.full(self.size, satisfaction, dtype=np.float32)
        self.participates = rng.random(self.size) < np.asarray(participation)[self.province]
        self._cache: dict[str, np.ndarray] = {}  # province aggregates; cleared when citizens change

    def _mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Per-province mean of a (N,) or (N, S) array (optionally over a subset)."""
        prov = self.province if mask is None else self.province[mask]
        vals = values if mask is None else values[mask]
        count = np.bincount(prov, minlength=self.n_provinces).astype(float)
        if vals.ndim == 1:
            tot = np.bincount(prov, weights=vals, minlength=self.n_provinces)
            return np.divide(tot, count, out=np.zeros_like(tot), where=count > 0)
        out = np.zeros((self.n_provinces, vals.shape[1]))
        for s in range(vals.shape[1]):
            tot = np.bincount(prov, weights=vals[:, s], minlength=self.n_provinces)
            out[:, s] = np.divide(tot, count, out=np.zeros_like(tot), where=count > 0)
        return out

    def _cached(self, key: str, compute) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key].copy()

    def province_need(self) -> np.ndarray:
        """(I, S) mean need: what an impartial planner would see."""
        return self._cached("need", lambda: self._mean(self.need))

    def voiced_need(self) -> np.ndarray:
        """(I, S) need as heard through participation channels (participants only; where nobody
        takes part, the province hears nothing specific and sees a flat profile)."""
        def compute() -> np.ndarray:
            heard = self._mean(self.need, self.participates)
            nobody = np.bincount(self.province[self.participates], minlength=self.n_provinces) == 0
            heard[nobody] = 1.0 / self.strategies
            return heard

        return self._cached("voiced", compute)

    def unmet_need(self) -> np.ndarray:
        return self._cached("unmet", lambda: self.province_need().mean(axis=1))

    def mean_satisfaction(self) -> np.ndarray:
        return self._cached("satisfaction", lambda: self._mean(self.satisfaction))

    def receive(self, effective_thb: np.ndarray, relief_thb_per_head: float, growth: float) -> np.ndarray:
        """Delivered services relieve needs: need *= exp(-benefit per head / relief scale); then
        needs regrow. Returns the mean relief per province (for satisfaction)."""
        self._cache.clear()
        per_head = effective_thb / np.maximum(self.population, 1.0)[:, None]  # (I, S)
        factor = np.exp(-per_head / relief_thb_per_head).astype(np.float32)  # (I, S)
        before = self.need.mean(axis=1)
        self.need *= factor[self.province]
        self.need += np.float32(growth) * (1.0 - self.need)
        relief = before - self.need.mean(axis=1)
        return self._mean(relief)

    def update_satisfaction(self, relief: np.ndarray, delay_days: np.ndarray, relief_weight: float,
                            delay_weight_per_100: float, *, base: float,
                            pull: tuple[float, float]) -> None:
        """Satisfaction moves part-way each year towards a level set by the relief of needs in
        one's province and the delays there: ``base + relief_weight × relief − delay_weight ×
        days / 100``; ``pull`` = (participants, others) share of the gap closed — participants
        react more strongly (all illustrative, ``simulation.satisfaction_*``)."""
        self._cache.clear()
        target = base + relief_weight * relief - delay_weight_per_100 * delay_days / 100.0  # (I,)
        own = target[self.province].astype(np.float32)
        pull = np.where(self.participates, pull[0], pull[1]).astype(np.float32)
        self.satisfaction += pull * (np.clip(own, 0.0, 1.0) - self.satisfaction)
