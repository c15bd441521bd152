"""``attendd bulletin``: a period's attendance bulletin (考勤通报), written as HTML, XLSX, PDF, CSV or DOCX.

Where ``-o`` points is checked before anything is computed or written, so a
refused ``-o`` leaves no file behind:

* a folder (an existing one, or a name ending in ``/``) receives the default
  file name (``考勤通报-2026-03.pdf``); ``--format all`` needs a folder;
* a file name must end in the format's extension (``--format csv -o x.html``
  is refused: the leader would open a CSV as a web page);
* the folder it goes into must exist: a typo in ``-o`` is not a new folder.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import system_clock
from ..config import BULLETIN_FORMATS
from ..errors import UserError
from .context import Context
from .output import say
from .parser import Subcommands
from .results import parse_period_arg

if TYPE_CHECKING:
    from rules import Period


def register(sub: Subcommands) -> None:
    s = sub.add_parser("bulletin", help="write the attendance bulletin (考勤通报) for a period")
    s.add_argument("--period", required=True, help="2026-03, 2026-Q1, 2026-H1, 2026 or 2026-W12")
    s.add_argument(
        "--format",
        choices=(*BULLETIN_FORMATS, "all"),
        default="html",
        help="html (default), xlsx, pdf, csv, docx (the 公文 to edit and sign: takes a 发文字号), "
        "or all of them (then -o is a folder)",
    )
    s.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write, or an existing folder to write 考勤通报-PERIOD.FORMAT into "
        "(default: that name in the current directory)",
    )
    s.set_defaults(func=bulletin)


def _is_folder_name(text: str) -> bool:
    return text.endswith(("/", os.sep))


def _existing_folder(shown: str, folder: Path) -> None:
    """Raise unless ``folder`` is an existing directory (``shown`` is the user's ``-o``)."""
    if folder.is_dir():
        return
    if folder.exists():
        raise UserError(f"-o {shown}: {folder} is a file, not a folder")
    raise UserError(f"-o {shown}: no such folder {folder} (create it first)")


def targets(period: Period, fmt: str, output: str | None) -> list[tuple[str, Path]]:
    """The (format, file) pairs ``attendd bulletin --format FMT -o OUTPUT`` writes; raises
    :class:`UserError` for an ``-o`` that cannot be meant (nothing is written before this passes)."""
    from ..bulletin import FORMATS
    from ..bulletin.publish import file_name

    formats = FORMATS if fmt == "all" else (fmt,)
    if output is None:
        return [(f, Path(file_name(period, f))) for f in formats]
    if output == "":
        raise UserError("-o: empty (give a file name or a folder)")
    path = Path(output)
    if fmt == "all" or _is_folder_name(output) or path.is_dir():
        if fmt == "all" and path.exists() and not path.is_dir():
            raise UserError(f"-o {output}: is a file; --format all writes one file per format into a folder")
        _existing_folder(output, path)
        return [(f, path / file_name(period, f)) for f in formats]
    if path.suffix.lower() != f".{fmt}":
        said = f"ends in {path.suffix}" if path.suffix else "has no extension"
        raise UserError(f"-o {output}: --format {fmt} writes a .{fmt} file and this name {said} (or give a folder/)")
    _existing_folder(output, path.parent)
    return [(fmt, path)]


def bulletin(args: argparse.Namespace) -> int:
    from ..bulletin import collect as collect_bulletin
    from ..bulletin import write_bulletin
    from ..bulletin.docx import prepare_docx
    from ..outbox import check_go_live
    from .context import shell_user

    ctx = Context.from_args(args)
    period = parse_period_arg(args.period)
    check_go_live(ctx.config, period)
    planned = targets(period, args.format, args.output)
    now = system_clock()
    b = collect_bulletin(ctx.store(), ctx.config, period, now=now, queue=False)  # shows, queues nothing
    bc = ctx.config.bulletin
    for fmt, target in planned:
        # the DOCX is the document to sign: it takes the period's 发文字号 (issued once, then kept)
        lh = prepare_docx(ctx.store(), ctx.config, b, now=now, by=shell_user()) if fmt == "docx" else None
        try:
            written = write_bulletin(
                b, fmt, target, font=str(bc.font) if bc.font else None, footer=bc.footer or "", letterhead=lh
            )
        except OSError as exc:
            raise UserError(f"-o {args.output or target}: cannot write {target}: {exc.strerror or exc}") from None
        for path in written:
            say(f"{period.key}: wrote {path}" + (f" (发文字号 {lh.number})" if lh and lh.number else ""))
    t = b.totals()
    say(
        f"{b.title}: {t['staff']} staff, {t['deductions']} deductions ({t['points']:g} points), "
        + ("final" if b.final else "provisional: the period is not closed")
    )
    return 0
