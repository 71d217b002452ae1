"""Per-run result files: written the moment a run finishes, so nothing finished is ever lost and
an interrupted batch resumes where it stopped.

Each run is ``runs/<index>-<key>.json`` where ``key`` hashes what determines the result (the
scenario's content and the seed). Re-running the same batch into the same folder skips every run
whose file exists with the same key; the final table is assembled from the files in index order,
so it is the same whether the batch ran at once or in pieces, on one process or many.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from allocsim.store import atomic_write_json


@dataclass(frozen=True)
class Task:
    """One run: a scenario (as validated data), a seed, and where its relative paths live."""

    index: int
    scenario: dict
    seed: int
    source: str | None = None
    label: str = ""
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        canon = json.dumps({"scenario": self.scenario, "seed": self.seed}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.index:06d}-{self.key}.json"


class RunStore:
    def __init__(self, folder: Path | None) -> None:
        self.folder = Path(folder) / "runs" if folder is not None else None
        self._memory: dict[str, dict] = {}

    def has(self, task: Task) -> bool:
        if self.folder is None:
            return task.filename in self._memory
        return (self.folder / task.filename).is_file()

    def write(self, task: Task, result: dict) -> None:
        if self.folder is None:  # the same JSON round trip as on disk: identical results either way
            self._memory[task.filename] = json.loads(json.dumps(result, sort_keys=True, default=str))
        else:
            atomic_write_json(result, self.folder / task.filename)

    def read(self, task: Task) -> dict:
        if self.folder is None:
            return self._memory[task.filename]
        return json.loads((self.folder / task.filename).read_text(encoding="utf-8"))
