"""The public page in a real browser (issue 24): Debian's chromium driven by Playwright,
axe-core (from axe-playwright-python) finds 0 WCAG 2.1 AA violations on `/`, a theme
page and a theme page with a published evaluation's results, at phone and desktop width;
the screenshots of the first two go to tests/reference/ (the README shows them). One
browser, six pages. Skips, saying why, where no browser is."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.charts.drawing import Charts
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from bot.web.public import PublicSite
from bot.web.server import WebServer
from tests.public_samples import NOW, concept_themes, published_evaluation

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
REFERENCE = Path(__file__).parents[1] / "reference"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"telefon": 375, "desktop": 1280}
PAGES = {"start": "/", "thema": "/thema/mobilitat"}
# Checked by axe too, without a screenshot: a theme with a published evaluation's table.
CHECKED = {**PAGES, "ergebnisse": "/thema/digitale-ethik"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
axe_module = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
)
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"no browser: {CHROMIUM} is missing (make chromium)", allow_module_level=True)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """The public page of the concept's three themes, served from a thread of its own."""
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.upgrade()
    concept_themes(store)
    ethik = store.theme("Digitale Ethik")
    assert ethik is not None
    published_evaluation(store, ethik.id)
    loop = asyncio.new_event_loop()
    server = WebServer("127.0.0.1", 0)
    server.add_routes(PublicSite(store, FeedTokens(store), Charts(), now=lambda: NOW).routes())
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    store.close()


def test_the_public_pages_have_no_axe_violations_at_phone_and_desktop_width(site: str) -> None:
    axe = axe_module.Axe()
    REFERENCE.mkdir(exist_ok=True)
    found: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for device, width in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": 900})
                for name, path in CHECKED.items():
                    response = page.goto(site + path)
                    assert response is not None and response.status == 200, path
                    assert page.locator("h1").count() == 1
                    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
                    violations = result.response["violations"]
                    found[f"{name} {device}"] = [v["id"] for v in violations]
                    # Nothing wider than the screen: no sideways scrolling on a phone.
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    if name in PAGES:
                        shot = REFERENCE / f"{name}-{device}.png"
                        page.screenshot(path=str(shot), full_page=True)
                page.close()
        finally:
            browser.close()
    assert found == {key: [] for key in found}, found
