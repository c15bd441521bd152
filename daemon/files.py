"""Read a file the user named, or say in one line why it cannot be read.

Every user-named input (the config, an attlog export, a roster or leave
sheet) is read through :func:`read_user_file`, so a missing file, a
directory or a permission problem reads the same whichever command met it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UserError


def read_user_file(path: str | Path, *, what: str = "file", shown: str | None = None) -> bytes:
    """The bytes of ``path``; raises :class:`UserError` naming it (as ``shown``) when it cannot be read.

    ``what`` is what the file should have been ("TOML file", "attlog file"),
    for the message when ``path`` is a directory.
    """
    name = shown or str(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory, not a {what}") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror or exc}") from None
