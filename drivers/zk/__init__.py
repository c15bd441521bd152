"""The ZKTeco binary protocol (TCP/UDP 4370): codec, framer, client session, simulator.

``codec`` (packets and records) and ``framer`` (the TCP top header) are pure
and byte-tested; ``ZKTerminal`` is a session (pyzk for the conversation, our
decoder for the records); ``simulator`` is a fake terminal for tests, demos
and trying a configuration.
"""

from .client import ZKTerminal

__all__ = ["ZKTerminal"]
