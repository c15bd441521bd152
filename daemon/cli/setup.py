"""``attendd check-config`` and ``attendd db upgrade``: setting a site up."""

from __future__ import annotations

import argparse
from pathlib import Path

from .context import Context
from .output import say
from .parser import Parser, Subcommands


def register(sub: Subcommands) -> None:
    s = sub.add_parser("check-config", help="validate the config and report every problem")
    s.add_argument("path", nargs="?", help="config file to check (default: the one --config names or finds)")
    s.set_defaults(func=check_config)

    s = sub.add_parser("db", help="database maintenance")
    dbsub = s.add_subparsers(dest="db_command", metavar="ACTION", parser_class=Parser)
    dbsub.required = True
    u = dbsub.add_parser("upgrade", help="create or migrate the local store and the scoring-DB tables")
    u.set_defaults(func=db_upgrade)


def check_config(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else None
    ctx = Context.from_args(args, config_path=path, require_file=True)
    cfg = ctx.config
    from ..config import config_warnings

    warnings = [*config_warnings(cfg, str(ctx.config_path)), *_site_code_warnings(cfg)]
    say(
        f"{ctx.config_path}: OK — {len(cfg.devices)} devices, "
        f"{len(cfg.windows)} windows, {len(cfg.timetables)} timetables, {len(cfg.policies)} policies"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    for line in warnings:  # the config runs; these say where a rule cannot apply as written
        say(f"warning: {line}")
    return 0


def _site_code_warnings(cfg) -> list[str]:
    """``[site] code`` left unset while the scoring DB is a server (PostgreSQL, MySQL/MariaDB):
    such a DB may be shared with other centres, whose rows a code of their own keeps apart."""
    from sqlalchemy.engine import make_url

    if "code" in cfg.site.model_fields_set or make_url(cfg.scoring_url()).get_backend_name() == "sqlite":
        return []
    return [
        f'site.code is not set: this centre\'s rows go to the scoring DB as site "{cfg.site.code}"; '
        "if other centres push into it too, give each its own [site] code (README: the scoring DB)"
    ]


def _state(before: str | None, after: str) -> str:
    return "created" if before is None else ("already current" if before == after else f"migrated from {before}")


def db_upgrade(args: argparse.Namespace) -> int:
    ctx = Context.from_args(args)
    store = ctx.store(upgrade=False)
    before, after = store.upgrade()
    say(f"local store {ctx.store_display}: revision {after} ({_state(before, after)})")
    scoring = ctx.scoring()
    before, after = scoring.upgrade()
    say(f"scoring DB {scoring.display}: revision {after} ({_state(before, after)}), site {scoring.site}")
    for line in _site_code_warnings(ctx.config):
        say(f"warning: {line}")
    return 0
