"""The planning chain's vocabulary: national strategy pillars and provincial missions.

Projects declare the strategy they serve (DOMAIN.md §4), so alignment rules and benefit-by-strategy
need one shared list. The six pillars are the National Strategy 2018–2037; the six provincial
missions are transcribed from `000` (ภารกิจหลักของจังหวัด). The mission → strategy links in
``missions.csv`` are allocsim's reading, not a published table. Sources: ``SOURCES.md``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    with (files("allocsim.data") / name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8")


@cache
def _strategies() -> pd.DataFrame:
    t = _read("strategies.csv")
    t["order"] = t["order"].astype("int64")
    return t


def load_strategies() -> pd.DataFrame:
    """The six national strategy pillars: strategy_id, order, name_en, name_th, source."""
    return _strategies().copy()


def strategy_ids() -> list[str]:
    """Strategy ids in their official order."""
    return _strategies()["strategy_id"].tolist()


def load_missions() -> pd.DataFrame:
    """Provincial missions, tidy: one row per (mission, strategy it serves)."""
    m = _read("missions.csv")
    m["order"] = m["order"].astype("int64")
    m["strategy_id"] = m["serves_strategies"].str.split()
    return m.explode("strategy_id").drop(columns="serves_strategies").reset_index(drop=True)
