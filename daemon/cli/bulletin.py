"""``attendd bulletin``: a period's attendance bulletin (考勤通报), written as HTML, XLSX, PDF or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..clock import system_clock
from ..config import BULLETIN_FORMATS
from ..errors import UserError
from .context import Context
from .output import say
from .parser import Subcommands
from .results import parse_period_arg


def register(sub: Subcommands) -> None:
    s = sub.add_parser("bulletin", help="write the attendance bulletin (考勤通报) for a period")
    s.add_argument("--period", required=True, help="2026-03, 2026-Q1, 2026-H1, 2026 or 2026-W12")
    s.add_argument(
        "--format",
        choices=(*BULLETIN_FORMATS, "all"),
        default="html",
        help="html (default), xlsx, pdf, csv, or all of them (then -o is a directory)",
    )
    s.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write (default: 考勤通报-PERIOD.FORMAT in the current directory)",
    )
    s.set_defaults(func=bulletin)


def bulletin(args: argparse.Namespace) -> int:
    from ..bulletin import FORMATS, write_bulletin
    from ..bulletin import collect as collect_bulletin
    from ..bulletin.publish import file_name
    from ..outbox import check_go_live

    ctx = Context.from_args(args)
    period = parse_period_arg(args.period)
    check_go_live(ctx.config, period)
    formats = FORMATS if args.format == "all" else (args.format,)
    if args.format == "all":
        folder = Path(args.output or ".")
        targets = [(f, folder / file_name(period, f)) for f in formats]
    else:
        targets = [(args.format, Path(args.output) if args.output else Path(file_name(period, args.format)))]
    for _, target in targets:
        if target.is_dir():
            raise UserError(f"-o {target}: is a directory (give a file name, or --format all for a directory)")
    b = collect_bulletin(ctx.store(), ctx.config, period, now=system_clock(), queue=False)  # shows, queues nothing
    bc = ctx.config.bulletin
    for fmt, target in targets:
        try:
            written = write_bulletin(b, fmt, target, font=str(bc.font) if bc.font else None, footer=bc.footer or "")
        except OSError as exc:
            raise UserError(f"-o {target}: cannot write: {exc.strerror or exc}") from None
        for path in written:
            say(f"{period.key}: wrote {path}")
    t = b.totals()
    say(
        f"{b.title}: {t['staff']} staff, {t['deductions']} deductions ({t['points']:g} points), "
        + ("final" if b.final else "provisional: the period is not closed")
    )
    return 0
