"""Approval hops as queues: FIFO, ``servers`` parallel officers, exponential service times.

Delay is not drawn from a delay distribution: it emerges from arrivals competing for finite service
capacity. Each request arrives at a (continuous) day; it starts when an officer is free and the
requests before it have started; its finish day is start + service. With one server, Poisson
arrivals and exponential service this is the M/M/1 queue (tested against Wq = ρ / (μ − λ)).
"""

from __future__ import annotations

import heapq

import numpy as np


class ApprovalQueue:
    """One approval hop (Budget Bureau, ก.บ.จ., inspector, กกภ., ก.น.จ., procurement office)."""

    def __init__(self, name: str, servers: int, mean_service_days: float, rng: np.random.Generator) -> None:
        if servers < 1 or mean_service_days <= 0:
            raise ValueError("a queue needs >= 1 server and a positive service time")
        self.name = name
        self.mean_service_days = mean_service_days
        self.rng = rng
        self._free = [0.0] * servers  # heap of the days each officer becomes free
        self._last_arrival = -np.inf
        self.waits: list[float] = []
        self.served = 0

    def submit(self, day: float, mean_service_days: float | None = None, *, clamp: bool = False,
               service: float | None = None) -> float:
        """Queue a request arriving on ``day``; return the day it is decided.

        Arrivals must come in time order (FIFO). ``clamp`` logs a late-reported arrival at the
        latest arrival day instead of refusing it (used where requests come in batches).
        ``service``: a unit-mean exponential drawn beforehand for this request (common random
        numbers); None draws it from the queue's stream.
        """
        if day < self._last_arrival:
            if not clamp:
                raise ValueError(f"{self.name}: arrivals must come in time order")
            day = self._last_arrival
        self._last_arrival = day
        free = heapq.heappop(self._free)
        start = max(day, free)
        mean = self.mean_service_days if mean_service_days is None else mean_service_days
        unit = float(self.rng.exponential(1.0)) if service is None else float(service)
        finish = start + mean * unit
        heapq.heappush(self._free, finish)
        self.waits.append(start - day)
        self.served += 1
        return finish

    def submit_many(self, days: np.ndarray, *, clamp: bool = False) -> np.ndarray:
        """Submit requests in arrival order; returns decision days in the input order."""
        order = np.argsort(days, kind="stable")
        out = np.empty(len(days))
        for k in order:
            out[k] = self.submit(float(days[k]), clamp=clamp)
        return out

    def fresh(self, day: float) -> ApprovalQueue:
        """The same hop with every officer free from ``day`` (same stream, same statistics kept)."""
        q = ApprovalQueue(self.name, len(self._free), self.mean_service_days, self.rng)
        q._free = [day] * len(self._free)
        q._last_arrival = day
        q.waits, q.served = self.waits, self.served
        return q

    @property
    def mean_wait(self) -> float:
        return float(np.mean(self.waits)) if self.waits else 0.0
