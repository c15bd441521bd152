"""Synthetic data for the simulator: enrolled users and punches.

Not a layer of its own: the data a :class:`~.device.SimulatedTerminal`
starts with when a test, a benchmark or ``attendd simulate-device`` does
not bring its own. Deterministic: the same arguments give the same list.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from ..._models import DeviceUser, Punch

__all__ = ["make_users", "synthetic_punches"]


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN_NAMES = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 文 华 红 玉兰 志强 海燕"
).split()
_NAME_FIELD = {28: 8, 72: 24}


def _pin_order(pin: str) -> tuple[int, int, str]:
    return (0, int(pin), "") if pin.isascii() and pin.isdigit() else (1, 0, pin)


def make_users(pins: Iterable[str], *, encoding: str = "gbk", user_size: int = 72) -> list[DeviceUser]:
    """One user per distinct PIN (numeric PINs in numeric order), uid 1, 2, ...

    Names are Chinese (common surname + given name, distinct for the first
    900 users). A name that cannot be encoded in ``encoding`` or does not fit
    the name field of ``user_size`` becomes ``"User <pin>"``.
    """
    limit = _NAME_FIELD.get(user_size, 24)
    users = []
    for i, pin in enumerate(sorted(set(pins), key=_pin_order)):
        a, b = i % len(_SURNAMES), i // len(_SURNAMES)
        name = _SURNAMES[a] + _GIVEN_NAMES[(b + 7 * a) % len(_GIVEN_NAMES)]
        try:
            fits = len(name.encode(encoding)) <= limit
        except UnicodeEncodeError:
            fits = False
        if not fits:
            name = f"User {pin}"[:limit]
        users.append(DeviceUser(pin=pin, name=name, uid=i + 1))
    return users


#: (seconds after midnight, spread in seconds, punch state) of a four-punch day.
#: The windows do not overlap, so one person's punches of a day are distinct.
_DAY_SLOTS = (
    (8 * 3600 + 50 * 60, 600, 0),  # 08:50 check-in
    (12 * 3600 + 2 * 60, 300, 2),  # 12:02 break-out
    (12 * 3600 + 55 * 60, 300, 3),  # 12:55 break-in
    (17 * 3600 + 3 * 60, 900, 1),  # 17:03 check-out
)
_VERIFY_MODES = (1, 1, 15, 15, 15, 2)  # fingerprint, face, card


def synthetic_punches(
    n: int,
    *,
    pins: int = 50,
    start: datetime = datetime(2026, 3, 2),  # noqa: DTZ001 - a terminal's time: naive local wall-clock time
    seed: int = 1,
) -> list[Punch]:
    """Exactly ``n`` punches of ``pins`` people working four-punch days.

    Monday to Friday from ``start`` on, each person punches around 08:50,
    12:02, 12:55 and 17:03 (triangular jitter of up to 10, 5, 5 and 15
    minutes) with their own verify mode; records are in time order as a
    terminal stores them, (pin, timestamp) pairs are distinct, and the same
    arguments always give the same list. The last day is cut off at ``n``.
    """
    if n < 0 or pins < 1:
        raise ValueError("need n >= 0 and pins >= 1")
    rng = random.Random(seed)
    rand = rng.random
    pin_names = [str(i) for i in range(1, pins + 1)]
    verify_of = [rng.choice(_VERIFY_MODES) for _ in pin_names]
    seconds = [timedelta(seconds=s) for s in range(86400)]
    out: list[Punch] = []
    day = datetime(start.year, start.month, start.day)  # noqa: DTZ001 - naive, as terminals keep it
    one_day = timedelta(days=1)
    while len(out) < n:
        if day.weekday() < 5:
            today = []
            for index in range(pins):
                for centre, spread, state in _DAY_SLOTS:
                    today.append((centre + int((rand() + rand() - 1.0) * spread), index, state))
            today.sort()
            for offset, index, state in today[: n - len(out)]:
                out.append(Punch(pin_names[index], day + seconds[offset], state, verify_of[index]))
        day += one_day
    return out
