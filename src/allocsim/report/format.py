"""Numbers for people: million THB (ล้านบาท), percentages, days, in English or Thai."""

from __future__ import annotations

import math

import pandas as pd

from allocsim.metrics import unit_of
from allocsim.report.i18n import TH, t


def kind(metric: str) -> str:
    """How ``metric`` is shown: its unit in the metric catalogue (``allocsim.metrics``); a unit
    name ("thb", "share", "days", ...) stands for itself; any other column is a plain number."""
    return unit_of(metric)


def fmt(metric: str, v: object, *, signed: bool = False, lang: str = "en") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return "–"
    x = float(v)
    sign = "+" if signed and x > 0 else ""
    k = kind(metric)
    if k == "thb":
        return f"{sign}{x / 1e6:,.1f} {t('M THB', lang)}"
    if k == "share":
        return f"{sign}{x * 100:,.1f}{' ' + t('pp', lang) if signed else ' %'}"
    if k == "days":
        return f"{sign}{x:,.1f} {t('days', lang)}"
    if abs(x) >= 1000:
        return f"{sign}{x:,.0f}"
    return f"{sign}{x:,.3g}"


def label(metric: str, lang: str = "en") -> str:
    """A metric or column name for people. Thai: the entry in i18n.TH (English words if a table
    brings a column that has none, so an unexpected column never breaks a report)."""
    if lang == "th" and metric in TH:
        return TH[metric]
    return metric.replace("_thb", "").replace("_", " ")


def mthb(v: float, lang: str = "en") -> str:
    return f"{v:,.1f} {t('M THB', lang)}"
