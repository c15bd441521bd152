"""``attendd appeal add|decide|list``: appeals (申诉) against deductions, on the record.

The same store functions as the console's ``/appeals`` (:mod:`daemon.store.appeals`): filing and
deciding write their change-log entry in the same transaction and mark the month for
re-evaluation; ``--by`` names the clerk.
"""

from __future__ import annotations

import argparse
from datetime import date

from ..clock import system_clock
from ..errors import UserError
from .context import Context
from .output import render, say
from .parser import Subcommands, add_format

STATUS_WORDS = {"open": "待处理", "upheld": "成立", "rejected": "驳回"}


def register(sub: Subcommands) -> None:
    s = sub.add_parser("appeal", help="appeals (申诉) against deductions: add, decide, list")
    acts = s.add_subparsers(dest="appeal_command", metavar="ACTION", required=True)
    a = acts.add_parser("add", help="record an appeal against one deduction")
    a.add_argument("--staff", required=True, metavar="STAFF_NO")
    a.add_argument("--ref", required=True, help="the deduction's ref, as explain / the bulletin's annex show it")
    a.add_argument("--says", required=True, metavar="TEXT", help="what the person says")
    a.add_argument("--received", metavar="YYYY-MM-DD", help="the day it was received (default: today)")
    a.add_argument("--period", metavar="YYYY-MM", help="the month, for a ref without a date (an inspection)")
    a.add_argument("--by", required=True, metavar="NAME", help="who records it")
    a.set_defaults(func=add)
    d = acts.add_parser("decide", help="uphold or reject an open appeal")
    d.add_argument("id", type=int)
    verdict = d.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--uphold", action="store_true", help="the appeal stands: the deduction goes")
    verdict.add_argument("--reject", action="store_true")
    d.add_argument("--reason", required=True, metavar="TEXT")
    d.add_argument("--remedy", metavar="KIND:REF", help="upheld: the leave / correction recorded for it")
    d.add_argument("--by", required=True, metavar="NAME", help="who decides")
    d.set_defaults(func=decide)
    ls = acts.add_parser("list", help="appeals, open ones first")
    ls.add_argument("--status", choices=tuple(STATUS_WORDS))
    ls.add_argument("--staff", metavar="STAFF_NO")
    add_format(ls)
    ls.set_defaults(func=list_appeals)


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{flag}: expected YYYY-MM-DD, got {text[:20]!r}") from None


def add(args: argparse.Namespace) -> int:
    from ..clock import site_time
    from ..store import file_appeal

    ctx = Context.from_args(args, require_file=True)
    now = system_clock()
    received = _day(args.received, "--received") or site_time(now, ctx.tz).date()
    new_id = file_appeal(
        ctx.store(),
        staff_no=args.staff,
        deduction_ref=args.ref,
        statement=args.says,
        received=received,
        period_key=args.period,
        decide_by_day=ctx.config.appeals.decide_by_day,
        by=args.by,
        via="cli",
        now_utc=now,
    )
    say(f"appeal {new_id} recorded")
    return 0


def decide(args: argparse.Namespace) -> int:
    from ..store import decide_appeal
    from ..store.changes import Actor

    ctx = Context.from_args(args, require_file=True)
    who = Actor(args.by, "cli", system_clock())
    remedy = decide_appeal(ctx.store(), args.id, who, upheld=args.uphold, reason=args.reason, remedy=args.remedy)
    say(f"appeal {args.id}: upheld ({remedy})" if args.uphold else f"appeal {args.id}: rejected")
    return 0


def list_appeals(args: argparse.Namespace) -> int:
    from ..store import appeals

    ctx = Context.from_args(args, require_file=True)
    rows = [
        {**r, "status_word": STATUS_WORDS.get(r["status"], r["status"])}
        for r in appeals(ctx.store(), status=args.status, staff_no=args.staff)
    ]
    if args.format == "table" and not rows:
        say("no appeals")
        return 0
    render(
        rows,
        [
            ("id", "id"),
            ("staff_no", "staff"),
            ("deduction_ref", "deduction"),
            ("status", "status"),
            ("received", "received"),
            ("deadline", "decide by"),
            ("statement", "says"),
            ("decided_by", "decided by"),
            ("decision_reason", "decision"),
            ("remedy", "remedy"),
        ],
        args.format,
        title=f"{len(rows)} appeal(s)",
    )
    return 0
