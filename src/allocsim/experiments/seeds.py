"""Where every random number comes from: the scenario seed.

One ``numpy.random.SeedSequence(seed)`` is spawned into one stream per stage, so changing one
stage's draws never changes another's; replicate seeds are spawned from the same seed, so every
scenario in a comparison gets the same replicate seeds (common random numbers).
"""

from __future__ import annotations

import numpy as np

#: Independent random streams, one per stage (index into SeedSequence.spawn). Append only:
#: adding a stream at the end leaves the earlier streams' draws unchanged.
STREAMS = ("catalogue", "simulation", "optimise")


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}


def loop_seed(scenario_seed: int) -> int:
    """The simulation's seed for a scenario seed (its own stream of the scenario's SeedSequence)."""
    return int(rngs(scenario_seed)["simulation"].integers(2**63 - 1))


def replicate_seeds(seed: int, n: int) -> list[int]:
    """N independent seeds derived from the scenario seed (the same N for every scenario: common
    random numbers)."""
    return [int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for s in np.random.SeedSequence(seed).spawn(n)]
