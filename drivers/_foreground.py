"""Running something in the foreground until SIGTERM or Ctrl-C (simulators, ``listen-serial``).

systemd and test harnesses stop a foreground process with SIGTERM, a person
with Ctrl-C; both should end it the same way: whatever was started is
stopped in order and the exit code is 0. :func:`announce` is the one line
such a command writes to say where it serves.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["announce", "until_stopped"]


@contextmanager
def until_stopped() -> Iterator[threading.Event]:
    """An event that SIGTERM sets while the block runs; Ctrl-C ends the block quietly.

    SIGTERM's previous handler is restored afterwards; off the main thread
    (where signals cannot be handled) only the event is given.
    """
    stopping = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    try:
        yield stopping
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def announce(line: str) -> None:
    """Write ``line`` to standard output and flush it at once.

    A foreground command says where it serves this way; whoever started it
    (a person, a test, a supervisor reading the pipe) needs the line while
    the command keeps running, not when it exits.
    """
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
