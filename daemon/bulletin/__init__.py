"""The attendance bulletin (考勤通报, SPEC §4.6) in HTML, XLSX, PDF, CSV and DOCX (an official document).

:func:`collect` gathers a period's bulletin from the store (its results are
the snapshot the scoring DB receives), :func:`write_bulletin` writes one
format atomically: a reader never opens half a file, and a failure leaves
the previous file in place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import BULLETIN_FORMATS as FORMATS
from .collect import collect, device_health
from .fonts import FontMissing, find_cjk_font
from .model import AnnexLine, Bulletin, DeviceHealth, StaffLine, WindowSection, build_bulletin

if TYPE_CHECKING:
    from .docx import Letterhead

__all__ = [
    "FORMATS",
    "AnnexLine",
    "Bulletin",
    "DeviceHealth",
    "FontMissing",
    "StaffLine",
    "WindowSection",
    "build_bulletin",
    "collect",
    "device_health",
    "find_cjk_font",
    "outputs",
    "write_bulletin",
]


def outputs(fmt: str, path: Path) -> list[Path]:
    """The files :func:`write_bulletin` writes for ``fmt`` at ``path``."""
    if fmt == "csv":
        from .csvfile import csv_paths

        return csv_paths(path)
    return [path]


def _render(
    b: Bulletin, fmt: str, path: Path, *, font: str | None, footer: str, letterhead: Letterhead | None = None
) -> None:
    if fmt == "html":
        from .html import render_html

        path.write_text(render_html(b, footer=footer), encoding="utf-8")
    elif fmt == "xlsx":
        from .xlsx import write_xlsx

        write_xlsx(b, path)
    elif fmt == "pdf":
        from .pdf import write_pdf

        write_pdf(b, path, font_path=font, footer=footer)
    elif fmt == "csv":
        from .csvfile import write_csv

        write_csv(b, path)
    elif fmt == "docx":
        from .docx import write_docx

        write_docx(b, path, letterhead=letterhead)
    else:
        raise ValueError(f"unknown bulletin format {fmt!r} (expected one of {', '.join(FORMATS)})")


def write_bulletin(
    b: Bulletin,
    fmt: str,
    path: Path,
    *,
    font: str | None = None,
    footer: str = "",
    letterhead: Letterhead | None = None,
) -> list[Path]:
    """Write ``b`` as ``fmt`` to ``path``; returns every file written.

    ``letterhead``: the DOCX's 发文机关, 发文字号 … (:func:`daemon.bulletin.docx.prepare_docx`);
    the other formats ignore it.

    Renders into a scratch folder beside ``path`` and moves the files into
    place only when all of them are complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bulletin-", dir=path.parent) as scratch:
        staged = Path(scratch) / path.name
        _render(b, fmt, staged, font=font, footer=footer, letterhead=letterhead)
        final = outputs(fmt, path)
        for src, dst in zip(outputs(fmt, staged), final, strict=True):
            os.chmod(src, 0o644)
            os.replace(src, dst)
    return final
