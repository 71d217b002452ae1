"""Numbers for people: million THB, percentages, days."""

from __future__ import annotations

import math

import pandas as pd


def kind(metric: str) -> str:
    if metric.endswith("_thb"):
        return "money"
    if metric.endswith("_rate") or metric.endswith("_share") or metric == "lapse_rate":
        return "share"
    if "days" in metric:
        return "days"
    return "number"


def fmt(metric: str, v: object, *, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return "–"
    x = float(v)
    sign = "+" if signed and x > 0 else ""
    k = kind(metric)
    if k == "money":
        return f"{sign}{x / 1e6:,.1f} M THB"
    if k == "share":
        return f"{sign}{x * 100:,.1f}{' pp' if signed else ' %'}"
    if k == "days":
        return f"{sign}{x:,.1f} days"
    if abs(x) >= 1000:
        return f"{sign}{x:,.0f}"
    return f"{sign}{x:,.3g}"


def label(metric: str) -> str:
    return metric.replace("_thb", "").replace("_", " ")


def mthb(v: float) -> str:
    return f"{v:,.1f} M THB"
