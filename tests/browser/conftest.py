"""Browser fixtures: Debian's Chromium, driven headless by Playwright, with no network beyond this machine.

What a browser test gets:

* ``browser``: one headless Chromium, Debian's package at :data:`CHROMIUM_PATH`
  (Playwright never downloads a browser here). A missing package or browser
  fails the test with a message saying what to install; nothing is skipped.
* ``context`` and ``page``: a fresh browser context (and a page in it) per
  test, in which every request to a host other than 127.0.0.1, localhost or
  [::1] is aborted and recorded in ``blocked_requests``: HTTP(S) requests
  through ``context.route``, WebSockets through ``context.route_web_socket``.
  Service workers are blocked so that none can fetch behind the routes.
  A test asserts ``blocked_requests == []`` to show that the page needed no
  network; a page that silently depends on a CDN fails that assertion even
  where the CDN is reachable.
* ``page_errors``: what went wrong in the pages of the context, one line each:
  console errors (``console.error`` and failed loads, :func:`watch_page_errors`)
  and uncaught exceptions. ``assert not page_errors, describe_errors(page_errors)``.
* When a test using ``page`` fails, a screenshot of the page is saved under
  pytest's temporary directory and its path printed with the failure.

Why ``package`` scope and not ``session``: between two calls, Playwright's sync
API leaves its asyncio event loop marked as running in the calling thread, so
while it is started, ``asyncio.run`` fails in that thread — and other tests on
the same pytest-xdist worker (nbclient's notebook execution, nbgrader) need it.
A package-scoped fixture is shared by consecutive tests under ``tests/browser``
and stopped by pytest as soon as the worker's next test lies outside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:  # imported lazily: a missing package must fail the test with a message, not the collection
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

#: Debian's Chromium (``apt-get install chromium``); the environment variable
#: ``COURSE_CHROMIUM`` may name another Chromium-based executable.
CHROMIUM_PATH = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
#: The hosts a page may reach: this machine's loopback addresses.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: URL schemes that never leave the browser.
IN_BROWSER_SCHEMES = frozenset({"about", "blob", "data"})
#: Size of the window the pages are laid out in (CSS pixels): a laptop screen.
VIEWPORT = {"width": 1400, "height": 1000}


def is_local_url(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine: a loopback host, or a URL the browser serves itself."""
    parts = urlsplit(url)
    return parts.scheme in IN_BROWSER_SCHEMES or parts.hostname in LOCAL_HOSTS


def watch_page_errors(page: Page, errors: list[str]) -> None:
    """Append to ``errors`` every console error (``console.error``, a failed load) and uncaught exception of ``page``."""

    def on_console(message) -> None:
        if message.type == "error":
            location = message.location
            where = f" ({location['url']}:{location['lineNumber']})" if location and location.get("url") else ""
            errors.append(f"console error on {page.url}: {message.text}{where}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught exception on {page.url}: {error}"))


def describe_errors(errors: list[str]) -> str:
    """An assertion message listing ``errors`` (from :func:`watch_page_errors`), one per line."""
    return f"{len(errors)} error(s) in the browser:\n" + "\n".join(errors)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (sync API); see the module docstring for its scope."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        missing = str(error)
    else:
        missing = None
    if missing is not None:  # failed outside the except block: the message alone, without the ImportError chained
        pytest.fail(
            f"the browser tests need the Python package 'playwright' ({missing}); it is pinned in constraints.txt: "
            "run `make venv`, or `.venv/bin/python -m pip install --constraint constraints.txt playwright`",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium: Debian's executable at :data:`CHROMIUM_PATH`."""
    if not (CHROMIUM_PATH.is_file() and os.access(CHROMIUM_PATH, os.X_OK)):
        pytest.fail(
            f"the browser tests drive Debian's Chromium, and no executable is at {CHROMIUM_PATH}: install it with "
            "`apt-get install -y chromium` (as root), or name another Chromium in the environment variable "
            "COURSE_CHROMIUM",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), headless=True)
    yield browser
    browser.close()


@pytest.fixture
def blocked_requests() -> list[str]:
    """The URLs the test's pages asked for that left this machine (each aborted), in order."""
    return []


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors and uncaught exceptions of the test's pages, one line each (:func:`watch_page_errors`)."""
    return []


def _not_local(url: str) -> bool:
    return not is_local_url(url)


def _blocker(blocked: list[str]) -> tuple[Callable, Callable]:
    """Route handlers that record a request's URL in ``blocked`` and abort it (HTTP) or close it (WebSocket)."""

    def abort_request(route) -> None:
        blocked.append(route.request.url)
        route.abort("blockedbyclient")

    def close_web_socket(web_socket) -> None:
        blocked.append(web_socket.url)
        web_socket.close(code=1008, reason="the test blocks every host but this machine")

    return abort_request, close_web_socket


@pytest.fixture
def context(browser: Browser, blocked_requests: list[str], page_errors: list[str]) -> Iterator[BrowserContext]:
    """A fresh browser context that reaches only this machine; its pages report to ``page_errors``."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block", locale="en-US")
    abort_request, close_web_socket = _blocker(blocked_requests)
    context.route(_not_local, abort_request)
    context.route_web_socket(_not_local, close_web_socket)
    context.on("page", lambda page: watch_page_errors(page, page_errors))
    yield context
    context.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium (tests/browser); `make test` runs them, `-m 'not browser'` leaves them out"
    )


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Keep the report of a test's call on the test, so that the ``page`` fixture knows at teardown if it failed."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A new page in ``context``; if the test fails, a screenshot of it is saved and its path printed."""
    page = context.new_page()
    yield page
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is not None and report.failed and not page.is_closed():
        path = tmp_path_factory.mktemp("failed-page") / "screenshot.png"
        page.screenshot(path=path)
        print(f"screenshot of the page when the test failed ({page.url}): {path}")
