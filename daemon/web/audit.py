"""(issue 15) — being written."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    """Add this module's routes to the console."""
