"""Load scenario TOML files with ``extends`` inheritance into one validated :class:`Scenario`.

A reform file states only what differs from the file it extends; tables merge key by key and
everything else (numbers, strings, lists) is replaced. Each value remembers the file that set it,
so an error points at the file a user must edit. ``extends`` is resolved relative to the file and
may not leave the folder of the scenario being loaded (scenarios cannot read arbitrary files).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from allocsim.data.geography import CLUSTER_MAPS
from allocsim.errors import Problem, UserError
from allocsim.scenario.schema import Scenario

MAX_DEPTH = 16


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(Problem(str(path), "file", "scenario file not found"))
    if path.stat().st_size > 1_000_000:
        raise UserError(Problem(str(path), "file", "larger than 1 MB; a scenario file states settings, "
                                "data belongs in CSV files"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(Problem(str(path), "file", f"not UTF-8 text (byte {exc.start}); save it as UTF-8")) from None
    if not text.strip():
        raise UserError(Problem(str(path), "file", "empty scenario file; it needs at least name = \"...\""))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(Problem(str(path), "toml", f"not valid TOML: {exc}")) from None


def _merge(base: dict, over: dict, prov: dict[str, Path], src: Path, prefix: str = "") -> dict:
    out = dict(base)
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, prov, src, dotted + ".")
        else:
            out[key] = value
            for k in [k for k in prov if k == dotted or k.startswith(dotted + ".")]:
                del prov[k]
            _mark(value, dotted, prov, src)
    return out


def _mark(value: Any, dotted: str, prov: dict[str, Path], src: Path) -> None:
    prov[dotted] = src
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, f"{dotted}.{k}", prov, src)


def _inside(p: Path, roots: list[Path]) -> bool:
    return any(p.is_relative_to(r) for r in roots)


def resolve_chain(path: Path, root: Path | None = None, allow: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path], list[Path]]:
    """Merged raw content, provenance (dotted path -> file) and the chain of files, base first."""
    path = path.resolve()
    root = (root or path.parent).resolve()
    roots = [root, *(Path(a).resolve() for a in allow)]
    chain: list[Path] = []
    docs: list[dict[str, Any]] = []
    cur: Path | None = path
    while cur is not None:
        if cur in chain:
            names = " -> ".join(p.name for p in [*chain, cur])
            raise UserError(Problem(str(chain[-1]), "extends", f"cyclic extends: {names}"))
        if len(chain) >= MAX_DEPTH:
            raise UserError(Problem(str(chain[-1]), "extends", f"more than {MAX_DEPTH} levels of extends"))
        doc = _read_toml(cur)
        chain.append(cur)
        docs.append(doc)
        parent = doc.pop("extends", None)
        if parent is None:
            cur = None
            continue
        if not isinstance(parent, str) or not parent.strip():
            raise UserError(Problem(str(cur), "extends", "must be a file name such as \"baseline.toml\""))
        nxt = (cur.parent / parent).resolve()
        if not _inside(nxt, roots):
            raise UserError(Problem(str(cur), "extends", f"{parent!r} points outside the scenario "
                                    f"folder {root}; extends may only name files inside it "
                                    "(or a folder allowed with --allow-path)"))
        if not nxt.is_file():
            raise UserError(Problem(str(cur), "extends", f"{parent!r} not found (looked for {nxt})"))
        cur = nxt
    chain.reverse()
    docs.reverse()
    merged: dict[str, Any] = {}
    prov: dict[str, Path] = {}
    for p, d in zip(chain, docs, strict=True):
        merged = _merge(merged, d, prov, p)
    return merged, prov, chain


def _owner(dotted: str, prov: dict[str, Path], default: Path) -> Path:
    """The file a user must edit: the one that set this value, or the last file (in extends
    order: files set later win) that set anything inside this table."""
    inside = [p for k, p in prov.items() if k.startswith(dotted + ".")]
    if inside:
        order = list(dict.fromkeys(prov.values()))
        return max(inside, key=order.index) if default not in inside else default
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in prov:
            return prov[key]
    return default


def _valid_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Names valid at the parent of ``loc`` (for 'unknown field' messages)."""
    cls: Any = model
    for part in loc[:-1]:
        field = getattr(cls, "model_fields", {}).get(part)
        if field is None:
            return []
        cls = field.annotation
    return sorted(getattr(cls, "model_fields", {}))


