"""The ZKTeco binary protocol (TCP/UDP 4370): codec, client session, simulator.

``codec`` is pure and byte-tested; ``ZKTerminal`` is a session (pyzk for the
conversation, our decoder for the records); ``simulator`` is a fake terminal
for tests, demos and trying a configuration.
"""

from .client import ZKTerminal

__all__ = ["ZKTerminal"]
