"""Evaluate functions that misbehave on purpose (importable by worker processes)."""

from __future__ import annotations

import os
from pathlib import Path

from allocsim.experiments.store import Task


def dies_once(task: Task) -> dict:
    """The worker running task 2 dies (hard exit) unless the marker file exists; others compute."""
    marker = Path(task.scenario["description"])  # the test passes the marker path here
    if task.index == 2 and not marker.exists():
        os._exit(1)
    return {"index": task.index, "key": task.key, "label": task.label, "seed": task.seed,
            "params": task.params, "national": {"y": float(task.seed % 1000)}, "provinces": {}}
