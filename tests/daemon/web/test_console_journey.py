"""Issue 15 in a real browser (Debian's Chromium through Playwright): the clerk's month.

Log in → open a staff member's month → see the missing punch → record a 补签 with a reason → the
deduction is gone and the audit log shows it → record an appeal and reject it → close the month →
download the bulletin. Each step's screenshot is checked (a real rendering of that element).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import PASSWORD
from helpers import MISSING_DAY, chromium_path, fill_missing, free_port, write_centre
from test_console_browser import _check_shot

DAY = MISSING_DAY.isoformat()


@pytest.fixture
def live(tmp_path):
    from daemon.config import load_config
    from daemon.store import Accounts, open_store
    from daemon.web import create_app
    from daemon.web.passwords import hash_password
    from daemon.web.server import WebServer

    config = load_config(write_centre(tmp_path, extra=f'[bulletin]\ndir = "{tmp_path / "bulletins"}"\n'))
    store = open_store(config.store.url, timezone="Asia/Shanghai")
    fill_missing(store)
    # an admin: a clerk's actions plus the audit log
    Accounts(store).add_user("王科长", "admin", hash_password(PASSWORD), by="test", at=datetime(2026, 3, 1, tzinfo=UTC))
    now = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    port = free_port()
    server = WebServer(create_app(store, config, clock=lambda: now), "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", store
    server.stop()
    store.close()


def test_the_clerks_month_from_a_missing_punch_to_the_published_bulletin(live, tmp_path):
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    base, store = live
    punches_before = store.count_punches()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{base}/login")
        page.fill("input[name=name]", "王科长")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")

        # the month, the missing punch and what it costs
        page.goto(f"{base}/staff/2/2026-03")
        missing = page.locator(f"#day-{DAY}-am_out")
        assert "缺卡" in missing.inner_text() or "旷工" in page.locator(f"#day-{DAY}").inner_text()
        _check_shot(page.locator(f"#day-{DAY}").screenshot())
        assert "扣 10 分" in page.locator("dl.facts").inner_text()

        # the 补签
        form = page.locator(f"#corrections-{DAY}")
        form.locator("summary").click()
        form.locator("input[name=time]").fill("12:01")
        form.locator("input[name=reason]").fill("设备故障，值班室登记")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/staff/2/2026-03#day-{DAY}")
        assert "扣 0 分" in page.locator("dl.facts").inner_text()
        assert "补签" in page.locator(f"#day-{DAY}-am_out").inner_text()
        _check_shot(page.locator(f"#day-{DAY}-am_out").screenshot())
        assert store.count_punches() == punches_before  # the terminals' punches are untouched

        # the audit log shows it
        page.goto(f"{base}/audit")
        entry = page.locator("table.grid tbody tr").first
        assert "补签" in entry.inner_text() and "王科长" in entry.inner_text() and "设备故障" in entry.inner_text()
        _check_shot(entry.screenshot())

        # an appeal, recorded and rejected
        page.goto(f"{base}/appeals?staff=2&ref=2026-03-04/am_in")
        page.fill("form[method=post][action='/appeals'] input[name=says]", "那天路上堵车")
        with page.expect_navigation():
            page.click("form[method=post][action='/appeals'] button[type=submit]")
        row = page.locator("#appeal-1")
        assert "那天路上堵车" in row.inner_text(), page.content()[:3000]
        row.locator("input[value=reject]").check()
        row.locator("input[name=reason]").fill("堵车不属于免责情形")
        with page.expect_navigation():
            row.locator("button[type=submit]").click()
        assert "驳回" in page.locator("#appeal-1").inner_text()
        _check_shot(page.locator("#appeal-1").screenshot())

        # close the month, after its preview
        page.goto(f"{base}/periods/2026-03/close")
        assert "没有待处理的申诉" in page.content()
        with page.expect_navigation():
            page.click("form[action='/periods/2026-03/close'] button[type=submit]")
        assert "已结账" in page.content()

        # download the bulletin
        with page.expect_download() as download:
            page.click("a[href='/periods/2026-03/bulletin.xlsx']")
        saved = tmp_path / "bulletin.xlsx"
        download.value.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK"
        browser.close()
    assert errors == [], errors
