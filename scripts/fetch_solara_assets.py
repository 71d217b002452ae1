"""Make Solara (the web UI of Mesa's SolaraViz) work without the internet.

Solara's pages load front-end bundles from a CDN, which this project's machines cannot reach. Solara
serves those files from a local cache (``<prefix>/share/solara/cdn``) when they are there, so this
script fills the cache from the npm registry with ``npm pack`` (the ordinary client). The package
list matches the installed Solara version (read from its page template).

    python scripts/fetch_solara_assets.py          # idempotent; skips what is already cached
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def wanted() -> list[str]:
    import solara

    root = Path(solara.__file__).parent
    specs: set[str] = {"requirejs@2.3.6", "font-awesome@4.5.0"}
    for f in [p for ext in ("*.html", "*.j2", "*.jinja2", "*.py", "*.vue", "*.js") for p in root.rglob(ext)]:
        text = f.read_text(errors="ignore")
        # the page shell and the widget front-ends solara itself publishes (grid layout, …)
        specs.update(re.findall(r"(@widgetti/[a-z0-9-]+@[0-9][0-9A-Za-z.\-]*[0-9A-Za-z])", text))
        specs.update(re.findall(r"\b((?:mermaid|katex)@[0-9][0-9.]*[0-9])", text))  # used by solara.Markdown
    return sorted(specs)


def main() -> int:
    from solara.server.settings import assets

    cache = Path(assets.proxy_cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the interactive page will need internet access for its assets", file=sys.stderr)
        return 0
    for spec in wanted():
        target = cache / spec
        if target.is_dir() and any(target.iterdir()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"npm pack {spec} failed: {out.stderr.strip()}", file=sys.stderr)
                return 1
            tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
            with tarfile.open(tgz) as tar:
                tar.extractall(tmp, filter="data")
            shutil.copytree(Path(tmp) / "package", target, dirs_exist_ok=True)
        print(f"cached {spec} in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
