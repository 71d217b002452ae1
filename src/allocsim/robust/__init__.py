"""Robust decisions: reforms across plausible futures (``robust``), where they fail (PRIM),
reform packages against effort (``packages``), and the committee page (``app``)."""

from allocsim.robust.futures import RobustResult, robust, sample_futures
from allocsim.robust.packages import PackageResult, search_packages
from allocsim.robust.prim import PrimBox, PrimResult, prim

__all__ = ["PackageResult", "PrimBox", "PrimResult", "RobustResult", "prim", "robust", "sample_futures",
           "search_packages"]
