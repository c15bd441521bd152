"""How a punch's state and verify codes read to a person (上班/下班, 指纹/人脸/密码/卡).

Terminals store numbers (see :class:`drivers.Punch`); a table shows the Chinese label the
terminal's own screen shows, CSV and JSON keep the raw code beside it for other tools. A code
not listed here (firmware numbers differ) shows as the number itself.
"""

from __future__ import annotations

#: Punch state → label (ZKTeco: 0 check-in … 5 overtime-out).
STATE_LABELS: dict[int, str] = {
    0: "上班",
    1: "下班",
    2: "外出",
    3: "外出返回",
    4: "加班上班",
    5: "加班下班",
}

#: Verify mode → label (ZKTeco: 0 password, 1 fingerprint, 2 card, 15 face).
VERIFY_LABELS: dict[int, str] = {
    0: "密码",
    1: "指纹",
    2: "卡",
    15: "人脸",
}


def state_label(code: int | None) -> str:
    """The label of a punch state; the code itself when it has none; empty for None."""
    return _label(STATE_LABELS, code)


def verify_label(code: int | None) -> str:
    """The label of a verify mode; the code itself when it has none; empty for None."""
    return _label(VERIFY_LABELS, code)


def _label(labels: dict[int, str], code: int | None) -> str:
    if code is None:
        return ""
    return labels.get(code, str(code))
