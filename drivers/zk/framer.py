"""Framing layer of the ZKTeco protocol over TCP: the 8-byte top header.

Over UDP one datagram is one packet. Over TCP the packets (header + payload,
see :mod:`.codec`) travel in one byte stream, each behind a top header::

    u16 0x5050 | u16 0x7D82 | u32 length of the packet

and a ``recv`` may return several packets, or part of one. This module is the
one implementation of that framing: :func:`tcp_wrap` and :func:`tcp_length`
for single packets (re-exported by :mod:`.codec` for callers that build whole
wire packets), :class:`TcpFramer` for a stream (the simulator's transport
cuts what it receives with it). The client needs none of it: pyzk frames its
own packets. Pure, no I/O.
"""

from __future__ import annotations

import struct

__all__ = ["TCP_MAGIC_1", "TCP_MAGIC_2", "TCP_TOP", "TcpFramer", "tcp_length", "tcp_wrap"]

TCP_MAGIC_1 = 0x5050
TCP_MAGIC_2 = 0x7D82  # bytes 50 50 82 7d on the wire; pyzk: 32130 (its comment says 0x7282, wrongly)
TCP_TOP = struct.Struct("<HHI")


def tcp_wrap(packet: bytes) -> bytes:
    """Prefix the TCP top header (magic and length)."""
    return TCP_TOP.pack(TCP_MAGIC_1, TCP_MAGIC_2, len(packet)) + packet


def tcp_length(top: bytes | bytearray) -> int:
    """Length announced by an 8-byte TCP top header; ValueError if not one."""
    if len(top) < TCP_TOP.size:
        raise ValueError("TCP top header is 8 bytes")
    fields: tuple[int, int, int] = TCP_TOP.unpack_from(top)
    magic1, magic2, length = fields
    if (magic1, magic2) != (TCP_MAGIC_1, TCP_MAGIC_2):
        raise ValueError(f"bad TCP magic {magic1:#06x} {magic2:#06x}")
    return length


class TcpFramer:
    """Reassembles packets from a TCP byte stream using the 8-byte top header.

    Several packets per ``recv`` and packets split across ``recv`` calls both
    happen; :meth:`feed` returns the packets (without top header) each call
    completes and keeps the rest for the next one.
    """

    #: Requests are small; a longer announced length means the stream is garbage.
    MAX_PACKET = 1 << 20

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the packets now complete (ValueError on garbage)."""
        buffer = self._buffer
        buffer += data
        packets = []
        while len(buffer) >= TCP_TOP.size:
            length = tcp_length(buffer[: TCP_TOP.size])
            if length > self.MAX_PACKET:
                raise ValueError(f"TCP packet of {length} bytes announced")
            end = TCP_TOP.size + length
            if len(buffer) < end:
                break
            packets.append(bytes(buffer[TCP_TOP.size : end]))
            del buffer[:end]
        return packets

    @staticmethod
    def frame(packet: bytes) -> bytes:
        """Wrap one packet for the TCP stream."""
        return tcp_wrap(packet)
