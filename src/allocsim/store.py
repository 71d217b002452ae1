"""Result folders that never lose data.

Every file is written to a temporary name in the same folder and renamed into place, so a crash
never leaves a half-written file. A run writes into a hidden staging folder next to its target and
renames it into place only when everything succeeded: a failed run leaves no result folder, and an
existing result folder is never overwritten silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from allocsim.errors import Problem, UserError


def atomic_write_bytes(data: bytes, path: Path) -> None:
    """Write bytes to ``path`` via a temp file + rename in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(text: str, path: Path) -> None:
    atomic_write_bytes(text.encode("utf-8"), path)


def atomic_write_json(obj: object, path: Path) -> None:
    atomic_write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", path)


def atomic_write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format so the same numbers give the same bytes."""
    atomic_write_text(df.to_csv(index=False, lineterminator="\n"), path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def result_folder(out: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes ``out`` atomically.

    An existing non-empty ``out`` is an error unless ``overwrite`` is set; even then the old
    folder is only removed after the new one is complete.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(Problem(str(out), "--out", "exists and is not a folder"))
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UserError(Problem(str(out), "--out", "result folder already exists and is not empty; "
                                "choose another --out or pass --overwrite"))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
