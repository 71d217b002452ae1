"""Run independent tasks on local processes or a Dask cluster, with a progress bar.

Every task's result depends only on the task (scenario + seed), never on which worker ran it or
in what order, so the assembled results are identical for 1 process, N processes or Dask.
Finished results are written to the run store as they arrive (resume, lose nothing).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from tqdm.auto import tqdm

from allocsim.experiments.store import RunStore, Task

Evaluate = Callable[[Task], dict]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def execute(tasks: Sequence[Task], evaluate: Evaluate, store: RunStore, *, workers: int | None = None,
            scheduler: str | None = None, progress: bool = True, description: str = "runs") -> list[dict]:
    """Run every task not yet in the store; return all results in task order."""
    todo = [t for t in tasks if not store.has(t)]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=description, unit="run",
               disable=not progress, dynamic_ncols=True)
    try:
        if not todo:
            pass
        elif scheduler is not None:
            _dask(todo, evaluate, store, scheduler, bar)
        elif (workers or default_workers()) == 1 or len(todo) == 1:
            for t in todo:
                store.write(t, evaluate(t))
                bar.update(1)
        else:
            ctx = mp.get_context("spawn")  # no fork: solver threads and fork do not mix
            with ProcessPoolExecutor(max_workers=min(workers or default_workers(), len(todo)), mp_context=ctx) as pool:
                futures = {pool.submit(evaluate, t): t for t in todo}
                for fut in as_completed(futures):
                    store.write(futures[fut], fut.result())
                    bar.update(1)
    finally:
        bar.close()
    return [store.read(t) for t in tasks]


def _dask(todo: Sequence[Task], evaluate: Evaluate, store: RunStore, scheduler: str, bar: tqdm) -> None:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(scheduler, set_as_default=False) as client:
        futures = client.map(evaluate, list(todo), pure=False)
        index = {f.key: t for f, t in zip(futures, todo, strict=True)}
        for fut in dask_completed(futures):
            store.write(index[fut.key], fut.result())
            bar.update(1)
