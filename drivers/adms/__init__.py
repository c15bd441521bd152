"""ZKTeco PUSH / ADMS: terminals that push punches over HTTP (SPEC §4.2 ``adms``).

:mod:`.protocol` parses upload bodies and builds replies (pure, no I/O);
:mod:`.server` is the HTTP listener; :mod:`.simulator` a pushing terminal for tests.
"""

from .protocol import handshake_options, parse_attlog_body

__all__ = ["handshake_options", "parse_attlog_body"]
