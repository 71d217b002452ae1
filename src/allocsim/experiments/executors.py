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
from concurrent.futures.process import BrokenProcessPool

from tqdm.auto import tqdm

from allocsim.errors import RunError
from allocsim.experiments.store import RunStore, Task

Evaluate = Callable[[Task], dict]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def execute(tasks: Sequence[Task], evaluate: Evaluate, store: RunStore, *, workers: int | None = None,
            scheduler: str | None = None, progress: bool = True, description: str = "runs",
            in_process: bool = True) -> list[dict]:
    """Run every task not yet in the store; return all results in task order. One worker runs
    in this process unless ``in_process`` is False (a one-process pool, for measuring overhead)."""
    todo = [t for t in tasks if not store.has(t)]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=description, unit="run",
               disable=not progress, dynamic_ncols=True)
    try:
        if not todo:
            pass
        elif scheduler is not None:
            _dask(todo, evaluate, store, scheduler, bar)
        elif in_process and ((workers or default_workers()) == 1 or len(todo) == 1):
            for t in todo:
                store.write(t, evaluate(t))
                bar.update(1)
        else:
            ctx = _context()
            with ProcessPoolExecutor(max_workers=min(workers or default_workers(), len(todo)), mp_context=ctx) as pool:
                futures = {pool.submit(evaluate, t): t for t in todo}
                try:
                    for fut in as_completed(futures):
                        store.write(futures[fut], fut.result())
                        bar.update(1)
                except BrokenProcessPool as exc:
                    for f in futures:
                        f.cancel()
                    done = sum(store.has(t) for t in tasks)
                    raise RunError(f"a worker process died ({exc}); {done} of {len(tasks)} runs finished and are kept"
                                   f"{' in ' + str(store.folder) if store.folder else ''}; run the same command "
                                   "again to finish the rest") from None
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
    finally:
        bar.close()
    return [store.read(t) for t in tasks]


def _context() -> mp.context.BaseContext:
    """Workers start from a clean server process that has imported allocsim once ("forkserver"),
    so each starts in milliseconds and never inherits solver threads from this process (plain
    "fork" could); "spawn" where forkserver is unavailable."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["allocsim.experiments.batch", "allocsim.simulate", "allocsim.optimise"])
        return ctx
    return mp.get_context("spawn")


def _dask(todo: Sequence[Task], evaluate: Evaluate, store: RunStore, scheduler: str, bar: tqdm) -> None:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = client.map(evaluate, list(todo), pure=False)
        index = {f.key: t for f, t in zip(futures, todo, strict=True)}
        for fut in dask_completed(futures):
            store.write(index[fut.key], fut.result())
            bar.update(1)
