"""Plan-quality scores per province: one function both engines read.

No plan-quality scores are published (`003` §5.3.2), so the scores are **illustrative** draws in
the scenario's ``allocation.plan_score_range``. Each province's score comes from its own
``numpy.random.SeedSequence`` keyed by the run's seed and the province's ISO code, so the same
seed gives every engine (and every subset or order of provinces) the same score for a province.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

#: the key that separates plan-score draws from every other stream of the same seed
STREAM = "plan_score"


def plan_scores(provinces: Sequence[str], seed: int,
                score_range: tuple[float, float] = (0.5, 1.0)) -> np.ndarray:
    """Illustrative plan-quality score of each province (in ``provinces``' order), uniform in
    ``score_range`` and keyed by (run seed, ISO code): the simulation's ``plan_score`` and the
    optimiser's ``scores`` are this one array."""
    lo, hi = score_range
    out = np.empty(len(provinces))
    for k, iso in enumerate(provinces):
        key = int.from_bytes(hashlib.blake2b(f"{STREAM}:{iso}".encode(), digest_size=8).digest(), "little")
        ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(key,))
        u = float(ss.generate_state(1, np.uint64)[0] >> np.uint64(11)) * 2.0 ** -53
        out[k] = lo + (hi - lo) * u
    return out


__all__ = ["plan_scores"]
