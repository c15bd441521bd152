"""The local store: punches, quarantine, per-device sync state (SQLAlchemy + Alembic)."""

from .store import Quarantined, SaveResult, Store, StoreError, open_store

__all__ = ["Quarantined", "SaveResult", "Store", "StoreError", "open_store"]
