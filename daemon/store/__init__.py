"""The local store: punches, quarantine, device state, the clerk's records, periods (SQLAlchemy + Alembic).

The public surface is here. Writes go through :meth:`Store.transaction` (the unit of work that
holds SQLite's single-writer lock) or the functions below; reads through :meth:`Store.reading`
or the store's read methods. Tables are named by the handles in :mod:`daemon.store.models`.
"""

from . import quarantine_review  # noqa: F401 - its table is the store's; used as a module
from .accounts import Accounts
from .appeals import appeals, decide_appeal, file_appeal
from .changes import StaleEdit, changes, record_change
from .clerk_records import KIND_TABLES, list_records, put_records
from .corrections import add_manual_punch, manual_punches, withdraw_manual_punch
from .dirty import clear_dirty, dirty_months
from .store import Quarantined, SaveResult, Store, StoreError, open_store

__all__ = [
    "Accounts",
    "KIND_TABLES",
    "Quarantined",
    "SaveResult",
    "StaleEdit",
    "Store",
    "StoreError",
    "add_manual_punch",
    "appeals",
    "changes",
    "clear_dirty",
    "decide_appeal",
    "dirty_months",
    "file_appeal",
    "list_records",
    "manual_punches",
    "open_store",
    "put_records",
    "record_change",
    "withdraw_manual_punch",
]
