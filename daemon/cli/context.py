"""What every command needs: the config, logging set up, the store, terminals."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .. import config as config_mod
from ..devices import connect_device  # noqa: F401 - re-exported for the commands
from ..errors import UserError
from ..logging import mask_url_password, register_secret, setup_logging
from ..store import Store, open_store

if TYPE_CHECKING:
    from ..scoring import ScoringDB


def shell_user() -> str:
    """Who runs a command, for the change log when no ``--by`` names them: the shell user here."""
    import getpass
    import os

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


@dataclass
class Context:
    config: config_mod.Config
    config_path: Path | None
    _store: Store | None = field(default=None, repr=False)

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, *, config_path: Path | None = None, require_file: bool = False
    ) -> Context:
        explicit = config_path or (Path(args.config) if getattr(args, "config", None) else None)
        path = config_mod.find_config(explicit)
        if explicit is not None and (path is None or not Path(path).exists()):
            raise UserError(f"{explicit}: no such file")
        if path is None:
            if require_file:
                raise UserError(
                    "no config file found (looked for /etc/attendd/attendd.toml and ./attendd.toml; "
                    "name one with --config)"
                )
            cfg = config_mod.default_config(config_mod.default_state_dir())
        else:
            cfg = config_mod.load_config(Path(path))
        for secret in cfg.secrets():
            register_secret(secret)
        fmt = getattr(args, "log_format", None) or cfg.logging.format
        level = getattr(args, "log_level", None) or cfg.logging.level
        setup_logging(fmt, level)
        return cls(cfg, Path(path) if path else None)

    @property
    def config_label(self) -> str:
        return str(self.config_path) if self.config_path else "the built-in default config"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.site.timezone)

    @property
    def store_url(self) -> str:
        return self.config.store_url()

    @property
    def store_display(self) -> str:
        from sqlalchemy.engine import make_url

        shown = mask_url_password(make_url(self.store_url).render_as_string(hide_password=True))
        schema = self.config.store.schema_name
        return shown + (
            f" (schema {schema})" if schema and make_url(self.store_url).get_backend_name() == "postgresql" else ""
        )

    def scoring(self) -> ScoringDB:
        """The shared scoring DB (not migrated implicitly: `attendd db upgrade` does that)."""
        if getattr(self, "_scoring", None) is None:
            from ..scoring import ScoringDB

            self._scoring = ScoringDB(
                self.config.scoring_url(), schema=self.config.scoring.schema_name, site=self.config.site.code
            )
        return self._scoring

    def store(self, *, upgrade: bool = True) -> Store:
        if self._store is None:
            schema = self.config.store.schema_name
            if upgrade:
                self._store = open_store(self.store_url, timezone=self.config.site.timezone, schema=schema)
            else:
                self._store = Store(self.store_url, timezone=self.config.site.timezone, schema=schema)
        return self._store
