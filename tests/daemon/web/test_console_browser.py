"""Issue 14 in a real browser: Debian's Chromium driven by Playwright (it never downloads one).

Log in, open the dashboard, find a staff member with a late day (the period's ranking → the
window grid → the day), see the punch time, the minutes late and the clause; open the window
grid. Each step's screenshot is checked: a real image of the element that holds that content.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime

import pytest
from conftest import PASSWORD
from helpers import chromium_path, fill, free_port, write_centre


def _png_size_and_colours(png: bytes) -> tuple[int, int, int]:
    """(width, height, distinct colours in the first rows) of an 8-bit RGB(A) PNG — enough to tell
    a rendered table from a blank or single-colour box."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    depth, colour = png[24], png[25]
    assert depth == 8 and colour in (2, 6)
    chunks, i = [], 8
    while i < len(png):
        n = struct.unpack(">I", png[i : i + 4])[0]
        if png[i + 4 : i + 8] == b"IDAT":
            chunks.append(png[i + 8 : i + 8 + n])
        i += 12 + n
    raw = zlib.decompress(b"".join(chunks))
    bpp = 3 if colour == 2 else 4
    stride = width * bpp + 1
    rows = min(height, 40)
    seen = set()
    prev = bytearray(width * bpp)
    for r in range(rows):
        line = bytearray(raw[r * stride + 1 : (r + 1) * stride])
        kind = raw[r * stride]
        for x in range(len(line)):  # undo the PNG filters (None, Sub, Up, Average, Paeth)
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        seen.update(bytes(line[x : x + 3]) for x in range(0, len(line), bpp))
        prev = line
    return width, height, len(seen)


@pytest.fixture
def live_console(tmp_path):
    from daemon.config import load_config
    from daemon.store import Accounts, open_store
    from daemon.web import create_app
    from daemon.web.passwords import hash_password
    from daemon.web.server import WebServer

    config = load_config(write_centre(tmp_path))
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    fill(store, late_on=date(2026, 3, 3))
    Accounts(store).add_user("王芳", "clerk", hash_password(PASSWORD), by="test", at=datetime(2026, 3, 1, tzinfo=UTC))
    now = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    port = free_port()
    server = WebServer(create_app(store, config, clock=lambda: now), "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    store.close()


def test_a_clerk_finds_a_late_day_and_its_clause(live_console, tmp_path):
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "shots"
    shots.mkdir()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{live_console}/")
        assert page.url.startswith(f"{live_console}/login")
        page.fill("input[name=name]", "王芳")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_console}/")
        devices = page.locator("section").first
        assert "考勤机" in devices.inner_text()
        _check_shot(devices.screenshot(path=str(shots / "dashboard.png")))

        page.goto(f"{live_console}/periods/2026-03")
        page.click("text=公安窗口")
        page.wait_for_url(f"{live_console}/windows/gongan/2026-03")
        grid = page.locator("table.sheet")
        assert "乙" in grid.inner_text()
        _check_shot(grid.screenshot(path=str(shots / "grid.png")))
        late_cell = page.locator("td.cell.k-late a").first
        assert late_cell.inner_text() == "迟"
        late_cell.click()
        page.wait_for_url(f"{live_console}/staff/2/2026-03#day-2026-03-03")
        row = page.locator("#day-2026-03-03")
        text = row.inner_text()
        assert "09:20:00" in text and "迟到 20 分钟" in text and "每次扣3分" in text, (
            text
        )  # the punch, the minutes, the clause
        assert row.is_visible()
        _check_shot(row.screenshot(path=str(shots / "late-day.png")))
        browser.close()
    assert errors == [], errors  # no CSP violation, no script error: htmx loaded from /static


def _check_shot(png: bytes) -> None:
    width, height, colours = _png_size_and_colours(png)
    assert width > 200 and height > 15 and colours > 4, (width, height, colours)
