"""The web console (issue 14): accounts, the dashboard, every result explained.

``create_app(store, config, clock=…)`` is the ASGI app; :mod:`.auth` says who may do what,
:mod:`.views` gathers what the pages show, :mod:`.pages` and :mod:`.results` are the routes.
"""

from .app import create_app

__all__ = ["create_app"]
