"""The health page in a real browser: Playwright drives Debian's Chromium against a uvicorn
server on 127.0.0.1, after two real ingests (one chapter held for review, one deposited into
the test SeaweedFS) and a history of earlier outcomes written through the catalogue API.

Checked: an archivist reaches the page from the navigation; each chart is drawn with a
non-zero size and no two overlap; the numbers the page writes are the catalogue's (worked out
again row by row, tests/support/health.py); an anonymous visitor is sent to the login page and
a user of another role is refused. The full-page screenshot is compared *for structure* with
tests/fixtures/health/reference.png (tests/support/layout.py: a coarse grid of inked cells), and
the same comparison is shown to fail once a chart is removed from the page.

``ARCHIVE_INGEST_UPDATE_HEALTH_REFERENCE=1`` writes the reference and docs/images/health-page.png
anew from this run (look at both before committing them)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, ViewportSize, expect
from sqlalchemy import update

from archive_ingest.catalogue import Catalogue
from archive_ingest.models import utcnow
from archive_ingest.review import users
from archive_ingest.review.schema import ReviewUser
from archive_ingest.settings import Settings
from archive_ingest.web import create_app
from archive_ingest_demo.scielo_sample import SampleCatalogue
from tests.support.health import oracle, seed_archive
from tests.support.layout import ink_grid, inked_share, mismatch, save_reference
from tests.support.pipeline import ingest_in_process
from tests.support.review import BOOK, PASSWORD, SBID
from tests.support.territory_book import add_chapter, make_chapter
from tests.support.web import serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "fixtures" / "health" / "reference.png"
DOCS_IMAGE = ROOT / "docs" / "images" / "health-page.png"
UPDATE = os.environ.get("ARCHIVE_INGEST_UPDATE_HEALTH_REFERENCE") == "1"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
CHARTS = ("chart-daily", "chart-queue", "chart-coverage", "chart-copies")
#: the most the page's structure may differ from the reference's (share of inked cells);
#: measured: 0.02 against a fresh reference (it is stored at half size), 0.09 in a serif font,
#: 0.49 without the queue chart
MAX_MISMATCH = 0.2
#: the least share of inked cells under a drawn chart (a blank chart has none)
MIN_INK = 0.1


@pytest.fixture
def archive(
    held: tuple[Settings, str], scielo_catalogue: SampleCatalogue, tmp_path: Path
) -> tuple[Settings, dt.datetime]:
    """``held``'s chapter in review, a second chapter of its book deposited (its licence
    agrees), the seeded history, and users: ana (archivist), rui (a role the page refuses)."""
    settings, _held_id = held
    pdf = make_chapter(
        tmp_path / "agreeing.pdf",
        "Capítulo de acordo",
        book_title=BOOK,
        licence="by-nc-sa/3.0",
        pages=(40, 52),
        isbn="978-85-232-1234-6",
        scanned_pages=0,
        seed=5,
    )
    ref = add_chapter(scielo_catalogue, SBID, pdf, "Capítulo de acordo", order=2)
    deposited = ingest_in_process(settings, ref)
    assert deposited.state == "deposited", deposited
    now = utcnow()
    cat = Catalogue.open(settings.effective_database_url)
    try:
        seed_archive(cat, now)
        users.add_user(cat, "ana", "archivist", PASSWORD)
        users.add_user(cat, "rui", "archivist", PASSWORD)
        with cat.session() as session:  # no such role exists yet: the page must refuse it
            session.execute(
                update(ReviewUser).where(ReviewUser.name == "rui").values(role="reviewer")
            )
    finally:
        cat.close()
    return settings, now


@pytest.fixture
def base(archive: tuple[Settings, dt.datetime]) -> Iterator[str]:
    with serving(create_app(archive[0])) as url:
        yield url


def _login(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/review/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header")).to_contain_text(name)


def _boxes(page: Page) -> dict[str, FloatRect]:
    out = {}
    for chart in CHARTS:
        box = page.locator(f"#{chart}-box").bounding_box()
        assert box is not None, f"{chart} is not laid out"
        out[chart] = box
    glances = page.locator("#glances").bounding_box()
    assert glances is not None
    out["glances"] = glances
    return out


def _overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def _bars(page: Page, chart: str) -> dict[str, int]:
    """label -> the total a chart's bar carries, checked against the number written on it."""
    out = {}
    for group in page.locator(f"#{chart} g.bar").all():
        label, total = group.get_attribute("data-label"), group.get_attribute("data-total")
        assert label is not None and total is not None
        written = group.locator("text.bar-total")
        if int(total) and chart in ("chart-daily", "chart-queue", "chart-copies"):
            expect(written).to_have_text(f"{int(total):,}")
        out[label] = int(total)
    return out


