"""What produced a number: versions, commit, seeds and times, for every result folder."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import allocsim

DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyomo", "highspy", "mesa",
                "networkx", "matplotlib")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def dependency_versions() -> dict[str, str]:
    out = {}
    for name in DEPENDENCIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the allocsim source tree, if it is a git checkout (None otherwise)."""
    src = Path(allocsim.__file__).resolve().parent
    try:
        res = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "."],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return res.stdout.strip() + ("-dirty" if dirty else "")


def environment() -> dict[str, object]:
    return {
        "allocsim": allocsim.__version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
    }
