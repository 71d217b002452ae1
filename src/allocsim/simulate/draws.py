"""Random numbers of the simulation: one stream per process and per-project uniforms keyed by the
project's id, so that a lever touching one process or one project leaves every other draw
unchanged (common random numbers across scenarios)."""

from __future__ import annotations

import hashlib

import numpy as np

#: One random stream per process, spawned from the run's seed (append only): a lever that touches
#: one process leaves the other processes' draws unchanged (common random numbers).
PROCESSES = ("proposals", "screening", "procurement", "execution", "changes",
             "duplicate_discovery", "citizens", "approvals", "planning", "ministries")

#: Per-project draws (append only), one word each of a project's own seed sequence.
PROJECT_DRAWS = ("screening", "procurement", "execution", "changes", "duplicate_discovery", "approvals",
                 "planning", "escalation")


def stable_key(text: str) -> int:
    """A 64-bit key of a string that is the same in every process and Python run (``hash`` is
    salted per process, so it cannot key random streams)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def project_uniforms(seed: int, ids: list[str], fiscal_year: int, processes: tuple[str, ...],
                     extra: tuple[int, ...] = ()) -> np.ndarray:
    """Uniforms in [0, 1), one row per project, one column per process: each from a
    ``numpy.random.SeedSequence`` keyed by the run's seed, the project's id and the fiscal year
    (and ``extra``, e.g. a redraw counter), so a project's draws never depend on which other
    projects exist or in what order they were booked."""
    out = np.empty((len(ids), len(processes)))
    for k, pid in enumerate(ids):
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(stable_key(pid), fiscal_year, *extra))
        out[k] = (ss.generate_state(len(processes), np.uint64) >> np.uint64(11)) * 2.0 ** -53
    return out
