"""Reports: charts (matplotlib), the Thailand province map and tile map, and self-contained
report.html, in English or Thai."""

from allocsim.report.html import compare_report, run_report, sweep_report
from allocsim.report.map import choropleth
from allocsim.report.tilemap import plot_tilemap, tile_layout

__all__ = ["choropleth", "compare_report", "plot_tilemap", "run_report", "sweep_report", "tile_layout"]