def _check_numbers(page: Page, settings: Settings, now: dt.datetime) -> None:
    cat = Catalogue.open(settings.effective_database_url)
    try:
        want = oracle(cat, now, settings.audit_rehash_cycle_days)
        items = sum(cat.count_by_state().values())
    finally:
        cat.close()
    per_day: dict[str, int] = {}
    for (day, _state), count in want["per_day"].items():
        per_day[day.strftime("%m-%d")] = per_day.get(day.strftime("%m-%d"), 0) + count
    daily = {label: total for label, total in _bars(page, "chart-daily").items() if total}
    assert daily == per_day and sum(daily.values()) >= 7  # 5 seeded + 2 real ingests
    segments = {(d.strftime("%m-%d"), state): n for (d, state), n in want["per_day"].items()}
    drawn = {}
    for rect in page.locator("#chart-daily rect.segment").all():
        label = rect.locator("xpath=..").get_attribute("data-label")
        drawn[(label, rect.get_attribute("data-series"))] = int(
            rect.get_attribute("data-value") or 0
        )
    assert drawn == segments  # each outcome's segment of each day
    queue = {label: total for label, total in _bars(page, "chart-queue").items() if total}
    assert queue == dict(want["queue"])
    for target, (inside, objects) in want["coverage"].items():
        row = page.locator(f"#chart-coverage g.bar[data-label='{target}'] text.bar-total")
        expect(row).to_have_text(f"{inside * 100 // objects}% of {objects:,}")
    assert "primary" in want["coverage"]  # the real deposit's objects, re-hashed when stored
    for target, counts in want["copies"].items():
        for status in ("verified", "failed", "damaged", "lost", "missing"):
            cell = page.locator(
                f"#copies-table tr[data-target='{target}'] td[data-status={status}]"
            )
            expect(cell).to_have_text(str(counts.get(status, 0)))
    expect(page.locator("#glance-items .value")).to_have_text(f"{items:,}")


def test_health_page_in_chromium(
    base: str,
    archive: tuple[Settings, dt.datetime],
    browser: Browser,
    tmp_path: Path,
) -> None:
    settings, now = archive
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    _login(page, base, "ana")
    page.click("header a[href='/review/health']")
    expect(page).to_have_url(f"{base}/review/health")
    expect(page.locator("h1")).to_have_text("Archive health")

    boxes = _boxes(page)
    for chart in CHARTS:
        svg = page.locator(f"svg#{chart}")
        expect(svg).to_be_visible()
        size = svg.bounding_box()
        assert size is not None and size["width"] > 200 and size["height"] > 80, (chart, size)
        assert page.locator(f"#{chart}-title").text_content()
        assert page.locator(f"#{chart}-desc").text_content()
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not _overlap(boxes[a], boxes[b]), f"{a} overlaps {b}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], "the page overflows sideways"

    _check_numbers(page, settings, now)

    shot = page.screenshot(full_page=True)
    (tmp_path / "health.png").write_bytes(shot)
    grid = ink_grid(shot)
    for chart in CHARTS:  # the screenshot shows ink where the DOM says each chart is drawn
        drawn = page.locator(f"svg#{chart}").bounding_box()
        assert drawn is not None
        assert inked_share(grid, drawn, VIEWPORT["width"]) > MIN_INK, chart
    if UPDATE:
        save_reference(shot, REFERENCE)
        _save_docs_image(shot)
    assert REFERENCE.is_file(), "no reference: run with ARCHIVE_INGEST_UPDATE_HEALTH_REFERENCE=1"
    want = ink_grid(REFERENCE)
    same = mismatch(grid, want)
    print(f"structure mismatch against the reference: {same:.3f}")
    assert same <= MAX_MISMATCH, same

    # the comparison is not blind: without one chart the page's structure no longer matches
    page.locator("#chart-queue-box").evaluate("e => e.remove()")
    without = page.screenshot(full_page=True)
    (tmp_path / "health-without-queue.png").write_bytes(without)
    gone = mismatch(ink_grid(without), want)
    print(f"structure mismatch without the queue chart: {gone:.3f}")
    assert gone > MAX_MISMATCH, gone
    context.close()

    # ... nor too sharp: the same page in another font still matches (a test-only stylesheet,
    # in a context that lets Playwright add one past the CSP)
    other = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, bypass_csp=True)
    page = other.new_page()
    _login(page, base, "ana")
    page.goto(f"{base}/review/health")
    page.add_style_tag(content="body, svg.chart text { font-family: serif !important; }")
    serif = page.screenshot(full_page=True)
    (tmp_path / "health-serif.png").write_bytes(serif)
    font = mismatch(ink_grid(serif), want)
    print(f"structure mismatch in a serif font: {font:.3f}")
    assert font <= MAX_MISMATCH, font
    other.close()


def test_health_page_refuses_others(base: str, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/review/health")
    expect(page).to_have_url(re.compile(r"/review/login\?next=%2Freview%2Fhealth$"))
    expect(page.locator("svg.chart")).to_have_count(0)
    _login(page, base, "rui")
    expect(page.locator("header a[href='/review/health']")).to_have_count(0)
    response = page.goto(f"{base}/review/health")
    assert response is not None and response.status == 403
    expect(page.locator("#error")).to_have_text("Archivists and admins only.")
    expect(page.locator("svg.chart")).to_have_count(0)
    context.close()


def _save_docs_image(png: bytes, width: int = 960) -> None:
    """A small copy for docs/OPERATIONS.md: scaled down, 256 colours."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    height = round(image.size[1] * width / image.size[0])
    small = image.resize((width, height), Image.Resampling.LANCZOS)
    DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
    small.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(DOCS_IMAGE, optimize=True)
