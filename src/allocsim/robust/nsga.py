"""NSGA-II over a mixed decision space (switches, discrete levels, continuous ranges), with a
cache so a candidate is never evaluated twice, and a reproducible random stream.

platypus-opt draws every random number from Python's global ``random`` module and offers no
generator hook. :class:`IsolatedRandom` therefore gives the search its own stream: the global
state is saved, the stream is seeded from a number derived from the scenario seed (numpy
``SeedSequence``), and the caller's state is restored whenever control leaves the search — after
it, and around every batch of evaluations (so a simulation that touched ``random`` could neither
change the search nor be changed by it). Same seed, same candidates, same front.

The objective function is called once per generation with the candidates not yet in the cache
(one batch: the caller runs it in parallel); the budget counts distinct candidates evaluated.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Objective values standing in for a metric that could not be computed (worse than any real one).
WORST = 1e300


@dataclass(frozen=True)
class Decision:
    """One decision variable: a switch (two values), a choice among discrete values, or a
    continuous range on a grid (``low + k * step``)."""

    name: str
    values: tuple = ()                         # switch / choice: the values it can take
    low: float | None = None                   # range
    high: float | None = None
    step: float | None = None
    integer: bool = False                      # a range over an integer field

    @property
    def continuous(self) -> bool:
        return self.low is not None

    def snap(self, x: float) -> float | int:
        """The grid point nearest ``x`` (inside the range)."""
        assert self.low is not None and self.high is not None and self.step is not None
        k = round((min(max(x, self.low), self.high) - self.low) / self.step)
        v = min(self.low + k * self.step, self.high)
        return int(round(v)) if self.integer else round(v, 10)


@dataclass
class SearchLog:
    """Every candidate evaluated, in the order first met, with its objectives and generation."""

    candidates: list[tuple] = field(default_factory=list)
    objectives: list[tuple[float, ...]] = field(default_factory=list)
    generation: list[int] = field(default_factory=list)
    generations: int = 0
    proposals: int = 0     # candidates the algorithm proposed, cache hits included


class IsolatedRandom:
    """A private stream of Python's global ``random`` for code that only knows the global one."""

    def __init__(self, seed: int) -> None:
        saved = random.getstate()
        random.seed(seed)
        self._mine = random.getstate()
        random.setstate(saved)
        self._outer: object = None

    def __enter__(self) -> IsolatedRandom:
        self._outer = random.getstate()
        random.setstate(self._mine)
        return self

    def __exit__(self, *exc: object) -> None:
        self._mine = random.getstate()
        random.setstate(self._outer)


def search_seed(seed: int, tag: int = 0x9A5E) -> int:
    """The search's own seed, derived from the scenario seed (independent of the run seeds)."""
    return int(np.random.SeedSequence([seed, tag]).generate_state(1, dtype=np.uint64)[0])


def nsga2(decisions: Sequence[Decision], objectives: Callable[[list[tuple]], list[Sequence[float]]],
          nobjs: int, *, budget: int, population: int, seed: int,
          initial: Sequence[tuple] = (), max_stall: int = 25) -> SearchLog:
    """Minimise ``nobjs`` objectives over ``decisions`` with NSGA-II (platypus-opt).

    ``objectives`` maps a list of new candidates (tuples of decision values) to their objective
    vectors. ``initial`` candidates (e.g. today's rules) are evaluated first. The search stops at
    the first generation that brings the distinct candidates evaluated to ``budget`` (it may
    overshoot by less than one population), or after ``max_stall`` generations that proposed
    nothing new (a small space is exhausted)."""
    from platypus import HUX, NSGAII, PM, SBX, BitFlip, CompoundOperator, Integer, Problem, Real
    from platypus.evaluator import Evaluator

    if not decisions:
        raise ValueError("no decision variables")
    log = SearchLog()
    cache: dict[tuple, tuple[float, ...]] = {}
    rng = IsolatedRandom(seed)

    def clean(v: Sequence[float]) -> tuple[float, ...]:
        return tuple(float(x) if np.isfinite(x) else WORST for x in v)

    def evaluate_new(cands: list[tuple]) -> None:
        new = list(dict.fromkeys(c for c in cands if c not in cache))
        if not new:
            return
        with _outside(rng):  # the evaluation runs on the caller's random state, not the search's
            vals = objectives(new)
        for c, v in zip(new, vals, strict=True):
            cache[c] = clean(v)
            log.candidates.append(c)
            log.objectives.append(cache[c])
            log.generation.append(log.generations)

    types = []
    for d in decisions:
        if d.continuous:
            types.append(Real(d.low, d.high))
        else:
            types.append(Integer(0, len(d.values) - 1))

    def decode(sol: object) -> tuple:
        out = []
        for i, (d, t) in enumerate(zip(decisions, types, strict=True)):
            if d.continuous:
                v = d.snap(float(sol.variables[i]))
                sol.variables[i] = float(v)  # the population holds what was evaluated
            else:
                v = d.values[t.decode(sol.variables[i])]
            out.append(v)
        return tuple(out)

    class CachedEvaluator(Evaluator):
        def evaluate_all(self, jobs: list, **kwargs: object) -> list:
            cands = [decode(j.solution) for j in jobs]
            log.proposals += len(cands)
            evaluate_new(cands)
            for j, c in zip(jobs, cands, strict=True):
                s = j.solution
                s.objectives[:] = list(cache[c])
                s.constraint_violation, s.feasible, s.evaluated = 0.0, True, True
            return jobs

    problem = Problem(len(decisions), nobjs)
    problem.types[:] = types
    with rng:
        evaluate_new(list(initial))
        # SBX + polynomial mutation for the continuous levels, half-uniform crossover + bit flip
        # for switches and discrete choices (platypus's operators for each type)
        ops = ([SBX()] if any(d.continuous for d in decisions) else []) \
            + ([HUX()] if not all(d.continuous for d in decisions) else []) \
            + ([PM()] if any(d.continuous for d in decisions) else []) \
            + ([BitFlip()] if not all(d.continuous for d in decisions) else [])
        algo = NSGAII(problem, population_size=population, evaluator=CachedEvaluator(),
                      variator=CompoundOperator(*ops))
        stall = 0
        while len(cache) < budget and stall < max_stall:
            before = len(cache)
            log.generations += 1  # generation 0: the ``initial`` candidates
            algo.step()
            stall = stall + 1 if len(cache) == before else 0
    return log


class _outside:
    """Leave the search's random stream for the duration (the inverse of IsolatedRandom)."""

    def __init__(self, rng: IsolatedRandom) -> None:
        self.rng = rng

    def __enter__(self) -> None:
        self.rng.__exit__()

    def __exit__(self, *exc: object) -> None:
        self.rng.__enter__()
