"""Shared test set-up: a headless plotting backend and the book manifest."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests never open windows

import pytest

from course_lib.book import Book, load_book


@pytest.fixture(scope="session")
def book() -> Book:
    return load_book()


# Property tests draw their examples from a fixed seed: a statistical bound such
# as "within 4 sigma" then gives the same verdict on every run instead of
# failing once in a few thousand runs.
from hypothesis import settings

settings.register_profile("course", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("course")


# Notebook execution times measured by tests/test_notebooks.py, reported after the run.
TIMINGS = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def notebook_timings(pytestconfig: pytest.Config) -> list[tuple[str, float, float]]:
    return pytestconfig.stash.setdefault(TIMINGS, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    timings = config.stash.get(TIMINGS, [])
    if not timings:
        return
    terminalreporter.section("notebook execution times (budget from book.toml)")
    for name, seconds, budget in timings:
        flag = "" if seconds <= budget else "  over budget (fails at 3x)"
        terminalreporter.write_line(f"{seconds:7.1f} s / {budget:4.0f} s  {name}{flag}")
