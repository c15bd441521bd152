"""``attendd web``, ``attendd user …`` and ``attendd token …``: the web console and its accounts.

There is no default account and no default password: the first admin is made on the server,
``attendd user add NAME --role admin``, by whoever may run attendd there. Passwords are read from
the terminal (twice, not echoed) or, for scripts, one line of standard input (``--password-stdin``);
never from the command line, where ``ps`` and the shell history would show them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys

from ..clock import system_clock
from ..errors import AttenddError, UserError
from .context import Context
from .output import local_time, render, say
from .parser import Subcommands

DEFAULT_LISTEN = "127.0.0.1:8080"


def register(sub: Subcommands) -> None:
    s = sub.add_parser("web", help="the web console alone, in the foreground (default 127.0.0.1:8080)")
    s.add_argument("--listen", metavar="HOST:PORT", help=f"default: [web] listen, else {DEFAULT_LISTEN}")
    s.set_defaults(func=web)

    s = sub.add_parser("user", help="the web console's accounts: add, passwd, list, remove")
    us = s.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    a = us.add_parser("add", help="add an account (asks for its password)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=("admin", "clerk", "viewer"))
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a.set_defaults(func=user_password)
    a = us.add_parser("passwd", help="set an account's password (signs out its sessions)")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a.set_defaults(func=user_password)
    a = us.add_parser("list", help="the accounts and their roles")
    a.set_defaults(func=user_list)
    a = us.add_parser("remove", help="remove an account; its sessions end at once")
    a.add_argument("name")
    a.set_defaults(func=user_remove)

    s = sub.add_parser("token", help="read-only API tokens for other systems: add, list, remove")
    ts = s.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    a = ts.add_parser("add", help="make a token (shown once; only its digest is kept)")
    a.add_argument("name")
    a.set_defaults(func=token_add)
    a = ts.add_parser("list", help="the tokens by name, when made and last used")
    a.set_defaults(func=token_list)
    a = ts.add_parser("remove", help="revoke a token")
    a.add_argument("name")
    a.set_defaults(func=token_remove)


def _who() -> str:
    """Who runs the command, for the audit: the shell user on this server."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


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
        if not accounts.add_user(name, args.role, hashed, by=_who(), at=system_clock()):
            raise UserError(f"user {name}: exists already")
        say(f"user {name} added ({args.role})")
    else:
        accounts.set_password(name, hashed, by=_who(), at=system_clock())
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


def user_remove(args: argparse.Namespace) -> int:
    name, ctx, accounts = _open(args)
    if not accounts.remove_user(name, by=_who(), at=system_clock()):
        raise UserError(f"user {name}: no such user")
    say(f"user {name} removed; its sessions are signed out")
    return 0


def token_add(args: argparse.Namespace) -> int:
    from ..web.auth import new_token

    name, ctx, accounts = _open(args)
    token = new_token()
    if not accounts.add_token(name, token, by=_who(), at=system_clock()):
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


def token_remove(args: argparse.Namespace) -> int:
    name, ctx, accounts = _open(args)
    if not accounts.remove_token(name, by=_who(), at=system_clock()):
        raise UserError(f"token {name}: no such token")
    say(f"token {name} revoked")
    return 0


def bind(address: tuple[str, int]) -> socket.socket:
    """A listening socket on ``address``; a port in use is one line (exit 1), not a traceback."""
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise AttenddError(f"web console: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def web(args: argparse.Namespace) -> int:
    """Serve the console in the foreground until SIGINT / SIGTERM."""
    import uvicorn

    from ..config import parse_listen
    from ..web import create_app

    ctx = Context.from_args(args, require_file=True)
    listen = args.listen or getattr(getattr(ctx.config, "web", None), "listen", None) or DEFAULT_LISTEN
    try:
        address = parse_listen(listen)
    except ValueError as exc:
        raise UserError(f"--listen: {exc}") from None
    sock = bind(address)
    app = create_app(ctx.store(), ctx.config, clock=system_clock)
    say(f"web console on http://{listen} (stop with Ctrl-C)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    server.run(sockets=[sock])
    return 0
