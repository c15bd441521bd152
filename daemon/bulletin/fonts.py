"""Finding a CJK font to embed in the PDF bulletin.

reportlab embeds (a subset of) TrueType fonts only: glyphs in PostScript
(CFF) outlines, as in Noto Sans CJK's ``.ttc``, are refused. So the search
prefers TrueType CJK fonts that Debian / Ubuntu package —
``fonts-wqy-microhei`` (文泉驿微米黑), ``fonts-wqy-zenhei``,
``fonts-arphic-uming`` — then whatever ``fc-list :lang=zh`` offers, then
Windows' own. ``[bulletin] font`` names one explicitly. ``deploy/system-packages.sh``
installs ``fonts-wqy-microhei`` on a fresh machine.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from ..errors import AttenddError, UserError

KNOWN = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",  # Fedora / RHEL
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

FONT_NAME = "attendd-cjk"


class FontMissing(AttenddError):
    """No TrueType CJK font to embed: the PDF cannot be written."""


class FontSettingBad(UserError, FontMissing):
    """``[bulletin] font`` names a file that is not there or cannot be embedded (exit code 2)."""


def _fc_list() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())


def _loads(path: str) -> bool:
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        TTFont(FONT_NAME, path, subfontIndex=0)
    except (TTFError, OSError, ValueError, KeyError, IndexError, AssertionError):
        return False
    return True


@lru_cache(maxsize=8)
def find_cjk_font(explicit: str | None = None) -> str:
    """The path of a loadable TrueType CJK font; raises :class:`FontMissing` with what to install."""
    if explicit:
        if not Path(explicit).is_file():
            raise FontSettingBad(f"bulletin.font: {explicit} does not exist")
        if not _loads(explicit):
            raise FontSettingBad(
                f"bulletin.font: {explicit} is not a TrueType font reportlab can embed "
                "(PostScript-outline fonts such as Noto Sans CJK cannot be embedded)"
            )
        return explicit
    for path in [*KNOWN, *_fc_list()]:
        if Path(path).is_file() and _loads(path):
            return path
    raise FontMissing(
        "no Chinese TrueType font to embed in the PDF: install one "
        "(Debian/Ubuntu: apt install fonts-wqy-microhei) or set [bulletin] font = PATH"
    )


def register(path: str) -> str:
    """Register ``path`` with reportlab (once) and return the font name to use."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"{FONT_NAME}-{abs(hash(path)) % 10**8}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    return name
