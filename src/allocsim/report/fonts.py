"""The packaged Thai font (Sarabun, SIL Open Font Licence 1.1; fonts/OFL.txt): registered with
matplotlib so charts and maps draw Thai without relying on the fonts of the machine, and embedded
in report.html (@font-face) so a browser without Thai fonts shows Thai too."""

from __future__ import annotations

import base64
from functools import cache
from importlib.resources import files

from matplotlib import font_manager

FAMILY = "Sarabun"
FILES = {"normal": "Sarabun_400Regular.ttf", "bold": "Sarabun_700Bold.ttf"}
FONT_DIR = files("allocsim.report") / "fonts"


@cache
def register() -> str:
    """Add the packaged TTFs to matplotlib's font manager (once); return the family name."""
    for name in FILES.values():
        font_manager.fontManager.addfont(str(FONT_DIR / name))
    return FAMILY


def rc(lang: str = "en") -> dict:
    """rcParams for charts in a language. Thai: Sarabun first (it has Latin and digits too),
    DejaVu Sans as fallback for any symbol Sarabun lacks. English: matplotlib's defaults, with
    Sarabun as fallback so a Thai name in an English chart still draws."""
    register()
    fams = [FAMILY, "DejaVu Sans"] if lang == "th" else ["DejaVu Sans", FAMILY]
    return {"font.family": fams}


@cache
def font_face_css() -> str:
    """@font-face rules with the TTFs inlined (base64), for a self-contained Thai report."""
    rules = []
    for weight, name in FILES.items():
        data = base64.b64encode((FONT_DIR / name).read_bytes()).decode()
        rules.append(f"@font-face{{font-family:'{FAMILY}';font-weight:{weight};font-style:normal;"
                     f"src:url(data:font/ttf;base64,{data}) format('truetype')}}")
    return "".join(rules)
