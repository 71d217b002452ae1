"""placeholder"""
from pathlib import Path


def folder_kind(folder: Path) -> str | None:
    for kind, f in (("robust", "robustness.csv"), ("packages", "packages.csv"), ("compare", "comparison.csv")):
        if (folder / f).is_file():
            return kind
    return None