def _problems(err: ValidationError, prov: dict[str, Path], path: Path) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = tuple(str(x) for x in e["loc"] if x != "[key]")
        dotted = ".".join(loc) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            valid = _valid_fields(Scenario, loc)
            msg = "unknown field" + (f"; valid fields here: {', '.join(valid)}" if valid else "")
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] not in ("missing", "extra_forbidden") and "input" in e and not isinstance(e["input"], dict):
            msg = f"{msg} (got {e['input']!r})"
        out.append(Problem(str(_owner(dotted, prov, path)), dotted, msg))
    return out


def _check_paths(sc: Scenario, prov: dict[str, Path], path: Path, roots: list[Path]) -> list[Problem]:
    """Data files must exist and stay inside the scenario folder (or an allowed folder): a scenario
    handed over by someone else cannot make allocsim read arbitrary files."""
    out = []
    fields = [("geography.cluster_map", sc.geography.cluster_map)] if sc.geography.cluster_map not in CLUSTER_MAPS else []
    if sc.projects.source == "file":
        fields += [(f"projects.{k}", getattr(sc.projects, k)) for k in ("projects_file", "resources_file")]
    for dotted, value in fields:
        if value and not _inside(sc.resolve_path(value).resolve(), roots):
            out.append(Problem(str(_owner(dotted, prov, path)), dotted, f"{value!r} is outside the scenario folder "
                               f"{roots[0]}; keep data files next to the scenario or pass --allow-path"))
    if out:
        return out
    cmap = sc.geography.cluster_map
    if cmap not in CLUSTER_MAPS and not sc.resolve_path(cmap).is_file():
        out.append(Problem(str(_owner("geography.cluster_map", prov, path)), "geography.cluster_map",
                           f"{cmap!r} is neither a packaged map ({', '.join(CLUSTER_MAPS)}) nor an "
                           "existing CSV file (paths are relative to the scenario file)"))
    for key in ("projects_file", "resources_file"):
        value = getattr(sc.projects, key)
        if sc.projects.source == "file" and value and not sc.resolve_path(value).is_file():
            out.append(Problem(str(_owner(f"projects.{key}", prov, path)), f"projects.{key}",
                               f"{value!r} not found (paths are relative to the scenario file)"))
    return out


def load_scenario(path: str | Path, *, root: str | Path | None = None, allow: tuple[str | Path, ...] = ()) -> Scenario:
    """Read, merge and validate a scenario file; raise :class:`UserError` listing every problem.

    ``extends`` and data paths must stay inside the scenario's folder (``root``, default: the
    file's folder) or one of the ``allow`` folders."""
    path = Path(path)
    allow_p = tuple(Path(a) for a in allow)
    merged, prov, chain = resolve_chain(path, Path(root) if root else None, allow_p)
    roots = [Path(root).resolve() if root else path.resolve().parent, *(a.resolve() for a in allow_p)]
    try:
        sc = Scenario.model_validate(merged)
    except ValidationError as err:
        raise UserError(_problems(err, prov, path.resolve())) from None
    sc._source, sc._chain = path.resolve(), tuple(chain)
    problems = _check_paths(sc, prov, path.resolve(), roots)
    if problems:
        raise UserError(problems)
    return sc


def scenario_hash(sc: Scenario) -> str:
    """Content hash of the scenario after inheritance: same settings, same hash."""
    canon = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def file_hashes(sc: Scenario) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sc.chain}
