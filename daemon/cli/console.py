"""``attendd web``, ``attendd user …`` and ``attendd token …``: the web console and its accounts.

There is no default account and no default password: the first admin is made on the server,
``attendd user add NAME --role admin``, by whoever may run attendd there. Passwords are read from
the terminal (twice, not echoed) or, for scripts, one line of standard input (``--password-stdin``);
never from the command line, where ``ps`` and the shell history would show them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ..clock import system_clock
from ..errors import UserError
from .context import Context, shell_user
from .output import local_time, render, say
from .parser import Subcommands

DEFAULT_LISTEN = "127.0.0.1:8080"


def register(sub: Subcommands) -> None:
    s = sub.add_parser("web", help="the web console alone, in the foreground (default 127.0.0.1:8080)")
    s.add_argument("--listen", metavar="HOST:PORT", help=f"default: [web] listen, else {DEFAULT_LISTEN}")
    s.set_defaults(func=web)

    accounts = {
        "user": (
            "the web console's accounts: add, passwd, list, remove",
            [
                ("add", "add an account (asks for its password)", user_password),
                ("passwd", "set an account's password (signs out its sessions)", user_password),
                ("list", "the accounts and their roles", user_list),
                ("remove", "remove an account; its sessions end at once", remove),
            ],
        ),
        "token": (
            "read-only API tokens for other systems: add, list, remove",
            [
                ("add", "make a token (shown once; only its digest is kept)", token_add),
                ("list", "the tokens by name, when made and last used", token_list),
                ("remove", "revoke a token", remove),
            ],
        ),
    }
    for command, (text, table) in accounts.items():
        s = sub.add_parser(command, help=text)
        _actions(s.add_subparsers(dest=f"{command}_command", metavar="ACTION", required=True), table)


def _actions(actions, table) -> None:
    """``user`` / ``token`` actions: each but ``list`` names its account; ``add`` and ``passwd``
    of a user take the password from a prompt or ``--password-stdin``, ``add`` a ``--role``."""
    users = actions.dest == "user_command"
    for name, text, func in table:
        a = actions.add_parser(name, help=text)
        if name != "list":
            a.add_argument("name")
        if users and name == "add":
            a.add_argument("--role", required=True, choices=("admin", "clerk", "viewer"))
        if users and name in ("add", "passwd"):
            a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        a.set_defaults(func=func)


def _account_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable() or any(c.isspace() for c in name):
        raise UserError(f"user {name!r}: a name is 1–64 printable characters without spaces")
    return name


def _read_password(name: str, from_stdin: bool) -> str:
    from ..web.passwords import password_problem

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UserError("no terminal to ask for the password: give it on standard input with --password-stdin")
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise UserError("the two passwords differ; nothing changed")
    problem = password_problem(name, password)
    if problem:
        raise UserError(f"user {name}: {problem}; nothing changed")
    return password


def _open(args: argparse.Namespace, *, named: bool = True):
    """(the account or token name, the context, the store's accounts) of a ``user`` / ``token`` command."""
    from ..store import Accounts

    name = _account_name(args.name) if named else ""
    ctx = Context.from_args(args, require_file=True)
    return name, ctx, Accounts(ctx.store())


def user_password(args: argparse.Namespace) -> int:
    """``user add`` (a new account) and ``user passwd`` (an existing one's new password)."""
    from ..web.passwords import hash_password

    name, ctx, accounts = _open(args)
    adding = args.user_command == "add"
    exists = accounts.user(name) is not None
    if adding and exists:
        raise UserError(f"user {name}: exists already (change its password with attendd user passwd {name})")
    if not adding and not exists:
        raise UserError(f"user {name}: no such user")
    hashed = hash_password(_read_password(name, args.password_stdin))
    if adding:
        if not accounts.add_user(name, args.role, hashed, by=shell_user(), at=system_clock()):
            raise UserError(f"user {name}: exists already")
        say(f"user {name} added ({args.role})")
    else:
        accounts.set_password(name, hashed, by=shell_user(), at=system_clock())
        say(f"user {name}: password changed; its sessions are signed out")
    return 0


def user_list(args: argparse.Namespace) -> int:
    _, ctx, accounts = _open(args, named=False)
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "created": local_time(u.created_utc, ctx.tz),
            "password_changed": local_time(u.password_changed_utc, ctx.tz),
            "sessions": accounts.session_count(u.name),
        }
        for u in accounts.users()
    ]
    if not rows:
        say("no accounts yet: attendd user add NAME --role admin")
        return 0
    render(
        rows,
        [
            ("name", "name"),
            ("role", "role"),
            ("created", "created"),
            ("password_changed", "password changed"),
            ("sessions", "sessions"),
        ],
    )
    return 0


def remove(args: argparse.Namespace) -> int:
    """``user remove`` (its sessions end at once) and ``token remove`` (revoked at once)."""
    name, ctx, accounts = _open(args)
    is_user = getattr(args, "user_command", None) == "remove"
    gone = (accounts.remove_user if is_user else accounts.remove_token)(name, by=shell_user(), at=system_clock())
    what = "user" if is_user else "token"
    if not gone:
        raise UserError(f"{what} {name}: no such {what}")
    say(f"user {name} removed; its sessions are signed out" if is_user else f"token {name} revoked")
    return 0


def token_add(args: argparse.Namespace) -> int:
    from ..web.auth import new_token

    name, ctx, accounts = _open(args)
    token = new_token()
    if not accounts.add_token(name, token, by=shell_user(), at=system_clock()):
        raise UserError(f"token {name}: exists already (remove it first to make a new one)")
    say(f"token {name}: {token}")
    say("shown once: attendd keeps only its digest. Send it as 'Authorization: Bearer TOKEN'.", err=True)
    return 0


def token_list(args: argparse.Namespace) -> int:
    _, ctx, accounts = _open(args, named=False)
    rows = [
        {
            "name": t["name"],
            "created": local_time(t["created_utc"], ctx.tz),
            "used": local_time(t["last_used_utc"], ctx.tz),
        }
        for t in accounts.tokens()
    ]
    if not rows:
        say("no API tokens")
        return 0
    render(rows, [("name", "name"), ("created", "created"), ("used", "last used")])
    return 0


def web(args: argparse.Namespace) -> int:
    """Serve the console in the foreground until SIGINT / SIGTERM."""
    from drivers._foreground import announce, until_stopped

    ctx = Context.from_args(args, require_file=True)
    server = console_server(ctx, ctx.store(), args.listen or ctx.config.web.listen or DEFAULT_LISTEN)
    with until_stopped() as stopping:
        server.start()
        announce(f"web console on {server.url} (stop with Ctrl-C)")
        while not stopping.wait(0.5):
            pass
    server.stop()
    return 0


def console_server(ctx: Context, store, listen: str, *, scheduler_alive=None):
    """The console for ``ctx``'s config, bound to ``listen`` (not started); errors are one line."""
    from ..config import parse_listen
    from ..web import create_app
    from ..web.server import WebServer

    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise UserError(f"--listen: {exc}") from None
    web = ctx.config.web
    tls = web.tls()
    app = create_app(
        store,
        ctx.config,
        clock=system_clock,
        secure_cookies=tls is not None,
        scheduler_alive=scheduler_alive,
        metrics_from=web.metrics_from,
    )
    return WebServer(app, host, port, tls=tls)
