"""Shared test set-up: portable CPU kernels, a headless plotting backend, the book manifest, parallel scheduling."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

# The portable CPU settings are set by the repository's conftest.py, which pytest loads first.
import matplotlib

matplotlib.use("Agg")  # tests never open windows

import pytest

from course_lib.book import Book, load_book
from course_lib.execution import ExecutionTotal, book_notebooks, execution_totals
from course_lib.site import build_book


@pytest.fixture(scope="session")
def book() -> Book:
    return load_book()


# Property tests draw their examples from a fixed seed: a statistical bound such
# as "within 4 sigma" then gives the same verdict on every run instead of
# failing once in a few thousand runs.
from hypothesis import settings

settings.register_profile("course", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("course")


def _scheduling_unit(nodeid: str) -> str:
    """What one pytest-xdist worker runs as a whole: a notebook, a file of tests sharing one expensive fixture, or a single test.

    nbval's cells of one notebook share one kernel and must run in order on one worker; the
    release tests share module-scoped releases, the site tests one built site, the browser tests
    one JupyterLab server. Every other test is scheduled on its own.
    """
    path = nodeid.split("::", 1)[0]
    grouped = (".ipynb", "tests/test_release.py", "tests/test_site.py", "tests/browser/test_first_day.py")
    return path if path.endswith(grouped) else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scheduling_unit(nodeid)

    return NotebookScheduling(config, log)


# Notebook execution times measured by tests/test_notebooks.py travel as a user property, so the
# controller process collects them also when the tests ran on pytest-xdist workers.
NOTEBOOK_TIMING = "notebook_timing"
_timings: list[tuple[str, float, float]] = []

# Outcome counts of tests/bad_inputs travel the same way: {outcome: number of calls} per test.
BAD_INPUT_OUTCOMES = "bad_input_outcomes"
_bad_input_outcomes: dict[str, int] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        for name, value in report.user_properties:
            if name == NOTEBOOK_TIMING:
                _timings.append(tuple(value))
            elif name == BAD_INPUT_OUTCOMES:
                for outcome, count in value.items():
                    _bad_input_outcomes[outcome] = _bad_input_outcomes.get(outcome, 0) + count


def _whole_book_totals() -> tuple[ExecutionTotal, ...] | None:
    """The totals of :func:`course_lib.execution.execution_totals`, if this run timed every notebook of the book."""
    book = load_book()
    times = {book.root / name: seconds for name, seconds, _budget in _timings}
    if set(times) != {path for path, _budget in book_notebooks(book)}:
        return None  # a selection of the tests: no whole-book verdict
    return execution_totals(book, times)


_whole_book: list[ExecutionTotal] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The whole-book check: when every notebook was timed, the book must execute within the sum of its budgets.

    Each notebook's own test fails only at 3x its budget (a notebook may run
    long when it shares the machine); the total of all of them, one after
    another, must stay within the sum of the budgets. The controller decides
    (under pytest-xdist the timings arrive from every worker).
    """
    if hasattr(session.config, "workerinput"):
        return
    totals = _whole_book_totals()
    if totals is None:
        return
    _whole_book.extend(totals)
    if not totals[-1].within_budget and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _bad_input_outcomes:
        total = sum(_bad_input_outcomes.values())
        terminalreporter.section(f"bad-input calls: {total}")
        for outcome, count in sorted(_bad_input_outcomes.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:7d}  {outcome}")
    if not _timings:
        return
    terminalreporter.section("notebook execution times (budget from book.toml)")
    for name, seconds, budget in sorted(_timings):
        flag = "" if seconds <= budget else "  over budget (fails at 3x)"
        terminalreporter.write_line(f"{seconds:7.1f} s / {budget:4.0f} s  {name}{flag}")
    # The whole book, one notebook after another (xdist runs them side by side, so the wall time is less).
    if not _whole_book:
        terminalreporter.write_line("(not every notebook of the book ran: no whole-book total)")
    for total in _whole_book:
        terminalreporter.write_line(str(total))
    if _whole_book:  # the book's aim, reported (speed targets are never test verdicts)
        terminalreporter.write_line(_whole_book[-1].aim_text())
    if _whole_book and not _whole_book[-1].within_budget:
        terminalreporter.write_line("FAILED: the whole book executes over the sum of its budgets", red=True, bold=True)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, book: Book) -> Path:
    """The build folder of one session's `make book` build (tests/test_site.py, tests/browser); pytest-xdist workers share it (the first one builds)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        out_dir = tmp_path_factory.getbasetemp().parent / "html-book"  # one folder per test session
        with open(out_dir.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (out_dir / "built").is_file():
                build_book(out_dir, book)
                (out_dir / "built").touch()
        return out_dir
    out_dir = tmp_path_factory.mktemp("html-book")
    build_book(out_dir, book)
    return out_dir
