"""The review UI in a real browser: Playwright (sync API) drives Debian's Chromium against a
uvicorn server on 127.0.0.1, over a package the real pipeline held for review, depositing into
the test SeaweedFS. Screenshots go under tmp_path only. The ``browser`` fixture is in
tests/support/plugins/browser.py."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from flows.review import launch as launch_ocr_rerun
from playwright.sync_api import Browser, Page, expect

from archive_ingest.catalogue import Catalogue
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from tests.support.ports import free_port
from tests.support.review import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def served(
    held: tuple[Settings, str],
    prefect_api_url: str,  # the OCR re-run is a Prefect flow run
) -> Iterator[tuple[str, Settings, str]]:
    settings, record_id = held
    from archive_ingest.review.users import add_user

    cat = Catalogue.open(settings.effective_database_url)
    try:
        add_user(cat, "ana", "archivist", PASSWORD)
    finally:
        cat.close()
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, ocr_rerun=launch_ocr_rerun),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    # in this test's context: the session Prefect server's settings reach the app's threads
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(server.run,), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings, record_id
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/review/")
    expect(page).to_have_url(f"{base}/review/login?next=%2Freview%2F")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_be_visible()


def test_review_in_chromium(
    served: tuple[str, Settings, str], browser: Browser, seaweed: Any, tmp_path: Path
) -> None:
    base, settings, record_id = served
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    _login(page, base)
    expect(page.locator("#count-licence")).to_have_text("licence: 1")
    page.click(f"a[href='/review/item/{record_id}']")
    expect(page.locator("#licence-outcome")).to_have_text("needs_review")
    expect(page.locator("#pdf-statement mark").first).to_contain_text("NoDerivs 3.0")
    page.screenshot(path=str(tmp_path / "record.png"), full_page=True)

    # a form whose CSRF token was removed is refused
    page.locator("#reject-form input[name=csrf_token]").evaluate("e => e.remove()")
    page.fill("#reject-form input[name=reason]", "should never be recorded")
    page.click("#reject-form button")
    expect(page.locator("#error")).to_contain_text("not sent by this site")
    page.go_back()
    page.reload()
    expect(page.locator("#state")).to_have_text("needs_review")

    # approve with the publisher's licence: deposited into SeaweedFS
    page.select_option("#approve-licence", "https://creativecommons.org/licenses/by-nc-sa/3.0/")
    page.fill("#approve-form input[name=note]", "checked against the book page")
    page.click("#approve")
    expect(page.locator("#state")).to_have_text("deposited")
    expect(page.locator("#bag-uri")).to_contain_text("/v1")
    expect(page.locator("#history")).to_contain_text("approved for deposit by ana")
    cat = Catalogue.open(settings.effective_database_url)
    try:
        row = cat.get_version(record_id, 1)
        assert row is not None
        key = row.summary["receipt"]["key"]
    finally:
        cat.close()
    head = seaweed.client("admin").head_object(Bucket=settings.s3_bucket, Key=key)
    assert head["ContentLength"] > 0

    # edit the title (with a script tag): version 2, rendered as text
    title = '<script>alert("x")</script> Novo título'
    page.fill("#edit-title", title)
    page.click("#edit")
    expect(page.locator("#version")).to_have_text("v2")
    expect(page.locator("#title")).to_have_text(title)
    expect(page.locator("#state")).to_have_text("deposited")
    expect(page.locator("#bag-uri")).to_contain_text("/v2")
    page.screenshot(path=str(tmp_path / "v2.png"), full_page=True)

    # re-run OCR in Spanish: queued in the background, a deposited v3 appears
    page.fill("#ocr-form input[name=languages]", "es")
    page.click("#ocr-form button")
    expect(page.locator("#msg")).to_contain_text("queued")
    deadline = time.monotonic() + 300
    while (page.locator("#version").inner_text(), page.locator("#state").inner_text()) != (
        "v3",
        "deposited",
    ):
        assert time.monotonic() < deadline, "the OCR re-run did not finish"
        time.sleep(1)
        page.goto(f"{base}/review/item/{record_id}")
    expect(page.locator("#state")).to_have_text("deposited")
    # v3 "deposited" is only visible once v3 is complete: the catalogue moves the version number
    # and the state in one transaction (this once flaked when they moved separately)
    expect(page.locator("#history")).to_contain_text("OCR re-run requested by ana with es")
    page.goto(f"{base}/review/item/{record_id}/v3/diff/1")
    expect(page.locator("#diff")).not_to_be_empty()
    image = page.request.get(f"{base}/review/item/{record_id}/v3/page/1.png")
    assert image.ok and image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dialogs == [], "a script ran"
    context.close()
