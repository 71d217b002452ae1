"""Reports: charts (matplotlib), the Thailand tile map, and self-contained report.html."""

from allocsim.report.html import compare_report, run_report
from allocsim.report.tilemap import plot_tilemap, tile_layout

__all__ = ["compare_report", "plot_tilemap", "run_report", "tile_layout"]
