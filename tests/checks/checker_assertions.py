"""Assertions shared by the checker tests (tests/checks/test_*.py): how a report must look when it rejects."""

from __future__ import annotations

from typing import Any, Callable

from course_lib.checks.report import CheckReport


def assert_every_property_holds(report: CheckReport, printed: str, count: int) -> None:
    """The report is truthy with ``count`` results, and exactly its ``count`` ✓ lines were printed."""
    lines = printed.splitlines()
    assert report and len(report) == count
    assert len(lines) == count and all(line.startswith("✓ ") for line in lines)
    assert lines == report.lines()


def assert_rejected(report: CheckReport, property_fragment: str, *phrases: str, printed: str | None = None) -> None:
    """The report is falsy, and the failing line of the first property named with the fragment has each phrase.

    With ``printed`` (the checker's captured output), a ✗ line must also have been shown to the student.
    """
    assert not report
    if printed is not None:
        assert "✗ " in printed
    lines = [result.line for result in report.failed if property_fragment in result.name]
    assert lines, f"no failing line about {property_fragment!r} in {[r.line for r in report.failed]}"
    for phrase in phrases:
        assert phrase in lines[0], f"{phrase!r} not in {lines[0]!r}"


def assert_output_is_deterministic(checker: Callable[[Any], CheckReport], fn: Any, capsys: Any) -> None:
    """Two runs of ``checker(fn)`` print the same lines and report the same, with no object address."""
    first = (repr(checker(fn)), capsys.readouterr().out)
    second = (repr(checker(fn)), capsys.readouterr().out)
    assert first == second
    assert " at 0x" not in first[0] + first[1]


def failed_names(report: CheckReport) -> list[str]:
    """Names of the properties that failed, in report order."""
    return [result.name for result in report.failed]


def assert_fails_exactly(failed: list[str], prefixes: set[str]) -> None:
    """Every prefix names a failed property, and every failed property starts with one of the prefixes."""
    assert {prefix for prefix in prefixes if any(name.startswith(prefix) for name in failed)} == prefixes
    assert all(any(name.startswith(prefix) for prefix in prefixes) for name in failed), failed


def not_implemented(*args: Any, **kwargs: Any):
    """An untouched exercise stub."""
    raise NotImplementedError()
