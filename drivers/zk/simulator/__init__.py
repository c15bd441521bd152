"""A fake ZKTeco terminal on 127.0.0.1, for tests, benchmarks and
``attendd simulate-device``.

Layered like pymodbus' simulator, so each layer can be tested on its own
(bottom to top):

* :mod:`.device` — :class:`SimulatedTerminal`, the device: attendance log,
  users, clock, counters of the commands it received, and :class:`Faults`
  to inject.
* :mod:`.handler` — :class:`MessageHandler`, pure protocol logic: one
  request packet in, one :class:`Reply` (a list of reply packets plus
  timing) out. One handler per TCP connection or per UDP client address; it
  holds that client's session (id, authentication, staged data set). No
  sockets.
* :mod:`drivers.zk.framer` — :class:`TcpFramer` cuts a TCP byte stream into
  packets using the 8-byte top header (several packets per ``recv`` and
  packets split across ``recv`` calls both happen). Over UDP one datagram is
  one packet. It sits beside the codec, not here: it is the protocol's one
  implementation of the TCP framing.
* :mod:`.transport` — :class:`SimulatorServer`, one TCP and one UDP server
  on the same port, each on its own thread (plus one thread per TCP
  connection), applying the handler's timing and hang-ups to the wire.

Beside the layers, :mod:`.synthetic` makes the users and punches a terminal
starts with (:func:`make_users`, :func:`synthetic_punches`) and :mod:`.cli`
is ``attendd simulate-device`` (:func:`run_simulator`). Every public name is
importable from this package.

Replies follow what real terminals do as far as public clients depend on it:
pyzk reads each reply with one ``recv`` of a fixed size, so a reply never
carries bytes the client does not expect (header-only replies are exactly 16
bytes over TCP); node-zklib pipelines its chunk requests and sums the payloads
of PREPARE_DATA (8 bytes) and DATA, so those sizes are exact too. Incoming
checksums are not verified: pyzk and node-zklib both compute the checksum
before they bump the reply id in the header, so their requests never carry a
matching one, and terminals answer them anyway.
"""

from ..framer import TcpFramer
from .cli import DEFAULT_RECORDS as DEFAULT_RECORDS  # a module attribute before the split, kept
from .cli import run_simulator
from .device import Faults, SimulatedTerminal
from .handler import MessageHandler, Reply
from .synthetic import make_users, synthetic_punches
from .transport import SimulatorServer

__all__ = [
    "Faults",
    "MessageHandler",
    "Reply",
    "SimulatedTerminal",
    "SimulatorServer",
    "TcpFramer",
    "make_users",
    "run_simulator",
    "synthetic_punches",
]
