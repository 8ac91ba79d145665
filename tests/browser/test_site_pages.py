"""The HTML book in a real browser: every chapter page served on 127.0.0.1, read with no network.

The site is the session's `make book` build (the ``site`` fixture of tests/conftest.py). Chromium
loads each written chapter with every request off this machine blocked, and the page must show its
title, no console error, math typeset by the site's own MathJax, and every image decoded. A
screenshot of the first chapter page is saved in the build folder.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_lib.book import Book, load_book

from .conftest import describe_errors

pytestmark = pytest.mark.browser

WRITTEN = [chapter.id for chapter in load_book().written_chapters]

# MathJax 3 typesets into <mjx-container> elements; the page is ready once the startup promise resolves.
MATH_READY = "() => window.MathJax && MathJax.startup && MathJax.startup.promise.then(() => true)"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    """The built site served by a static file server on 127.0.0.1 (a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(site / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("chapter_id", WRITTEN)
def test_chapter_page_loads_offline_with_its_title_math_and_images(
    chapter_id: str, book: Book, site: Path, site_url: str, page, page_errors: list[str], blocked_requests: list[str]
) -> None:
    chapter = book.chapter(chapter_id)
    response = page.goto(f"{site_url}/{chapter.notebook.stem}.html", wait_until="load")
    assert response is not None and response.ok, f"{chapter.notebook.stem}.html: HTTP {response and response.status}"
    assert chapter.title in page.title(), f"page title {page.title()!r} does not name the chapter {chapter.title!r}"
    assert page.locator("h1").first.inner_text().strip().startswith(chapter.title)

    assert page.evaluate(MATH_READY), "MathJax did not start"
    typeset = page.locator("mjx-container").count()
    assert typeset > 0, "no math typeset (no <mjx-container> on the page)"
    raw = page.evaluate("() => [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
    assert raw == 0, f"{raw} math element(s) left untypeset"

    images = page.evaluate(
        "() => Promise.all([...document.images].map(img => img.decode().then(() => [img.src, img.naturalWidth],"
        " () => [img.src, 0])))"
    )
    assert images, "the page shows no image"
    broken = [src for src, width in images if width == 0]
    assert not broken, f"images that did not load: {broken}"
    missing_alt = page.evaluate("() => [...document.querySelectorAll('article img')].filter(img => !img.alt.trim()).length")
    assert missing_alt == 0, f"{missing_alt} figure(s) without alt text"

    assert not page_errors, describe_errors(page_errors)
    assert not blocked_requests, f"the page asked for other hosts: {blocked_requests}"
    if chapter_id == WRITTEN[1]:
        page.screenshot(path=site / f"screenshot-{chapter_id}.png", full_page=False)
        assert (site / f"screenshot-{chapter_id}.png").stat().st_size > 0


def test_landing_page_lists_every_written_chapter_with_a_working_link(
    book: Book, site_url: str, page, page_errors: list[str], blocked_requests: list[str]
) -> None:
    page.goto(f"{site_url}/index.html", wait_until="load")
    text = page.locator("article").inner_text()
    for chapter in book.written_chapters:
        assert chapter.title in text, f"the landing page does not list {chapter.title!r}"
        for objective in chapter.objectives:
            assert objective.split()[0] in text
    hrefs = page.evaluate("() => [...document.querySelectorAll('article a')].map(a => a.href)")
    for chapter in book.written_chapters:
        target = f"{site_url}/{chapter.notebook.stem}.html"
        assert any(href.split("#")[0] == target for href in hrefs), f"no link to {target}"
    assert not page_errors, describe_errors(page_errors)
    assert not blocked_requests, f"the page asked for other hosts: {blocked_requests}"
